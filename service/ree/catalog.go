package ree

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
)

// Catalog is the set of base images a Dockerfile may name in FROM.
type Catalog struct {
	rt        *podman.Runtime
	defs      []baseimage.Definition
	exportDir string

	mu      sync.Mutex
	staging map[string]*sync.Mutex // per image ID

	// registered reports names of images of the registry, load loads one
	// into Podman from the registry's blobs (SetRegistered).
	registered func(name string) bool
	load       func(ctx context.Context, name string) error

	// sharedHas reports whether another host saved an archive of a
	// catalogue image, sharedFetch loads it into Podman (SetShared).
	sharedHas   func(ctx context.Context, name string) (bool, error)
	sharedFetch func(ctx context.Context, name string) error
}

// SetShared lets a worker host whose Podman lacks a catalogue base image
// load it from the archive another host saved in the blob store instead of
// building it: has reports whether there is one, fetch loads it (a name
// without one is fault.ErrNotFound). Call it before serving.
func (c *Catalog) SetShared(has func(ctx context.Context, name string) (bool, error), fetch func(ctx context.Context, name string) error) {
	c.sharedHas, c.sharedFetch = has, fetch
}

// SetRegistered adds the images of the registry to what FROM may name:
// registered(name) reports whether name is one (a docker-image of the
// registry is baseimage.Ref("registry-<id>") once loaded), and load loads it
// into Podman from the registry's blob store when Podman does not hold it
// (Podman is a cache of the registry). Call it before serving.
func (c *Catalog) SetRegistered(registered func(name string) bool, load func(ctx context.Context, name string) error) {
	c.registered, c.load = registered, load
}

// NewCatalog returns the catalogue of the given definitions on rt. Exports
// for download are staged in exportDir, one docker-archive per image ID.
func NewCatalog(rt *podman.Runtime, defs []baseimage.Definition, exportDir string) *Catalog {
	return &Catalog{rt: rt, defs: defs, exportDir: exportDir, staging: map[string]*sync.Mutex{}}
}

// BaseImage is a catalogue entry and whether it is built here.
type BaseImage struct {
	Name        string
	Description string
	Available   bool
	ID          string
}

