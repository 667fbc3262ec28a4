package server

import (
	"context"
	"io"

	"github.com/reehub/reehub/gen/api"
)

// ImageList lists the base-image catalogue.
func (s *Server) ReeImageList(ctx context.Context, _ api.ReeImageListRequestObject) (api.ReeImageListResponseObject, error) {
	imgs, err := s.images.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make(api.ReeImageList200JSONResponse, 0, len(imgs))
	for _, im := range imgs {
		b := api.ReeBaseImage{Name: im.Name, DownloadEndpoint: "/api/image/download/" + im.Name, Available: ptr(im.Available)}
		if im.Description != "" {
			b.Description = ptr(im.Description)
		}
		if im.ID != "" {
			b.Digest = ptr("sha256:" + im.ID)
		}
		out = append(out, b)
	}
	return out, nil
}

// ImageDownload streams a base image as a docker-archive TAR.
func (s *Server) ReeImageDownload(ctx context.Context, req api.ReeImageDownloadRequestObject) (api.ReeImageDownloadResponseObject, error) {
	if err := s.images.Head(ctx, req.Name); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(s.images.Export(ctx, req.Name, pw))
	}()
	return api.ReeImageDownload200ApplicationxTarResponse{Body: pr}, nil
}

func ptr[T any](v T) *T { return &v }
