package server

import (
	"context"
	"io"
	"net/http"

	"github.com/google/uuid"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/process"
)

// ProcessStatus reports one of the caller's processes.
func (s *Server) ReeProcessStatus(ctx context.Context, req api.ReeProcessStatusRequestObject) (api.ReeProcessStatusResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.procs.Get(ctx, who.User.ID, req.Uuid.String())
	if err != nil {
		return nil, err
	}
	return api.ReeProcessStatus200JSONResponse(toStatus(p)), nil
}

// ProcessList lists the caller's processes.
func (s *Server) ReeProcessList(ctx context.Context, req api.ReeProcessListRequestObject) (api.ReeProcessListResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	f := process.Filter{OwnerID: who.User.ID, Tag: req.Params.Tag, Limit: 50}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	if req.Params.Offset != nil {
		f.Offset = *req.Params.Offset
	}
	if req.Params.Status != nil {
		st := process.State(*req.Params.Status)
		f.State = &st
	}
	if req.Params.Kind != nil {
		k := process.Kind(*req.Params.Kind)
		f.Kind = &k
	}
	ps, total, err := s.procs.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := api.ReeProcessList200JSONResponse{Items: make([]api.ReeProcessStatus, 0, len(ps)), Total: int(total), Limit: f.Limit, Offset: f.Offset}
	for _, p := range ps {
		out.Items = append(out.Items, toStatus(p))
	}
	return out, nil
}

// ProcessCancel cancels one of the caller's processes.
func (s *Server) ReeProcessCancel(ctx context.Context, req api.ReeProcessCancelRequestObject) (api.ReeProcessCancelResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.procs.Cancel(ctx, who.User.ID, req.Uuid.String(), "cancelled by "+who.User.Name)
	if err != nil {
		return nil, err
	}
	return api.ReeProcessCancel200JSONResponse(toStatus(p)), nil
}

// ReeProcessLog serves the log of one of the caller's processes.
func (s *Server) ReeProcessLog(ctx context.Context, req api.ReeProcessLogRequestObject) (api.ReeProcessLogResponseObject, error) {
	return s.openLog(ctx, req.Uuid)
}

// ReeLogDownload is ReeProcessLog under the REE document's other spelling.
func (s *Server) ReeLogDownload(ctx context.Context, req api.ReeLogDownloadRequestObject) (api.ReeLogDownloadResponseObject, error) {
	return s.openLog(ctx, req.Uuid)
}

// logResponse is a log as either response type: a final log is a download
// (Range, ETag), a growing one a stream.
type logResponse interface {
	api.ReeProcessLogResponseObject
	api.ReeLogDownloadResponseObject
}

func (s *Server) openLog(ctx context.Context, id uuid.UUID) (logResponse, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := requestFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.procs.Get(ctx, who.User.ID, id.String())
	if err != nil {
		return nil, err
	}
	rc, err := s.procs.OpenLog(ctx, who.User.ID, id.String())
	if err != nil {
		return nil, err
	}
	// A process that ended has its log in the blob store: final, seekable and
	// named by its digest.
	if f, ok := rc.(io.ReadSeekCloser); ok && p.FinishedAt != nil && p.LogDigest != "" {
		return download{req: r, body: f, contentType: "text/plain; charset=utf-8", etag: quoteETag(p.LogDigest), modTime: *p.FinishedAt}, nil
	}
	return logStream{rc: rc, head: headRequest(ctx)}, nil
}

// logStream streams a growing log as text/plain without reading it into
// memory (the generated text response type is a string).
type logStream struct {
	rc   io.ReadCloser
	head bool
}

func (l logStream) visit(w http.ResponseWriter) error {
	defer l.rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if l.head {
		return nil
	}
	_, err := io.Copy(w, l.rc)
	return err
}

// VisitReeProcessLogResponse writes the log.
func (l logStream) VisitReeProcessLogResponse(w http.ResponseWriter) error { return l.visit(w) }

// VisitReeLogDownloadResponse writes the log.
func (l logStream) VisitReeLogDownloadResponse(w http.ResponseWriter) error { return l.visit(w) }

// ReeProcessDownload serves the output zip of a processed process, with
// Range and If-None-Match (its ETag is the output's digest).
func (s *Server) ReeProcessDownload(ctx context.Context, req api.ReeProcessDownloadRequestObject) (api.ReeProcessDownloadResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := requestFrom(ctx)
	if err != nil {
		return nil, err
	}
	f, p, err := s.procs.OpenOutput(ctx, who.User.ID, req.Uuid.String())
	if err != nil {
		return nil, err
	}
	name := p.ID
	if p.Tag != nil && safeFileName(*p.Tag) {
		name = *p.Tag
	}
	mod := p.CreatedAt
	if p.FinishedAt != nil {
		mod = *p.FinishedAt
	}
	return download{
		req: r, body: f, contentType: "application/zip", etag: quoteETag(p.OutputDigest),
		disposition: `attachment; filename="` + name + `.zip"`, modTime: mod,
	}, nil
}

func safeFileName(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return s != "" && s[0] != '.'
}

func toStatus(p process.Process) api.ReeProcessStatus {
	st := api.ReeProcessStatus{
		Uuid: uuid.MustParse(p.ID), Tag: p.Tag, Kind: api.ReeProcessKind(p.Kind), Status: api.ReeProcessState(p.State),
		StatusEndpoint:      "/api/process/status/" + p.ID,
		DownloadEndpoint:    "/api/process/download/" + p.ID,
		DownloadLogEndpoint: "/api/log/download/" + p.ID,
		CreatedAt:           p.CreatedAt, StartedAt: p.StartedAt, FinishedAt: p.FinishedAt,
	}
	if p.Reason != "" {
		st.Reason = &p.Reason
	}
	st.Keep, st.KeepImage = &p.Keep, &p.KeepImage
	st.Identical = p.Identical
	return st
}

// ReeProcessDelete deletes one of the caller's processes (an admin's: any
// user's), cancelling it first when it still runs.
func (s *Server) ReeProcessDelete(ctx context.Context, req api.ReeProcessDeleteRequestObject) (api.ReeProcessDeleteResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	err = s.procs.Delete(ctx, process.DeleteOpts{
		ID: req.Uuid.String(), OwnerID: who.User.ID, Admin: who.User.Role == auth.RoleAdmin, Reason: "deleted by " + who.User.Name,
	})
	if err != nil {
		return nil, err
	}
	return api.ReeProcessDelete204Response{}, nil
}

// ReeProcessKeep marks one of the caller's processes to keep.
func (s *Server) ReeProcessKeep(ctx context.Context, req api.ReeProcessKeepRequestObject) (api.ReeProcessKeepResponseObject, error) {
	p, err := s.setKeep(ctx, req.Uuid, true)
	if err != nil {
		return nil, err
	}
	return api.ReeProcessKeep200JSONResponse(toStatus(p)), nil
}

// ReeProcessUnkeep clears the keep mark of one of the caller's processes.
func (s *Server) ReeProcessUnkeep(ctx context.Context, req api.ReeProcessUnkeepRequestObject) (api.ReeProcessUnkeepResponseObject, error) {
	p, err := s.setKeep(ctx, req.Uuid, false)
	if err != nil {
		return nil, err
	}
	return api.ReeProcessUnkeep200JSONResponse(toStatus(p)), nil
}

func (s *Server) setKeep(ctx context.Context, id uuid.UUID, keep bool) (process.Process, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return process.Process{}, err
	}
	return s.procs.SetKeep(ctx, who.User.ID, id.String(), keep)
}
