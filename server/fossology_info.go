package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/fossology"
)

// fossologyAPIVersion is the FOSSology REST API version reehub implements.
const fossologyAPIVersion = "1.6.1"

// FossologyInfo answers with exactly the keys fossology-python reads.
func (s *Server) FossologyInfo(_ context.Context, _ api.FossologyInfoRequestObject) (api.FossologyInfoResponseObject, error) {
	var out api.FossologyInfo200JSONResponse
	out.Name, out.Description, out.Version = "FOSSology API", "Automate your fossology instance using REST API (served by reehub)", fossologyAPIVersion
	out.Security, out.Contact = []string{"api_key"}, ""
	out.License.Name, out.License.Url = "GPL-2.0-only", "https://github.com/fossology/fossology/blob/master/LICENSE"
	v := "reehub-" + s.cfg.Version
	out.Fossology.Version = &v
	return out, nil
}

// FossologyHealth checks the database and the job engine for real.
func (s *Server) FossologyHealth(ctx context.Context, _ api.FossologyHealthRequestObject) (api.FossologyHealthResponseObject, error) {
	out := api.FossologyHealth200JSONResponse{Status: api.FossologyHealthStatusOK,
		Db: api.FossologyHealthPart{Status: api.FossologyHealthStatusOK}, Scheduler: api.FossologyHealthPart{Status: api.FossologyHealthStatusOK}}
	cctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := s.pingDB(cctx); err != nil {
		s.log.WarnContext(ctx, "health: database", "err", err)
		out.Db.Status, out.Status = api.FossologyHealthStatusERROR, api.FossologyHealthStatusERROR
	}
	if s.foss == nil || s.foss.SchedulerHealth() != nil {
		out.Scheduler.Status = api.FossologyHealthStatusWARN
		if out.Status == api.FossologyHealthStatusOK {
			out.Status = api.FossologyHealthStatusWARN
		}
	}
	return out, nil
}

// FossologyVersion answers the API version (older clients).
func (s *Server) FossologyVersion(_ context.Context, _ api.FossologyVersionRequestObject) (api.FossologyVersionResponseObject, error) {
	return api.FossologyVersion200JSONResponse{Version: fossologyAPIVersion, Security: []string{"api_key"}}, nil
}

// fossCaller is the principal of ctx acting in the group groupName names
// (its default group when absent).
func (s *Server) fossCaller(ctx context.Context, groupName *string) (fossology.Caller, error) {
	if s.foss == nil {
		return fossology.Caller{}, fault.Unavailablef("the FOSSology family is not wired on this server")
	}
	who, err := principalFrom(ctx)
	if err != nil {
		return fossology.Caller{}, err
	}
	name := ""
	if groupName != nil {
		name = *groupName
	}
	g, err := s.auth.GroupFor(ctx, who, name)
	if err != nil {
		return fossology.Caller{}, err
	}
	return fossology.Caller{UserID: who.User.ID, UserName: who.User.Name, GroupID: g.ID, Admin: who.User.Role == auth.RoleAdmin}, nil
}

// created is FOSSology's {"code": 201, "message": <id>, "type": "INFO"}.
func created(code int, id int64) api.FossologyCreated {
	return api.FossologyCreated{Code: code, Message: int(id), Type: api.FossologyCreatedTypeINFO}
}

// info is FOSSology's {"code": ..., "message": "...", "type": "INFO"}.
func info(code int, msg string) api.FossologyInfo {
	return api.FossologyInfo{Code: code, Message: msg, Type: api.FossologyInfoTypeINFO}
}

// pagedJSON writes v as JSON with X-Total-Pages: FOSSology's paged lists,
// whose entries (licenses with "conclusion": null) the generated types
// would reshape.
type pagedJSON struct {
	v     any
	pages int
}

func (p pagedJSON) visit(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Total-Pages", strconv.Itoa(p.pages))
	w.WriteHeader(http.StatusOK)
	return json.NewEncoder(w).Encode(p.v)
}

// VisitFossologyGetUploadLicensesResponse writes the listing.
func (p pagedJSON) VisitFossologyGetUploadLicensesResponse(w http.ResponseWriter) error {
	return p.visit(w)
}

// pageParams reads page and limit from their headers, or else from the query
// (fossology-python repeats them there; the spec declares only the headers).
func pageParams(ctx context.Context, page, limit *int) (int, int) {
	p, l := 0, 0
	if page != nil {
		p = *page
	}
	if limit != nil {
		l = *limit
	}
	if req, err := requestFrom(ctx); err == nil && (page == nil || limit == nil) {
		q := req.URL.Query()
		if n, err := strconv.Atoi(q.Get("page")); err == nil && page == nil && n > 0 {
			p = n
		}
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && limit == nil && n > 0 {
			l = min(n, 1000)
		}
	}
	return p, l
}
