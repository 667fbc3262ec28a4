package ree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
)

// Catalog is the set of base images a Dockerfile may name in FROM.
type Catalog struct {
	rt   *podman.Runtime
	defs []baseimage.Definition
}

// NewCatalog returns the catalogue of the given definitions on rt.
func NewCatalog(rt *podman.Runtime, defs []baseimage.Definition) *Catalog {
	return &Catalog{rt: rt, defs: defs}
}

// BaseImage is a catalogue entry and whether it is built here.
type BaseImage struct {
	Name        string
	Description string
	Available   bool
	ID          string
}

// List returns every catalogue entry in catalogue order.
func (c *Catalog) List(ctx context.Context) ([]BaseImage, error) {
	out := make([]BaseImage, 0, len(c.defs))
	for _, d := range c.defs {
		b := BaseImage{Name: d.Name, Description: d.Description}
		img, err := c.rt.InspectImage(ctx, baseimage.Ref(d.Name))
		switch {
		case err == nil:
			b.Available, b.ID = true, img.ID
		case errors.Is(err, fault.ErrNotFound):
		default:
			return nil, fmt.Errorf("inspect base image %s: %w", d.Name, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// Has reports whether name is in the catalogue.
func (c *Catalog) Has(name string) bool {
	return slices.ContainsFunc(c.defs, func(d baseimage.Definition) bool { return d.Name == name })
}

// Names lists the catalogue names.
func (c *Catalog) Names() []string {
	names := make([]string, 0, len(c.defs))
	for _, d := range c.defs {
		names = append(names, d.Name)
	}
	return names
}

// Resolve returns the local image of a catalogue name.
func (c *Catalog) Resolve(ctx context.Context, name string) (podman.Image, error) {
	if !c.Has(name) {
		return podman.Image{}, fault.NotFoundf("base image %q is not in the catalogue (%v)", name, c.Names())
	}
	img, err := c.rt.InspectImage(ctx, baseimage.Ref(name))
	if errors.Is(err, fault.ErrNotFound) {
		return podman.Image{}, fault.Conflictf("base image %q is not built on this server yet (run make base-images)", name)
	}
	return img, err
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
