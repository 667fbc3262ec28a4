package fossology

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/fetch"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// Config tunes the FOSSology service.
type Config struct {
	// DataDir holds the unpacked trees (DataDir/fossology/trees/<upload id>). Required.
	DataDir string
	// Limits bound each upload's unpacking; zero fields have unpack's
	// defaults, but MaxEntries defaults to 500000 (source tarballs are big).
	Limits unpack.Limits
	// Fetch is the policy of url and vcs uploads and of webhooks.
	Fetch fetch.Policy
	// ServerDirs are the directories (and their sub-directories) an admin
	// may upload from with uploadType server.
	ServerDirs []string
	// Agent tunes the agents; nil means the defaults.
	Agent *agent.Options
	// Tool names reehub in reports ("reehub-1.0.0").
	Tool string
	// WebhookRetries is how many times a webhook is tried. Defaults to 5.
	WebhookRetries int
	// WebhookBackoff is the wait before the first retry, doubled each time. Defaults to 2 seconds.
	WebhookBackoff time.Duration
	// WebhookTimeout bounds one delivery. Defaults to 30 seconds.
	WebhookTimeout time.Duration
}

// Service is the FOSSology family: folders, uploads, scan jobs, results,
// clearing and reports, over the store, the blob store and the job engine.
type Service struct {
	store  *store.Store
	blobs  *blob.Store
	engine *job.Engine
	runner *agent.Runner
	cfg    Config
	log    *slog.Logger
	creds  credentials
	// deciding holds the findings the deciders of one scan job share.
	deciding decidingCache
}

// New returns the service and registers its job kinds with engine (call it
// before engine.Start).
func New(st *store.Store, blobs *blob.Store, engine *job.Engine, log *slog.Logger, cfg Config) (*Service, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("fossology: DataDir is required")
	}
	if cfg.Limits.MaxEntries <= 0 {
		cfg.Limits.MaxEntries = 500000
	}
	if cfg.WebhookRetries <= 0 {
		cfg.WebhookRetries = 5
	}
	if cfg.WebhookBackoff <= 0 {
		cfg.WebhookBackoff = 2 * time.Second
	}
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = 30 * time.Second
	}
	if cfg.Tool == "" {
		cfg.Tool = "reehub"
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "fossology", "trees"), 0o750); err != nil {
		return nil, fmt.Errorf("fossology: %w", err)
	}
	runner, err := agent.New(cfg.Agent)
	if err != nil {
		return nil, fmt.Errorf("fossology: %w", err)
	}
	s := &Service{store: st, blobs: blobs, engine: engine, runner: runner, cfg: cfg, log: log}
	// The license matchers are built on first use (seconds); build them now,
	// so that the first scan's time to a first finding is the scan's.
	go runner.Text([]byte("Permission is hereby granted, free of charge"), "warm-up", "", map[agent.Agent]bool{agent.Nomos: true, agent.Monk: true})
	if err := s.register(); err != nil {
		return nil, err
	}
	// Garbage collection keeps every blob an upload or a report names.
	if err := engine.RegisterBlobRefs(job.BlobInputs, store.BlobColumn{Table: "fossology_uploads", Column: "blob_digest"}); err != nil {
		return nil, fmt.Errorf("fossology: %w", err)
	}
	if err := engine.RegisterBlobRefs(job.BlobOutputs, store.BlobColumn{Table: "fossology_reports", Column: "digest"}); err != nil {
		return nil, fmt.Errorf("fossology: %w", err)
	}
	return s, nil
}

// Caller is who acts, and in which group.
type Caller struct {
	// UserID is the acting user's internal id.
	UserID int64
	// UserName is the acting user's login name.
	UserName string
	// GroupID is the group the request acts in (auth.GroupFor).
	GroupID int64
	// Admin is true for admins.
	Admin bool
}

// NotReadyError says a resource is not ready yet: FOSSology's 503 with
// Retry-After and Look-at.
type NotReadyError struct {
	// Message says what is not ready.
	Message string
	// RetryAfter is the seconds to wait.
	RetryAfter int
	// LookAt is where the progress is ("/api/v1/jobs?upload=11"), or "".
	LookAt string
}

func (e *NotReadyError) Error() string { return e.Message }

// Unwrap makes a NotReadyError a fault.ErrUnavailable.
func (e *NotReadyError) Unwrap() error { return fault.ErrUnavailable }

func notReady(retry int, uploadID int64, format string, args ...any) error {
	e := &NotReadyError{Message: fmt.Sprintf(format, args...), RetryAfter: retry}
	if uploadID > 0 {
		e.LookAt = "/api/v1/jobs?upload=" + strconv.FormatInt(uploadID, 10)
		e.Message += ". Please check job status at " + e.LookAt
	}
	return e
}

// Folder is a folder as FOSSology shows it.
type Folder struct {
	ID          int64
	Name        string
	Description string
	// Parent is nil for the top folder.
	Parent *int64
}

func toFolder(f store.FossologyFolder) Folder {
	return Folder{ID: f.ID, Name: f.Name, Description: f.Description, Parent: f.ParentID}
}

// Folders returns the folders of the caller's group, the top folder first.
func (s *Service) Folders(ctx context.Context, c Caller) ([]Folder, error) {
	rows, err := s.store.FossologyFolders(ctx, c.GroupID)
	if err != nil {
		return nil, err
	}
	out := make([]Folder, len(rows))
	for i, r := range rows {
		out[i] = toFolder(r)
	}
	return out, nil
}

