package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/studio"
)

func toFile(ctx context.Context, f studio.File) xmlFile {
	return xmlFile{ID: f.ID, Filename: f.Filename, Path: f.Path, Owner: f.Owner, Group: f.Group, Permissions: f.Permissions,
		Enabled: f.Enabled, Size: f.Size, Checksum: &xmlChecksum{Type: "md5", Value: f.MD5},
		DownloadURL: fmt.Sprintf("%s/api/v1/user/files/%d/data", baseURL(ctx), f.ID)}
}

// StudioFileList lists an appliance's overlay files.
func (s *Server) StudioFileList(ctx context.Context, r api.StudioFileListRequestObject) (api.StudioFileListResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	fs, err := s.studio.Files(ctx, p.User.ID, r.Params.ApplianceId)
	if err != nil {
		return nil, err
	}
	out := xmlFiles{Type: arrayType, File: []xmlFile{}}
	for _, f := range fs {
		out.File = append(out.File, toFile(ctx, f))
	}
	return replyFileList(ctx, out)
}

// StudioFileUpload adds an overlay file (multipart, field "file"); its
// metadata comes from the query (or form fields of the same names).
func (s *Server) StudioFileUpload(ctx context.Context, r api.StudioFileUploadRequestObject) (api.StudioFileUploadResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.readUpload(r.Body, "filename", "path", "owner", "group", "permissions", "enabled")
	if err != nil {
		return nil, err
	}
	defer u.remove()
	m := studio.FileMeta{Filename: r.Params.Filename, Path: r.Params.Path, Owner: r.Params.Owner, Group: r.Params.Group,
		Permissions: r.Params.Permissions, Enabled: r.Params.Enabled}
	field := func(dst **string, name string) {
		if v, ok := u.Fields[name]; ok && *dst == nil {
			*dst = &v
		}
	}
	field(&m.Filename, "filename")
	field(&m.Path, "path")
	field(&m.Owner, "owner")
	field(&m.Group, "group")
	field(&m.Permissions, "permissions")
	if v, ok := u.Fields["enabled"]; ok && m.Enabled == nil {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fault.Invalidf("enabled: must be true or false")
		}
		m.Enabled = &b
	}
	f, err := s.studio.AddFile(ctx, p.User.ID, r.Params.ApplianceId, u.Path, u.Name, m)
	if err != nil {
		return nil, err
	}
	return replyFileUpload(ctx, toFile(ctx, f))
}

// StudioFileShow shows an overlay file's metadata.
func (s *Server) StudioFileShow(ctx context.Context, r api.StudioFileShowRequestObject) (api.StudioFileShowResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.studio.File(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return replyFileShow(ctx, toFile(ctx, f))
}

// StudioFileUpdate changes an overlay file's metadata.
func (s *Server) StudioFileUpdate(ctx context.Context, r api.StudioFileUpdateRequestObject) (api.StudioFileUpdateResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var body xmlFileMeta
	var raw []byte
	if r.JSONBody != nil {
		raw = r.JSONBody.Raw
	}
	if err := decodeStudioBody(raw, r.Body, &body); err != nil {
		return nil, fault.Invalidf("%v", err)
	}
	f, err := s.studio.UpdateFile(ctx, p.User.ID, r.Id, studio.FileMeta{Filename: body.Filename, Path: body.Path, Owner: body.Owner,
		Group: body.Group, Permissions: body.Permissions, Enabled: body.Enabled})
	if err != nil {
		return nil, err
	}
	return replyFileUpdate(ctx, toFile(ctx, f))
}

// StudioFileDelete deletes an overlay file.
func (s *Server) StudioFileDelete(ctx context.Context, r api.StudioFileDeleteRequestObject) (api.StudioFileDeleteResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.studio.DeleteFile(ctx, p.User.ID, r.Id); err != nil {
		return nil, err
	}
	return replyFileDelete(ctx, xmlSuccess{})
}

// StudioFileData serves an overlay file's content.
func (s *Server) StudioFileData(ctx context.Context, r api.StudioFileDataRequestObject) (api.StudioFileDataResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	fh, f, err := s.studio.OpenFileData(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return fileDownload(ctx, fh, "application/octet-stream", f.Filename, "md5:"+f.MD5)
}

// StudioFileDataUpdate replaces an overlay file's content (multipart, field "file").
func (s *Server) StudioFileDataUpdate(ctx context.Context, r api.StudioFileDataUpdateRequestObject) (api.StudioFileDataUpdateResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.readUpload(r.Body)
	if err != nil {
		return nil, err
	}
	defer u.remove()
	f, err := s.studio.ReplaceFileData(ctx, p.User.ID, r.Id, u.Path)
	if err != nil {
		return nil, err
	}
	return replyFileDataUpdate(ctx, toFile(ctx, f))
}

// fileDownload serves an open file with Range, ETag and a file name.
func fileDownload(ctx context.Context, f io.ReadSeekCloser, contentType, name, etag string) (download, error) {
	req, err := requestFrom(ctx)
	if err != nil {
		_ = f.Close()
		return download{}, err
	}
	// A blob read from a bucket has no file time; a local file's is the
	// Last-Modified of the answer.
	var modTime time.Time
	if st, ok := f.(interface{ Stat() (os.FileInfo, error) }); ok {
		fi, err := st.Stat()
		if err != nil {
			_ = f.Close()
			return download{}, fmt.Errorf("stat download: %w", err)
		}
		modTime = fi.ModTime()
	}
	return download{req: req, body: f, contentType: contentType, etag: quoteETag(etag), disposition: contentDisposition(name), modTime: modTime}, nil
}

// bytesDownload serves bytes in memory like a file.
func bytesDownload(ctx context.Context, b []byte, name string) (download, error) {
	req, err := requestFrom(ctx)
	if err != nil {
		return download{}, err
	}
	return download{req: req, body: nopSeekCloser{bytes.NewReader(b)}, contentType: "application/octet-stream",
		disposition: contentDisposition(name), modTime: time.Time{}}, nil
}

type nopSeekCloser struct{ io.ReadSeeker }

func (nopSeekCloser) Close() error { return nil }

// VisitStudioFileDataResponse serves an overlay file.
func (d download) VisitStudioFileDataResponse(w http.ResponseWriter) error { return d.visit(w) }

// VisitStudioRpmDataResponse serves an uploaded package.
func (d download) VisitStudioRpmDataResponse(w http.ResponseWriter) error { return d.visit(w) }

// VisitStudioBuildDownloadResponse serves a build's image file.
func (d download) VisitStudioBuildDownloadResponse(w http.ResponseWriter) error { return d.visit(w) }

// VisitStudioBuildReeResponse serves a build's defined REE.
func (d download) VisitStudioBuildReeResponse(w http.ResponseWriter) error { return d.visit(w) }

// VisitStudioImageFileResponse serves one file of a built image.
func (d download) VisitStudioImageFileResponse(w http.ResponseWriter) error { return d.visit(w) }
