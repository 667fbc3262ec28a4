package ree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/dockerfile"
	"github.com/reehub/reehub/service/process"
	"github.com/reehub/reehub/store"
)

// maxDockerfileBytes bounds the Dockerfile reehub reads.
const maxDockerfileBytes = 1 << 20

// DefineOpts describes a recording to start.
type DefineOpts struct {
	OwnerID int64
	// ZipPath is the uploaded project zip, staged on disk; it is moved into the blob store.
	ZipPath    string
	Tag        *string
	Dockerfile string
}

// Define checks an uploaded project and starts a recording process for it. All
// checks that can fail because of the upload happen here, so that bad input is
// answered at once instead of by a failed process.
func (s *Service) Define(ctx context.Context, o DefineOpts) (store.Process, error) {
	clean, err := cleanDockerfileName(o.Dockerfile)
	if err != nil {
		return store.Process{}, err
	}
	return s.stageAndSubmit(ctx, o.ZipPath, "context",
		process.SubmitOpts{OwnerID: o.OwnerID, Kind: store.KindRecording, Tag: o.Tag},
		func(staged string) (string, error) {
			_, err := s.readDockerfile(ctx, staged, clean)
			return clean, err
		})
}

// cleanDockerfileName checks the Dockerfile's path inside the zip ("" means
// "Dockerfile") and returns it cleaned.
func cleanDockerfileName(name string) (string, error) {
	if name == "" {
		name = "Dockerfile"
	}
	clean := path.Clean(name)
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || strings.ContainsRune(name, '\\') || strings.ContainsRune(name, 0) {
		return "", fault.Invalidf("dockerfile: %q must be a relative path inside the zip", name)
	}
	return clean, nil
}

// readDockerfile reads and parses the Dockerfile and checks that every base it
// names is a catalogue image built here.
func (s *Service) readDockerfile(ctx context.Context, ctxDir, name string) (*dockerfile.File, error) {
	full := filepath.Join(ctxDir, filepath.FromSlash(name))
	fi, err := os.Lstat(full)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, fault.Invalidf("dockerfile: the zip has no regular file %q", name)
	}
	if fi.Size() > maxDockerfileBytes {
		return nil, fault.Invalidf("dockerfile: %q is larger than %d bytes", name, maxDockerfileBytes)
	}
	content, err := os.ReadFile(full)
	if err != nil {
		return nil, fmt.Errorf("read dockerfile: %w", err)
	}
	df, err := dockerfile.Parse(content)
	if err != nil {
		return nil, fmt.Errorf("dockerfile %s: %w", name, err)
	}
	bases := df.Bases()
	if len(bases) == 0 {
		return nil, fault.Invalidf("dockerfile %s has no FROM naming a base image (one of %v)", name, s.catalog.Names())
	}
	for _, b := range bases {
		if !s.catalog.Has(b) {
			return nil, fault.Invalidf("dockerfile %s: FROM %s is not a base image of this server; use one of %v", name, b, s.catalog.Names())
		}
		if _, err := s.catalog.Resolve(ctx, b); err != nil {
			if errors.Is(err, fault.ErrConflict) {
				return nil, fault.Invalidf("dockerfile %s: %v", name, err)
			}
			return nil, err
		}
	}
	return df, nil
}

// ReplayOpts describes a replay to start.
type ReplayOpts struct {
	OwnerID int64
	// ZipPath is the uploaded defined REE, staged on disk; it is moved into the blob store.
	ZipPath string
	Tag     *string
}

// Replay checks an uploaded defined REE (structure, checksums, manifest) and
// starts a replay process for it.
func (s *Service) Replay(ctx context.Context, o ReplayOpts) (store.Process, error) {
	return s.stageAndSubmit(ctx, o.ZipPath, "ree",
		process.SubmitOpts{OwnerID: o.OwnerID, Kind: store.KindReplay, Tag: o.Tag},
		func(staged string) (string, error) {
			m, err := verifyTree(staged)
			if err != nil {
				return "", fmt.Errorf("file: %w", err)
			}
			return m.Dockerfile, nil
		})
}

// stageAndSubmit extracts an upload into sub of the work directory of a new
// process, runs check on it (which returns the Dockerfile's name), moves the
// upload into the blob store and queues the process. Every check that can fail
// because of the upload runs before anything is recorded; on any error the
// staged files are removed.
func (s *Service) stageAndSubmit(ctx context.Context, zipPath, sub string, o process.SubmitOpts, check func(staged string) (string, error)) (store.Process, error) {
	o.ID = process.NewID()
	dir := s.procs.WorkDir(o.ID)
	p, err := func() (store.Process, error) {
		staged := filepath.Join(dir, sub)
		if _, err := archive.ExtractZip(ctx, zipPath, staged, s.cfg.Archive); err != nil {
			return store.Process{}, fmt.Errorf("file: %w", err)
		}
		dockerfile, err := check(staged)
		if err != nil {
			return store.Process{}, err
		}
		ref, err := s.blobs.PutFile(ctx, zipPath, true)
		if err != nil {
			return store.Process{}, fmt.Errorf("store upload: %w", err)
		}
		o.Dockerfile, o.InputDigest = dockerfile, ref.Digest
		return s.procs.Submit(ctx, o)
	}()
	if err != nil {
		_ = os.RemoveAll(dir)
	}
	return p, err
}
