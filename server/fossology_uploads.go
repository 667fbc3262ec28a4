package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/fossology"
	"github.com/reehub/reehub/service/fossology/fetch"
)

func toFossHash(h unpack.Hash) api.FossologyHash {
	return api.FossologyHash{Sha1: fossology.UpperHex(h.SHA1), Md5: fossology.UpperHex(h.MD5), Sha256: fossology.UpperHex(h.SHA256), Size: h.Size}
}

func toFossUpload(u fossology.Upload) api.FossologyUpload {
	out := api.FossologyUpload{Folderid: int(u.FolderID), Foldername: u.FolderName, Id: int(u.ID), Description: u.Description,
		Uploadname: u.Name, Uploaddate: fossology.Timestamp(u.CreatedAt.Local()), Hash: toFossHash(u.Hash)}
	if u.AssigneeID != nil {
		a := int(*u.AssigneeID)
		out.Assignee = &a
	}
	return out
}

// uploadForm is what a multipart upload carries besides the file.
type uploadForm struct {
	fields map[string]string
	file   *fossology.StoredFile
	name   string
}

// uploadFormFields are the header inputs a multipart upload may repeat as form fields.
var uploadFormFields = []string{"folderId", "uploadDescription", "public", "ignoreScm", "applyGlobal", "uploadType", "groupName", "scanOptions"}

// readUploadForm streams the fileInput part into the blob store (hashed on
// the way) and keeps the text fields.
func (s *Server) readUploadForm(ctx context.Context, body *multipart.Reader) (*uploadForm, error) {
	f := &uploadForm{fields: map[string]string{}}
	for {
		part, err := body.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, uploadError(err)
		}
		name := part.FormName()
		switch {
		case name == "fileInput" || name == "file":
			if f.file != nil {
				return nil, fault.Invalidf("fileInput: only one file may be uploaded")
			}
			stored, err := s.foss.StoreFile(ctx, part)
			var maxBytes *http.MaxBytesError
			if errors.As(err, &maxBytes) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, uploadError(err)
			}
			if err != nil {
				return nil, err
			}
			f.file, f.name = &stored, part.FileName()
		case contains(uploadFormFields, name):
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				return nil, uploadError(err)
			}
			if len(b) > maxFieldBytes {
				return nil, fault.Invalidf("%s: longer than %d bytes", name, maxFieldBytes)
			}
			f.fields[name] = string(b)
		}
		_ = part.Close()
	}
	if f.file == nil {
		return nil, fault.Invalidf("fileInput: a file is required (multipart part \"fileInput\")")
	}
	return f, nil
}

// FossologyCreateUpload creates an upload from a file, a url, a git
// repository or a server path, and answers 201 with its id at once.
func (s *Server) FossologyCreateUpload(ctx context.Context, req api.FossologyCreateUploadRequestObject) (api.FossologyCreateUploadResponseObject, error) {
	p := req.Params
	c, err := s.fossCaller(ctx, p.GroupName)
	if err != nil {
		return nil, err
	}
	if err := s.foss.CheckFolder(ctx, c, int64(p.FolderId)); err != nil {
		return nil, err
	}
	nu := fossology.NewUpload{FolderID: int64(p.FolderId), Type: fossology.UploadFile}
	if p.UploadType != nil {
		nu.Type = string(*p.UploadType)
	}
	if p.UploadDescription != nil {
		nu.Description = *p.UploadDescription
	}
	if p.Public != nil {
		nu.Public = string(*p.Public)
	}
	if p.IgnoreScm != nil {
		nu.IgnoreScm = *p.IgnoreScm
	}
	switch {
	case req.MultipartBody != nil:
		form, err := s.readUploadForm(ctx, req.MultipartBody)
		if err != nil {
			return nil, err
		}
		if err := applyUploadFields(&nu, p, form.fields); err != nil {
			return nil, err
		}
		if g, ok := form.fields["groupName"]; ok && p.GroupName == nil && g != "" {
			if c, err = s.fossCaller(ctx, &g); err != nil {
				return nil, err
			}
		}
		switch nu.Type {
		case fossology.UploadFile:
		case fossology.UploadServer:
			// Some fossology-python releases send uploadType server with the file.
			nu.Type = fossology.UploadFile
		default:
			return nil, fault.Invalidf("uploadType %s takes a JSON body, not a file", nu.Type)
		}
		nu.File, nu.Name = form.file, form.name
	case req.JSONBody != nil:
		if err := applySourceFields(&nu, p, *req.JSONBody); err != nil {
			return nil, err
		}
		if g := req.JSONBody.GroupName; g != nil && p.GroupName == nil && *g != "" {
			if c, err = s.fossCaller(ctx, g); err != nil {
				return nil, err
			}
		}
		if p.UploadType == nil && req.JSONBody.UploadType == nil {
			return nil, fault.Invalidf("uploadType: url, vcs or server is required with a JSON body (header or body field)")
		}
		src := flatSource(*req.JSONBody)
		switch nu.Type {
		case fossology.UploadURL:
			if src.Url == nil || *src.Url == "" {
				return nil, fault.Invalidf("request body field url: required for uploadType url")
			}
			nu.URL, nu.Name, nu.Accept, nu.Reject = *src.Url, deref(src.Name), deref(src.Accept), deref(src.Reject)
		case fossology.UploadVCS:
			if src.VcsUrl == nil || *src.VcsUrl == "" {
				return nil, fault.Invalidf("request body field vcsUrl: required for uploadType vcs")
			}
			t := "git"
			if src.VcsType != nil {
				t = string(*src.VcsType)
			}
			nu.VCS = &fetch.VCS{Type: t, URL: *src.VcsUrl, Branch: deref(src.VcsBranch), Name: deref(src.VcsName),
				Username: deref(src.VcsUsername), Password: deref(src.VcsPassword)}
		case fossology.UploadServer:
			nu.ServerPath, nu.Name = deref(src.Path), deref(src.Name)
		default:
			return nil, fault.Invalidf("uploadType %s takes a multipart body with fileInput", nu.Type)
		}
	default:
		return nil, fault.Invalidf("request body: a multipart form with fileInput, or a JSON source, is required")
	}
	id, err := s.foss.CreateUpload(ctx, c, nu)
	if err != nil {
		return nil, err
	}
	return api.FossologyCreateUpload201JSONResponse(created(201, id)), nil
}

