package podman_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/runtime/podman"
)

// runLabel returns labels unique to the test, so that parallel tests never
// see each other's containers.
func runLabel(t *testing.T) map[string]string {
	return map[string]string{"io.reehub.test": strings.TrimPrefix(strings.TrimSuffix(uniqueTag(t), ":latest"), "localhost/")}
}

func removeAll(t *testing.T, b testBundle, labels map[string]string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		list, err := b.rt.ListContainers(ctx, labels)
		require.NoError(t, err)
		for _, c := range list {
			require.NoError(t, b.rt.RemoveContainer(ctx, c.ID))
		}
	})
}

func TestContainerLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	labels := runLabel(t)
	removeAll(t, b, labels)
	ws := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(ws, "in.txt"), []byte("hello\n"), 0o644))
	require.NoError(t, os.Chown(ws, 1234, 1234))

	id, err := b.rt.CreateContainer(b.ctx, podman.ContainerOpts{
		Image:   testBase,
		Command: []string{"sh", "-c", `echo "out:$GREETING $(pwd)"; echo err >&2; cat in.txt > copy.txt; ls /sys/class/net; exit 3`},
		Env:     map[string]string{"GREETING": "hi"},
		WorkDir: "/work",
		User:    "1234:1234",
		Mounts:  []podman.Mount{{Source: ws, Target: "/work"}},
		Labels:  labels,
	})
	require.NoError(t, err)

	list, err := b.rt.ListContainers(b.ctx, labels)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, id, list[0].ID)
	require.Equal(t, "created", list[0].State)
	require.Equal(t, labels["io.reehub.test"], list[0].Labels["io.reehub.test"])

	require.NoError(t, b.rt.StartContainer(b.ctx, id))
	code, err := b.rt.WaitContainer(b.ctx, id)
	require.NoError(t, err)
	require.Equal(t, 3, code)

	var logs bytes.Buffer
	require.NoError(t, b.rt.ContainerLogs(b.ctx, id, podman.LogsOpts{}, &logs))
	require.Contains(t, logs.String(), "out:hi /work\n")
	require.Contains(t, logs.String(), "err\n")
	// No network: only the loopback interface.
	require.Contains(t, logs.String(), "lo\n")
	require.NotContains(t, logs.String(), "eth0")

	copied, err := os.ReadFile(filepath.Join(ws, "copy.txt"))
	require.NoError(t, err)
	require.Equal(t, "hello\n", string(copied))
	st, err := os.Stat(filepath.Join(ws, "copy.txt"))
	require.NoError(t, err)
	require.EqualValues(t, 1234, fileUID(st))

	var tail bytes.Buffer
	require.NoError(t, b.rt.ContainerLogs(b.ctx, id, podman.LogsOpts{Tail: 1}, &tail))
	require.Equal(t, 1, strings.Count(tail.String(), "\n"), tail.String())

	require.NoError(t, b.rt.RemoveContainer(b.ctx, id))
	list, err = b.rt.ListContainers(b.ctx, labels)
	require.NoError(t, err)
	require.Empty(t, list)
	require.NoError(t, b.rt.RemoveContainer(b.ctx, id), "removing a missing container is not an error")
}

func TestContainerFollowStatsStop(t *testing.T) {
	t.Parallel()
	b := setup(t)
	labels := runLabel(t)
	removeAll(t, b, labels)
	id, err := b.rt.CreateContainer(b.ctx, podman.ContainerOpts{
		Image:       testBase,
		Command:     []string{"sh", "-c", "echo started; sleep 300"},
		Labels:      labels,
		MemoryLimit: 64 << 20,
	})
	require.NoError(t, err)
	require.NoError(t, b.rt.StartContainer(b.ctx, id))

	// A followed stream delivers output while the container runs.
	pr, pw := io.Pipe()
	followDone := make(chan error, 1)
	go func() { followDone <- b.rt.ContainerLogs(b.ctx, id, podman.LogsOpts{Follow: true}, pw) }()
	line := make([]byte, len("started\n"))
	_, err = io.ReadFull(pr, line)
	require.NoError(t, err)
	require.Equal(t, "started\n", string(line))

	st, err := b.rt.ContainerStats(b.ctx, id)
	require.NoError(t, err)
	require.Positive(t, st.PIDs)
	require.Positive(t, st.MemoryBytes)
	require.EqualValues(t, 64<<20, st.MemoryLimitBytes)

	t0 := time.Now()
	require.NoError(t, b.rt.StopContainer(b.ctx, id, 0))
	code, err := b.rt.WaitContainer(b.ctx, id)
	require.NoError(t, err)
	require.Equal(t, 137, code)
	require.Less(t, time.Since(t0), 10*time.Second, "a stop with timeout 0 kills at once")
	select {
	case err := <-followDone:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("followed logs did not end when the container exited")
	}
	require.NoError(t, b.rt.StopContainer(b.ctx, id, time.Second), "stopping an exited container is not an error")
	require.NoError(t, b.rt.KillContainer(b.ctx, id), "killing an exited container is not an error")
}

func TestContainerKillAndNetwork(t *testing.T) {
	t.Parallel()
	b := setup(t)
	labels := runLabel(t)
	removeAll(t, b, labels)
	netName := "reehub-test-" + labels["io.reehub.test"][len(labels["io.reehub.test"])-8:]
	n, err := b.rt.CreateNetwork(b.ctx, netName, true, labels)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.rt.RemoveNetwork(context.Background(), n.Name) })
	id, err := b.rt.CreateContainer(b.ctx, podman.ContainerOpts{
		Image:   testBase,
		Command: []string{"sh", "-c", "ls /sys/class/net; sleep 300"},
		Labels:  labels,
		Network: n.Name,
	})
	require.NoError(t, err)
	require.NoError(t, b.rt.StartContainer(b.ctx, id))
	require.Eventually(t, func() bool {
		var out bytes.Buffer
		_ = b.rt.ContainerLogs(b.ctx, id, podman.LogsOpts{}, &out)
		return strings.Contains(out.String(), "eth0")
	}, 20*time.Second, 100*time.Millisecond, "a container on a network has an interface")
	require.NoError(t, b.rt.KillContainer(b.ctx, id))
	code, err := b.rt.WaitContainer(b.ctx, id)
	require.NoError(t, err)
	require.Equal(t, 137, code)
}

func TestContainerCreateErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.rt.CreateContainer(b.ctx, podman.ContainerOpts{})
	require.ErrorContains(t, err, "no image")
	_, err = b.rt.CreateContainer(b.ctx, podman.ContainerOpts{Image: "localhost/reehub-no-such-image:never"})
	require.Error(t, err)
	require.ErrorContains(t, err, "reehub-no-such-image")
}

func fileUID(st os.FileInfo) uint32 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Uid
	}
	return ^uint32(0)
}
