package server

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/reehub/reehub/gen/api"
)

// ReeImageList lists the base-image catalogue; while Podman does not answer
// every image is listed as not available.
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

// ReeImageDownload serves a base image as a docker-archive TAR from its staged
// export, with its length, digest, Range and If-None-Match.
func (s *Server) ReeImageDownload(ctx context.Context, req api.ReeImageDownloadRequestObject) (api.ReeImageDownloadResponseObject, error) {
	r, err := requestFrom(ctx)
	if err != nil {
		return nil, err
	}
	ex, err := s.images.OpenExport(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	sum, err := hex.DecodeString(ex.SHA256)
	if err != nil {
		_ = ex.File.Close()
		return nil, fmt.Errorf("digest of the export of %s: %w", req.Name, err)
	}
	return download{
		req: r, body: ex.File, contentType: "application/x-tar",
		etag:        quoteETag("sha256:" + ex.ImageID),
		disposition: `attachment; filename="` + req.Name + `.tar"`,
		digest:      "sha-256=" + base64.StdEncoding.EncodeToString(sum),
		modTime:     ex.ModTime,
	}, nil
}

func ptr[T any](v T) *T { return &v }