// applyUploadFields fills what the headers left out from the form fields
// (booleans as true/false or True/False).
func applyUploadFields(nu *fossology.NewUpload, p api.FossologyCreateUploadParams, f map[string]string) error {
	if v, ok := f["uploadDescription"]; ok && p.UploadDescription == nil {
		nu.Description = v
	}
	if v, ok := f["uploadType"]; ok && p.UploadType == nil && v != "" {
		nu.Type = v
	}
	if v, ok := f["public"]; ok && p.Public == nil && v != "" {
		switch v {
		case "private", "protected", "public":
			nu.Public = v
		default:
			return fault.Invalidf("form field public: %q is not private, protected or public", v)
		}
	}
	if v, ok := f["ignoreScm"]; ok && p.IgnoreScm == nil {
		b, err := fossology.ParseBool(v, false)
		if err != nil {
			return fmt.Errorf("form field ignoreScm: %w", err)
		}
		nu.IgnoreScm = b
	}
	if v, ok := f["applyGlobal"]; ok && p.ApplyGlobal == nil {
		if _, err := fossology.ParseBool(v, false); err != nil {
			return fmt.Errorf("form field applyGlobal: %w", err)
		}
	}
	if v, ok := f["folderId"]; ok && v != "" {
		id, err := fossology.ParseID(v, "form field folderId")
		if err != nil {
			return err
		}
		if id != nu.FolderID {
			return fault.Invalidf("form field folderId %d differs from the header folderId %d", id, nu.FolderID)
		}
	}
	return nil
}

// applySourceFields fills what the headers left out from the fields that
// fossology-python 4.x repeats in a JSON body beside location (folderId as
// digits, uploadDescription possibly null, public, ignoreScm, uploadType). A
// body folderId must name the header's folder.
func applySourceFields(nu *fossology.NewUpload, p api.FossologyCreateUploadParams, b api.FossologyUploadSource) error {
	if b.UploadDescription != nil && p.UploadDescription == nil {
		nu.Description = *b.UploadDescription
	}
	if b.UploadType != nil && p.UploadType == nil {
		nu.Type = string(*b.UploadType)
	}
	if b.Public != nil && p.Public == nil {
		nu.Public = string(*b.Public)
	}
	if b.IgnoreScm != nil && p.IgnoreScm == nil {
		nu.IgnoreScm = *b.IgnoreScm
	}
	if b.FolderId != nil {
		raw, err := b.FolderId.MarshalJSON()
		if err != nil {
			return fault.Invalidf("request body field folderId: %v", err)
		}
		id, err := fossology.ParseID(strings.Trim(string(raw), `"`), "request body field folderId")
		if err != nil {
			return err
		}
		if id != nu.FolderID {
			return fault.Invalidf("request body field folderId %d differs from the header folderId %d", id, nu.FolderID)
		}
	}
	return nil
}

