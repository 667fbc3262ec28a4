package reana_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/reana"
)

// fakeRuntime runs "containers" as scripted results: the output and exit
// code of each command, in order, and blocks a command whose exit is -1
// until it is stopped.
type fakeRuntime struct {
	mu       sync.Mutex
	results  []fakeResult
	created  []podman.ContainerOpts
	live     map[string]bool
	stopped  map[string]bool
	stopCh   map[string]chan struct{}
	startErr error
}

type fakeResult struct {
	out  string
	code int
}

func newFakeRuntime(results ...fakeResult) *fakeRuntime {
	return &fakeRuntime{results: results, live: map[string]bool{}, stopped: map[string]bool{}, stopCh: map[string]chan struct{}{}}
}

func (f *fakeRuntime) CreateContainer(_ context.Context, o podman.ContainerOpts) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("c%d", len(f.created))
	f.created = append(f.created, o)
	f.live[id] = true
	f.stopCh[id] = make(chan struct{})
	return id, nil
}

func (f *fakeRuntime) result(id string) fakeResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int
	fmt.Sscanf(id, "c%d", &n)
	return f.results[n]
}

func (f *fakeRuntime) StartContainer(context.Context, string) error { return f.startErr }

func (f *fakeRuntime) WaitContainer(ctx context.Context, id string) (int, error) {
	r := f.result(id)
	if r.code >= 0 {
		return r.code, nil
	}
	f.mu.Lock()
	ch := f.stopCh[id]
	f.mu.Unlock()
	select {
	case <-ch:
		return 137, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (f *fakeRuntime) ContainerLogs(_ context.Context, id string, _ podman.LogsOpts, w io.Writer) error {
	_, err := io.WriteString(w, f.result(id).out)
	return err
}

func (f *fakeRuntime) StopContainer(_ context.Context, id string, timeout time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if timeout != 0 {
		return errors.New("a stop must kill at once")
	}
	if !f.stopped[id] {
		f.stopped[id] = true
		close(f.stopCh[id])
	}
	return nil
}

func (f *fakeRuntime) RemoveContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.live, id)
	return nil
}

func (f *fakeRuntime) liveCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.live)
}

func stepRun(t *testing.T, step reana.Step) reana.StepRun {
	return reana.StepRun{
		JobID: "job-1", WorkflowID: "3d6bc1d9-4f8f-4c0a-8c3e-0b1b2a3c4d5e", Index: 1,
		Step: step, Image: "imageid", Workspace: t.TempDir(),
	}
}

func TestExecutorRunsCommandsInOrder(t *testing.T) {
	t.Parallel()
	rt := newFakeRuntime(fakeResult{"one\n", 0}, fakeResult{"two\n", 0})
	ex := reana.NewExecutor(rt, reana.ExecutorConfig{})
	r := stepRun(t, reana.Step{Name: "s", Commands: []string{"echo one", "echo two"}, MemoryLimit: 1 << 20})
	var log bytes.Buffer
	var seen []string
	r.Log = &log
	r.Env = map[string]string{"TOKEN": "x"}
	r.SecretDir = "/tmp/secrets-dir"
	r.OnCommand = func(i int, cmd, id string) { seen = append(seen, fmt.Sprintf("%d:%s:%s", i, cmd, id)) }
	res, err := ex.Run(context.Background(), r)
	require.NoError(t, err)
	require.Nil(t, res.Failure)
	require.Equal(t, 2, res.Commands)
	require.Equal(t, "one\ntwo\n", log.String())
	require.Equal(t, []string{"0:echo one:c0", "1:echo two:c1"}, seen)
	require.Equal(t, "c1", res.ContainerID)
	require.False(t, res.FinishedAt.Before(res.StartedAt))
	require.Zero(t, rt.liveCount(), "every container is removed")

	o := rt.created[0]
	require.Equal(t, []string{"bash", "-c", "echo one"}, o.Command)
	require.Equal(t, []string{}, o.Entrypoint)
	require.Equal(t, "imageid", o.Image)
	require.Equal(t, r.Workspace, o.WorkDir)
	require.Equal(t, fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()), o.User, "the workspace's owner")
	require.Equal(t, []podman.Mount{{Source: r.Workspace, Target: r.Workspace}, {Source: "/tmp/secrets-dir", Target: "/etc/reana/secrets", ReadOnly: true}}, o.Mounts)
	require.Empty(t, o.Network, "no network by default")
	require.EqualValues(t, 1<<20, o.MemoryLimit)
	require.Equal(t, "x", o.Env["TOKEN"])
	require.Equal(t, r.Workspace, o.Env["REANA_WORKSPACE"])
	require.Equal(t, map[string]string{reana.LabelJob: "job-1", reana.LabelWorkflow: r.WorkflowID, reana.LabelStep: "1", reana.LabelCommand: "0"}, o.Labels)
	require.Equal(t, "1", rt.created[1].Labels[reana.LabelCommand])
}

