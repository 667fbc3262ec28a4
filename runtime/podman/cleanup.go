package podman

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/containers/podman/v5/pkg/bindings/containers"
	"github.com/containers/podman/v5/pkg/bindings/images"
	"github.com/containers/podman/v5/pkg/bindings/network"
	"github.com/containers/podman/v5/pkg/domain/entities/types"
)

// externalContainer is a container in storage that the service does not
// manage, such as a buildah working container of a build.
type externalContainer struct {
	ID      string
	Names   []string
	Created time.Time
}

// externalContainers lists the containers that only exist in storage
// (podman ps --all --external minus podman's own), keyed by ID.
func (r *Runtime) externalContainers(ctx context.Context) (map[string]externalContainer, error) {
	var list []types.ListContainer
	var err error
	// The service fails the whole listing when a container disappears while
	// it lists ("container not known"), which concurrent builds cause: retry.
	for attempt := 0; attempt < 5; attempt++ {
		c, cancel := r.callCtx(ctx)
		list, err = containers.List(c, new(containers.ListOptions).WithAll(true).WithExternal(true))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "not known") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, r.wrap("list external containers", err)
	}
	out := map[string]externalContainer{}
	for _, ct := range list {
		if !isExternal(ct) {
			continue
		}
		out[ct.ID] = externalContainer{ID: ct.ID, Names: ct.Names, Created: ct.Created}
	}
	return out, nil
}

func isExternal(ct types.ListContainer) bool {
	return ct.State == "storage" || ct.Status == "Storage"
}

// removeContainer removes a podman or storage container by ID, killing it
// first. A missing container is not an error.
func (r *Runtime) removeContainer(ctx context.Context, id string) error {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	_, err := containers.Remove(c, id, new(containers.RemoveOptions).WithForce(true).WithIgnore(true).WithVolumes(true).WithTimeout(0))
	if err != nil && httpCode(err) != http.StatusNotFound {
		return r.wrap("remove container "+shortID(id), err)
	}
	return nil
}

// buildCancelled runs after the caller cancelled a build. The 4.3.1 service
// goes on with a build whose client went away until its current step ends,
// so this kills the build's running RUN step (when the service is local),
// waits, bounded, until the working containers the build created are gone
// and force-removes those it can prove are the build's. It returns an error
// that wraps ctx's error.
func (r *Runtime) buildCancelled(ctx context.Context, nonce string, before map[string]externalContainer, started time.Time, out *tail) error {
	cleanCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelWait)
	defer cancel()
	err := r.stopBuild(cleanCtx, nonce, before, started)
	msg := fmt.Errorf("build cancelled: %w", ctx.Err())
	if out != nil {
		msg = fmt.Errorf("%w\n%s", msg, out.String())
	}
	return errors.Join(msg, err)
}

// cancelWait bounds how long a cancelled build waits for the service to
// abandon it.
const cancelWait = 30 * time.Second

// othersGrace is how long a cancelled build waits for new working containers
// it cannot tie to itself (they may be another build's) to go away.
const othersGrace = 5 * time.Second

// stopBuild kills the build's RUN steps until no working container created
// since started remains, or only ones not proven to be this build's remain
// after othersGrace. When ctx ends first, it force-removes the build's own.
func (r *Runtime) stopBuild(ctx context.Context, nonce string, before map[string]externalContainer, started time.Time) error {
	t0 := time.Now()
	ours := map[string]bool{} // short IDs of working containers proven to be this build's
	for {
		for _, s := range r.killSteps(ctx, buildMarker(nonce)) {
			ours[s.container] = true
		}
		now, err := r.externalContainers(ctx)
		if err != nil {
			select { // try again on the next round
			case <-ctx.Done():
				return err
			case <-time.After(150 * time.Millisecond):
				continue
			}
		}
		var pendingOurs, pendingOthers []string
		for id, ct := range now {
			if _, ok := before[id]; ok || ct.Created.Before(started.Add(-time.Second)) {
				continue
			}
			if ours[shortID(id)] {
				pendingOurs = append(pendingOurs, id)
			} else {
				pendingOthers = append(pendingOthers, id)
			}
		}
		if len(pendingOurs) == 0 && (len(pendingOthers) == 0 || time.Since(t0) > othersGrace) {
			return nil
		}
		select {
		case <-ctx.Done():
			return r.forceRemove(ctx, pendingOurs)
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// Cleanup removes the containers, networks and images that carry the label
// labelKey=labelValue, and the storage (buildah) containers whose image
// carries it. Use it when a job is cancelled or after a restart.
func (r *Runtime) Cleanup(ctx context.Context, labelKey, labelValue string) error {
	filter := map[string][]string{"label": {labelKey + "=" + labelValue}}
	var errs []error

	// Stop the RUN steps of builds that carry the label and are still running
	// in the service after their client went away.
	if steps := r.killSteps(ctx, labelMarker(labelKey, labelValue)); len(steps) > 0 {
		errs = append(errs, r.waitGone(ctx, steps))
	}

	c, cancel := r.callCtx(ctx)
	list, err := containers.List(c, new(containers.ListOptions).WithAll(true).WithFilters(filter))
	cancel()
	if err != nil {
		return r.wrap("cleanup: list containers", err)
	}
	for _, ct := range list {
		errs = append(errs, r.removeContainer(ctx, ct.ID))
	}

	c, cancel = r.callCtx(ctx)
	nets, err := network.List(c, new(network.ListOptions).WithFilters(filter))
	cancel()
	if err != nil {
		return r.wrap("cleanup: list networks", err)
	}
	for _, n := range nets {
		errs = append(errs, r.RemoveNetwork(ctx, n.Name))
	}

	imgs, err := r.ListImages(ctx, map[string]string{labelKey: labelValue})
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	for _, img := range imgs {
		errs = append(errs, r.removeImageForce(ctx, img.ID))
	}
	return errors.Join(errs...)
}

// waitGone waits, at most cancelWait, until the working containers of the
// killed steps are gone, and force-removes those that remain.
func (r *Runtime) waitGone(ctx context.Context, steps []runcStep) error {
	ctx, cancel := context.WithTimeout(ctx, cancelWait)
	defer cancel()
	for {
		now, err := r.externalContainers(ctx)
		if err != nil {
			select { // try again on the next round
			case <-ctx.Done():
				return err
			case <-time.After(150 * time.Millisecond):
				continue
			}
		}
		var left []string
		for id := range now {
			for _, s := range steps {
				if s.container != "" && shortID(id) == s.container {
					left = append(left, id)
				}
			}
		}
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return r.forceRemove(ctx, left)
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// forceRemove removes containers that did not go away by themselves before
// ctx ended, with a short deadline of its own.
func (r *Runtime) forceRemove(ctx context.Context, ids []string) error {
	rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var errs []error
	for _, id := range ids {
		errs = append(errs, r.removeContainer(rmCtx, id))
	}
	return errors.Join(errs...)
}

func (r *Runtime) removeImageForce(ctx context.Context, ref string) error {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	_, errs := images.Remove(c, []string{ref}, new(images.RemoveOptions).WithForce(true).WithIgnore(true))
	for _, err := range errs {
		if httpCode(err) != http.StatusNotFound {
			return r.wrap("remove image "+shortID(ref), err)
		}
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 && hexID.MatchString(id) {
		return id[:12]
	}
	return id
}
