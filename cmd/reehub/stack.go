package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/metrics"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/fossology"
	"github.com/reehub/reehub/service/fossology/fetch"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/process"
	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/service/ree"
	"github.com/reehub/reehub/service/registry"
	"github.com/reehub/reehub/service/studio"
	"github.com/reehub/reehub/service/workflow"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// stack is the store, blob store, engine and the families' services that
// both `reehub serve` and `reehub gc` build (gc without starting the engine).
type stack struct {
	store   *store.Store
	blobs   *blob.Store
	engine  *job.Engine
	procs   *process.Service
	catalog *ree.Catalog
	ree     *ree.Service
	// workflows is the REANA family, foss the FOSSology family.
	workflows *workflow.Service
	foss      *fossology.Service
	// registry is the ViCE family (/v1) and the OCI endpoint (/v2/).
	registry *registry.Service
	// studio is the Studio family (appliances).
	studio *studio.Service
}

// openStack opens the database and the blob store (holding blobs as this
// database's instance) and builds the engine with every family registered.
// Temporary files older than tempAge (nil: the default for serve, see
// build) are removed on the way.
// The metrics m (nil for none) go to the engine and the REE family.
func openStack(ctx context.Context, cfg config, rt *podman.Runtime, log *slog.Logger, m *metrics.Metrics, tempAge *time.Duration) (*stack, error) {
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(cfg.DataDir, "reehub.db"), PostgresURL: cfg.DatabaseURL})
	if err != nil {
		return nil, err
	}
	s := &stack{store: st}
	if err := s.build(ctx, cfg, rt, log, m, tempAge); err != nil {
		_ = st.Close()
		return nil, err
	}
	return s, nil
}

