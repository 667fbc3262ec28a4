package workflow_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/service/workflow"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
	"github.com/reehub/reehub/store/storetest"
)

// The service's tests run without Podman: fakeRuntime stands for it through
// the consumer-declared workflow.Runtime, and a command's effect is the
// test's behave function (files it writes in the workspace, its output, its
// exit code). The engine, store and blob store are real, on SQLite and, with
// REEHUB_TEST_DATABASE_URL, on Postgres.

// ran is one command a step ran.
type ran struct {
	Image, Command, WorkDir, Network, Step string
}

// fakeRuntime runs "containers" in memory.
type fakeRuntime struct {
	mu      sync.Mutex
	next    int
	live    map[string]*fakeContainer
	ran     []ran
	cleaned []string
	// behave runs command in the container o (its workspace is o.WorkDir)
	// and returns its output and exit code; it blocks until stop is closed
	// for a command that runs until stopped.
	behave func(o podman.ContainerOpts, command string, stop <-chan struct{}) (string, int)
	// networks are the networks that exist.
	networks map[string]bool
}

type fakeContainer struct {
	opts   podman.ContainerOpts
	stop   chan struct{}
	done   chan struct{}
	out    string
	code   int
	closed sync.Once
}

func newFakeRuntime(behave func(o podman.ContainerOpts, command string, stop <-chan struct{}) (string, int)) *fakeRuntime {
	return &fakeRuntime{live: map[string]*fakeContainer{}, behave: behave, networks: map[string]bool{}}
}

func (f *fakeRuntime) CreateNetwork(_ context.Context, name string, internal bool, _ map[string]string) (podman.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !internal {
		return podman.Network{}, fault.Invalidf("a step's network must be internal")
	}
	f.networks[name] = true
	return podman.Network{Name: name, Gateway: "127.0.0.1"}, nil
}

func (f *fakeRuntime) RemoveNetwork(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.networks, name)
	return nil
}

func (f *fakeRuntime) CreateContainer(_ context.Context, o podman.ContainerOpts) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	id := fmt.Sprintf("c%d", f.next)
	f.live[id] = &fakeContainer{opts: o, stop: make(chan struct{}), done: make(chan struct{})}
	return id, nil
}

func (f *fakeRuntime) container(id string) (*fakeContainer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.live[id]
	if !ok {
		return nil, fault.NotFoundf("container %s", id)
	}
	return c, nil
}

func (f *fakeRuntime) StartContainer(_ context.Context, id string) error {
	c, err := f.container(id)
	if err != nil {
		return err
	}
	cmd := c.opts.Command[len(c.opts.Command)-1]
	f.mu.Lock()
	f.ran = append(f.ran, ran{Image: c.opts.Image, Command: cmd, WorkDir: c.opts.WorkDir, Network: c.opts.Network, Step: c.opts.Labels[reana.LabelStep]})
	f.mu.Unlock()
	go func() {
		c.out, c.code = f.behave(c.opts, cmd, c.stop)
		close(c.done)
	}()
	return nil
}

func (f *fakeRuntime) WaitContainer(ctx context.Context, id string) (int, error) {
	c, err := f.container(id)
	if err != nil {
		return 0, err
	}
	select {
	case <-c.done:
		return c.code, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (f *fakeRuntime) ContainerLogs(ctx context.Context, id string, _ podman.LogsOpts, w io.Writer) error {
	c, err := f.container(id)
	if err != nil {
		return err
	}
	select {
	case <-c.done:
		_, err := io.WriteString(w, c.out)
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeRuntime) StopContainer(_ context.Context, id string, _ time.Duration) error {
	c, err := f.container(id)
	if err != nil {
		return err
	}
	c.closed.Do(func() { close(c.stop) })
	return nil
}

func (f *fakeRuntime) RemoveContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.live, id)
	return nil
}

func (f *fakeRuntime) Cleanup(_ context.Context, key, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleaned = append(f.cleaned, key+"="+value)
	for id, c := range f.live {
		if c.opts.Labels[key] == value {
			delete(f.live, id)
		}
	}
	return nil
}

func (f *fakeRuntime) commands() []ran {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ran)
}

func (f *fakeRuntime) left() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.live)
}

// images is the one local image steps run in.
type images struct{}

