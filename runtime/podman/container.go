package podman

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	nettypes "github.com/containers/common/libnetwork/types"
	"github.com/containers/podman/v5/pkg/bindings/containers"
	"github.com/containers/podman/v5/pkg/specgen"
	spec "github.com/opencontainers/runtime-spec/specs-go"
)

// Mount is a bind mount of a host path into a container.
type Mount struct {
	// Source is the absolute host path.
	Source string
	// Target is the absolute path inside the container.
	Target string
	// ReadOnly mounts the path read-only; the default is read-write.
	ReadOnly bool
}

// ContainerOpts describes a container to create. The zero value of every
// field but Image means the default stated on it.
type ContainerOpts struct {
	// Name is the container's name; empty lets reehub pick a unique
	// "reehub-<hex>" name.
	Name string
	// Image is the image reference or ID to run (required). It must exist
	// locally: containers never pull.
	Image string
	// Command replaces the image's command (and entrypoint, when Entrypoint
	// is nil); nil keeps the image's.
	Command []string
	// Entrypoint replaces the image's entrypoint; nil keeps it, an empty
	// non-nil slice clears it.
	Entrypoint []string
	// Env adds environment variables to those of the image.
	Env map[string]string
	// WorkDir is the working directory; empty keeps the image's.
	WorkDir string
	// User is "uid", "uid:gid" or a name known to the image; empty keeps the
	// image's user.
	User string
	// Mounts are bind mounts (read-write unless ReadOnly).
	Mounts []Mount
	// Labels are the container's labels: name the job and step that own it
	// so that recovery can find it (ListContainers, Cleanup).
	Labels map[string]string
	// Network is the network to attach to. Empty means no network at all
	// (only a loopback interface).
	Network string
	// AddHosts are extra /etc/hosts entries, "name:address".
	AddHosts []string
	// MemoryLimit caps the container's memory in bytes; 0 means no limit.
	MemoryLimit int64
}

// ContainerInfo describes a container found by ListContainers.
type ContainerInfo struct {
	// ID is the container's full ID.
	ID string
	// Name is the container's first name.
	Name string
	// Image is the image the container was created from.
	Image string
	// State is Podman's state, such as "created", "running" or "exited".
	State string
	// Labels are the container's labels.
	Labels map[string]string
	// Created is when the container was created.
	Created time.Time
}

// ContainerStats is a sample of a running container's resource use.
type ContainerStats struct {
	// CPUPercent is the CPU use since the previous sample, in percent of one
	// core.
	CPUPercent float64
	// MemoryBytes is the memory in use.
	MemoryBytes uint64
	// MemoryLimitBytes is the memory limit (the host's memory when none).
	MemoryLimitBytes uint64
	// PIDs is the number of processes.
	PIDs uint64
	// NetInputBytes and NetOutputBytes are the bytes received and sent on
	// all interfaces.
	NetInputBytes, NetOutputBytes uint64
	// BlockInputBytes and BlockOutputBytes are the bytes read and written.
	BlockInputBytes, BlockOutputBytes uint64
}

// CreateContainer creates (and does not start) a container and returns its
// ID. Resource limits on open files and processes are the service's
// defaults (containers.conf).
func (r *Runtime) CreateContainer(ctx context.Context, o ContainerOpts) (string, error) {
	if o.Image == "" {
		return "", errors.New("create container: no image given")
	}
	s := specgen.NewSpecGenerator(o.Image, false)
	s.Name = o.Name
	if s.Name == "" {
		s.Name = "reehub-" + randomHex(6)
	}
	s.Command = o.Command
	s.Entrypoint = o.Entrypoint
	s.Env = o.Env
	s.WorkDir = o.WorkDir
	s.User = o.User
	s.Labels = o.Labels
	s.HostAdd = o.AddHosts
	for _, m := range o.Mounts {
		opts := []string{"rbind"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		} else {
			opts = append(opts, "rw")
		}
		s.Mounts = append(s.Mounts, spec.Mount{Type: "bind", Source: m.Source, Destination: m.Target, Options: opts})
	}
	if o.Network == "" {
		s.NetNS = specgen.Namespace{NSMode: specgen.NoNetwork}
	} else {
		s.NetNS = specgen.Namespace{NSMode: specgen.Bridge}
		s.Networks = map[string]nettypes.PerNetworkOptions{o.Network: {}}
	}
	if o.MemoryLimit > 0 {
		limit := o.MemoryLimit
		s.ResourceLimits = &spec.LinuxResources{Memory: &spec.LinuxMemory{Limit: &limit}}
	}
	c, cancel := r.callCtx(ctx)
	defer cancel()
	created, err := containers.CreateWithSpec(c, s, nil)
	if err != nil {
		return "", r.wrap("create container from "+o.Image, err)
	}
	return created.ID, nil
}

// StartContainer starts a created container. When it fails, the container
// has not run (Wait would wrongly report exit code 0).
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	if err := containers.Start(c, id, nil); err != nil {
		return r.wrap("start container "+shortID(id), err)
	}
	return nil
}

// WaitContainer blocks until the container has exited and returns its exit
// code (137 after a kill). It ends early with ctx's error.
func (r *Runtime) WaitContainer(ctx context.Context, id string) (int, error) {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	code, err := containers.Wait(c, id, new(containers.WaitOptions).WithInterval("100ms"))
	if err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("wait for container %s: %w", shortID(id), ctx.Err())
		}
		return 0, r.wrap("wait for container "+shortID(id), err)
	}
	return int(code), nil
}

