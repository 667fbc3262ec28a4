package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/reana"
)

// ReanaWorkspaceList lists the workspace's files.
func (s *Server) ReanaWorkspaceList(ctx context.Context, req api.ReanaWorkspaceListRequestObject) (api.ReanaWorkspaceListResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	o := reana.ListOpts{Page: 1}
	if p := req.Params; p.FileName != nil {
		o.Glob = *p.FileName
	}
	if req.Params.Search != nil {
		o.Search = *req.Params.Search
	}
	if req.Params.Page != nil {
		o.Page = *req.Params.Page
	}
	if req.Params.Size != nil {
		o.Size = *req.Params.Size
	}
	files, total, err := s.workflows.Files(ctx, owner, req.WorkflowIdOrName, o)
	if err != nil {
		return nil, err
	}
	out := api.ReanaWorkspaceList{Items: make([]api.ReanaWorkspaceFile, 0, len(files)), Total: total, Page: &o.Page}
	for _, f := range files {
		out.Items = append(out.Items, api.ReanaWorkspaceFile{
			Name: f.Name, Size: api.ReanaSize{Raw: f.Size, HumanReadable: reana.HumanSize(f.Size)}, LastModified: reana.FormatTime(f.Modified),
		})
	}
	prev, next := o.Page > 1, o.Size > 0 && o.Page*o.Size < total
	out.HasPrev, out.HasNext = &prev, &next
	return api.ReanaWorkspaceList200JSONResponse(out), nil
}

// ReanaWorkspaceUpload streams one file into the workspace.
func (s *Server) ReanaWorkspaceUpload(ctx context.Context, req api.ReanaWorkspaceUploadRequestObject) (api.ReanaWorkspaceUploadResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.Invalidf("the request body is the file's content (application/octet-stream)")
	}
	name, _, err := s.workflows.Upload(ctx, owner, req.WorkflowIdOrName, req.Params.FileName, req.Body)
	if err != nil {
		return nil, err
	}
	return api.ReanaWorkspaceUpload200JSONResponse{Message: name + " has been successfully uploaded."}, nil
}

// zipStream writes a directory of a workspace as a zip.
type zipStream struct {
	name  string
	write func(ctx context.Context, w http.ResponseWriter) error
	ctx   context.Context
}

// VisitReanaWorkspaceDownloadResponse streams the zip.
func (z zipStream) VisitReanaWorkspaceDownloadResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", contentDisposition(z.name+".zip"))
	w.WriteHeader(http.StatusOK)
	if headRequest(z.ctx) {
		return nil
	}
	return z.write(z.ctx, w)
}

// VisitReanaWorkspaceDownloadResponse serves a workspace file.
func (d download) VisitReanaWorkspaceDownloadResponse(w http.ResponseWriter) error { return d.visit(w) }

// contentDisposition names the file the client saves (quoted; quotes and
// backslashes escaped, other bytes kept as Python's email parser reads them).
func contentDisposition(name string) string {
	name = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "").Replace(name)
	return `attachment; filename="` + name + `"`
}

