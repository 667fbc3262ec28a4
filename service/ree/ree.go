// Package ree defines and rebuilds reproducible execution environments (REEs)
// with two strategies. Recording: a project's Dockerfile is built with Podman
// while reehub's proxy records every download, and the defined REE (project,
// recording, manifest, base images) is rebuilt later with no route out but the
// proxy in replay mode. SBOM: the Dockerfile is built once online, every
// package version it installed is pinned in a rewritten Dockerfile next to the
// image's SBOMs, and a rebuild online reports drift as an SBOM diff. It also
// serves the base-image catalogue.
package ree

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"time"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/metrics"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/process"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// Config tunes the REE service.
type Config struct {
	// Version is reehub's version, written into every manifest.
	Version string
	// Archive limits apply to every uploaded zip.
	Archive archive.Limits
	// HostRootsFile is the host's CA bundle that builds trust besides the
	// recording CA. Defaults to /etc/ssl/certs/ca-certificates.crt.
	HostRootsFile string
	// BaseImageCacheDir keeps index files naming blobs made once and copied
	// into many zips: per base image ID the blob of its compressed archive
	// (<name>-<image ID>.json), per rebuilt image ID the blob of its OCI
	// archive (image-<image ID>.oci.json). Required.
	BaseImageCacheDir string
	// StagingDir is where uploads are extracted and checked before their
	// process exists (never in the job engine's directories); a checked
	// upload is handed to the engine as an input of the new job. Required.
	StagingDir string
	// StaleStagingAge is the age from which a staged upload found by New is
	// left over by a crash and removed. 0 removes all (one instance per data
	// directory, as with SQLite); with instances sharing the data directory
	// set it above the longest upload check.
	StaleStagingAge time.Duration
	// UpstreamRoots is what the recording proxy trusts upstream; nil means the
	// system roots. Set it to add a private mirror's CA.
	UpstreamRoots *x509.CertPool
	// DebianMirror is the Debian mirror URL that apt uses in SBOM-strategy
	// builds (a snapshot archive URL, for instance) instead of the base
	// image's sources.list. Empty keeps the base image's sources.
	DebianMirror string
	// RegisterImageFunc, when set, registers every image a recording, a
	// replay or an SBOM build built (the image registry); nil registers nothing.
	RegisterImageFunc func(ctx context.Context, img ProducedImage) error
	// Metrics receives the duration of each recording and replay build and
	// what its proxy recorded, replayed and missed. Nil records nothing.
	Metrics *metrics.Metrics
	// BuildUTSNamespace, when set, is the path of a persistent UTS namespace
	// on the Podman service's host (podman.PrepareUTSNamespace) whose fixed
	// hostname every RUN step of recordings and replays sees. Empty leaves
	// each step the random hostname Podman gives it.
	BuildUTSNamespace string
	// Store, when set, records the archive of each base image a recording
	// exports into the blob store (base_image_archives), and a host whose
	// Podman lacks a catalogue base image loads it from there (FetchBase,
	// the catalogue's SetShared). Nil shares nothing.
	Store *store.Store
	// Host names this worker host in what it records.
	Host string
}

// Service is the REE domain service.
type Service struct {
	cfg     Config
	rt      *podman.Runtime
	blobs   *blob.Store
	procs   *process.Service
	catalog *Catalog
	log     *slog.Logger
}

// New returns the REE service and registers its job kinds (recording and
// replay, on the builds queue) with engine.
func New(rt *podman.Runtime, blobs *blob.Store, procs *process.Service, engine *job.Engine, catalog *Catalog, log *slog.Logger, cfg Config) (*Service, error) {
	if cfg.HostRootsFile == "" {
		cfg.HostRootsFile = "/etc/ssl/certs/ca-certificates.crt"
	}
	if cfg.BaseImageCacheDir == "" || cfg.StagingDir == "" {
		return nil, errors.New("ree service: BaseImageCacheDir and StagingDir are required")
	}
	for _, d := range []string{cfg.BaseImageCacheDir, cfg.StagingDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("ree service: %w", err)
		}
	}
	if err := cleanStaging(cfg.StagingDir, cfg.StaleStagingAge); err != nil {
		return nil, fmt.Errorf("ree service: %w", err)
	}
	// Writes cut off by a crash leave *.tmp files in the cache; *.tar and
	// *.tar.sha256 are base images cached by an older reehub, which now keeps
	// them compressed in the blob store.
	for _, pattern := range []string{"*.tmp", "*.tar", "*.tar.sha256"} {
		if stale, err := filepath.Glob(filepath.Join(cfg.BaseImageCacheDir, pattern)); err == nil {
			for _, f := range stale {
				_ = os.Remove(f)
			}
		}
	}
	cfg.Archive = cfg.Archive.WithDefaults()
	s := &Service{cfg: cfg, rt: rt, blobs: blobs, procs: procs, catalog: catalog, log: log}
	kind := job.KindOpts{Family: job.FamilyREE, Queue: job.QueueBuilds}
	if err := job.Register[RecordingArgs](engine, kind, &recorder{s}); err != nil {
		return nil, fmt.Errorf("ree service: %w", err)
	}
	if err := job.Register[ReplayArgs](engine, kind, &replayer{s}); err != nil {
		return nil, fmt.Errorf("ree service: %w", err)
	}
	if err := job.Register[SbomDefineArgs](engine, kind, &sbomDefiner{s}); err != nil {
		return nil, fmt.Errorf("ree service: %w", err)
	}
	if err := job.Register[SbomBuildArgs](engine, kind, &sbomBuilder{s}); err != nil {
		return nil, fmt.Errorf("ree service: %w", err)
	}
	if err := s.registerStorage(engine); err != nil {
		return nil, fmt.Errorf("ree service: %w", err)
	}
	return s, nil
}

// cleanStaging removes staged uploads older than age, which a crash left
// between the upload and the submission of their process.
func cleanStaging(dir string, age time.Duration) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list staged uploads: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) >= age {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// Labels name the resources of one process so that they can be found after a crash.
const labelProcess = "io.reehub.process"

func processLabels(id string) map[string]string { return map[string]string{labelProcess: id} }

// cleanup removes what a process left in Podman: its network, the
// containers and build steps labelled with it, and its image.
func (s *Service) cleanup(ctx context.Context, id string) error {
	if err := s.rt.RemoveNetwork(ctx, networkName(id)); err != nil {
		return fmt.Errorf("remove network of %s: %w", id, err)
	}
	if err := s.rt.Cleanup(ctx, labelProcess, id); err != nil {
		return err
	}
	return s.rt.RemoveImage(ctx, imageName(id))
}

func networkName(id string) string { return "reehub-" + id[:13] }

// copyFile copies src to dst (creating parents).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