func (images) InspectImage(_ context.Context, ref string) (podman.Image, error) {
	if ref == "localhost/tools:1" || ref == "tools-id" {
		return podman.Image{ID: "tools-id", Digest: "sha256:tools"}, nil
	}
	return podman.Image{}, fault.NotFoundf("image %s", ref)
}

// script is the behaviour of the tests' commands: "write PATH TEXT" writes
// a file, "append PATH TEXT" appends to one, "copy A B" copies A to B (exit 1
// when A is missing), "fail N" exits N, "big N" writes N bytes to big.bin,
// "block" runs until stopped, "fetch URL PATH" downloads URL as the
// container would (through its http_proxy, trusting its CA bundle), and
// anything else prints itself.
func script(o podman.ContainerOpts, command string, stop <-chan struct{}) (string, int) {
	dir := o.WorkDir
	f := strings.Fields(command)
	switch f[0] {
	case "fetch":
		return fetch(o, f[1], filepath.Join(dir, f[2]))
	case "write", "append":
		p := filepath.Join(dir, f[1])
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		flag := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if f[0] == "append" {
			flag = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		}
		w, err := os.OpenFile(p, flag, 0o644)
		if err != nil {
			return err.Error(), 2
		}
		defer w.Close()
		_, _ = io.WriteString(w, strings.Join(f[2:], " ")+"\n")
		return "", 0
	case "copy":
		b, err := os.ReadFile(filepath.Join(dir, f[1]))
		if err != nil {
			return "copy: " + f[1] + ": No such file or directory\n", 1
		}
		return "", map[bool]int{true: 0, false: 2}[os.WriteFile(filepath.Join(dir, f[2]), b, 0o644) == nil]
	case "fail":
		var n int
		_, _ = fmt.Sscan(f[1], &n)
		return "about to fail\n", n
	case "big":
		var n int64
		_, _ = fmt.Sscan(f[1], &n)
		if err := os.WriteFile(filepath.Join(dir, "big.bin"), make([]byte, n), 0o644); err != nil {
			return err.Error(), 2
		}
		return "", 0
	case "block":
		<-stop
		return "", 137
	}
	return command + "\n", 0
}

// env is one service over a fresh database.
type env struct {
	st    *store.Store
	eng   *job.Engine
	rt    *fakeRuntime
	svc   *workflow.Service
	owner workflow.Owner
	other workflow.Owner
}

func newEnv(t *testing.T, dialect string, quota int64) *env {
	t.Helper()
	return newEnvWith(t, dialect, quota, nil)
}

// newEnvWith is newEnv with the service's Config changed by tune.
func newEnvWith(t *testing.T, dialect string, quota int64, tune func(*workflow.Config)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, storetest.Config(t, dialect, dir, "reehub_wf"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := job.New(st, blobs, log, job.Config{DataDir: dir, PollInterval: 50 * time.Millisecond,
		Queues: map[string]job.QueueConfig{job.QueueWorkflows: {MaxWorkers: 2}}})
	require.NoError(t, err)
	box, err := reana.LoadSecretBox(dir)
	require.NoError(t, err)
	rt := newFakeRuntime(script)
	cfg := workflow.Config{DataDir: dir, QuotaBytes: quota}
	if tune != nil {
		tune(&cfg)
	}
	svc, err := workflow.New(st, eng, blobs, rt, reana.NewResolver(images{}, nil, nil, nil), box, log, cfg)
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = eng.Stop(c)
	})
	e := &env{st: st, eng: eng, rt: rt, svc: svc}
	for i, name := range []string{"ann", "bob"} {
		u := store.User{Name: name, Role: store.RoleUser}
		require.NoError(t, st.CreateUser(ctx, &u))
		o := workflow.Owner{ID: u.ID, UUID: u.UUID}
		if i == 0 {
			e.owner = o
		} else {
			e.other = o
		}
	}
	return e
}

// spec is a serial specification of steps written "name:command; command"
// in the image localhost/tools:1, with the parameter word=hi.
func spec(t *testing.T, steps ...string) *reana.Spec {
	t.Helper()
	return specIn(t, "localhost/tools:1", steps...)
}