// ReanaWorkspaceDownload serves a file (Range, ETag), or a directory as a zip.
func (s *Server) ReanaWorkspaceDownload(ctx context.Context, req api.ReanaWorkspaceDownloadRequestObject) (api.ReanaWorkspaceDownloadResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	r, err := requestFrom(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.workflows.Open(ctx, owner, req.WorkflowIdOrName, req.FileName)
	if err != nil {
		return nil, err
	}
	base := path.Base(d.Entry.Name)
	if d.File == nil {
		if d.Entry.Name == "." {
			base = "workspace"
		}
		return zipStream{name: base, ctx: ctx, write: func(ctx context.Context, w http.ResponseWriter) error { return d.Zip(ctx, w) }}, nil
	}
	etag := quoteETag(strconv.FormatInt(d.Entry.Size, 10) + "-" + strconv.FormatInt(d.Entry.Modified.UnixNano(), 36))
	return download{req: r, body: d.File, contentType: "application/octet-stream", etag: etag, disposition: contentDisposition(base), modTime: d.Entry.Modified}, nil
}

// ReanaWorkspaceDelete deletes a file, a directory or a glob of files.
func (s *Server) ReanaWorkspaceDelete(ctx context.Context, req api.ReanaWorkspaceDeleteRequestObject) (api.ReanaWorkspaceDeleteResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	deleted, failed, err := s.workflows.DeleteFiles(ctx, owner, req.WorkflowIdOrName, req.FileName)
	if err != nil {
		return nil, err
	}
	out := api.ReanaWorkspaceDeleted{
		Deleted: map[string]struct {
			Size int64 `json:"size"`
		}{},
		Failed: map[string]struct {
			Error string `json:"error"`
		}{},
	}
	for n, size := range deleted {
		out.Deleted[n] = struct {
			Size int64 `json:"size"`
		}{size}
	}
	for n, e := range failed {
		out.Failed[n] = struct {
			Error string `json:"error"`
		}{e}
	}
	return api.ReanaWorkspaceDelete200JSONResponse(out), nil
}

// ReanaWorkspaceMove renames a file or directory of the workspace.
func (s *Server) ReanaWorkspaceMove(ctx context.Context, req api.ReanaWorkspaceMoveRequestObject) (api.ReanaWorkspaceMoveResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.workflows.Move(ctx, owner, req.WorkflowIdOrName, req.Params.Source, req.Params.Target)
	if err != nil {
		return nil, err
	}
	return api.ReanaWorkspaceMove200JSONResponse{
		Message:    fmt.Sprintf("%s was successfully moved to %s.", req.Params.Source, req.Params.Target),
		WorkflowId: uuid.MustParse(w.ID), WorkflowName: w.FullName(),
	}, nil
}

// ReanaWorkspaceDiskUsage reports the workspace's disk usage (reana-client du).
func (s *Server) ReanaWorkspaceDiskUsage(ctx context.Context, req api.ReanaWorkspaceDiskUsageRequestObject) (api.ReanaWorkspaceDiskUsageResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	search, summarize := "", false
	if req.Params.Search != nil {
		search = *req.Params.Search
	}
	if req.Params.Summarize != nil {
		summarize = *req.Params.Summarize
	}
	if b := req.Body; b != nil {
		if b.Search != nil {
			search = *b.Search
		}
		if b.Summarize != nil {
			summarize = *b.Summarize
		}
	}
	w, files, err := s.workflows.Usage(ctx, owner, req.WorkflowIdOrName, search, summarize)
	if err != nil {
		return nil, err
	}
	out := api.ReanaDiskUsage{WorkflowId: uuid.MustParse(w.ID), WorkflowName: w.FullName(), User: ownerUUID(w)}
	out.DiskUsageInfo = make([]struct {
		Name string        `json:"name"`
		Size api.ReanaSize `json:"size"`
	}, len(files))
	for i, f := range files {
		out.DiskUsageInfo[i].Name = f.Name
		out.DiskUsageInfo[i].Size = api.ReanaSize{Raw: f.Size, HumanReadable: reana.HumanSize(f.Size)}
	}
	return api.ReanaWorkspaceDiskUsage200JSONResponse(out), nil
}

// workspacePath matches a REANA workspace file path: /api/workflows/W/workspace/PATH.
var workspacePath = regexp.MustCompile(`^/api/workflows/([^/]+)/workspace/(.+)$`)

// reanaWorkspacePaths lets the file_name of /api/workflows/{w}/workspace/{file_name}
// hold the rest of the path: reana-client downloads with real slashes
// (results/plot.png) and deletes through bravado with %2F. Real slashes in
// that segment are re-encoded as %2F in the escaped path, which is what the
// router and the spec's router match.
func reanaWorkspacePaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := workspacePath.FindStringSubmatch(r.URL.EscapedPath())
		if m == nil || !strings.Contains(m[2], "/") {
			next.ServeHTTP(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.RawPath = "/api/workflows/" + m[1] + "/workspace/" + strings.ReplaceAll(m[2], "/", "%2F")
		if p, err := url.PathUnescape(r2.URL.RawPath); err == nil {
			r2.URL.Path = p
		}
		next.ServeHTTP(w, r2)
	})
}

// crateStream writes a run's RO-Crate zip.
type crateStream struct {
	name  string
	ctx   context.Context
	write func(ctx context.Context, w io.Writer) error
}

// VisitReanaWorkflowCrateResponse streams the crate.
func (z crateStream) VisitReanaWorkflowCrateResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", contentDisposition(z.name+"-ro-crate.zip"))
	w.WriteHeader(http.StatusOK)
	if headRequest(z.ctx) {
		return nil
	}
	return z.write(z.ctx, w)
}

// ReanaWorkflowCrate serves a finished or failed run as a Workflow Run RO-Crate.
func (s *Server) ReanaWorkflowCrate(ctx context.Context, req api.ReanaWorkflowCrateRequestObject) (api.ReanaWorkflowCrateResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	w, write, err := s.workflows.Crate(ctx, owner, req.WorkflowIdOrName)
	if err != nil {
		return nil, err
	}
	return crateStream{name: w.FullName(), ctx: ctx, write: write}, nil
}
