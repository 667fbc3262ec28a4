package server

import (
	"context"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/studio"
)

func toRpm(r studio.Rpm) xmlRpm {
	return xmlRpm{ID: r.ID, Filename: r.Filename, Size: r.Size, Archive: false, BaseSystem: r.BaseSystem,
		Checksum: &xmlChecksum{Type: "md5", Value: r.MD5}, Package: r.Package, Version: r.Version, Architecture: r.Architecture}
}

// StudioRpmList lists the user's uploaded packages.
func (s *Server) StudioRpmList(ctx context.Context, r api.StudioRpmListRequestObject) (api.StudioRpmListResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	base := deref(r.Params.BaseSystem)
	rs, err := s.studio.Rpms(ctx, p.User.ID, base)
	if err != nil {
		return nil, err
	}
	out := xmlRpms{Type: arrayType, BaseSystem: base, Rpm: []xmlRpm{}}
	for _, x := range rs {
		out.Rpm = append(out.Rpm, toRpm(x))
	}
	return replyRpmList(ctx, out)
}

// StudioRpmUpload adds a .deb to the user's repository (multipart, field "file").
func (s *Server) StudioRpmUpload(ctx context.Context, r api.StudioRpmUploadRequestObject) (api.StudioRpmUploadResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.readUpload(r.Body)
	if err != nil {
		return nil, err
	}
	defer u.remove()
	x, err := s.studio.UploadRpm(ctx, p.User.ID, deref(r.Params.BaseSystem), u.Path, u.Name)
	if err != nil {
		return nil, err
	}
	return replyRpmUpload(ctx, toRpm(x))
}

// StudioRpmShow shows an uploaded package.
func (s *Server) StudioRpmShow(ctx context.Context, r api.StudioRpmShowRequestObject) (api.StudioRpmShowResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	x, err := s.studio.Rpm(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return replyRpmShow(ctx, toRpm(x))
}

// StudioRpmUpdate replaces an uploaded package's content.
func (s *Server) StudioRpmUpdate(ctx context.Context, r api.StudioRpmUpdateRequestObject) (api.StudioRpmUpdateResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.readUpload(r.Body)
	if err != nil {
		return nil, err
	}
	defer u.remove()
	x, err := s.studio.UpdateRpm(ctx, p.User.ID, r.Id, u.Path, u.Name)
	if err != nil {
		return nil, err
	}
	return replyRpmUpdate(ctx, toRpm(x))
}

// StudioRpmDelete deletes an uploaded package.
func (s *Server) StudioRpmDelete(ctx context.Context, r api.StudioRpmDeleteRequestObject) (api.StudioRpmDeleteResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.studio.DeleteRpm(ctx, p.User.ID, r.Id); err != nil {
		return nil, err
	}
	return replyRpmDelete(ctx, xmlSuccess{})
}

// StudioRpmData serves an uploaded package.
func (s *Server) StudioRpmData(ctx context.Context, r api.StudioRpmDataRequestObject) (api.StudioRpmDataResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	f, x, err := s.studio.OpenRpm(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return fileDownload(ctx, f, "application/vnd.debian.binary-package", x.Filename, "md5:"+x.MD5)
}
