package server

import (
	"context"
	"mime/multipart"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/process"
	"github.com/reehub/reehub/service/ree"
)

// maxTagRunes is the longest tag (the spec's maxLength).
const maxTagRunes = 128

// RecordingCreate starts a recording of an uploaded project.
func (s *Server) ReeRecordingCreate(ctx context.Context, req api.ReeRecordingCreateRequestObject) (api.ReeRecordingCreateResponseObject, error) {
	p, err := s.define(ctx, req.Body)
	if err != nil {
		return nil, err
	}
	return api.ReeRecordingCreate200JSONResponse{ReeProcessStartedJSONResponse: started(p)}, nil
}

func (s *Server) define(ctx context.Context, body *multipart.Reader) (process.Process, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return process.Process{}, err
	}
	up, err := s.readUpload(body, "tag", "dockerfile")
	if err != nil {
		return process.Process{}, err
	}
	defer up.remove()
	tag, err := tagField(up)
	if err != nil {
		return process.Process{}, err
	}
	dockerfile, given := up.Fields["dockerfile"]
	if given && dockerfile == "" {
		return process.Process{}, fault.Invalidf("dockerfile: must not be empty")
	}
	return s.ree.Define(ctx, ree.DefineOpts{OwnerID: who.User.ID, ZipPath: up.Path, Tag: tag, Dockerfile: dockerfile})
}

// RecordingBuild starts an offline rebuild of a defined REE.
func (s *Server) ReeRecordingBuild(ctx context.Context, req api.ReeRecordingBuildRequestObject) (api.ReeRecordingBuildResponseObject, error) {
	p, err := s.replay(ctx, req.Body)
	if err != nil {
		return nil, err
	}
	return api.ReeRecordingBuild200JSONResponse{ReeProcessStartedJSONResponse: started(p)}, nil
}

// ReplayCreate is RecordingBuild under the REE document's other spelling.
func (s *Server) ReeReplayCreate(ctx context.Context, req api.ReeReplayCreateRequestObject) (api.ReeReplayCreateResponseObject, error) {
	p, err := s.replay(ctx, req.Body)
	if err != nil {
		return nil, err
	}
	return api.ReeReplayCreate200JSONResponse{ReeProcessStartedJSONResponse: started(p)}, nil
}

func (s *Server) replay(ctx context.Context, body *multipart.Reader) (process.Process, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return process.Process{}, err
	}
	up, err := s.readUpload(body, "tag")
	if err != nil {
		return process.Process{}, err
	}
	defer up.remove()
	tag, err := tagField(up)
	if err != nil {
		return process.Process{}, err
	}
	return s.ree.Replay(ctx, ree.ReplayOpts{OwnerID: who.User.ID, ZipPath: up.Path, Tag: tag})
}

// SbomDefine checks the upload, then says that the SBOM strategy is not available yet.
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

func tagField(up *upload) (*string, error) {
	tag, ok := up.Fields["tag"]
	if !ok || tag == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(tag) > maxTagRunes {
		return nil, fault.Invalidf("tag: longer than %d characters", maxTagRunes)
	}
	return &tag, nil
}

func started(p process.Process) api.ReeProcessStartedJSONResponse {
	return api.ReeProcessStartedJSONResponse{
		Uuid: uuid.MustParse(p.ID), Tag: p.Tag, StatusEndpoint: "/api/process/status/" + p.ID,
	}
}
