package server

import (
	"context"
	"fmt"
	"path"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/studio"
)

func toRunningBuild(b studio.Build) xmlRunningBuild {
	return xmlRunningBuild{ID: b.ID, State: b.State, Percent: b.Percent, TimeElapsed: int64(b.TimeElapsed.Seconds()), Message: b.Message}
}

func toBuild(ctx context.Context, b studio.Build) xmlBuild {
	out := xmlBuild{ID: b.ID, Version: b.Version, State: b.State, ImageType: b.ImageType, Size: mb(b.Size),
		CompressedImageSize: mb(b.CompressedSize), ImageSizeBytes: b.Size, CompressedSizeBytes: b.CompressedSize}
	if b.CompletedAt != nil {
		out.CompletedAt = b.CompletedAt.UTC().Format(studioTime)
	}
	if b.State == "finished" {
		base := baseURL(ctx)
		out.Checksum = &xmlBuildChecksum{MD5: b.MD5, SHA1: b.SHA1, SHA256: b.SHA256}
		out.DownloadURL = downloadURL(base, b.ID)
		out.REEURL = fmt.Sprintf("%s/api/v1/user/builds/%d/ree", base, b.ID)
	}
	return out
}

// StudioRunningBuildList lists the running builds of an appliance.
func (s *Server) StudioRunningBuildList(ctx context.Context, r api.StudioRunningBuildListRequestObject) (api.StudioRunningBuildListResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	bs, err := s.studio.RunningBuilds(ctx, p.User.ID, r.Params.ApplianceId)
	if err != nil {
		return nil, err
	}
	out := xmlRunningBuilds{Type: arrayType, RunningBuild: []xmlRunningBuild{}}
	for _, b := range bs {
		out.RunningBuild = append(out.RunningBuild, toRunningBuild(b))
	}
	return replyRunningBuildList(ctx, out)
}

// StudioRunningBuildShow shows a build's progress.
func (s *Server) StudioRunningBuildShow(ctx context.Context, r api.StudioRunningBuildShowRequestObject) (api.StudioRunningBuildShowResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.studio.Build(ctx, p.User.ID, r.Id, "invalid_running_build_id")
	if err != nil {
		return nil, err
	}
	return replyRunningBuildShow(ctx, toRunningBuild(b))
}

// StudioRunningBuildStart starts a build.
func (s *Server) StudioRunningBuildStart(ctx context.Context, r api.StudioRunningBuildStartRequestObject) (api.StudioRunningBuildStartResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.studio.Start(ctx, p.User.ID, r.Params.ApplianceId, studio.StartOpts{Force: flag(r.Params.Force),
		Version: deref(r.Params.Version), ImageType: deref(r.Params.ImageType)})
	if err != nil {
		return nil, err
	}
	return replyRunningBuildStart(ctx, toRunningBuild(b))
}

// StudioRunningBuildCancel cancels a build; nothing of it is left.
func (s *Server) StudioRunningBuildCancel(ctx context.Context, r api.StudioRunningBuildCancelRequestObject) (api.StudioRunningBuildCancelResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.studio.Cancel(ctx, p.User.ID, r.Id); err != nil {
		return nil, err
	}
	return replyRunningBuildCancel(ctx, xmlSuccess{})
}

// StudioBuildList lists the finished builds of an appliance.
func (s *Server) StudioBuildList(ctx context.Context, r api.StudioBuildListRequestObject) (api.StudioBuildListResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	bs, err := s.studio.Builds(ctx, p.User.ID, r.Params.ApplianceId)
	if err != nil {
		return nil, err
	}
	out := xmlBuilds{Type: arrayType, Build: []xmlBuild{}}
	for _, b := range bs {
		out.Build = append(out.Build, toBuild(ctx, b))
	}
	return replyBuildList(ctx, out)
}

// StudioBuildShow shows a build.
func (s *Server) StudioBuildShow(ctx context.Context, r api.StudioBuildShowRequestObject) (api.StudioBuildShowResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.studio.Build(ctx, p.User.ID, r.Id, "invalid_build_id")
	if err != nil {
		return nil, err
	}
	return replyBuildShow(ctx, toBuild(ctx, b))
}

// StudioBuildDelete deletes a finished build.
func (s *Server) StudioBuildDelete(ctx context.Context, r api.StudioBuildDeleteRequestObject) (api.StudioBuildDeleteResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.studio.DeleteBuild(ctx, p.User.ID, r.Id); err != nil {
		return nil, err
	}
	return replyBuildDelete(ctx, xmlSuccess{})
}

// StudioBuildDownload streams a finished build's image (Range supported).
func (s *Server) StudioBuildDownload(ctx context.Context, r api.StudioBuildDownloadRequestObject) (api.StudioBuildDownloadResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	f, b, err := s.studio.OpenImage(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return fileDownload(ctx, f, "application/octet-stream", studio.ImageFileName(b), "sha256:"+b.SHA256)
}

// StudioBuildRee streams the defined REE of a build (a zip that replays offline).
func (s *Server) StudioBuildRee(ctx context.Context, r api.StudioBuildReeRequestObject) (api.StudioBuildReeResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.studio.OpenREE(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return fileDownload(ctx, f, "application/zip", fmt.Sprintf("build-%d-ree.zip", r.Id), fmt.Sprintf("studio-ree-%d", r.Id))
}

// StudioImageFile returns one file of a finished build's image.
func (s *Server) StudioImageFile(ctx context.Context, r api.StudioImageFileRequestObject) (api.StudioImageFileResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.studio.ImageFile(ctx, p.User.ID, r.Id, r.Params.BuildId, r.Params.Path)
	if err != nil {
		return nil, err
	}
	return bytesDownload(ctx, b, path.Base(r.Params.Path))
}
