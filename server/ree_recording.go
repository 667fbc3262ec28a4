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
	return s.defineWith(ctx, body, s.ree.Define)
}

// defineWith reads a project upload (tag, dockerfile) and hands it to start.
func (s *Server) defineWith(ctx context.Context, body *multipart.Reader, start func(context.Context, ree.DefineOpts) (process.Process, error)) (process.Process, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return process.Process{}, err
	}
	up, err := s.readUpload(body, "tag", "dockerfile", "keep", "keep_image")
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
	keep, keepImage, err := keepFields(up)
	if err != nil {
		return process.Process{}, err
	}
	return start(ctx, ree.DefineOpts{OwnerID: who.User.ID, ZipPath: up.Path, Tag: tag, Dockerfile: dockerfile, Keep: keep, KeepImage: keepImage})
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
	return s.rebuildWith(ctx, body, s.ree.Replay)
}

// rebuildWith reads a defined-REE upload (tag) and hands it to start.
func (s *Server) rebuildWith(ctx context.Context, body *multipart.Reader, start func(context.Context, ree.ReplayOpts) (process.Process, error)) (process.Process, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return process.Process{}, err
	}
	up, err := s.readUpload(body, "tag", "keep", "keep_image")
	if err != nil {
		return process.Process{}, err
	}
	defer up.remove()
	tag, err := tagField(up)
	if err != nil {
		return process.Process{}, err
	}
	keep, keepImage, err := keepFields(up)
	if err != nil {
		return process.Process{}, err
	}
	return start(ctx, ree.ReplayOpts{OwnerID: who.User.ID, ZipPath: up.Path, Tag: tag, Keep: keep, KeepImage: keepImage})
}

func tagField(up *upload) (*string, error) {
	tag, ok := up.Fields["tag"]
	if !ok || tag == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(tag) > maxTagRunes {
		return nil, fault.Invalidf("tag: longer than %d characters", maxTagRunes)
	}
	for _, r := range tag {
		if r < 0x20 || r == 0x7f {
			return nil, fault.Invalidf("tag: must not contain control characters (found %U)", r)
		}
	}
	return &tag, nil
}

// keepFields reads the keep and keep_image form fields ("true" or "false",
// absent meaning false).
func keepFields(up *upload) (keep, keepImage bool, err error) {
	flag := func(name string) (bool, error) {
		switch up.Fields[name] {
		case "", "false":
			return false, nil
		case "true":
			return true, nil
		}
		return false, fault.Invalidf("%s: must be true or false, got %q", name, up.Fields[name])
	}
	if keep, err = flag("keep"); err != nil {
		return false, false, err
	}
	keepImage, err = flag("keep_image")
	return keep, keepImage, err
}

func started(p process.Process) api.ReeProcessStartedJSONResponse {
	return api.ReeProcessStartedJSONResponse{
		Uuid: uuid.MustParse(p.ID), Tag: p.Tag, StatusEndpoint: "/api/process/status/" + p.ID,
	}
}