func specIn(t *testing.T, image string, steps ...string) *reana.Spec {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"version":"0.9.0","inputs":{"parameters":{"word":"hi"}},"workflow":{"type":"serial","specification":{"steps":[`)
	for i, s := range steps {
		name, cmds, _ := strings.Cut(s, ":")
		if i > 0 {
			b.WriteString(",")
		}
		var quoted []string
		for _, c := range strings.Split(cmds, ";") {
			quoted = append(quoted, fmt.Sprintf("%q", strings.TrimSpace(c)))
		}
		fmt.Fprintf(&b, `{"name":%q,"environment":%q,"commands":[%s]}`, name, image, strings.Join(quoted, ","))
	}
	b.WriteString(`]}}}`)
	sp, err := reana.ParseJSON([]byte(b.String()))
	require.NoError(t, err)
	return sp
}

func (e *env) wait(t *testing.T, ref string) workflow.Workflow {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(30 * time.Millisecond) {
		w, err := e.svc.Get(context.Background(), e.owner, ref)
		require.NoError(t, err)
		if w.Status.Ended() {
			return w
		}
		require.True(t, time.Now().Before(deadline), "workflow %s stayed %s", ref, w.Status)
	}
}

func (e *env) read(t *testing.T, w workflow.Workflow, path string) string {
	t.Helper()
	d, err := e.svc.Open(context.Background(), e.owner, w.FullName(), path)
	require.NoError(t, err)
	require.NotNil(t, d.File, path)
	defer d.File.Close()
	b, err := io.ReadAll(d.File)
	require.NoError(t, err)
	return string(b)
}

func steps(rs []ran) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Command)
	}
	return out
}

func each(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

// TestStepPlanning: each command of each step runs in order, in the
// resolved image (pinned by ID), in the workspace, offline, with the
// parameters substituted; the run numbers count up per name; another
// user's workflow is not found.
func TestStepPlanning(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, 0)
		sp := spec(t, "one:write a.txt $word; echo ${word} there", "two:copy a.txt b.txt")
		w, err := e.svc.Create(ctx, e.owner, "plan", sp)
		require.NoError(t, err)
		require.Equal(t, "plan.1", w.FullName())
		require.Equal(t, reana.StatusCreated, w.Status)
		_, err = e.svc.Start(ctx, e.owner, "plan.1", workflow.StartOpts{InputParameters: map[string]any{"word": "hello"}})
		require.NoError(t, err)
		w = e.wait(t, "plan.1")
		require.Equal(t, reana.StatusFinished, w.Status, w.Reason)
		got := e.rt.commands()
		require.Equal(t, []string{"write a.txt hello", "echo hello there", "copy a.txt b.txt"}, steps(got))
		for _, r := range got {
			require.Equal(t, "tools-id", r.Image, "the image pinned at creation")
			require.Empty(t, r.Network, "steps are offline")
			require.True(t, strings.HasSuffix(r.WorkDir, filepath.Join("reana", "workspaces", e.owner.UUID, w.ID)), "the workspace is the working directory: %s", r.WorkDir)
		}
		require.Equal(t, []string{"0", "0", "1"}, []string{got[0].Step, got[1].Step, got[2].Step})
		require.Equal(t, "hello\n", e.read(t, w, "b.txt"))
		require.Equal(t, 2, w.Progress.Finished.Total)
		require.Zero(t, e.rt.left(), "every container is removed")

		w2, err := e.svc.Create(ctx, e.owner, "plan", sp)
		require.NoError(t, err)
		require.Equal(t, "plan.2", w2.FullName())
		_, err = e.svc.Get(ctx, e.other, "plan.1")
		require.ErrorIs(t, err, fault.ErrNotFound, "another user's workflow")
		_, err = e.svc.Get(ctx, e.other, w.ID)
		require.ErrorIs(t, err, fault.ErrNotFound)

		_, err = e.svc.Create(ctx, e.owner, "bad", specIn(t, "unknown:1", "one:echo x"))
		require.ErrorIs(t, err, fault.ErrInvalid)
		require.ErrorContains(t, err, `"unknown:1"`, "an unknown image fails creation naming it")
		_, err = e.svc.Start(ctx, e.owner, "plan.2", workflow.StartOpts{InputParameters: map[string]any{"nope": 1}})
		require.ErrorIs(t, err, fault.ErrInvalid, "an unknown parameter")
		_, err = e.svc.Start(ctx, e.owner, "plan.2", workflow.StartOpts{Options: map[string]any{"REPORT": "x"}})
		require.ErrorIs(t, err, fault.ErrInvalid, "an operational option serial workflows lack")
		_, err = e.svc.Start(ctx, e.owner, "plan.1", workflow.StartOpts{})
		require.ErrorIs(t, err, fault.ErrConflict, "a finished run starts again only as a restart")
	})
}

// TestRestartFromTarget: a failed step's reason names the step, the
// command, its exit code and its last output; a restart is a new run
// NAME.N.M in the same workspace (as reana-db numbers restarts) that runs
// FROM..TARGET and keeps the other steps as the restarted run left them.
func TestRestartFromTarget(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, 0)
		sp := spec(t, "first:write out/a.txt one", "second:copy input.txt out/b.txt; append out/b.txt two", "third:copy out/b.txt out/c.txt")
		_, err := e.svc.Create(ctx, e.owner, "re", sp)
		require.NoError(t, err)
		_, err = e.svc.Start(ctx, e.owner, "re", workflow.StartOpts{})
		require.NoError(t, err)
		w := e.wait(t, "re.1")
		require.Equal(t, reana.StatusFailed, w.Status)
		for _, want := range []string{`step "second" failed`, "copy input.txt out/b.txt", "exited with code 1", "No such file or directory"} {
			require.Contains(t, w.Reason, want)
		}
		require.Equal(t, 1, w.Progress.Finished.Total)
		require.Equal(t, 1, w.Progress.Failed.Total)

		for _, bad := range []map[string]any{{"FROM": "nope"}, {"TARGET": "nope"}, {"FROM": "third", "TARGET": "first"}} {
			_, err = e.svc.Start(ctx, e.owner, "re.1", workflow.StartOpts{Restart: true, Options: bad})
			require.ErrorIs(t, err, fault.ErrInvalid, "%v", bad)
		}
		_, _, err = e.svc.Upload(ctx, e.owner, "re.1", "input.txt", strings.NewReader("fixed\n"))
		require.NoError(t, err)
		before := len(e.rt.commands())
		r1, err := e.svc.Start(ctx, e.owner, "re.1", workflow.StartOpts{Restart: true, Options: map[string]any{"FROM": "second"}})
		require.NoError(t, err)
		require.Equal(t, "re.1.1", r1.FullName())
		require.Equal(t, "1.1", r1.RunNumber())
		r1 = e.wait(t, "re.1.1")
		require.Equal(t, reana.StatusFinished, r1.Status, r1.Reason)
		require.Equal(t, []string{"copy input.txt out/b.txt", "append out/b.txt two", "copy out/b.txt out/c.txt"}, steps(e.rt.commands()[before:]), "the first step is not run again")
		require.Equal(t, 3, r1.Progress.Finished.Total, "the kept first step counts as it was left")
		require.Equal(t, "fixed\ntwo\n", e.read(t, r1, "out/c.txt"))
		require.Equal(t, "one\n", e.read(t, r1, "out/a.txt"), "the same workspace")
		orig, err := e.svc.Get(ctx, e.owner, "re.1")
		require.NoError(t, err)
		require.Equal(t, reana.StatusFailed, orig.Status, "re.1 stays the failed run")
		latest, err := e.svc.Get(ctx, e.owner, "re")
		require.NoError(t, err)
		require.Equal(t, r1.ID, latest.ID, "the name alone is the latest restart")

		// TARGET stops early; a restart of a restart is numbered in the same run.
		before = len(e.rt.commands())
		r2, err := e.svc.Start(ctx, e.owner, "re.1.1", workflow.StartOpts{Options: map[string]any{"TARGET": "first"}})
		require.NoError(t, err)
		require.Equal(t, "re.1.2", r2.FullName())
		r2 = e.wait(t, "re.1.2")
		require.Equal(t, reana.StatusFinished, r2.Status, r2.Reason)
		require.Equal(t, []string{"write out/a.txt one"}, steps(e.rt.commands()[before:]))

		// A new run of the name comes after the restarts' run.
		w2, err := e.svc.Create(ctx, e.owner, "re", sp)
		require.NoError(t, err)
		require.Equal(t, "re.2", w2.FullName())
		_, err = e.svc.Start(ctx, e.owner, "re.2", workflow.StartOpts{Restart: true, Spec: sp})
		require.ErrorIs(t, err, fault.ErrInvalid, "a specification replaces a restart's only")
		list, total, _, err := e.svc.List(ctx, e.owner, workflow.ListOpts{Ref: "re"})
		require.NoError(t, err)
		require.Equal(t, 4, total)
		var names []string
		for _, l := range list {
			names = append(names, l.FullName())
		}
		require.ElementsMatch(t, []string{"re.1", "re.1.1", "re.1.2", "re.2"}, names)

		// Deleting every run removes the one shared workspace.
		_, err = e.svc.Delete(ctx, e.owner, "re", true, true)
		require.NoError(t, err)
		_, err = e.svc.Open(ctx, e.owner, "re.1.1", "out/a.txt")
		require.ErrorIs(t, err, fault.ErrNotFound)
	})
}

// TestRestartWithSpecification: reana-client restart -f sends a new
// specification, which the new run runs (and only that run).
func TestRestartWithSpecification(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", 0)
	_, err := e.svc.Create(ctx, e.owner, "sp", spec(t, "one:write a.txt first"))
	require.NoError(t, err)
	_, err = e.svc.Start(ctx, e.owner, "sp", workflow.StartOpts{})
	require.NoError(t, err)
	require.Equal(t, reana.StatusFinished, e.wait(t, "sp.1").Status)
	r, err := e.svc.Start(ctx, e.owner, "sp.1", workflow.StartOpts{Restart: true, Spec: spec(t, "other:write b.txt second")})
	require.NoError(t, err)
	r = e.wait(t, r.FullName())
	require.Equal(t, reana.StatusFinished, r.Status, r.Reason)
	require.Equal(t, "other", r.Spec.Steps[0].Name)
	require.Equal(t, "second\n", e.read(t, r, "b.txt"))
	orig, err := e.svc.Get(ctx, e.owner, "sp.1")
	require.NoError(t, err)
	require.Equal(t, "one", orig.Spec.Steps[0].Name)
	_, err = e.svc.Start(ctx, e.owner, "sp.1", workflow.StartOpts{Restart: true, Spec: specIn(t, "unknown:2", "x:echo")})
	require.ErrorIs(t, err, fault.ErrInvalid, "the new specification's environments are resolved")
}

// TestCacheKeys: with CACHE=on a step whose commands, environment and
// workspace files are unchanged since a successful run is skipped and its
// outputs restored; a changed input or command runs it again.
func TestCacheKeys(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, 0)
		sp := spec(t, "make:copy in.txt out.txt", "more:copy out.txt copy.txt")
		run := func(input string, s *reana.Spec) (workflow.Workflow, []string) {
			w, err := e.svc.Create(ctx, e.owner, "cached", s)
			require.NoError(t, err)
			_, _, err = e.svc.Upload(ctx, e.owner, w.FullName(), "in.txt", strings.NewReader(input))
			require.NoError(t, err)
			before := len(e.rt.commands())
			_, err = e.svc.Start(ctx, e.owner, w.FullName(), workflow.StartOpts{Options: map[string]any{"CACHE": true}})
			require.NoError(t, err)
			w = e.wait(t, w.FullName())
			require.Equal(t, reana.StatusFinished, w.Status, w.Reason)
			return w, steps(e.rt.commands()[before:])
		}
		w1, cmds := run("same\n", sp)
		require.Len(t, cmds, 2)
		require.Zero(t, w1.Progress.Cached.Total)
		w2, cmds := run("same\n", sp)
		require.Empty(t, cmds, "both steps are cached")
		require.Equal(t, 2, w2.Progress.Cached.Total)
		require.Equal(t, "same\n", e.read(t, w2, "copy.txt"), "the outputs are restored")
		_, text, err := e.svc.Logs(ctx, e.owner, w2.FullName(), nil, 1, 0)
		require.NoError(t, err)
		require.Contains(t, text, "step make: cached")
		require.Contains(t, text, "since workflow cached.1")
		_, cmds = run("changed\n", sp)
		require.Len(t, cmds, 2, "a changed input runs the steps again")
		_, cmds = run("same\n", spec(t, "make:copy in.txt out.txt", "more:copy out.txt other.txt"))
		require.Equal(t, []string{"copy out.txt other.txt"}, cmds, "a changed command runs its step again; the unchanged one is cached")
		_, err = e.svc.Start(ctx, e.owner, "cached.1", workflow.StartOpts{Restart: true, Options: map[string]any{"CACHE": "maybe"}})
		require.ErrorIs(t, err, fault.ErrInvalid)
	})
}

// TestQuota: a step that takes the owner's workspaces over the quota fails
// the run as too large; an upload that would is refused and leaves nothing.
func TestQuota(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, 4096)
		w, err := e.svc.Create(ctx, e.owner, "q", spec(t, "fill:big 8192", "after:echo never"))
		require.NoError(t, err)
		_, _, err = e.svc.Upload(ctx, e.owner, "q.1", "in.bin", strings.NewReader(strings.Repeat("x", 5000)))
		require.ErrorIs(t, err, fault.ErrTooLarge)
		_, err = e.svc.Open(ctx, e.owner, "q.1", "in.bin")
		require.ErrorIs(t, err, fault.ErrNotFound, "a refused upload leaves nothing")
		q, err := e.svc.QuotaOf(ctx, e.owner)
		require.NoError(t, err)
		require.Zero(t, q.Used)
		_, err = e.svc.Start(ctx, e.owner, w.ID, workflow.StartOpts{})
		require.NoError(t, err)
		w = e.wait(t, "q.1")
		require.Equal(t, reana.StatusFailed, w.Status)
		require.Contains(t, w.Reason, `step "fill"`)
		require.Contains(t, w.Reason, "disk quota")
		require.NotContains(t, steps(e.rt.commands()), "echo never", "the run stops at the step over the quota")
		q, err = e.svc.QuotaOf(ctx, e.owner)
		require.NoError(t, err)
		require.EqualValues(t, 8192, q.Used)

		// A restart shares the workspace: it is counted once.
		_, err = e.svc.Delete(ctx, e.owner, "q.1", false, false)
		require.NoError(t, err)
		q, err = e.svc.QuotaOf(ctx, e.owner)
		require.NoError(t, err)
		require.EqualValues(t, 8192, q.Used, "a deleted run without workspace: true keeps its files")
	})
}

// TestStop: stopping a running workflow kills its step's container at
// once; the run is stopped and no container is left.
func TestStop(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, 0)
		_, err := e.svc.Create(ctx, e.owner, "long", spec(t, "wait:block", "next:echo never"))
		require.NoError(t, err)
		_, err = e.svc.Stop(ctx, e.owner, "long")
		require.ErrorIs(t, err, fault.ErrConflict, "a created workflow is not running")
		_, err = e.svc.Start(ctx, e.owner, "long", workflow.StartOpts{})
		require.NoError(t, err)
		for deadline := time.Now().Add(20 * time.Second); len(e.rt.commands()) == 0; time.Sleep(20 * time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "the step never started")
		}
		started := time.Now()
		w, err := e.svc.Stop(ctx, e.owner, "long")
		require.NoError(t, err)
		require.Equal(t, reana.StatusStopped, w.Status)
		require.Less(t, time.Since(started), 10*time.Second)
		require.Zero(t, e.rt.left(), "the step's container is removed")
		require.Equal(t, []string{"block"}, steps(e.rt.commands()))
		for _, o := range []workflow.StartOpts{{Restart: true}, {Options: map[string]any{"FROM": "next"}}, {}} {
			_, err = e.svc.Start(ctx, e.owner, "long", o)
			require.ErrorIs(t, err, fault.ErrConflict, "REANA restarts finished and failed runs only: %+v", o)
		}
		_, err = e.svc.Start(ctx, e.owner, "long", workflow.StartOpts{Restart: true})
		require.ErrorContains(t, err, "Only finished or failed workflows can be restarted.")
		_, err = e.svc.Delete(ctx, e.owner, "long", false, true)
		require.NoError(t, err)
		w, err = e.svc.Get(ctx, e.owner, "long")
		require.NoError(t, err)
		require.Equal(t, reana.StatusDeleted, w.Status)
	})
}

// fetch downloads url to path through the container's proxy (its
// reehub-proxy host entry and http_proxy), as a step's curl would.
func fetch(o podman.ContainerOpts, url, path string) (string, int) {
	px := o.Env["http_proxy"]
	if px == "" || o.Network == "" {
		return "fetch: no network\n", 6
	}
	for _, h := range o.AddHosts {
		name, addr, _ := strings.Cut(h, ":")
		px = strings.Replace(px, "//"+name+":", "//"+addr+":", 1)
	}
	pu, err := neturl.Parse(px)
	if err != nil {
		return err.Error(), 2
	}
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}, Timeout: 10 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return "fetch: " + err.Error() + "\n", 7
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Sprintf("fetch: %s\n", resp.Status), 22
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err.Error(), 2
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err.Error(), 2
	}
	return "", 0
}

// TestNetworkStep: a step with network: true runs on an internal network
// of its own whose way out is the recording proxy: its downloads are
// recorded into the workspace, and a restart replays them offline (the
// upstream is gone); a step without it has no network; the network is
// removed after the step.
func TestNetworkStep(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", 0)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "data of "+r.URL.Path+"\n")
	}))
	raw := fmt.Sprintf(`{"version":"0.9.0","workflow":{"type":"serial","specification":{"steps":[
		{"name":"download","environment":"localhost/tools:1","network":true,"commands":["fetch %[1]s/one.txt one.txt"]},
		{"name":"offline","environment":"localhost/tools:1","commands":["fetch %[1]s/two.txt two.txt"]}]}}}`, upstream.URL)
	sp, err := reana.ParseJSON([]byte(raw))
	require.NoError(t, err)
	_, err = e.svc.Create(ctx, e.owner, "net", sp)
	require.NoError(t, err)
	_, err = e.svc.Start(ctx, e.owner, "net", workflow.StartOpts{})
	require.NoError(t, err)
	w := e.wait(t, "net.1")
	require.Equal(t, reana.StatusFailed, w.Status)
	require.Contains(t, w.Reason, `step "offline"`, "a step without network: true has none")
	require.Equal(t, "data of /one.txt\n", e.read(t, w, "one.txt"))
	idx := e.read(t, w, workflow.NetworkDir+"/download/index.json")
	require.Contains(t, idx, "/one.txt", "the download is recorded in the workspace")
	_, text, err := e.svc.Logs(ctx, e.owner, "net.1", nil, 1, 0)
	require.NoError(t, err)
	require.Contains(t, text, "network through the record proxy")
	require.Contains(t, text, "1 recorded")
	e.rt.mu.Lock()
	require.Empty(t, e.rt.networks, "the step's network is removed")
	e.rt.mu.Unlock()

	// The upstream is gone: a restart of the download step replays it.
	upstream.Close()
	_, _, err = e.svc.DeleteFiles(ctx, e.owner, "net.1", "one.txt")
	require.NoError(t, err)
	r, err := e.svc.Start(ctx, e.owner, "net.1", workflow.StartOpts{Restart: true, Options: map[string]any{"TARGET": "download"}})
	require.NoError(t, err)
	r = e.wait(t, r.FullName())
	require.Equal(t, reana.StatusFinished, r.Status, r.Reason)
	require.Equal(t, "data of /one.txt\n", e.read(t, r, "one.txt"), "replayed from the recording")
	_, text, err = e.svc.Logs(ctx, e.owner, r.FullName(), nil, 1, 0)
	require.NoError(t, err)
	require.Contains(t, text, "network through the replay proxy")
	require.Contains(t, text, "1 replayed")

	// A request the recording lacks fails the step, naming the URL.
	raw2 := strings.Replace(raw, "one.txt one.txt", "other.txt other.txt", 1)
	sp2, err := reana.ParseJSON([]byte(raw2))
	require.NoError(t, err)
	r2, err := e.svc.Start(ctx, e.owner, r.FullName(), workflow.StartOpts{Restart: true, Spec: sp2, Options: map[string]any{"TARGET": "download"}})
	require.NoError(t, err)
	r2 = e.wait(t, r2.FullName())
	require.Equal(t, reana.StatusFailed, r2.Status)
	require.Contains(t, r2.Reason, "not in the step's recording: "+upstream.URL+"/other.txt")
}
