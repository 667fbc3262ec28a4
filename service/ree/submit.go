package ree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/riverqueue/river"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/dockerfile"
	"github.com/reehub/reehub/service/process"
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
	// Keep marks the process to keep (retention spares it); KeepImage keeps
	// its image after its output is packaged.
	Keep, KeepImage bool
}

// Define checks an uploaded project and starts a recording process for it. All
// checks that can fail because of the upload happen here, so that bad input is
// answered at once instead of by a failed process.
func (s *Service) Define(ctx context.Context, o DefineOpts) (process.Process, error) {
	clean, err := cleanDockerfileName(o.Dockerfile)
	if err != nil {
		return process.Process{}, err
	}
	return s.stageAndSubmit(ctx, o.ZipPath, contextInput, process.SubmitOpts{OwnerID: o.OwnerID, Tag: o.Tag, Keep: o.Keep, KeepImage: o.KeepImage},
		func(staged string) (string, error) {
			_, err := s.readDockerfile(ctx, staged, clean)
			return clean, err
		},
		func(digest string) river.JobArgs {
			return RecordingArgs{InputDigest: digest, Dockerfile: clean, Tag: o.Tag}
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
		if err := s.catalog.Check(ctx, b); err != nil {
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
	// Keep and KeepImage are as in DefineOpts.
	Keep, KeepImage bool
}

// Replay checks an uploaded defined REE (structure, checksums, manifest) and
// starts a replay process for it.
func (s *Service) Replay(ctx context.Context, o ReplayOpts) (process.Process, error) {
	return s.stageAndSubmit(ctx, o.ZipPath, treeInput, process.SubmitOpts{OwnerID: o.OwnerID, Tag: o.Tag, Keep: o.Keep, KeepImage: o.KeepImage},
		func(staged string) (string, error) {
			m, err := verifyTree(staged)
			if err != nil {
				return "", fmt.Errorf("file: %w", err)
			}
			return m.Dockerfile, nil
		},
		func(digest string) river.JobArgs { return ReplayArgs{InputDigest: digest} })
}

// The inputs a submission hands to its job, by their name in the work directory.
const (
	// contextInput is a recording's extracted project.
	contextInput = "context"
	// treeInput is a replay's extracted defined REE.
	treeInput = "ree"
)

// stageAndSubmit extracts an upload into a staging directory of its own
// (outside the job engine's directories), runs check on it (which returns the
// Dockerfile's name), moves the upload into the blob store and submits the
// process with the args made from the upload's digest; the engine then moves
// the checked tree into the job's work directory as input sub, so that the
// worker need not extract it again. Every check that can fail because of the
// upload runs before anything is recorded; the staging directory is removed
// whatever happens.
func (s *Service) stageAndSubmit(ctx context.Context, zipPath, sub string, o process.SubmitOpts, check func(staged string) (string, error), args func(digest string) river.JobArgs) (process.Process, error) {
	root, err := os.MkdirTemp(s.cfg.StagingDir, "upload-")
	if err != nil {
		return process.Process{}, fmt.Errorf("stage upload: %w", err)
	}
	defer os.RemoveAll(root)
	staged := filepath.Join(root, sub)
	if _, err := archive.ExtractZip(ctx, zipPath, staged, s.cfg.Archive); err != nil {
		return process.Process{}, fmt.Errorf("file: %w", err)
	}
	dockerfile, err := check(staged)
	if err != nil {
		return process.Process{}, err
	}
	ref, err := s.blobs.PutFile(ctx, zipPath, true)
	if err != nil {
		return process.Process{}, fmt.Errorf("store upload: %w", err)
	}
	o.Dockerfile, o.InputDigest = dockerfile, ref.Digest
	o.Inputs = map[string]string{sub: staged}
	return s.procs.Submit(ctx, args(ref.Digest), o)
}