func (s *stack) build(ctx context.Context, cfg config, rt *podman.Runtime, log *slog.Logger, m *metrics.Metrics, age *time.Duration) error {
	instance, err := s.store.InstanceID(ctx)
	if err != nil {
		return err
	}
	blobDir := cfg.BlobDir
	if blobDir == "" {
		blobDir = filepath.Join(cfg.DataDir, "blobs")
	}
	// A bucket's local directory is only a cache of it (and its temporary
	// files), apart from any directory store of earlier runs.
	if cfg.BlobURL != "" && !strings.HasPrefix(cfg.BlobURL, "file:") {
		blobDir = filepath.Join(cfg.DataDir, "blob-cache")
	}
	if s.blobs, err = blob.OpenURL(ctx, cfg.BlobURL, blobDir, instance); err != nil {
		return err
	}
	// Temporary files are uploads or outputs cut off by a crash. With SQLite no
	// other instance can be writing them; with Postgres instances may share the
	// data directory, and instances may share a blob directory, so only old ones go.
	tempAge := time.Duration(0)
	if cfg.DatabaseURL != "" || cfg.BlobDir != "" || cfg.BlobURL != "" {
		tempAge = time.Hour
	}
	if age != nil {
		tempAge = *age
	}
	if err := s.blobs.CleanTemp(tempAge); err != nil {
		log.Warn("clean abandoned blob temp files", "err", err)
	}
	var queues map[string]job.QueueConfig
	if cfg.Workers > 0 {
		queues = map[string]job.QueueConfig{job.QueueBuilds: {MaxWorkers: cfg.Workers}}
	}
	s.engine, err = job.New(s.store, s.blobs, log, job.Config{
		DataDir:      cfg.DataDir,
		Queues:       queues,
		Serve:        cfg.Queues,
		Host:         cfg.Host,
		APIOnly:      cfg.Workers == 0,
		MaxAttempts:  cfg.JobMaxAttempts,
		GCInterval:   cfg.GCInterval,
		GCGrace:      cfg.GCGrace,
		PollInterval: cfg.PollInterval,
		Retention:    cfg.Retention,
		Metrics:      m,
	})
	if err != nil {
		return err
	}
	s.procs = process.New(s.store, s.engine)
	roots, err := upstreamRoots(cfg.UpstreamCAFile)
	if err != nil {
		return err
	}
	s.catalog = ree.NewCatalog(rt, baseimage.Catalogue(), filepath.Join(cfg.DataDir, "image-exports"))
	s.registry, err = registry.New(s.store, s.blobs, rt, log, registry.Config{DataDir: cfg.DataDir, Engine: s.engine})
	if err != nil {
		return fmt.Errorf("wire services: %w", err)
	}
	register := s.registry.RegisterProduced
	if !cfg.RegisterProduced {
		register = nil
	}
	s.ree, err = ree.New(rt, s.blobs, s.procs, s.engine, s.catalog, log, ree.Config{
		Version: version, Archive: cfg.Archive, BaseImageCacheDir: filepath.Join(cfg.DataDir, "base-images"),
		StagingDir: filepath.Join(cfg.DataDir, "uploads"), StaleStagingAge: tempAge, UpstreamRoots: roots,
		DebianMirror:      strings.TrimSuffix(cfg.DebianMirror, "/"),
		RegisterImageFunc: register,
		Metrics:           m,
		BuildUTSNamespace: buildUTSNamespace(ctx, cfg, log),
		Store:             s.store,
		Host:              cfg.Host,
	})
	if err != nil {
		return fmt.Errorf("wire services: %w", err)
	}
	s.catalog.SetRegistered(s.registry.IsBaseImage, s.registry.EnsureBaseImage)
	s.catalog.SetShared(s.ree.SharedBase, s.ree.FetchBase)
	aliases, err := reana.LoadAliases(cfg.ReanaAliases)
	if err != nil {
		return err
	}
	box, err := reana.LoadSecretBox(cfg.DataDir)
	if err != nil {
		return err
	}
	s.workflows, err = workflow.New(s.store, s.engine, s.blobs, rt, reana.NewResolver(rt, s.catalog, s.ree, aliases), box, log, workflow.Config{
		DataDir: cfg.DataDir, QuotaBytes: cfg.ReanaQuota, UpstreamRoots: roots, Version: version,
		RegisterImage: func(ctx context.Context, im workflow.StepImage) (string, error) {
			return s.registry.RegisterArchive(ctx, registry.ProducedArchive{
				Key: im.Key, OwnerID: im.OwnerID, ProcessID: im.JobID, Title: im.Title, Path: im.File, Provenance: im.Provenance,
			})
		},
	})
	if err != nil {
		return fmt.Errorf("wire services: %w", err)
	}
	s.foss, err = fossology.New(s.store, s.blobs, s.engine, log, fossology.Config{
		DataDir: cfg.DataDir, Tool: "reehub-" + version, ServerDirs: cfg.UploadServerDirs,
		Fetch:  fetch.Policy{Allowed: cfg.UploadAllowedHosts, MaxBytes: cfg.MaxUploadBytes},
		Limits: unpack.Limits{Limits: archive.Limits{MaxEntries: cfg.ScanEntries, MaxTotalBytes: cfg.Archive.MaxTotalBytes, MaxRatio: cfg.Archive.MaxRatio}},
	})
	if err != nil {
		return fmt.Errorf("wire services: %w", err)
	}
	// The Studio family assembles disks with runtime/disk and names its
	// finished builds' images in the registry (the recording registered them).
	s.studio, err = studio.New(s.store, s.blobs, s.engine, s.procs, s.ree, rt, log, studio.Config{
		CacheDir: filepath.Join(cfg.DataDir, "studio-indexes"), StagingDir: filepath.Join(cfg.DataDir, "uploads"),
		Disks: studioDisks(), OnFinished: studioRegistered(s.registry),
		ArchBaseImage: studioArchBase, EnsureBaseImage: studioEnsureBase(rt, cfg.DataDir),
	})
	if err != nil {
		return fmt.Errorf("wire services: %w", err)
	}
	return nil
}

func (s *stack) close() {
	if s.blobs != nil {
		_ = s.blobs.Close()
	}
	_ = s.store.Close()
}

// buildUTSNamespace prepares the UTS namespace whose hostname
// (cfg.BuildHostname) the RUN steps of recordings and replays see, and
// returns its path; "" (each step keeps Podman's random hostname) when none
// is configured, when the Podman service is not on this host, or when it
// cannot be made (not root), which is logged.
func buildUTSNamespace(ctx context.Context, cfg config, log *slog.Logger) string {
	if cfg.BuildHostname == "" {
		return ""
	}
	if !strings.HasPrefix(cfg.PodmanSocket, "unix://") {
		log.Warn("RUN steps keep their random hostnames: the Podman service is not on this host", "podman", cfg.PodmanSocket)
		return ""
	}
	path := filepath.Join("/run/reehub/uts", cfg.BuildHostname)
	if err := podman.PrepareUTSNamespace(ctx, path, cfg.BuildHostname); err != nil {
		log.Warn("RUN steps keep their random hostnames", "err", err)
		return ""
	}
	return path
}
