package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/store"
)

// The registry's blob copy of an image is the record; Podman is a cache.
// A docker-image is kept as its uploaded archive (the file) or, for an image
// a process built, only as the blobs of its manifest at the OCI endpoint
// (config and layers by digest, shared with /v2/). What needs it in Podman
// (FROM registry-<id>, a deployment) loads it back with ensureLoaded.

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

// writeOCIArchive writes an OCI image layout TAR (oci-layout, index.json,
// blobs/sha256/...) of manifest m with its config and layers from the blob store.
func (s *Service) writeOCIArchive(ctx context.Context, m Manifest, w io.Writer) error {
	man, err := v1.ParseManifest(bytes.NewReader(m.Body))
	if err != nil {
		return fmt.Errorf("parse manifest %s: %w", m.Digest, err)
	}
	tw := tar.NewWriter(w)
	put := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	idx, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []map[string]any{{"mediaType": m.MediaType, "digest": m.Digest, "size": len(m.Body)}},
	})
	if err != nil {
		return err
	}
	if err := put("index.json", idx); err != nil {
		return err
	}
	if err := put(blobName(m.Digest), m.Body); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, d := range append([]v1.Descriptor{man.Config}, man.Layers...) {
		digest := d.Digest.String()
		if seen[digest] {
			continue
		}
		seen[digest] = true
		if err := s.copyBlob(ctx, tw, digest); err != nil {
			return err
		}
	}
	return tw.Close()
}

func blobName(digest string) string { return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:") }

// copyBlob writes the blob digest into tw as blobs/sha256/<hex>.
func (s *Service) copyBlob(ctx context.Context, tw *tar.Writer, digest string) error {
	f, err := s.blobs.Open(ctx, digest)
	if err != nil {
		return fmt.Errorf("blob %s of the image: %w", digest, err)
	}
	defer f.Close()
	fi, err := s.blobs.Stat(ctx, digest)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: blobName(digest), Mode: 0o644, Size: fi.Size, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("copy blob %s: %w", digest, err)
	}
	return nil
}

// ensureLoaded makes image row's docker-image present in rt as its
// PodmanRef (localhost/registry-<id>:latest), loading it from the blob store
// when rt lacks it. It reports whether it loaded.
func (s *Service) ensureLoaded(ctx context.Context, rt *podman.Runtime, row store.RegistryImage) (bool, error) {
	if row.PodmanRef == "" {
		return false, fault.Invalidf("image %s is not a container image", row.ID)
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
