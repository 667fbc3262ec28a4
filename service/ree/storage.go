package ree

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
)

// imagePrefix names the image a process builds: imagePrefix + its UUID.
const imagePrefix = "localhost/reehub/"

func imageName(id string) string { return imagePrefix + id }

// registerStorage tells the engine what the REE family stores: the
// uploaded inputs (ree_processes.input_digest), its images and networks in
// Podman, and its staging directory.
func (s *Service) registerStorage(engine *job.Engine) error {
	if err := engine.RegisterBlobRefs(job.BlobInputs, store.BlobColumn{Table: "ree_processes", Column: "input_digest", JobColumn: "id"}); err != nil {
		return err
	}
	// The base images' archives shared by worker hosts (shared.go).
	if err := engine.RegisterBlobRefs(job.BlobOutputs, store.BlobColumn{Table: "base_image_archives", Column: "digest"}); err != nil {
		return err
	}
	// The base-image and rebuilt-image archives are cached blobs named by
	// index files in BaseImageCacheDir, not by rows.
	if err := engine.RegisterBlobRefFunc(job.BlobOutputs, s.cachedArchives); err != nil {
		return err
	}
	engine.RegisterResources(&podmanResources{s})
	engine.RegisterTempDir(s.cfg.StagingDir)
	return nil
}

// keepsImage reports whether the image of job j stays after its output is
// packaged: its owner asked to keep it. A registered image is not kept: the
// registry exported it into the blob store when it registered it
// (Config.RegisterImageFunc) and loads it back when something needs it.
func (s *Service) keepsImage(_ context.Context, j job.Job) bool {
	return j.KeepImage
}

// releaseImage removes the image a process built once its output holds
// what is needed to rebuild it (a defined REE) or load it (a rebuild's
// image.oci.tar), unless it is kept. Images are a cache: removing it by name
// only untags an image that another process's name still holds (a replay
// that reproduced a kept recording's image ID).
func (s *Service) releaseImage(ctx context.Context, w *job.Work) {
	if s.keepsImage(ctx, w.Job) {
		fmt.Fprintf(w.Log, "reehub: keeping image %s (keep_image)\n", imageName(w.Job.ID))
		return
	}
	if err := s.rt.RemoveImage(ctx, imageName(w.Job.ID)); err != nil {
		s.log.Warn("remove packaged image; garbage collection retries", "process", w.Job.ID, "err", err)
		return
	}
	fmt.Fprintf(w.Log, "reehub: removed image %s: the output holds what rebuilds it (send keep_image=true to keep it)\n", imageName(w.Job.ID))
}

// podmanResources are the REE family's images and networks in Podman, for
// the engine's garbage collection and usage report.
type podmanResources struct{ s *Service }

// List returns the images named localhost/reehub/<uuid>, the catalogue's
// base images (of no job: never collected) and the networks labelled with a process.
func (p *podmanResources) List(ctx context.Context) ([]job.Resource, error) {
	imgs, err := p.s.rt.ListImages(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list REE images: %w", err)
	}
	bases := map[string]bool{}
	for _, n := range p.s.catalog.Names() {
		bases[baseimage.Ref(n)] = true
	}
	var out []job.Resource
	for _, img := range imgs {
		size := img.Size // counted once, under the image's first name reehub holds
		for _, name := range img.Names {
			id, ok := strings.CutPrefix(strings.TrimSuffix(name, ":latest"), imagePrefix)
			_, perr := uuid.Parse(id)
			switch {
			case ok && perr == nil:
				out = append(out, job.Resource{Kind: "image", Name: name, JobID: id, Bytes: size, Cache: true})
			case bases[name]:
				out = append(out, job.Resource{Kind: "image", Name: name, Bytes: size})
			default:
				continue
			}
			size = 0
		}
	}
	nets, err := p.s.rt.ListNetworks(ctx, labelProcess)
	if err != nil {
		return nil, fmt.Errorf("list REE networks: %w", err)
	}
	for _, n := range nets {
		if id := n.Labels[labelProcess]; id != "" {
			out = append(out, job.Resource{Kind: "network", Name: n.Name, JobID: id})
		}
	}
	return out, nil
}

// Remove removes an image (by name) or, for a network, everything of its
// process that is left in Podman (build steps, containers, the network).
func (p *podmanResources) Remove(ctx context.Context, r job.Resource) error {
	if r.Kind == "image" {
		return p.s.rt.RemoveImage(ctx, r.Name)
	}
	if err := p.s.rt.Cleanup(ctx, labelProcess, r.JobID); err != nil {
		return err
	}
	return p.s.rt.RemoveNetwork(ctx, r.Name)
}

// KeepAfterEnd keeps the image of an ended process that is kept or registered.
func (p *podmanResources) KeepAfterEnd(ctx context.Context, j job.Job, _ job.Resource) bool {
	return p.s.keepsImage(ctx, j)
}

// cachedArchives reports which of digests an index file of the archive
// cache (BaseImageCacheDir/*.json, see cachedBlob) names.
func (s *Service) cachedArchives(_ context.Context, digests []string) (map[string]bool, error) {
	indexes, err := filepath.Glob(filepath.Join(s.cfg.BaseImageCacheDir, "*.json"))
	if err != nil {
		return nil, err
	}
	named := map[string]bool{}
	for _, p := range indexes {
		var b baseBlob
		raw, err := os.ReadFile(p)
		if err != nil || json.Unmarshal(raw, &b) != nil {
			continue
		}
		named[b.Digest] = true
	}
	out := map[string]bool{}
	for _, d := range digests {
		if named[d] {
			out[d] = true
		}
	}
	return out, nil
}
