package server

import (
	"context"
	"runtime"

	"github.com/reehub/reehub/gen/api"
)

// Ping answers the health check.
func (s *Server) SystemPing(_ context.Context, _ api.SystemPingRequestObject) (api.SystemPingResponseObject, error) {
	return api.SystemPing200JSONResponse{Message: "OK", Status: "200"}, nil
}

// Version reports reehub's, Go's and the Podman service's versions.
func (s *Server) SystemVersion(ctx context.Context, _ api.SystemVersionRequestObject) (api.SystemVersionResponseObject, error) {
	v := api.SystemVersion200JSONResponse{
		Version: s.cfg.Version, ApiVersion: s.apiVersion, GoVersion: runtime.Version(),
		Database: api.SystemVersionDatabase(s.cfg.Database),
	}
	if pv, err := s.podman(ctx); err == nil {
		v.PodmanVersion = &pv
	} else {
		empty := ""
		v.PodmanVersion = &empty
	}
	return v, nil
}
