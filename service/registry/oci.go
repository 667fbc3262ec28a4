package registry

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// Blobs is the blob handler of the OCI endpoint over reehub's blob store:
// the go-containerregistry registry's BlobHandler, BlobStatHandler,
// BlobPutHandler and BlobDeleteHandler. Blobs are shared by digest with the
// rest of reehub (a layer pushed twice, or an image file that is also a
// layer, is stored once).
type Blobs struct{ s *Service }

// OCIBlobs returns the blob handler of the OCI endpoint.
func (s *Service) OCIBlobs() *Blobs { return &Blobs{s: s} }

// HasBlob reports whether the blob of digest is stored (the OCI endpoint
// answers 404 itself before go-containerregistry, whose not-found error is
// unexported in the pinned version, would answer 500).
func (b *Blobs) HasBlob(ctx context.Context, digest string) bool {
	_, err := b.s.blobs.Stat(ctx, digest)
	return err == nil
}

// Get opens a blob.
func (b *Blobs) Get(ctx context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	f, err := b.s.blobs.Open(ctx, h.String())
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Stat returns a blob's size.
func (b *Blobs) Stat(ctx context.Context, _ string, h v1.Hash) (int64, error) {
	ref, err := b.s.blobs.Stat(ctx, h.String())
	return ref.Size, err
}

// Put stores a blob; rc verifies size and digest as it is read (the
// registry's reader), and the blob store checks the digest again.
func (b *Blobs) Put(ctx context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	ref, err := b.s.blobs.Put(ctx, rc)
	if err != nil {
		return err
	}
	if ref.Digest != h.String() {
		return fmt.Errorf("blob digest %s is not the announced %s", ref.Digest, h)
	}
	return nil
}

// Delete forgets a blob for the registry. The content stays in the blob
// store while reehub may share it (image files, outputs); the garbage of
// unreferenced blobs is not collected here.
func (b *Blobs) Delete(ctx context.Context, _ string, h v1.Hash) error {
	_, err := b.s.blobs.Stat(ctx, h.String())
	return err
}

// Manifest is a manifest of the OCI endpoint.
type Manifest struct {
	Repo      string
	Ref       string
	MediaType string
	Body      []byte
}

// SaveManifest records a manifest pushed to the OCI endpoint, so that it
// survives a restart.
func (s *Service) SaveManifest(ctx context.Context, m Manifest) error {
	return s.st.PutRegistryManifest(ctx, &store.RegistryManifest{Repo: m.Repo, Ref: m.Ref, MediaType: m.MediaType, Body: string(m.Body), CreatedAt: time.Now().UTC()})
}

// DeleteManifest forgets a manifest.
func (s *Service) DeleteManifest(ctx context.Context, repo, ref string) error {
	return s.st.DeleteRegistryManifest(ctx, repo, ref)
}

// Manifests lists every recorded manifest in the order they were pushed.
func (s *Service) Manifests(ctx context.Context) ([]Manifest, error) {
	rows, err := s.st.RegistryManifests(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Manifest, 0, len(rows))
	for _, r := range rows {
		out = append(out, Manifest{Repo: r.Repo, Ref: r.Ref, MediaType: r.MediaType, Body: []byte(r.Body)})
	}
	return out, nil
}

// ManifestsOf lists the recorded manifests of one repository.
func (s *Service) ManifestsOf(ctx context.Context, repo string) ([]Manifest, error) {
	all, err := s.Manifests(ctx)
	if err != nil {
		return nil, err
	}
	var out []Manifest
	for _, m := range all {
		if m.Repo == repo {
			out = append(out, m)
		}
	}
	return out, nil
}

// loadDockerImage loads a checked image archive into Podman as
// registry/<id>:latest and publishes it at the OCI endpoint as <id>:latest.
func (s *Service) loadDockerImage(ctx context.Context, id, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open upload: %w", err)
	}
	names, err := s.rt.LoadImage(ctx, f)
	f.Close()
	if err != nil {
		return "", fmt.Errorf("load image %s into Podman: %w", id, err)
	}
	if len(names) == 0 {
		return "", fault.Invalidf("upfile: the archive holds no image")
	}
	ref := "localhost/registry/" + id + ":latest"
	if err := s.rt.TagImage(ctx, names[0], ref); err != nil {
		return "", err
	}
	if err := s.publish(ctx, id, path); err != nil {
		return "", err
	}
	return ref, nil
}

