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

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
)

// BaseImageName is the name under which a docker-image of the registry is
// a base image of the REE catalogue (FROM registry-<id> in a recording).
func BaseImageName(id string) string { return "registry-" + id }

// IsBaseImage reports whether name is a loaded docker-image of the registry
// (for the REE catalogue: ree.Catalog.SetRegistered).
func (s *Service) IsBaseImage(name string) bool {
	id, ok := strings.CutPrefix(name, "registry-")
	if !ok {
		return false
	}
	row, err := s.st.RegistryImageByID(context.Background(), id)
	return err == nil && row.ContentType == ContentDockerImage && row.PodmanRef != ""
}

// loadDockerImage loads a checked image archive into Podman as
// localhost/registry-<id>:latest and publishes it at the OCI endpoint as <id>:latest.
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
	ref := baseimage.Ref(BaseImageName(id))
	s.used.touch(ref)
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
		if err := s.st.LinkRegistryBlob(ctx, repo, d.String()); err != nil {
			return err
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
	cref, err := s.blobs.Put(ctx, strings.NewReader(string(cfg)))
	if err != nil {
		return fmt.Errorf("store image config: %w", err)
	}
	if err := s.st.LinkRegistryBlob(ctx, repo, cref.Digest); err != nil {
		return err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return fault.Invalidf("upfile: image manifest: %v", err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return fault.Invalidf("upfile: image manifest: %v", err)
	}
	if _, err := s.PutManifest(ctx, repo, "latest", string(mt), raw); err != nil {
		return fmt.Errorf("record the manifest of %s: %w", repo, err)
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
