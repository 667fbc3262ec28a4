package fossology

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/fetch"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
)

// The upload types.
const (
	UploadFile   = "file"
	UploadURL    = "url"
	UploadVCS    = "vcs"
	UploadServer = "server"
)

// The unpack states of an upload row; a failed unpack is its job's state.
const (
	uploadQueued   = "queued"
	uploadUnpacked = "unpacked"
)

// Upload is an upload as FOSSology shows it.
type Upload struct {
	ID             int64
	FolderID       int64
	FolderName     string
	Name           string
	Description    string
	CreatedAt      time.Time
	Hash           unpack.Hash
	AssigneeID     *int64
	ClearingStatus string
	MainLicense    string
}

func toUpload(r store.FossologyUploadRow) Upload {
	return Upload{ID: r.ID, FolderID: r.FolderID, FolderName: r.FolderName, Name: r.Name, Description: r.Description,
		CreatedAt: r.CreatedAt, Hash: unpack.Hash{SHA1: r.SHA1, MD5: r.MD5, SHA256: r.SHA256, Size: r.Size},
		AssigneeID: r.AssigneeID, ClearingStatus: r.ClearingStatus, MainLicense: r.MainLicense}
}

// StoredFile is an uploaded file in the blob store with its digests.
type StoredFile struct {
	// Digest names the blob.
	Digest string
	// Hash is its sha1, md5, sha256 and size, computed while it was stored.
	Hash unpack.Hash
}

// StoreFile streams r into the blob store, computing sha1, md5, sha256 and
// the size on the way (one read, memory flat). An empty file is refused.
func (s *Service) StoreFile(ctx context.Context, r io.Reader) (StoredFile, error) {
	h1, h5 := sha1.New(), md5.New()
	ref, err := s.blobs.Put(ctx, io.TeeReader(r, io.MultiWriter(h1, h5)))
	if err != nil {
		return StoredFile{}, err
	}
	if ref.Size == 0 {
		return StoredFile{}, fault.Invalidf("fileInput: the uploaded file is empty")
	}
	return StoredFile{Digest: ref.Digest, Hash: unpack.Hash{
		SHA1: hex.EncodeToString(h1.Sum(nil)), MD5: hex.EncodeToString(h5.Sum(nil)),
		SHA256: strings.TrimPrefix(ref.Digest, "sha256:"), Size: ref.Size,
	}}, nil
}

// NewUpload is an upload to create.
type NewUpload struct {
	// FolderID is the folder it goes in.
	FolderID int64
	// Description is the user's description.
	Description string
	// Type is file, url, vcs or server.
	Type string
	// Public is private, protected or public.
	Public string
	// IgnoreScm leaves out .git, .svn and the like.
	IgnoreScm bool
	// Name is the upload name: the file name of a file upload, the display
	// name of the others (url and vcs derive one when empty).
	Name string
	// File is the stored file of a file upload.
	File *StoredFile
	// URL, Accept and Reject are a url upload's.
	URL, Accept, Reject string
	// VCS is a vcs upload's repository; its credentials are kept in memory
	// for the clone only.
	VCS *fetch.VCS
	// ServerPath is a server upload's file or directory.
	ServerPath string
}

// source is what the fetch step reads from (stored, without credentials).
type source struct {
	URL        string `json:"url,omitempty"`
	Accept     string `json:"accept,omitempty"`
	Reject     string `json:"reject,omitempty"`
	VCSType    string `json:"vcs_type,omitempty"`
	VCSURL     string `json:"vcs_url,omitempty"`
	VCSBranch  string `json:"vcs_branch,omitempty"`
	ServerPath string `json:"server_path,omitempty"`
}

// credentials holds vcs credentials between the request and the clone,
// in memory only: they are never stored. After a restart the clone runs
// without them.
type credentials struct {
	mu sync.Mutex
	m  map[int64][2]string
}

func (c *credentials) put(id int64, user, pass string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64][2]string{}
	}
	c.m[id] = [2]string{user, pass}
}

func (c *credentials) take(id int64) (string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.m[id]
	delete(c.m, id)
	return v[0], v[1]
}