// publish writes the image of an archive into the blob store (config and
// compressed layers) and records its manifest as <repo>:latest.
func (s *Service) publish(ctx context.Context, repo, path string) error {
	kind, err := archiveKind(path)
	if err != nil {
		return err
	}
	var img v1.Image
	switch kind {
	case "docker":
		img, err = tarball.ImageFromPath(path, nil)
	case "oci":
		var dir string
		dir, err = os.MkdirTemp(s.blobs.TempDir(), "oci-layout-*")
		if err != nil {
			return fmt.Errorf("unpack OCI archive: %w", err)
		}
		defer os.RemoveAll(dir)
		if err = untar(path, dir); err != nil {
			return err
		}
		var idx v1.ImageIndex
		if idx, err = layout.ImageIndexFromPath(dir); err == nil {
			var im *v1.IndexManifest
			if im, err = idx.IndexManifest(); err == nil {
				if len(im.Manifests) == 0 {
					return fault.Invalidf("upfile: the OCI archive's index is empty")
				}
				img, err = idx.Image(im.Manifests[0].Digest)
			}
		}
	default:
		return fault.Invalidf("upfile: not a docker or OCI image archive")
	}
	if err != nil {
		return fault.Invalidf("upfile: the image archive cannot be read: %v", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fault.Invalidf("upfile: the image archive cannot be read: %v", err)
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return fault.Invalidf("upfile: layer: %v", err)
		}
		if _, err := s.blobs.Stat(ctx, d.String()); err == nil {
			continue
		}
		rc, err := l.Compressed()
		if err != nil {
			return fault.Invalidf("upfile: layer %s: %v", d, err)
		}
		ref, err := s.blobs.Put(ctx, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("store layer %s: %w", d, err)
		}
		if ref.Digest != d.String() {
			return fmt.Errorf("layer %s stored as %s", d, ref.Digest)
		}
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return fault.Invalidf("upfile: image config: %v", err)
	}
	if _, err := s.blobs.Put(ctx, strings.NewReader(string(cfg))); err != nil {
		return fmt.Errorf("store image config: %w", err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return fault.Invalidf("upfile: image manifest: %v", err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return fault.Invalidf("upfile: image manifest: %v", err)
	}
	h, _, err := v1.SHA256(strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	for _, ref := range []string{h.String(), "latest"} {
		if err := s.SaveManifest(ctx, Manifest{Repo: repo, Ref: ref, MediaType: string(mt), Body: raw}); err != nil {
			return err
		}
	}
	return nil
}

// untar unpacks the regular files and directories of a TAR into dir,
// refusing names that escape it.
func untar(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fault.Invalidf("upfile: the image archive is cut off or corrupt: %v", err)
		}
		name := filepath.Clean(strings.TrimPrefix(h.Name, "./"))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o750); err != nil {
				return fault.Invalidf("upfile: entry %q: %v", h.Name, err)
			}
		case tar.TypeReg:
			if d := filepath.Dir(name); d != "." {
				if err := root.MkdirAll(d, 0o750); err != nil {
					return fault.Invalidf("upfile: entry %q: %v", h.Name, err)
				}
			}
			out, err := root.Create(name)
			if err != nil {
				return fault.Invalidf("upfile: entry %q: %v", h.Name, err)
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fault.Invalidf("upfile: entry %q: %v", h.Name, err)
			}
		}
	}
}
