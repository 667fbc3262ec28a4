package server

import (
	"context"

	"github.com/reehub/reehub/gen/api"
)

// ReeSbomDefine starts an SBOM-strategy definition of an uploaded project.
func (s *Server) ReeSbomDefine(ctx context.Context, req api.ReeSbomDefineRequestObject) (api.ReeSbomDefineResponseObject, error) {
	p, err := s.defineWith(ctx, req.Body, s.ree.SbomDefine)
	if err != nil {
		return nil, err
	}
	return api.ReeSbomDefine200JSONResponse{ReeProcessStartedJSONResponse: started(p)}, nil
}

// ReeSbomBuild starts an online rebuild of an SBOM-defined REE.
func (s *Server) ReeSbomBuild(ctx context.Context, req api.ReeSbomBuildRequestObject) (api.ReeSbomBuildResponseObject, error) {
	p, err := s.rebuildWith(ctx, req.Body, s.ree.SbomBuild)
	if err != nil {
		return nil, err
	}
	return api.ReeSbomBuild200JSONResponse{ReeProcessStartedJSONResponse: started(p)}, nil
}

// ReeSbomRebuild is ReeSbomBuild under its other spelling.
func (s *Server) ReeSbomRebuild(ctx context.Context, req api.ReeSbomRebuildRequestObject) (api.ReeSbomRebuildResponseObject, error) {
	p, err := s.rebuildWith(ctx, req.Body, s.ree.SbomBuild)
	if err != nil {
		return nil, err
	}
	return api.ReeSbomRebuild200JSONResponse{ReeProcessStartedJSONResponse: started(p)}, nil
}