// Folder returns one folder of the caller's group.
func (s *Service) Folder(ctx context.Context, c Caller, id int64) (Folder, error) {
	f, err := s.store.FossologyFolderOf(ctx, c.GroupID, id)
	if err != nil {
		return Folder{}, err
	}
	return toFolder(f), nil
}

// checkFolderName refuses empty, over-long and control-character names.
func checkFolderName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > 255 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fault.Invalidf("folder name %q must be 1 to 255 characters without control characters", name)
	}
	return nil
}

// CreateFolder creates a folder under parent, or returns the id of the
// folder of that name (case-insensitive) already there with existed set.
// The description "None" (what fossology-python sends for none) is empty.
func (s *Service) CreateFolder(ctx context.Context, c Caller, parent int64, name, description string) (id int64, existed bool, err error) {
	if err := checkFolderName(name); err != nil {
		return 0, false, err
	}
	if description == "None" {
		description = ""
	}
	if _, err := s.store.FossologyFolderOf(ctx, c.GroupID, parent); err != nil {
		return 0, false, fmt.Errorf("parent %w", err)
	}
	all, err := s.store.FossologyFolders(ctx, c.GroupID)
	if err != nil {
		return 0, false, err
	}
	for _, f := range all {
		if f.ParentID != nil && *f.ParentID == parent && strings.EqualFold(f.Name, name) {
			return f.ID, true, nil
		}
	}
	f := store.FossologyFolder{GroupID: &c.GroupID, ParentID: &parent, Name: name, Description: description}
	if err := s.store.CreateFossologyFolder(ctx, &f); err != nil {
		return 0, false, err
	}
	return f.ID, false, nil
}

// UpdateFolder renames a folder or changes its description.
func (s *Service) UpdateFolder(ctx context.Context, c Caller, id int64, name, description *string) error {
	if id == store.TopFolderID {
		return fault.New(fault.ErrForbidden, "the top folder cannot be changed")
	}
	cols := map[string]any{}
	if name != nil {
		if err := checkFolderName(*name); err != nil {
			return err
		}
		cols["name"] = *name
	}
	if description != nil {
		cols["description"] = *description
	}
	if len(cols) == 0 {
		return fault.Invalidf("give the header name or description")
	}
	return s.store.UpdateFossologyFolder(ctx, c.GroupID, id, cols)
}

// descendants returns id and every folder below it.
func descendants(all []store.FossologyFolder, id int64) []int64 {
	out := []int64{id}
	for i := 0; i < len(out); i++ {
		for _, f := range all {
			if f.ParentID != nil && *f.ParentID == out[i] {
				out = append(out, f.ID)
			}
		}
	}
	return out
}

// MoveFolder moves folder id under parent. Copying a folder is refused:
// reehub's uploads live in one folder; copy or move the uploads instead.
func (s *Service) MoveFolder(ctx context.Context, c Caller, id, parent int64, copyIt bool) error {
	if copyIt {
		return fault.Invalidf("copying a folder is not supported; move it, or copy its uploads with PUT /uploads/{id}")
	}
	if id == store.TopFolderID {
		return fault.New(fault.ErrForbidden, "the top folder cannot be moved")
	}
	all, err := s.store.FossologyFolders(ctx, c.GroupID)
	if err != nil {
		return err
	}
	if _, err := s.store.FossologyFolderOf(ctx, c.GroupID, id); err != nil {
		return err
	}
	if _, err := s.store.FossologyFolderOf(ctx, c.GroupID, parent); err != nil {
		return fmt.Errorf("parent %w", err)
	}
	if slices.Contains(descendants(all, id), parent) {
		return fault.Invalidf("folder %d cannot move into itself or below itself", id)
	}
	return s.store.UpdateFossologyFolder(ctx, c.GroupID, id, map[string]any{"parent_id": parent})
}

// DeleteFolder deletes a folder, its sub-folders and their uploads.
func (s *Service) DeleteFolder(ctx context.Context, c Caller, id int64) error {
	if id == store.TopFolderID {
		return fault.New(fault.ErrForbidden, "the top folder cannot be deleted")
	}
	if _, err := s.store.FossologyFolderOf(ctx, c.GroupID, id); err != nil {
		return err
	}
	all, err := s.store.FossologyFolders(ctx, c.GroupID)
	if err != nil {
		return err
	}
	ids, err := s.store.UploadIDsInFolders(ctx, c.GroupID, descendants(all, id))
	if err != nil {
		return err
	}
	for _, u := range ids {
		if err := s.deleteUpload(ctx, u); err != nil {
			return err
		}
	}
	return s.store.DeleteFossologyFolder(ctx, c.GroupID, id)
}

// treeDir is where upload id's tree is unpacked.
func (s *Service) treeDir(id int64) string {
	return filepath.Join(s.cfg.DataDir, "fossology", "trees", strconv.FormatInt(id, 10))
}

// limits are the unpack limits of an upload.
func (s *Service) limits() unpack.Limits {
	return s.cfg.Limits
}

// SchedulerHealth reports whether the job engine runs jobs here.
func (s *Service) SchedulerHealth() error {
	if !s.engine.Running() {
		return fault.Unavailablef("the job engine is not running")
	}
	return nil
}
