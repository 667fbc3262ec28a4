package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/reehub/reehub/gen/api"
)

// FossologyGenerateReport starts a report of an upload whose scans are
// done; message is the download URL, ending in the report id.
func (s *Server) FossologyGenerateReport(ctx context.Context, req api.FossologyGenerateReportRequestObject) (api.FossologyGenerateReportResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	id, err := s.foss.GenerateReport(ctx, c, int64(req.Params.UploadId), string(req.Params.ReportFormat))
	if err != nil {
		return nil, err
	}
	base := "/repo/api/v1/report/"
	host := ""
	if r, err := requestFrom(ctx); err == nil {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		host = scheme + "://" + r.Host
		if strings.HasPrefix(r.URL.Path, "/api/v1/") {
			base = "/api/v1/report/"
		}
	}
	return api.FossologyGenerateReport201JSONResponse(info(201, host+base+strconv.FormatInt(id, 10))), nil
}

// FossologyDownloadReport serves a finished report as an attachment; 503
// with Retry-After while it is written.
func (s *Server) FossologyDownloadReport(ctx context.Context, req api.FossologyDownloadReportRequestObject) (api.FossologyDownloadReportResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	rf, err := s.foss.Report(ctx, c, int64(req.Id))
	if err != nil {
		return nil, err
	}
	r, err := requestFrom(ctx)
	if err != nil {
		rf.File.Close()
		return nil, err
	}
	fi, _ := rf.File.Stat()
	d := download{req: r, body: rf.File, contentType: rf.ContentType, disposition: `attachment; filename="` + rf.Name + `"`}
	if fi != nil {
		d.modTime = fi.ModTime()
	}
	return d, nil
}

// VisitFossologyDownloadReportResponse serves a report.
func (d download) VisitFossologyDownloadReportResponse(w http.ResponseWriter) error {
	return d.visit(w)
}