// flatSource merges FOSSology 1.4's {location: {...}} into the flat fields.
func flatSource(b api.FossologyUploadSource) api.FossologyUploadSource {
	if b.Location == nil {
		return b
	}
	str := func(k string, dst **string) {
		if v, ok := (*b.Location)[k].(string); ok && *dst == nil {
			*dst = &v
		}
	}
	str("url", &b.Url)
	str("name", &b.Name)
	str("accept", &b.Accept)
	str("reject", &b.Reject)
	str("vcsUrl", &b.VcsUrl)
	str("vcsBranch", &b.VcsBranch)
	str("vcsName", &b.VcsName)
	str("vcsUsername", &b.VcsUsername)
	str("vcsPassword", &b.VcsPassword)
	str("path", &b.Path)
	if v, ok := (*b.Location)["vcsType"].(string); ok && b.VcsType == nil {
		t := api.FossologyUploadSourceVcsType(v)
		b.VcsType = &t
	}
	return b
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// FossologyListUploads lists the unpacked uploads of the caller's group.
func (s *Server) FossologyListUploads(ctx context.Context, req api.FossologyListUploadsRequestObject) (api.FossologyListUploadsResponseObject, error) {
	p := req.Params
	c, err := s.fossCaller(ctx, p.GroupName)
	if err != nil {
		return nil, err
	}
	f := fossology.UploadFilter{Recursive: true, Name: deref(p.Name), Assignee: deref(p.Assignee)}
	f.Page, f.Limit = pageParams(ctx, p.Page, p.Limit)
	if p.FolderId != nil {
		f.FolderID = int64(*p.FolderId)
	}
	if p.Recursive != nil {
		f.Recursive = *p.Recursive
	}
	if p.Status != nil {
		f.Status = string(*p.Status)
	}
	if p.Since != nil {
		t := time.Date(p.Since.Year(), p.Since.Month(), p.Since.Day(), 0, 0, 0, 0, time.Local)
		f.Since = &t
	}
	us, pages, err := s.foss.Uploads(ctx, c, f)
	if err != nil {
		return nil, err
	}
	out := api.FossologyListUploads200JSONResponse{Body: make([]api.FossologyUpload, len(us))}
	for i, u := range us {
		out.Body[i] = toFossUpload(u)
	}
	out.Headers.XTotalPages = &pages
	return out, nil
}

// FossologyGetUpload returns an upload; 503 with Retry-After while it is unpacked.
func (s *Server) FossologyGetUpload(ctx context.Context, req api.FossologyGetUploadRequestObject) (api.FossologyGetUploadResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	u, err := s.foss.Upload(ctx, c, int64(req.Id))
	if err != nil {
		return nil, err
	}
	return api.FossologyGetUpload200JSONResponse(toFossUpload(u)), nil
}

// FossologyUpdateUpload sets an upload's clearing status or assignee.
func (s *Server) FossologyUpdateUpload(ctx context.Context, req api.FossologyUpdateUploadRequestObject) (api.FossologyUpdateUploadResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	status := ""
	if req.Params.Status != nil {
		status = string(*req.Params.Status)
	}
	var assignee *int64
	if req.Params.Assignee != nil {
		a := int64(*req.Params.Assignee)
		assignee = &a
	}
	if err := s.foss.UpdateUpload(ctx, c, int64(req.Id), status, assignee, deref(req.Params.Comment)); err != nil {
		return nil, err
	}
	return api.FossologyUpdateUpload202JSONResponse{FossologyAcceptedJSONResponse: api.FossologyAcceptedJSONResponse(info(202, fmt.Sprintf("Upload %d updated", req.Id)))}, nil
}

// FossologyCopyUpload moves or copies an upload to another folder.
func (s *Server) FossologyCopyUpload(ctx context.Context, req api.FossologyCopyUploadRequestObject) (api.FossologyCopyUploadResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	copyIt := req.Params.Action == "copy"
	id, err := s.foss.MoveUpload(ctx, c, int64(req.Id), int64(req.Params.FolderId), copyIt)
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("Upload %d moved to folder %d", req.Id, req.Params.FolderId)
	if copyIt {
		msg = fmt.Sprintf("Upload %d copied to folder %d as upload %d", req.Id, req.Params.FolderId, id)
	}
	return api.FossologyCopyUpload202JSONResponse{FossologyAcceptedJSONResponse: api.FossologyAcceptedJSONResponse(info(202, msg))}, nil
}

// FossologyDeleteUpload deletes an upload with its results.
func (s *Server) FossologyDeleteUpload(ctx context.Context, req api.FossologyDeleteUploadRequestObject) (api.FossologyDeleteUploadResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	if err := s.foss.DeleteUpload(ctx, c, int64(req.Id)); err != nil {
		return nil, err
	}
	return api.FossologyDeleteUpload202JSONResponse{FossologyAcceptedJSONResponse: api.FossologyAcceptedJSONResponse(info(202, fmt.Sprintf("Delete Job for file with id %d", req.Id)))}, nil
}

// FossologyGetUploadSummary returns an upload's counts.
func (s *Server) FossologyGetUploadSummary(ctx context.Context, req api.FossologyGetUploadSummaryRequestObject) (api.FossologyGetUploadSummaryResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	sum, err := s.foss.Summary(ctx, c, int64(req.Id))
	if err != nil {
		return nil, err
	}
	return api.FossologyGetUploadSummary200JSONResponse{Id: int(sum.ID), UploadName: sum.UploadName, MainLicense: sum.MainLicense,
		UniqueLicenses: sum.UniqueLicenses, TotalLicenses: sum.TotalLicenses, UniqueConcludedLicenses: sum.UniqueConcludedLicenses,
		TotalConcludedLicenses: sum.TotalConcludedLicenses, FilesToBeCleared: sum.FilesToBeCleared, FilesCleared: sum.FilesCleared,
		ClearingStatus: api.FossologyClearingStatus(sum.ClearingStatus), CopyrightCount: sum.CopyrightCount}, nil
}

// FossologyGetUploadLicenses lists each file's licenses.
func (s *Server) FossologyGetUploadLicenses(ctx context.Context, req api.FossologyGetUploadLicensesRequestObject) (api.FossologyGetUploadLicensesResponseObject, error) {
	p := req.Params
	c, err := s.fossCaller(ctx, p.GroupName)
	if err != nil {
		return nil, err
	}
	q := fossology.LicenseQuery{Agents: deref(p.Agent), Containers: true, License: true}
	if p.Containers != nil {
		q.Containers = *p.Containers
	}
	if p.License != nil {
		q.License = *p.License
	}
	if p.Copyright != nil {
		q.Copyright = *p.Copyright
	}
	q.Page, q.Limit = pageParams(ctx, p.Page, p.Limit)
	list, pages, err := s.foss.Licenses(ctx, c, int64(req.Id), q)
	if err != nil {
		return nil, err
	}
	return pagedJSON{v: list, pages: pages}, nil
}

// FossologyGetUploadCopyrights lists the copyright statements of an upload.
func (s *Server) FossologyGetUploadCopyrights(ctx context.Context, req api.FossologyGetUploadCopyrightsRequestObject) (api.FossologyGetUploadCopyrightsResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	list, err := s.foss.Copyrights(ctx, c, int64(req.Id))
	if err != nil {
		return nil, err
	}
	out := make(api.FossologyGetUploadCopyrights200JSONResponse, len(list))
	for i, e := range list {
		out[i] = api.FossologyFileCopyrights{Copyright: e.Copyright, FilePath: e.FilePath}
	}
	return out, nil
}

// FossologyGetUploadTree lists the unpacked tree with item ids.
func (s *Server) FossologyGetUploadTree(ctx context.Context, req api.FossologyGetUploadTreeRequestObject) (api.FossologyGetUploadTreeResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	page, limit := pageParams(ctx, req.Params.Page, req.Params.Limit)
	items, pages, err := s.foss.Tree(ctx, c, int64(req.Id), page, limit)
	if err != nil {
		return nil, err
	}
	out := api.FossologyGetUploadTree200JSONResponse{Body: make([]api.FossologyTreeItem, len(items))}
	for i, it := range items {
		t := api.FossologyTreeItem{ItemId: int(it.ItemID), FilePath: it.Item.Path, Kind: api.FossologyTreeItemKind(it.Item.Kind)}
		if it.Item.MimeType != "" {
			t.MimeType = &it.Item.MimeType
		}
		if it.Item.Format != "" {
			t.Format = &it.Item.Format
		}
		if it.Item.Kind == unpack.KindFile || it.Item.Kind == unpack.KindContainer {
			h := toFossHash(it.Item.Hash)
			t.Hash = &h
		}
		out.Body[i] = t
	}
	out.Headers.XTotalPages = &pages
	return out, nil
}
