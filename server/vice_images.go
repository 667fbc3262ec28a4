package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/registry"
)

// RegistryImageList lists and searches the caller's images (findImages).
func (s *Server) ViceImageList(ctx context.Context, req api.ViceImageListRequestObject) (api.ViceImageListResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	ims, err := s.registry.Images(ctx, who, registry.ImageQuery{Text: val(req.Params.Q), Package: val(req.Params.Package), Version: val(req.Params.Version)})
	if err != nil {
		return nil, err
	}
	out := make(api.ViceImageList200JSONResponse, 0, len(ims))
	for _, im := range ims {
		out = append(out, toAPIImage(im))
	}
	return out, nil
}

// RegistryImageCreate creates an image record (createImage).
func (s *Server) ViceImageCreate(ctx context.Context, req api.ViceImageCreateRequestObject) (api.ViceImageCreateResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	im, err := s.registry.CreateImage(ctx, who, fromAPIImage(req.Body))
	if err != nil {
		return nil, err
	}
	return api.ViceImageCreate201JSONResponse{ViceImageSavedJSONResponse: api.ViceImageSavedJSONResponse(toAPIImage(im))}, nil
}

// RegistryImageUpdate replaces an image record (updateImage, 201 as in the seed).
func (s *Server) ViceImageUpdate(ctx context.Context, req api.ViceImageUpdateRequestObject) (api.ViceImageUpdateResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	im, err := s.registry.UpdateImage(ctx, who, fromAPIImage(req.Body))
	if err != nil {
		return nil, err
	}
	return api.ViceImageUpdate201JSONResponse{ViceImageSavedJSONResponse: api.ViceImageSavedJSONResponse(toAPIImage(im))}, nil
}

// RegistryImageGet returns one image (getImage).
func (s *Server) ViceImageGet(ctx context.Context, req api.ViceImageGetRequestObject) (api.ViceImageGetResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	im, err := s.registry.Image(ctx, who, req.ImageId)
	if err != nil {
		return nil, err
	}
	return api.ViceImageGet200JSONResponse(toAPIImage(im)), nil
}

// RegistryImageDelete deletes an image (deleteImage).
func (s *Server) ViceImageDelete(ctx context.Context, req api.ViceImageDeleteRequestObject) (api.ViceImageDeleteResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.registry.DeleteImage(ctx, who, req.ImageId); err != nil {
		return nil, err
	}
	return api.ViceImageDelete200Response{}, nil
}

// RegistryImageUpload streams the multipart field upfile into the
// service, which hashes it into the blob store while it streams and checks
// it before it is committed (uploadImage).
func (s *Server) ViceImageUpload(ctx context.Context, req api.ViceImageUploadRequestObject) (api.ViceImageUploadResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	// The record is checked first, so that a wrong id does not cost an upload.
	if _, err := s.registry.Image(ctx, who, req.ImageId); err != nil {
		return nil, err
	}
	part, err := req.Body.NextPart()
	if errors.Is(err, io.EOF) {
		return nil, fault.Invalidf("upfile: a file is required (form field \"upfile\")")
	}
	if err != nil {
		return nil, uploadError(err)
	}
	defer part.Close()
	if part.FormName() != "upfile" {
		return nil, fault.Invalidf("unknown form field %q; expected upfile", part.FormName())
	}
	if _, err := s.registry.Upload(ctx, who, req.ImageId, registry.UploadOpts{Body: classified{part}, Limit: s.cfg.MaxUploadBytes}); err != nil {
		return nil, err
	}
	return api.ViceImageUpload200Response{}, nil
}

// classified turns a failure to read the request body (cut off, over the
// limit, a malformed part) into the client's error.
type classified struct{ r io.Reader }

func (c classified) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = uploadError(err)
	}
	return n, err
}

// RegistryImageDownload serves the image's file, converted on request (downloadImage).
func (s *Server) ViceImageDownload(ctx context.Context, req api.ViceImageDownloadRequestObject) (api.ViceImageDownloadResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := requestFrom(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.registry.OpenFile(ctx, who, req.ImageId, registry.DownloadOpts{Format: string(val(req.Params.Format))})
	if err != nil {
		return nil, err
	}
	return download{
		req: r, body: d.File, contentType: "application/octet-stream", etag: quoteETag(d.ETag),
		disposition: "attachment; filename=" + strconv.Quote(d.Name), modTime: d.ModTime,
	}, nil
}

// VisitViceImageDownloadResponse serves an image file.
func (d download) VisitViceImageDownloadResponse(w http.ResponseWriter) error { return d.visit(w) }

func fromAPIImage(b *api.ViceImage) registry.Image {
	if b == nil {
		return registry.Image{}
	}
	return registry.Image{
		ID: val(b.Id), Title: val(b.Title), ImageType: string(val(b.Imagetype)), ContentType: string(val(b.Contenttype)),
		Origin: fromAPIEnvironment(b.OriginEnvironment), EnvironmentReference: val(b.EnvironmentReference), Specifics: val(b.Specifics),
	}
}

func toAPIImage(im registry.Image) api.ViceImage {
	origin := toAPIEnvironment(im.Origin)
	spec := im.Specifics
	if spec == nil {
		spec = map[string]any{}
	}
	out := api.ViceImage{
		Id: ptr(im.ID), Title: ptr(im.Title), Userid: ptr(im.UserID), Imported: ptr(im.Imported),
		OriginEnvironment: &origin, EnvironmentReference: ptr(im.EnvironmentReference), Specifics: &spec,
	}
	if im.ImageType != "" {
		out.Imagetype = ptr(api.ViceImageImagetype(im.ImageType))
	}
	if im.ContentType != "" {
		out.Contenttype = ptr(api.ViceImageContenttype(im.ContentType))
	}
	if im.Digest != "" {
		out.Digest, out.Size = ptr(im.Digest), ptr(im.Size)
	}
	return out
}

// RegistryImageSbom returns the CycloneDX SBOM attached to an image.
func (s *Server) ViceImageSbom(ctx context.Context, req api.ViceImageSbomRequestObject) (api.ViceImageSbomResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	rc, err := s.registry.SBOM(ctx, who, req.ImageId)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var doc map[string]any
	if err := json.NewDecoder(rc).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read the SBOM of image %s: %w", req.ImageId, err)
	}
	return api.ViceImageSbom200ApplicationVndCyclonedxPlusJSONResponse(doc), nil
}
