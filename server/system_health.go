package server

import (
	"context"
	"runtime"
	"time"

	"github.com/reehub/reehub/gen/api"
)

// readyTimeout bounds each readiness check, so that a hung dependency makes
// /api/ready answer 503 instead of hanging the prober.
const readyTimeout = 3 * time.Second

// SystemPing answers the health check; it touches no dependency.
func (s *Server) SystemPing(_ context.Context, _ api.SystemPingRequestObject) (api.SystemPingResponseObject, error) {
	return api.SystemPing200JSONResponse{Message: "OK", Status: "200"}, nil
}

// SystemReady checks the database and the Podman service and answers 200
// when both answer, 503 otherwise. Causes go to the log, never to the client.
func (s *Server) SystemReady(ctx context.Context, _ api.SystemReadyRequestObject) (api.SystemReadyResponseObject, error) {
	checks := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"database", s.pingDB},
		{"podman", func(ctx context.Context) error { _, err := s.podman(ctx); return err }},
	}
	out := api.SystemReady{Ready: true, Checks: make([]api.SystemCheck, 0, len(checks))}
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, readyTimeout)
		err := c.run(cctx)
		cancel()
		st := api.SystemCheckStatusOk
		if err != nil {
			st, out.Ready = api.SystemCheckStatusFailing, false
			s.log.WarnContext(ctx, "readiness check failed", "check", c.name, "err", err)
		}
		out.Checks = append(out.Checks, api.SystemCheck{Name: c.name, Status: st})
	}
	if !out.Ready {
		return api.SystemReady503JSONResponse(out), nil
	}
	return api.SystemReady200JSONResponse(out), nil
}

// SystemVersion reports reehub's, Go's and the Podman service's versions;
// podman_version is absent while Podman does not answer.
func (s *Server) SystemVersion(ctx context.Context, _ api.SystemVersionRequestObject) (api.SystemVersionResponseObject, error) {
	v := api.SystemVersion200JSONResponse{
		Version: s.cfg.Version, ApiVersion: s.apiVersion, GoVersion: runtime.Version(),
		Database: api.SystemVersionDatabase(s.cfg.Database),
	}
	if pv, err := s.podman(ctx); err == nil && pv != "" {
		v.PodmanVersion = &pv
	} else if err != nil {
		s.log.DebugContext(ctx, "podman version", "err", err)
	}
	return v, nil
}
