package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/fossology"
)

func toFossJob(v fossology.JobView) api.FossologyJob {
	out := api.FossologyJob{Id: int(v.ID), Name: v.Name, QueueDate: fossology.Timestamp(v.QueueDate.Local()),
		UploadId: strconv.FormatInt(v.UploadID, 10), UserId: strconv.FormatInt(v.UserID, 10), GroupId: strconv.FormatInt(v.GroupID, 10),
		Eta: v.ETA, Status: api.FossologyJobStatus(v.Status)}
	if v.FirstFindingAt != nil {
		ts := fossology.Timestamp(v.FirstFindingAt.Local())
		out.FirstFindingDate = &ts
	}
	return out
}

func flag(b *bool) bool { return b != nil && *b }

// scanOptions converts the body of POST /jobs.
func scanOptions(b api.FossologyScanOptions) fossology.ScanOptions {
	var o fossology.ScanOptions
	if a := b.Analysis; a != nil {
		o.Analysis = fossology.Analysis{Bucket: flag(a.Bucket), CopyrightEmailAuthor: flag(a.CopyrightEmailAuthor), Ecc: flag(a.Ecc),
			Keyword: flag(a.Keyword), Mime: flag(a.Mime), Mimetype: flag(a.Mimetype), Monk: flag(a.Monk), Nomos: flag(a.Nomos),
			Ojo: flag(a.Ojo), Package: flag(a.Package)}
	}
	if d := b.Decider; d != nil {
		o.Decider = fossology.Decider{NomosMonk: flag(d.NomosMonk), BulkReused: flag(d.BulkReused), NewScanner: flag(d.NewScanner), OjoDecider: flag(d.OjoDecider)}
	}
	if r := b.Reuse; r != nil && r.ReuseUpload != nil && *r.ReuseUpload == 0 {
		o.NoReuse = true
	} else if r != nil {
		o.Reuse = &fossology.Reuse{Main: flag(r.ReuseMain), Enhanced: flag(r.ReuseEnhanced), Report: flag(r.ReuseReport), Copyright: flag(r.ReuseCopyright)}
		if r.ReuseUpload != nil {
			o.Reuse.Upload = int64(*r.ReuseUpload)
		}
		switch g := r.ReuseGroup.(type) {
		case string:
			o.Reuse.Group = g
		case float64:
			o.Reuse.Group = strconv.FormatInt(int64(g), 10)
		case json.Number:
			o.Reuse.Group = g.String()
		}
	}
	return o
}

// FossologyScheduleJobs schedules the agents, deciders and reuse of the
// body as one job on an upload.
func (s *Server) FossologyScheduleJobs(ctx context.Context, req api.FossologyScheduleJobsRequestObject) (api.FossologyScheduleJobsResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	var body api.FossologyScanOptions
	if req.Body != nil {
		body = *req.Body
	}
	var hook *fossology.Webhook
	if body.Webhook != nil {
		hook = &fossology.Webhook{URL: body.Webhook.Url, Secret: deref(body.Webhook.Secret)}
	}
	id, warning, err := s.foss.ScheduleJobs(ctx, c, int64(req.Params.FolderId), int64(req.Params.UploadId), scanOptions(body), hook)
	if err != nil {
		return nil, err
	}
	out := api.FossologyScheduleJobs201JSONResponse{Body: created(201, id)}
	if warning != "" {
		h := `299 reehub "` + warning + `"`
		out.Headers.Warning = &h
	}
	return out, nil
}

// FossologyListJobs lists the jobs of the caller's group, of one upload if asked.
func (s *Server) FossologyListJobs(ctx context.Context, req api.FossologyListJobsRequestObject) (api.FossologyListJobsResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	var upload int64
	if req.Params.Upload != nil {
		upload = int64(*req.Params.Upload)
	}
	page, limit := pageParams(ctx, req.Params.Page, req.Params.Limit)
	vs, pages, err := s.foss.Jobs(ctx, c, upload, page, limit)
	if err != nil {
		return nil, err
	}
	out := api.FossologyListJobs200JSONResponse{Body: make([]api.FossologyJob, len(vs))}
	for i, v := range vs {
		out.Body[i] = toFossJob(v)
	}
	out.Headers.XTotalPages = &pages
	return out, nil
}

// FossologyGetJob returns one job.
func (s *Server) FossologyGetJob(ctx context.Context, req api.FossologyGetJobRequestObject) (api.FossologyGetJobResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	v, err := s.foss.Job(ctx, c, int64(req.Id))
	if err != nil {
		return nil, err
	}
	return api.FossologyGetJob200JSONResponse(toFossJob(v)), nil
}

// eventPoll is how often the event stream looks at its job.
const eventPoll = 250 * time.Millisecond

// FossologyJobEvents streams a job as server-sent events: one "job" event
// per change, the last once it is Completed or Failed.
func (s *Server) FossologyJobEvents(ctx context.Context, req api.FossologyJobEventsRequestObject) (api.FossologyJobEventsResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	first, err := s.foss.Job(ctx, c, int64(req.Id))
	if err != nil {
		return nil, err
	}
	return jobEvents{ctx: ctx, first: first, next: func(ctx context.Context) (fossology.JobView, error) {
		return s.foss.Job(ctx, c, int64(req.Id))
	}}, nil
}

// jobEvents is the event stream of one job.
type jobEvents struct {
	ctx   context.Context
	first fossology.JobView
	next  func(ctx context.Context) (fossology.JobView, error)
}

// VisitFossologyJobEventsResponse writes events until the job ends or the client leaves.
func (e jobEvents) VisitFossologyJobEventsResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	var last []byte
	v := e.first
	t := time.NewTicker(eventPoll)
	defer t.Stop()
	for {
		b, err := json.Marshal(toFossJob(v))
		if err != nil {
			return err
		}
		if string(b) != string(last) {
			if _, err := fmt.Fprintf(w, "event: job\ndata: %s\n\n", b); err != nil {
				return err
			}
			if flusher != nil {
				flusher.Flush()
			}
			last = b
		}
		if v.Status == fossology.JobCompleted || v.Status == fossology.JobFailed {
			return nil
		}
		select {
		case <-e.ctx.Done():
			return nil
		case <-t.C:
		}
		if v, err = e.next(e.ctx); err != nil {
			return nil // the job went away (its upload was deleted): end the stream
		}
	}
}
