package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/job"
)

// A registered docker-image in the local Podman (localhost/registry-<id>,
// loaded at upload or loaded back from the blob store for FROM
// registry-<id>, a workflow environment or a local deployment) is a cache of
// the registry's record, like a process's image: garbage collection releases
// it once no container uses it and it has not been asked for during the
// grace period. Whatever needs it again loads it back (ensureLoaded).

// lastUse remembers when this instance last loaded or asked for each
// registry image in the local Podman; an image it has no time for (loaded
// before this instance started) counts as idle since long ago.
type lastUse struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (l *lastUse) touch(ref string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil {
		l.at = map[string]time.Time{}
	}
	l.at[ref] = time.Now()
}

func (l *lastUse) get(ref string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at[ref]
}

// loadedImages is the registry's job.ResourceSet: its images in the local
// Podman service.
type loadedImages struct{ s *Service }

// List returns the local Podman's registry-<id> images of this database's
// registry, idle (releasable) when removing the name cannot take an image
// from a container.
func (l loadedImages) List(ctx context.Context) ([]job.Resource, error) {
	imgs, err := l.s.rt.ListImages(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list registry images: %w", err)
	}
	var out []job.Resource
	for _, img := range imgs {
		for _, name := range img.Names {
			id, ok := strings.CutPrefix(strings.TrimSuffix(name, ":latest"), "localhost/registry-")
			if !ok || uuid.Validate(id) != nil {
				continue
			}
			if _, err := l.s.st.RegistryImageByID(ctx, id); errors.Is(err, fault.ErrNotFound) {
				continue // another instance's (sharing the Podman service), or deleted meanwhile
			} else if err != nil {
				return nil, err
			}
			// Idle when no container uses the image, or when another name
			// holds it too (then removing this name only untags it, and the
			// image stays for its containers).
			out = append(out, job.Resource{Kind: "image", Name: name, Bytes: img.Size,
				Idle: img.Containers == 0 || len(img.Names) > 1, IdleSince: l.s.used.get(name)})
		}
	}
	return out, nil
}

// Remove releases the name from Podman unless a container uses the image
// (fault.ErrConflict); the record stays in the blob store.
func (l loadedImages) Remove(ctx context.Context, r job.Resource) error {
	if l.s.used.get(r.Name).After(r.IdleSince) {
		return fault.Conflictf("image %s was asked for since it was listed", r.Name)
	}
	return l.s.rt.RemoveUnusedImage(ctx, r.Name)
}

// KeepAfterEnd is never asked: the resources have no job.
func (loadedImages) KeepAfterEnd(context.Context, job.Job, job.Resource) bool { return true }