// CheckFolder checks that the caller's group sees folder id (before a body is read).
func (s *Service) CheckFolder(ctx context.Context, c Caller, id int64) error {
	_, err := s.store.FossologyFolderOf(ctx, c.GroupID, id)
	return err
}

// CreateUpload records an upload and starts its unpack job (which fetches a
// url, vcs or server upload first); the id is returned at once. Addresses of
// url and vcs uploads are checked here, so that a refused one is a 400 now.
func (s *Service) CreateUpload(ctx context.Context, c Caller, nu NewUpload) (int64, error) {
	if err := s.CheckFolder(ctx, c, nu.FolderID); err != nil {
		return 0, err
	}
	if nu.Public == "" {
		nu.Public = "protected"
	}
	row := store.FossologyUpload{GroupID: c.GroupID, OwnerID: c.UserID, FolderID: nu.FolderID, Description: nu.Description,
		UploadType: nu.Type, Public: nu.Public, IgnoreScm: nu.IgnoreScm, State: uploadQueued, ClearingStatus: ClearingOpen}
	var src source
	switch nu.Type {
	case UploadFile, "":
		row.UploadType = UploadFile
		if nu.File == nil {
			return 0, fault.Invalidf("fileInput: a file is required for uploadType file")
		}
		row.BlobDigest = nu.File.Digest
		row.SHA1, row.MD5, row.SHA256, row.Size = nu.File.Hash.SHA1, nu.File.Hash.MD5, nu.File.Hash.SHA256, nu.File.Hash.Size
		row.Name = path.Base(strings.ReplaceAll(nu.Name, "\\", "/"))
	case UploadURL:
		if err := s.cfg.Fetch.Check(ctx, nu.URL); err != nil {
			return 0, err
		}
		src = source{URL: nu.URL, Accept: nu.Accept, Reject: nu.Reject}
		row.Name = nu.Name
		if row.Name == "" {
			row.Name = path.Base(strings.SplitN(strings.SplitN(nu.URL, "?", 2)[0], "#", 2)[0])
		}
	case UploadVCS:
		if nu.VCS == nil || nu.VCS.URL == "" {
			return 0, fault.Invalidf("vcsUrl is required for uploadType vcs")
		}
		if t := strings.ToLower(nu.VCS.Type); t != "git" {
			return 0, fault.Invalidf("vcsType %q is not supported; use git", nu.VCS.Type)
		}
		if err := s.cfg.Fetch.Check(ctx, nu.VCS.URL); err != nil {
			return 0, err
		}
		src = source{VCSType: "git", VCSURL: nu.VCS.URL, VCSBranch: nu.VCS.Branch}
		row.Name = nu.VCS.Name
		if row.Name == "" {
			row.Name = path.Base(strings.TrimSuffix(strings.TrimSuffix(nu.VCS.URL, "/"), ".git"))
		}
	case UploadServer:
		if !c.Admin {
			return 0, fault.New(fault.ErrForbidden, "only an admin may upload from the server")
		}
		p, err := s.serverPath(nu.ServerPath)
		if err != nil {
			return 0, err
		}
		src = source{ServerPath: p}
		row.Name = nu.Name
		if row.Name == "" {
			row.Name = filepath.Base(p)
		}
	default:
		return 0, fault.Invalidf("uploadType %q is not one of file, url, vcs, server", nu.Type)
	}
	if row.Name == "" || row.Name == "." || row.Name == "/" || strings.ContainsAny(row.Name, "/\x00") {
		return 0, fault.Invalidf("the upload needs a name")
	}
	if b, err := json.Marshal(src); err == nil && row.UploadType != UploadFile {
		row.Source = string(b)
	}
	_, err := s.engine.Submit(ctx, UnpackArgs{}, job.SubmitOpts{OwnerID: c.UserID, GroupID: &c.GroupID,
		InTx: func(ctx context.Context, tx *store.Store, j job.Job) error {
			if err := tx.CreateFossologyUpload(ctx, &row); err != nil {
				return err
			}
			return tx.CreateFossologyJob(ctx, &store.FossologyJob{JobID: j.ID, UploadID: row.ID, Kind: kindUnpack})
		}})
	if err != nil {
		return 0, err
	}
	if nu.VCS != nil && (nu.VCS.Username != "" || nu.VCS.Password != "") {
		s.creds.put(row.ID, nu.VCS.Username, nu.VCS.Password)
	}
	return row.ID, nil
}

