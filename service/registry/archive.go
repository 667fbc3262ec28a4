package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/store"
)

// The registry's blob copy of an image is the record; Podman is a cache.
// A docker-image, uploaded or built by a process, is kept once, as the blobs
// of its manifest at the OCI endpoint (config and layers by digest, shared
// with /v2/); its file is the OCI archive of those blobs (ociArchive). What
// needs it in Podman (FROM registry-<id>, a deployment) loads it back with
// ensureLoaded.

// openArchive opens what `podman load` reads for image row: its uploaded
// archive, or an OCI archive written while it is read from the blobs of its
// manifest <id>:latest (nothing staged on disk).
func (s *Service) openArchive(ctx context.Context, row store.RegistryImage) (io.ReadCloser, error) {
	if row.FileDigest != "" {
		return s.blobs.Open(ctx, row.FileDigest)
	}
	m, err := s.GetManifest(ctx, row.ID, "latest")
	if err != nil {
		return nil, fmt.Errorf("image %s has no file and no manifest: %w", row.ID, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(s.writeOCIArchive(ctx, m, pw)) }()
	return pr, nil
}

// writeOCIArchive writes the OCI image layout TAR of manifest m (see
// ociArchive) with its config and layers from the blob store.
func (s *Service) writeOCIArchive(ctx context.Context, m Manifest, w io.Writer) error {
	a, err := s.newOCIArchive(ctx, m)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := io.Copy(w, a); err != nil {
		return fmt.Errorf("write the archive of %s: %w", m.Digest, err)
	}
	return nil
}

func blobName(digest string) string { return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:") }

// ensureLoaded makes image row's docker-image present in rt as its
// PodmanRef (localhost/registry-<id>:latest), loading it from the blob store
// when rt lacks it. It reports whether it loaded.
func (s *Service) ensureLoaded(ctx context.Context, rt *podman.Runtime, row store.RegistryImage) (bool, error) {
	if row.PodmanRef == "" {
		return false, fault.Invalidf("image %s is not a container image", row.ID)
	}
	if rt == s.rt {
		// Asked for now and again once loaded: GC leaves it for the grace period.
		s.used.touch(row.PodmanRef)
		defer s.used.touch(row.PodmanRef)
	}
	if _, err := rt.InspectImage(ctx, row.PodmanRef); err == nil {
		return false, nil
	} else if !errors.Is(err, fault.ErrNotFound) {
		return false, err
	}
	rc, err := s.openArchive(ctx, row)
	if err != nil {
		return false, err
	}
	names, err := rt.LoadImage(ctx, rc)
	rc.Close()
	if err != nil {
		return false, fmt.Errorf("load image %s from the registry: %w", row.ID, err)
	}
	if len(names) == 0 {
		return false, fmt.Errorf("load image %s from the registry: podman loaded nothing", row.ID)
	}
	if names[0] != row.PodmanRef {
		if err := rt.TagImage(ctx, names[0], row.PodmanRef); err != nil {
			return false, err
		}
	}
	return true, nil
}

// EnsureBaseImage loads the registered docker-image that FROM name
// (registry-<id>) names into the local Podman service when it is not there,
// for the REE catalogue (ree.Catalog.SetRegistered).
func (s *Service) EnsureBaseImage(ctx context.Context, name string) error {
	id, ok := strings.CutPrefix(name, "registry-")
	if !ok {
		return fault.NotFoundf("%s is not a registry image", name)
	}
	row, err := s.st.RegistryImageByID(ctx, id)
	if err != nil {
		return err
	}
	if row.PodmanRef != baseimage.Ref(name) {
		return fault.NotFoundf("%s is not a loaded registry image", name)
	}
	_, err = s.ensureLoaded(ctx, s.rt, row)
	return err
}
