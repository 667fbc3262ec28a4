package ree

import (
	"context"
	"fmt"
	"io"

	"github.com/reehub/reehub/service/job"
)

// ProducedImage is an image a process of the REE family built, with where
// it came from, for the registry to register.
type ProducedImage struct {
	// OwnerID owns the process (and the registered image).
	OwnerID int64
	// ProcessID is the process that built it.
	ProcessID string
	// Kind is the process's kind (recording, replay, sbom_build).
	Kind string
	// ImageID is the local Podman image ID.
	ImageID string
	// Tag is the process's tag, if any.
	Tag string
	// InputDigest is the blob of the process's upload.
	InputDigest string
	// BaseImages maps each FROM name to its image ID.
	BaseImages map[string]string
	// ReehubVersion is the version of reehub that built it.
	ReehubVersion string
	// OCIArchive, when set, is a file holding the image's OCI archive,
	// already exported by the process (a replay ships one), readable for the
	// duration of the call and never to be written: the registry reads it
	// instead of exporting the image again.
	OCIArchive string
}

// registerImage hands a built image to Config.RegisterImageFunc; a failure
// is written to the process log and does not fail the process.
func (s *Service) registerImage(ctx context.Context, w *job.Work, img ProducedImage) {
	if s.cfg.RegisterImageFunc == nil {
		return
	}
	img.OwnerID, img.ProcessID, img.Kind, img.ReehubVersion = w.Job.OwnerID, w.Job.ID, w.Job.Kind, s.cfg.Version
	if err := s.cfg.RegisterImageFunc(ctx, img); err != nil {
		logf(w.Log, "reehub: the image was not registered in the image registry: %v\n", err)
		return
	}
	logf(w.Log, "reehub: image %s registered in the image registry\n", shortID(img.ImageID))
}

func logf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

func val(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