// serverPath checks that p is on the admin's allow list.
func (s *Service) serverPath(p string) (string, error) {
	if p == "" || !filepath.IsAbs(p) {
		return "", fault.Invalidf("path must be an absolute path on the server")
	}
	clean, err := filepath.EvalSymlinks(filepath.Clean(p))
	if err != nil {
		return "", fault.Invalidf("path %s does not exist on the server", p)
	}
	for _, d := range s.cfg.ServerDirs {
		root, err := filepath.EvalSymlinks(d)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(root, clean); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return clean, nil
		}
	}
	return "", fault.New(fault.ErrForbidden, fmt.Sprintf("path %s is not in a directory the admin allows server uploads from", p))
}

// unpackState returns nil when upload u is unpacked, a NotReadyError while
// its unpack job runs, and a fault.ErrInvalid naming why it failed.
func (s *Service) unpackState(ctx context.Context, u store.FossologyUploadRow) error {
	if u.State == uploadUnpacked {
		return nil
	}
	fjs, jobs, err := s.store.FossologyJobsOfUpload(ctx, u.ID)
	if err != nil {
		return err
	}
	for i, fj := range fjs {
		if fj.Kind != kindUnpack {
			continue
		}
		switch job.State(jobs[i].State) {
		case job.StateFailed, job.StateCancelled:
			return fault.Invalidf("upload %d could not be unpacked: %s", u.ID, jobs[i].Reason)
		case job.StateQueued:
			return notReady(2, u.ID, "Ununpack job not started")
		}
	}
	return notReady(2, u.ID, "Ununpack job not finished")
}

// upload returns an upload of the caller's group.
func (s *Service) upload(ctx context.Context, c Caller, id int64) (store.FossologyUploadRow, error) {
	return s.store.FossologyUploadOf(ctx, c.GroupID, id)
}

// readyUpload returns an unpacked upload of the caller's group.
func (s *Service) readyUpload(ctx context.Context, c Caller, id int64) (store.FossologyUploadRow, error) {
	u, err := s.upload(ctx, c, id)
	if err != nil {
		return u, err
	}
	return u, s.unpackState(ctx, u)
}

// Upload returns an unpacked upload (a NotReadyError while it is unpacked).
func (s *Service) Upload(ctx context.Context, c Caller, id int64) (Upload, error) {
	u, err := s.readyUpload(ctx, c, id)
	if err != nil {
		return Upload{}, err
	}
	return toUpload(u), nil
}

// UploadFilter selects uploads.
type UploadFilter struct {
	// FolderID is 0 for any folder.
	FolderID int64
	// Recursive includes the sub-folders of FolderID.
	Recursive bool
	Name      string
	Status    string
	// Assignee is a user name, "-me-" or "-unassigned-"; empty for any.
	Assignee string
	Since    *time.Time
	Page     int
	Limit    int
}

// Uploads returns a page of the group's unpacked uploads and the number of pages.
func (s *Service) Uploads(ctx context.Context, c Caller, f UploadFilter) ([]Upload, int, error) {
	page, limit := pageOf(f.Page, f.Limit)
	sf := store.FossologyUploadFilter{GroupID: c.GroupID, States: []string{uploadUnpacked}, NameLike: f.Name, Status: f.Status,
		Since: f.Since, Limit: limit, Offset: (page - 1) * limit}
	if f.FolderID != 0 {
		if err := s.CheckFolder(ctx, c, f.FolderID); err != nil {
			return nil, 0, err
		}
		sf.FolderIDs = []int64{f.FolderID}
		if f.Recursive {
			all, err := s.store.FossologyFolders(ctx, c.GroupID)
			if err != nil {
				return nil, 0, err
			}
			sf.FolderIDs = descendants(all, f.FolderID)
		}
	}
	switch f.Assignee {
	case "":
	case "-me-":
		sf.AssigneeID = &c.UserID
	case "-unassigned-":
		sf.Unassigned = true
	default:
		u, err := s.store.UserByName(ctx, f.Assignee)
		if err != nil {
			return []Upload{}, 0, nil
		}
		sf.AssigneeID = &u.ID
	}
	rows, total, err := s.store.ListFossologyUploads(ctx, sf)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Upload, len(rows))
	for i, r := range rows {
		out[i] = toUpload(r)
	}
	return out, pages(total, limit), nil
}