func TestExecutorFailureReason(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&out, "line %d\n", i)
	}
	out.WriteString("Error: token=hunter2-secret rejected")
	rt := newFakeRuntime(fakeResult{"ok\n", 0}, fakeResult{out.String(), 3}, fakeResult{"never\n", 0})
	ex := reana.NewExecutor(rt, reana.ExecutorConfig{TailLines: 5})
	r := stepRun(t, reana.Step{Name: "fit", Commands: []string{"true", "python3 fit.py --key hunter2-secret", "echo never"}})
	var log bytes.Buffer
	r.Log = &log
	r.Redactor = reana.NewRedactor([]reana.Secret{{Name: "KEY", Type: reana.SecretEnv, Value: []byte("hunter2-secret")}})
	res, err := ex.Run(context.Background(), r)
	require.NoError(t, err, "a failing command is a result, not an error")
	require.NotNil(t, res.Failure)
	require.Equal(t, 1, res.Commands)
	require.Len(t, rt.created, 2, "the commands after a failure do not run")
	require.Equal(t, "fit", res.Failure.Step)
	require.Equal(t, 3, res.Failure.ExitCode)
	require.Equal(t, "python3 fit.py --key [secret KEY]", res.Failure.Command)
	require.Equal(t, "line 27\nline 28\nline 29\nline 30\nError: token=[secret KEY] rejected", res.Failure.Tail)
	msg := res.Failure.Error()
	require.Contains(t, msg, `step "fit" failed: command "python3 fit.py --key [secret KEY]" exited with code 3`)
	require.NotContains(t, msg, "hunter2")
	require.NotContains(t, log.String(), "hunter2")
	require.Contains(t, log.String(), "Error: token=[secret KEY] rejected")
	require.Zero(t, rt.liveCount())
}

func TestExecutorStopKillsAtOnce(t *testing.T) {
	t.Parallel()
	rt := newFakeRuntime(fakeResult{"running\n", -1})
	ex := reana.NewExecutor(rt, reana.ExecutorConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	r := stepRun(t, reana.Step{Name: "long", Commands: []string{"sleep 1000"}})
	r.OnCommand = func(int, string, string) { time.AfterFunc(50*time.Millisecond, cancel) }
	t0 := time.Now()
	_, err := ex.Run(ctx, r)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, `step "long" stopped during command 1`)
	require.Less(t, time.Since(t0), 5*time.Second)
	require.True(t, rt.stopped["c0"])
	require.Zero(t, rt.liveCount(), "the killed container is removed")
}

func TestExecutorRefusals(t *testing.T) {
	t.Parallel()
	rt := newFakeRuntime(fakeResult{"", 0})
	ex := reana.NewExecutor(rt, reana.ExecutorConfig{})
	r := stepRun(t, reana.Step{Name: "net", Commands: []string{"curl x"}, Network: true})
	_, err := ex.Run(context.Background(), r)
	require.ErrorContains(t, err, "asks for the network")
	require.Empty(t, rt.created)

	r.Network = "reehub-proxy-net"
	r.AddHosts = []string{"proxy:10.1.2.1"}
	_, err = ex.Run(context.Background(), r)
	require.NoError(t, err)
	require.Equal(t, "reehub-proxy-net", rt.created[0].Network)
	require.Equal(t, []string{"proxy:10.1.2.1"}, rt.created[0].AddHosts)

	rt = newFakeRuntime(fakeResult{"", 0})
	rt.startErr = errors.New("start failed")
	_, err = reana.NewExecutor(rt, reana.ExecutorConfig{}).Run(context.Background(), stepRun(t, reana.Step{Name: "s", Commands: []string{"true"}}))
	require.ErrorContains(t, err, "start failed")
	require.Zero(t, rt.liveCount())

	r = stepRun(t, reana.Step{Name: "s", Commands: []string{"true"}})
	r.Workspace = "/nonexistent/ws"
	_, err = ex.Run(context.Background(), r)
	require.ErrorContains(t, err, "workspace")
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
