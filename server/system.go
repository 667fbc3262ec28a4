package server

import (
	"context"
	"runtime"

	"github.com/reehub/reehub/gen/api"
)

// Ping answers the health check.
func (s *Server) Ping(_ context.Context, _ api.PingRequestObject) (api.PingResponseObject, error) {
	return api.Ping200JSONResponse{Message: "OK", Status: "200"}, nil
}

// Version reports reehub's, Go's and the Podman service's versions.
func (s *Server) Version(ctx context.Context, _ api.VersionRequestObject) (api.VersionResponseObject, error) {
	v := api.Version200JSONResponse{
		Version: s.cfg.Version, ApiVersion: s.apiVersion, GoVersion: runtime.Version(),
		Database: api.VersionDatabase(s.cfg.Database),
	}
	if pv, err := s.podman(ctx); err == nil {
		v.PodmanVersion = &pv
	} else {
		empty := ""
		v.PodmanVersion = &empty
	}
	return v, nil
}