// LogsOpts selects what ContainerLogs writes.
type LogsOpts struct {
	// Follow keeps the stream open until the container exits (or ctx ends);
	// otherwise the output so far is written and the call returns.
	Follow bool
	// Tail limits the output to the last Tail lines; 0 means all of it.
	Tail int
}

// ContainerLogs writes the container's standard output and standard error,
// interleaved in the order the service reports them, to w.
func (r *Runtime) ContainerLogs(ctx context.Context, id string, o LogsOpts, w io.Writer) error {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	opts := new(containers.LogOptions).WithStdout(true).WithStderr(true).WithFollow(o.Follow)
	if o.Tail > 0 {
		opts = opts.WithTail(fmt.Sprint(o.Tail))
	}
	// One channel for both streams keeps their relative order; the writer
	// goroutine drains it so the bindings never block on a slow w.
	ch := make(chan string, 64)
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for s := range ch {
			if werr == nil {
				_, werr = io.WriteString(w, s)
			}
		}
	}()
	err := containers.Logs(c, id, opts, ch, ch)
	close(ch)
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("logs of container %s: %w", shortID(id), ctx.Err())
		}
		return r.wrap("logs of container "+shortID(id), err)
	}
	if werr != nil {
		return fmt.Errorf("logs of container %s: write: %w", shortID(id), werr)
	}
	return nil
}

// ContainerStats returns one sample of a running container's resource use.
func (r *Runtime) ContainerStats(ctx context.Context, id string) (ContainerStats, error) {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	ch, err := containers.Stats(c, []string{id}, new(containers.StatsOptions).WithStream(false))
	if err != nil {
		return ContainerStats{}, r.wrap("stats of container "+shortID(id), err)
	}
	var out ContainerStats
	found := false
	for rep := range ch {
		if rep.Error != nil {
			return ContainerStats{}, r.wrap("stats of container "+shortID(id), rep.Error)
		}
		for _, s := range rep.Stats {
			found = true
			out = ContainerStats{
				CPUPercent: s.CPU, MemoryBytes: s.MemUsage, MemoryLimitBytes: s.MemLimit, PIDs: s.PIDs,
				BlockInputBytes: s.BlockInput, BlockOutputBytes: s.BlockOutput,
			}
			for _, n := range s.Network {
				out.NetInputBytes += n.RxBytes
				out.NetOutputBytes += n.TxBytes
			}
		}
	}
	if !found {
		return ContainerStats{}, fmt.Errorf("stats of container %s: the service reported none (is it running?)", shortID(id))
	}
	return out, nil
}

// StopContainer sends the container SIGTERM and, after timeout, SIGKILL. A
// timeout of 0 kills at once. A container that has already exited, or does
// not exist, is not an error.
func (r *Runtime) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	secs := uint(timeout.Round(time.Second) / time.Second)
	err := containers.Stop(c, id, new(containers.StopOptions).WithTimeout(secs).WithIgnore(true))
	if err != nil && httpCode(err) != http.StatusNotFound && httpCode(err) != http.StatusNotModified {
		return r.wrap("stop container "+shortID(id), err)
	}
	return nil
}

// KillContainer sends the container SIGKILL. A container that is not
// running, or does not exist, is not an error.
func (r *Runtime) KillContainer(ctx context.Context, id string) error {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	err := containers.Kill(c, id, new(containers.KillOptions).WithSignal("KILL"))
	if err != nil {
		switch code := httpCode(err); {
		case code == http.StatusNotFound, code == http.StatusConflict:
			return nil // gone or not running
		case strings.Contains(err.Error(), "not running"), strings.Contains(err.Error(), "state exited"):
			return nil
		}
		return r.wrap("kill container "+shortID(id), err)
	}
	return nil
}

// RemoveContainer removes a container, killing it first when it runs. A
// missing container is not an error.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	return r.removeContainer(ctx, id)
}

// ListContainers returns the containers (running or not) that carry every
// label of labels, oldest first.
func (r *Runtime) ListContainers(ctx context.Context, labels map[string]string) ([]ContainerInfo, error) {
	var filter []string
	for _, k := range sortedKeys(labels) {
		filter = append(filter, k+"="+labels[k])
	}
	c, cancel := r.callCtx(ctx)
	defer cancel()
	opts := new(containers.ListOptions).WithAll(true)
	if len(filter) > 0 {
		opts = opts.WithFilters(map[string][]string{"label": filter})
	}
	list, err := containers.List(c, opts)
	if err != nil {
		return nil, r.wrap("list containers", err)
	}
	var out []ContainerInfo
	for _, ct := range list {
		name := ""
		if len(ct.Names) > 0 {
			name = ct.Names[0]
		}
		out = append(out, ContainerInfo{ID: ct.ID, Name: name, Image: ct.Image, State: ct.State, Labels: ct.Labels, Created: ct.Created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// ExportContainer writes the file system of container id as a tar to w (the
// container need not run: a created one exports its image's root file system).
func (r *Runtime) ExportContainer(ctx context.Context, id string, w io.Writer) error {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	if err := containers.Export(c, id, w, nil); err != nil {
		return r.wrap("export container "+id, err)
	}
	return nil
}