// pageOf defaults page to 1 and limit to 100 (at most 1000).
func pageOf(page, limit int) (int, int) {
	if page < 1 {
		page = 1
	}
	if limit < 1 {
		limit = 100
	}
	return page, min(limit, 1000)
}

// pages is the number of pages of total entries.
func pages(total int64, limit int) int {
	return int((total + int64(limit) - 1) / int64(limit))
}

// UpdateUpload sets an upload's clearing status, assignee or comment.
func (s *Service) UpdateUpload(ctx context.Context, c Caller, id int64, status string, assignee *int64, comment string) error {
	if _, err := s.upload(ctx, c, id); err != nil {
		return err
	}
	cols := map[string]any{}
	if status != "" {
		switch status {
		case ClearingOpen, ClearingInProgress, ClearingClosed:
		case "Rejected":
			if strings.TrimSpace(comment) == "" {
				return fault.Invalidf("a Rejected status needs a comment")
			}
		default:
			return fault.Invalidf("status %q is not Open, InProgress, Closed or Rejected", status)
		}
		cols["clearing_status"] = status
	}
	if assignee != nil {
		if _, err := s.store.UserByID(ctx, *assignee); err != nil {
			return fault.Invalidf("assignee %d is not a user", *assignee)
		}
		cols["assignee_id"] = *assignee
	}
	if len(cols) == 0 {
		return fault.Invalidf("give status or assignee")
	}
	return s.store.UpdateFossologyUpload(ctx, id, cols)
}

// MoveUpload moves an upload to another folder, or copies it there (the copy
// is a new upload of the same file, unpacked again); it returns the id of
// the upload in the target folder.
func (s *Service) MoveUpload(ctx context.Context, c Caller, id, folderID int64, copyIt bool) (int64, error) {
	u, err := s.upload(ctx, c, id)
	if err != nil {
		return 0, err
	}
	if err := s.CheckFolder(ctx, c, folderID); err != nil {
		return 0, err
	}
	if !copyIt {
		return id, s.store.UpdateFossologyUpload(ctx, id, map[string]any{"folder_id": folderID})
	}
	if u.BlobDigest == "" {
		return 0, notReady(2, id, "upload %d is not fetched yet", id)
	}
	return s.CreateUpload(ctx, c, NewUpload{FolderID: folderID, Description: u.Description, Type: UploadFile, Public: u.Public,
		IgnoreScm: u.IgnoreScm, Name: u.Name, File: &StoredFile{Digest: u.BlobDigest, Hash: unpack.Hash{SHA1: u.SHA1, MD5: u.MD5, SHA256: u.SHA256, Size: u.Size}}})
}

// DeleteUpload deletes an upload with its tree, results and reports; its
// unfinished jobs are cancelled.
func (s *Service) DeleteUpload(ctx context.Context, c Caller, id int64) error {
	if _, err := s.upload(ctx, c, id); err != nil {
		return err
	}
	return s.deleteUpload(ctx, id)
}

func (s *Service) deleteUpload(ctx context.Context, id int64) error {
	fjs, jobs, err := s.store.FossologyJobsOfUpload(ctx, id)
	if err != nil {
		return err
	}
	for i := range fjs {
		if st := job.State(jobs[i].State); st == job.StateQueued || st == job.StateRunning {
			if _, err := s.engine.Cancel(ctx, jobs[i].OwnerID, jobs[i].ID, "its upload was deleted"); err != nil && !errors.Is(err, fault.ErrConflict) {
				return err
			}
		}
	}
	if err := s.store.DeleteFossologyUpload(ctx, id); err != nil {
		return err
	}
	if err := os.RemoveAll(s.treeDir(id)); err != nil {
		s.log.WarnContext(ctx, "remove upload tree", "upload", id, "err", err)
	}
	return nil
}
