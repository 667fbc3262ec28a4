package ree

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/store"
)

// Base images on several worker hosts: a recording exports the compressed
// docker-archive of its base image into the blob store once per image ID
// (baseArchive), for the defined REEs. With Config.Store set, that archive is
// also recorded in the database (base_image_archives), and a host whose
// Podman lacks a catalogue image loads the latest recorded archive of it
// (the catalogue's SetShared) instead of building it with debootstrap.

// recordBaseArchive notes in the database that blob b is the archive of base
// image name at imageID, made on this host (a note already made for that
// image ID stands).
func (s *Service) recordBaseArchive(ctx context.Context, name, imageID string, b baseBlob) error {
	if s.cfg.Store == nil {
		return nil
	}
	err := s.cfg.Store.PutBaseImageArchive(ctx, store.BaseImageArchive{
		Name: name, ImageID: imageID, Digest: b.Digest, Size: b.Size, CRC32: int64(b.CRC32), Host: s.cfg.Host,
	})
	if err != nil {
		return fmt.Errorf("record the archive of base image %s for other hosts: %w", name, err)
	}
	return nil
}

// ShareBase saves the compressed archive of base image name, as this
// host's Podman holds it, in the blob store and records it for the hosts that
// lack the image, as a recording FROM it does (`reehub base-images` on the
// host that built the catalogue). An archive already made for that image ID
// is not made again.
func (s *Service) ShareBase(ctx context.Context, name string) error {
	if s.cfg.Store == nil {
		return fmt.Errorf("share base image %s: no database to record it in", name)
	}
	img, err := s.rt.InspectImage(ctx, baseimage.Ref(name))
	if err != nil {
		return fmt.Errorf("share base image %s: %w", name, err)
	}
	dir, err := os.MkdirTemp(s.blobs.TempDir(), "share-base-")
	if err != nil {
		return fmt.Errorf("share base image %s: %w", name, err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if _, err := s.baseArchive(ctx, name, img.ID, filepath.Join(dir, name+".tar.gz")); err != nil {
		return fmt.Errorf("share base image %s: %w", name, err)
	}
	return nil
}

// SharedBase reports whether a host saved an archive of base image name.
func (s *Service) SharedBase(ctx context.Context, name string) (bool, error) {
	if s.cfg.Store == nil {
		return false, nil
	}
	_, err := s.cfg.Store.LatestBaseImageArchive(ctx, name)
	if errors.Is(err, fault.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// FetchBase loads the latest recorded archive of base image name from the
// blob store into this host's Podman, streamed and decompressed on the way
// (Podman 4 loads only uncompressed archives), checks that it is the recorded
// image ID, and keeps the blob as this host's archive of that image ID, so
// that its recordings copy the same archive into their defined REEs. No
// recorded archive is fault.ErrNotFound.
func (s *Service) FetchBase(ctx context.Context, name string) error {
	if s.cfg.Store == nil {
		return fault.NotFoundf("no archive of base image %s is shared", name)
	}
	a, err := s.cfg.Store.LatestBaseImageArchive(ctx, name)
	if err != nil {
		return err
	}
	rc, err := s.blobs.Open(ctx, a.Digest)
	if err != nil {
		return fmt.Errorf("archive of base image %s: %w", name, err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		return fmt.Errorf("archive of base image %s is not gzip: %w", name, err)
	}
	defer zr.Close()
	s.log.Info("loading a base image another host saved", "image", name, "image_id", a.ImageID, "from_host", a.Host, "bytes", a.Size)
	names, err := s.rt.LoadImage(ctx, zr)
	if err != nil {
		return fmt.Errorf("load base image %s: %w", name, err)
	}
	img, err := s.rt.InspectImage(ctx, baseimage.Ref(name))
	if errors.Is(err, fault.ErrNotFound) && len(names) > 0 {
		if err := s.rt.TagImage(ctx, names[0], baseimage.Ref(name)); err != nil {
			return err
		}
		img, err = s.rt.InspectImage(ctx, baseimage.Ref(name))
	}
	if err != nil {
		return fmt.Errorf("load base image %s: %w", name, err)
	}
	if img.ID != a.ImageID {
		return fmt.Errorf("load base image %s: the archive of image %s loaded image %s", name, a.ImageID, img.ID)
	}
	index := filepath.Join(s.cfg.BaseImageCacheDir, name+"-"+a.ImageID+".json")
	if err := writeJSONAtomic(index, baseBlob{Digest: a.Digest, Size: a.Size, CRC32: uint32(a.CRC32)}); err != nil {
		s.log.Warn("note the loaded base image's archive", "image", name, "err", err)
	}
	return nil
}
