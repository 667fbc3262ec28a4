package server

import (
	"context"

	"github.com/reehub/reehub/gen/api"
)

// RegistryRuntimeStats reports the engine's queues (getRuntimeStats).
func (s *Server) ViceRuntimeStats(ctx context.Context, _ api.ViceRuntimeStatsRequestObject) (api.ViceRuntimeStatsResponseObject, error) {
	st, err := s.registry.Stats(ctx)
	if err != nil {
		return nil, err
	}
	return api.ViceRuntimeStats200JSONResponse{
		ImportsPending: ptr(st.ImportsPending), ImportWorker: ptr(st.ImportWorker),
		ExportsPending: ptr(st.ExportsPending), ExportWorker: ptr(st.ExportWorker),
		StorePending: ptr(st.StorePending), StoreWorker: ptr(st.StoreWorker),
	}, nil
}