// List returns every catalogue entry in catalogue order. While the Podman
// service does not answer, every entry is listed as not available.
func (c *Catalog) List(ctx context.Context) ([]BaseImage, error) {
	out := make([]BaseImage, 0, len(c.defs))
	down := false
	for _, d := range c.defs {
		b := BaseImage{Name: d.Name, Description: d.Description}
		if down {
			out = append(out, b)
			continue
		}
		img, err := c.rt.InspectImage(ctx, baseimage.Ref(d.Name))
		switch {
		case err == nil:
			b.Available, b.ID = true, img.ID
		case errors.Is(err, fault.ErrNotFound):
		case errors.Is(err, fault.ErrUnavailable):
			down = true
		default:
			return nil, fmt.Errorf("inspect base image %s: %w", d.Name, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// Has reports whether name is in the catalogue.
func (c *Catalog) Has(name string) bool {
	if slices.ContainsFunc(c.defs, func(d baseimage.Definition) bool { return d.Name == name }) {
		return true
	}
	return c.registered != nil && c.registered(name)
}

// Names lists the catalogue names.
func (c *Catalog) Names() []string {
	names := make([]string, 0, len(c.defs))
	for _, d := range c.defs {
		names = append(names, d.Name)
	}
	return names
}

// Resolve returns the local image of a catalogue name: a registry image or
// a base image another host saved (SetShared) is loaded first when Podman
// lacks it.
func (c *Catalog) Resolve(ctx context.Context, name string) (podman.Image, error) {
	img, _, err := c.resolve(ctx, name, true)
	return img, err
}

// Check reports, as Resolve does, whether a build can start FROM name, but
// without loading a base image another host saved: the worker that runs the
// build loads it (an API-only instance need not hold the image).
func (c *Catalog) Check(ctx context.Context, name string) error {
	_, _, err := c.resolve(ctx, name, false)
	return err
}

// resolve is Resolve; without fetch, a base image that only the blob store
// has is not loaded, and reported as shared with an empty image.
func (c *Catalog) resolve(ctx context.Context, name string, fetch bool) (podman.Image, bool, error) {
	if !c.Has(name) {
		return podman.Image{}, false, fault.NotFoundf("base image %q is not in the catalogue (%v)", name, c.Names())
	}
	img, err := c.rt.InspectImage(ctx, baseimage.Ref(name))
	registered := c.registered != nil && c.registered(name)
	if errors.Is(err, fault.ErrNotFound) && c.load != nil && registered {
		if err := c.load(ctx, name); err != nil {
			return podman.Image{}, false, fmt.Errorf("load registry image %s: %w", name, err)
		}
		img, err = c.rt.InspectImage(ctx, baseimage.Ref(name))
	}
	if errors.Is(err, fault.ErrNotFound) && !registered && c.sharedFetch != nil {
		if !fetch {
			if ok, herr := c.sharedHas(ctx, name); herr != nil || ok {
				return podman.Image{}, ok, herr
			}
		} else {
			lock := c.stagingLock("fetch:" + name) // one load per name at a time
			lock.Lock()
			img, err = c.rt.InspectImage(ctx, baseimage.Ref(name))
			if errors.Is(err, fault.ErrNotFound) {
				if ferr := c.sharedFetch(ctx, name); ferr == nil {
					img, err = c.rt.InspectImage(ctx, baseimage.Ref(name))
				} else if !errors.Is(ferr, fault.ErrNotFound) {
					lock.Unlock()
					return podman.Image{}, false, fmt.Errorf("load base image %s from the blob store: %w", name, ferr)
				}
			}
			lock.Unlock()
		}
	}
	if errors.Is(err, fault.ErrNotFound) {
		return podman.Image{}, false, fault.Conflictf("base image %q is not built on this server yet (run make base-images)", name)
	}
	return img, false, err
}

// Export streams a base image as a docker-archive TAR that `podman load` accepts.
func (c *Catalog) Export(ctx context.Context, name string, w io.Writer) error {
	img, err := c.downloadable(ctx, name)
	if err != nil {
		return err
	}
	return c.rt.ExportImage(ctx, img.ID, podman.DockerArchive, w)
}

// Head checks that a base image can be exported, so that errors are reported
// before a download response starts.
func (c *Catalog) Head(ctx context.Context, name string) error {
	_, err := c.downloadable(ctx, name)
	return err
}

// downloadable resolves a base image for download: one that is in the
// catalogue but not built here is as absent as an unknown one.
func (c *Catalog) downloadable(ctx context.Context, name string) (podman.Image, error) {
	img, err := c.Resolve(ctx, name)
	if errors.Is(err, fault.ErrConflict) {
		return podman.Image{}, fault.NotFoundf("base image %q is not built on this server", name)
	}
	return img, err
}

// ImageExport is a base image staged for download as a docker-archive TAR.
// The export of one image ID is deterministic, so the staged file stands for
// the image until its ID changes.
type ImageExport struct {
	// File is the open TAR at offset 0; the caller closes it.
	File *os.File
	// Size is the length of the TAR in bytes.
	Size int64
	// ImageID is the image's ID (hex sha256 of its config).
	ImageID string
	// SHA256 is the hex sha256 of the TAR.
	SHA256 string
	// ModTime is when the TAR was staged.
	ModTime time.Time
}

// OpenExport returns the staged export of a base image, staging it first
// when this image ID has none yet. A failure of the export is an error here,
// before any byte is sent.
func (c *Catalog) OpenExport(ctx context.Context, name string) (ImageExport, error) {
	img, err := c.downloadable(ctx, name)
	if err != nil {
		return ImageExport{}, err
	}
	if c.exportDir == "" {
		return ImageExport{}, errors.New("open export: no export directory configured")
	}
	lock := c.stagingLock(img.ID)
	lock.Lock()
	defer lock.Unlock()
	path := filepath.Join(c.exportDir, img.ID+".tar")
	sum, err := os.ReadFile(path + ".sha256")
	if errors.Is(err, os.ErrNotExist) {
		sum, err = c.stage(ctx, img.ID, path)
	}
	if err != nil {
		return ImageExport{}, fmt.Errorf("stage export of %s: %w", name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return ImageExport{}, fmt.Errorf("open export of %s: %w", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return ImageExport{}, fmt.Errorf("stat export of %s: %w", name, err)
	}
	return ImageExport{File: f, Size: fi.Size(), ImageID: img.ID, SHA256: string(sum), ModTime: fi.ModTime()}, nil
}

func (c *Catalog) stagingLock(id string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.staging[id]
	if !ok {
		l = &sync.Mutex{}
		c.staging[id] = l
	}
	return l
}

// stage exports image id to path through a temporary file and writes its
// sha256 beside it (the sidecar is written last: it marks a complete export).
func (c *Catalog) stage(ctx context.Context, id, path string) ([]byte, error) {
	if err := os.MkdirAll(c.exportDir, 0o750); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(c.exportDir, "export-*.tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	err = c.rt.ExportImage(ctx, id, podman.DockerArchive, io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	sum := []byte(hex.EncodeToString(h.Sum(nil)))
	if err := os.WriteFile(path+".sha256", sum, 0o640); err != nil {
		return nil, err
	}
	return sum, nil
}
