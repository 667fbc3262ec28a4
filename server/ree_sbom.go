package server

import (
	"context"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
)

// ReeSbomDefine checks the upload, then says that the SBOM strategy is not available yet.
func (s *Server) ReeSbomDefine(ctx context.Context, req api.ReeSbomDefineRequestObject) (api.ReeSbomDefineResponseObject, error) {
	up, err := s.readUpload(req.Body, "tag")
	if err != nil {
		return nil, err
	}
	defer up.remove()
	if _, err := tagField(up); err != nil {
		return nil, err
	}
	if err := s.ree.CheckUpload(ctx, up.Path); err != nil {
		return nil, err
	}
	return api.ReeSbomDefine422JSONResponse{UnprocessableJSONResponse: api.UnprocessableJSONResponse(apiError(422,
		fault.New(errUnprocessable, "the SBOM strategy is not available on this server yet; use /api/recording/create")))}, nil
}
