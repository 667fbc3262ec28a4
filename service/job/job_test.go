package job_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
	"github.com/reehub/reehub/store/storetest"
)

// bundle is one engine on one database and data directory.
type bundle struct {
	store  *store.Store
	blobs  *blob.Store
	engine *job.Engine
	dir    string
	owner  int64
}

// testConfig is fast: short polls and heartbeats, so that a killed
// instance's job is stale after a second on Postgres.
func testConfig(dir string) job.Config {
	return job.Config{
		DataDir: dir, PollInterval: 50 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond,
		StaleAfter: time.Second, Queues: map[string]job.QueueConfig{job.QueueScans: {MaxWorkers: 1}},
	}
}

// newBundle opens the store and engine; register kinds with reg, then start.
func newBundle(t testing.TB, cfg store.Config, dir string, jcfg job.Config, reg func(*job.Engine)) *bundle {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	e, err := job.New(st, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)), jcfg)
	require.NoError(t, err)
	reg(e)
	require.NoError(t, e.Start(ctx))
	b := &bundle{store: st, blobs: blobs, engine: e, dir: dir}
	u, err := st.UserByName(ctx, "owner")
	if errors.Is(err, fault.ErrNotFound) {
		u = store.User{Name: "owner", Role: store.RoleUser}
		require.NoError(t, st.CreateUser(ctx, &u))
	} else {
		require.NoError(t, err)
	}
	b.owner = u.ID
	return b
}

func (b *bundle) close(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, b.engine.Stop(ctx))
	require.NoError(t, b.store.Close())
}

// waitFinal waits until job id ends.
func (b *bundle) waitFinal(t testing.TB, id string) job.Job {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		j, err := b.engine.Get(context.Background(), b.owner, id)
		require.NoError(t, err)
		if j.State.Final() {
			return j
		}
	}
	t.Fatalf("job %s did not end", id)
	return job.Job{}
}

// stepArgs are the args of the test kinds: Marks is a directory where steps
// record that they ran, and where a file named "block" makes step two wait
// for cancellation (standing in for a long build).
type stepArgs struct {
	Marks string `json:"marks"`
}

func (stepArgs) Kind() string { return "test_steps" }

// resumableArgs are stepArgs of a kind registered as resumable.
type resumableArgs stepArgs

func (resumableArgs) Kind() string { return "test_resumable" }

// stepWorker runs two steps, "one" and "two", that append their names to
// marks/runs; Cleanup appends "cleanup".
type stepWorker[A interface {
	river.JobArgs
	marks() string
}] struct{}

func (a stepArgs) marks() string      { return a.Marks }
func (a resumableArgs) marks() string { return a.Marks }

func mark(dir, what string) {
	f, err := os.OpenFile(filepath.Join(dir, "runs"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err == nil {
		fmt.Fprintln(f, what)
		_ = f.Close()
	}
}

func runs(t testing.TB, dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, "runs"))
	require.NoError(t, err)
	return strings.Fields(string(b))
}

func (stepWorker[A]) Steps(_ job.Job, a A) []job.StepDef {
	return []job.StepDef{
		{Name: "one", Run: func(ctx context.Context, w *job.Work) error {
			mark(a.marks(), "one")
			fmt.Fprintln(w.Log, "step one ran")
			if err := os.WriteFile(filepath.Join(w.Dir, "one.out"), []byte("kept"), 0o640); err != nil {
				return err
			}
			return w.Progress(ctx, 40, "one done")
		}},
		{Name: "two", Run: func(ctx context.Context, w *job.Work) error {
			mark(a.marks(), "two")
			fmt.Fprintln(w.Log, "step two ran")
			if _, err := os.Stat(filepath.Join(a.marks(), "block")); err == nil {
				mark(a.marks(), "blocking")
				<-ctx.Done()
				return ctx.Err()
			}
			w.SetExitCode(0)
			if err := w.Progress(ctx, 90, "two"); err != nil {
				return err
			}
			tmp, err := os.CreateTemp(w.Dir, "out-*")
			if err != nil {
				return err
			}
			fmt.Fprint(tmp, "result")
			_ = tmp.Close()
			return w.AddOutputFile(ctx, "result.txt", "text/plain", tmp.Name())
		}},
	}
}

func (stepWorker[A]) Cleanup(_ context.Context, _ string) error { return nil }

// cleanupWorker is stepWorker whose Cleanup is recorded.
type cleanupWorker[A interface {
	river.JobArgs
	marks() string
}] struct {
	stepWorker[A]
	marksDir string
}

func (c cleanupWorker[A]) Cleanup(_ context.Context, _ string) error {
	mark(c.marksDir, "cleanup")
	return nil
}

func registerTestKinds(marks string, maxAttempts int) func(*job.Engine) {
	return func(e *job.Engine) {
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		must(job.Register[stepArgs](e, job.KindOpts{Family: job.FamilyREE, Queue: job.QueueBuilds, MaxAttempts: maxAttempts},
			cleanupWorker[stepArgs]{marksDir: marks}))
		must(job.Register[resumableArgs](e, job.KindOpts{Family: job.FamilyStudio, Queue: job.QueueBuilds, MaxAttempts: maxAttempts, Resumable: true},
			cleanupWorker[resumableArgs]{marksDir: marks}))
		must(job.Register[badArgs](e, job.KindOpts{Family: job.FamilyFOSSology, Queue: job.QueueScans}, stepWorker[badArgs]{}))
		must(job.Register[blockArgs](e, job.KindOpts{Family: job.FamilyFOSSology, Queue: job.QueueScans}, blockWorker{}))
	}
}

// badArgs are args River refuses at insert (priority 99 is out of range), so
// the failure comes after the job row and the domain row were written.
type badArgs struct{}

func (badArgs) Kind() string                 { return "test_bad" }
func (badArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Priority: 99} }
func (badArgs) marks() string                { return "" }

// TestSubmitIsTransactional: when River refuses the job insert, neither the
// job row nor the domain's row written in the same transaction remains.
func TestSubmitIsTransactional(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			dir := t.TempDir()
			b := newBundle(t, storetest.Config(t, d, dir, "reehub_job"), dir, testConfig(dir), registerTestKinds(dir, 0))
			defer b.close(t)
			ctx := context.Background()
			id := uuid.NewString()
			wrote := false
			_, err := b.engine.Submit(ctx, badArgs{}, job.SubmitOpts{ID: id, OwnerID: b.owner,
				InTx: func(ctx context.Context, tx *store.Store, j job.Job) error {
					wrote = true
					return tx.CreateProcess(ctx, &store.Process{ID: j.ID})
				}})
			require.Error(t, err)
			require.Contains(t, err.Error(), "priority")
			require.True(t, wrote, "the domain row was written before River's insert failed")
			_, err = b.store.JobByID(ctx, id)
			require.ErrorIs(t, err, fault.ErrNotFound, "no job row remains")
			var n int
			require.NoError(t, b.store.SQLDB().QueryRow("SELECT COUNT(*) FROM ree_processes").Scan(&n))
			require.Zero(t, n, "no domain row remains")
			require.NoError(t, b.store.SQLDB().QueryRow("SELECT COUNT(*) FROM river_job").Scan(&n))
			require.Zero(t, n, "no River job remains")

			// The same kind of row with args River accepts commits all three.
			j, err := b.engine.Submit(ctx, stepArgs{Marks: dir}, job.SubmitOpts{OwnerID: b.owner,
				InTx: func(ctx context.Context, tx *store.Store, j job.Job) error {
					return tx.CreateProcess(ctx, &store.Process{ID: j.ID})
				}})
			require.NoError(t, err)
			require.NoError(t, b.store.SQLDB().QueryRow("SELECT COUNT(*) FROM ree_processes").Scan(&n))
			require.Equal(t, 1, n)
			require.Equal(t, job.StateSucceeded, b.waitFinal(t, j.ID).State)
		})
	}
}

// TestStepsProgressOutputs: a job runs its steps in order, each with its own
// log, and ends with its progress at 100 and its named output.
func TestStepsProgressOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := newBundle(t, storetest.Config(t, "sqlite", dir, "reehub_job"), dir, testConfig(dir), registerTestKinds(dir, 0))
	defer b.close(t)
	ctx := context.Background()
	j, err := b.engine.Submit(ctx, stepArgs{Marks: dir}, job.SubmitOpts{OwnerID: b.owner})
	require.NoError(t, err)
	require.Equal(t, job.StateQueued, j.State)
	end := b.waitFinal(t, j.ID)
	require.Equal(t, job.StateSucceeded, end.State, end.Reason)
	require.Equal(t, job.Progress{Percent: 100, Message: "done"}, end.Progress)
	require.Equal(t, 1, end.Attempt)
	steps, err := b.engine.Steps(ctx, j.ID)
	require.NoError(t, err)
	require.Len(t, steps, 2)
	for i, name := range []string{"one", "two"} {
		require.Equal(t, name, steps[i].Name)
		require.Equal(t, job.StepSucceeded, steps[i].State)
		require.NotNil(t, steps[i].StartedAt)
		require.NotNil(t, steps[i].FinishedAt)
		f, err := b.blobs.Open(ctx, steps[i].LogDigest)
		require.NoError(t, err)
		body, _ := io.ReadAll(f)
		_ = f.Close()
		require.Equal(t, "step "+name+" ran\n", string(body), "each step has its own log")
	}
	require.Equal(t, 0, *steps[1].ExitCode)
	outs, err := b.engine.Outputs(ctx, j.ID)
	require.NoError(t, err)
	require.Len(t, outs, 1)
	require.Equal(t, "result.txt", outs[0].Name)
	require.EqualValues(t, len("result"), outs[0].Size)
	rc, err := b.engine.OpenLog(ctx, j.ID)
	require.NoError(t, err)
	whole, _ := io.ReadAll(rc)
	_ = rc.Close()
	require.Contains(t, string(whole), "step one ran\nstep two ran\n", "the job's log has every step")
	require.NoDirExists(t, filepath.Join(dir, "work", j.ID), "the work directory goes with the job")
}

// blockArgs are a job on the scans queue that waits until cancelled.
type blockArgs struct{}

func (blockArgs) Kind() string  { return "test_block" }
func (blockArgs) marks() string { return "" }

type blockWorker struct{}

func (blockWorker) Steps(job.Job, blockArgs) []job.StepDef {
	return []job.StepDef{{Name: "wait", Run: func(ctx context.Context, _ *job.Work) error { <-ctx.Done(); return ctx.Err() }}}
}

func (blockWorker) Cleanup(context.Context, string) error { return nil }

// TestQueuesAndCancel: a scan filling its queue does not delay a build;
// cancelling the running scan and a queued one ends both as cancelled.
func TestQueuesAndCancel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := newBundle(t, storetest.Config(t, "sqlite", dir, "reehub_job"), dir, testConfig(dir), registerTestKinds(dir, 0))
	defer b.close(t)
	ctx := context.Background()
	scan, err := b.engine.Submit(ctx, blockArgs{}, job.SubmitOpts{OwnerID: b.owner})
	require.NoError(t, err)
	waiting, err := b.engine.Submit(ctx, blockArgs{}, job.SubmitOpts{OwnerID: b.owner})
	require.NoError(t, err)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		j, err := b.engine.Get(ctx, b.owner, scan.ID)
		require.NoError(t, err)
		if j.State == job.StateRunning {
			break
		}
		require.True(t, time.Now().Before(deadline))
	}
	build, err := b.engine.Submit(ctx, stepArgs{Marks: dir}, job.SubmitOpts{OwnerID: b.owner})
	require.NoError(t, err)
	require.Equal(t, job.StateSucceeded, b.waitFinal(t, build.ID).State, "the builds queue runs beside a full scans queue")

	q, err := b.engine.Cancel(ctx, b.owner, waiting.ID, "by test")
	require.NoError(t, err)
	require.Equal(t, job.StateCancelled, q.State, "a queued job is cancelled at once")
	_, err = b.engine.Cancel(ctx, b.owner+1, scan.ID, "not mine")
	require.ErrorIs(t, err, fault.ErrNotFound)
	_, err = b.engine.Cancel(ctx, b.owner, scan.ID, "by test")
	require.NoError(t, err)
	end := b.waitFinal(t, scan.ID)
	require.Equal(t, job.StateCancelled, end.State)
	require.Equal(t, "by test", end.Reason)
	_, err = b.engine.Cancel(ctx, b.owner, scan.ID, "again")
	require.ErrorIs(t, err, fault.ErrConflict)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  job.Config
		want string
	}{
		{"defaults", job.Config{DataDir: dir}, ""},
		{"no data dir", job.Config{}, "DataDir"},
		{"too many attempts", job.Config{DataDir: dir, MaxAttempts: 1000}, "MaxAttempts"},
		{"stale before two heartbeats", job.Config{DataDir: dir, HeartbeatInterval: time.Second, StaleAfter: time.Second}, "StaleAfter"},
		{"poll too fast", job.Config{DataDir: dir, PollInterval: time.Millisecond}, "PollInterval"},
		{"serves an unknown queue", job.Config{DataDir: dir, Serve: []string{"scans", "nope"}}, `no queue "nope"`},
		{"queue without workers", job.Config{DataDir: dir, Queues: map[string]job.QueueConfig{"scans": {}}}, "queue scans"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := job.New(nil, nil, slog.Default(), tc.cfg)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestRegisterChecksTheQueue(t *testing.T) {
	t.Parallel()
	e, err := job.New(nil, nil, slog.Default(), job.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	err = job.Register[stepArgs](e, job.KindOpts{Family: job.FamilyREE, Queue: "nope"}, stepWorker[stepArgs]{})
	require.ErrorContains(t, err, `queue "nope" is not configured`)
	require.NoError(t, job.Register[stepArgs](e, job.KindOpts{Family: job.FamilyREE, Queue: job.QueueBuilds}, stepWorker[stepArgs]{}))
	require.ErrorContains(t, job.Register[stepArgs](e, job.KindOpts{Family: job.FamilyREE, Queue: job.QueueBuilds}, stepWorker[stepArgs]{}), "twice")
}

// The crash tests run an engine in a child process (this test binary, asked
// by environment to be one), SIGKILL it in the middle of step two, and start
// an engine on the same database and data directory in the test.

const childEnv = "REEHUB_JOB_TEST_CHILD"

// TestChildEngine is the child: it submits one job of the kind named by the
// environment, prints its id and runs until killed.
func TestChildEngine(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		t.Skip("only run as the child of a crash test")
	}
	var c struct{ kind, dir, sqlite, pg string }
	parts := strings.SplitN(spec, "|", 5)
	c.kind, c.dir, c.sqlite, c.pg = parts[0], parts[1], parts[2], parts[3]
	cfg := store.Config{SQLitePath: c.sqlite, PostgresURL: c.pg}
	jcfg := testConfig(c.dir)
	if len(parts) == 5 {
		jcfg.Host = parts[4]
	}
	b := newBundle(t, cfg, c.dir, jcfg, registerTestKinds(c.dir, 2))
	var args river.JobArgs = stepArgs{Marks: c.dir}
	if c.kind == "resumable" {
		args = resumableArgs{Marks: c.dir}
	}
	j, err := b.engine.Submit(context.Background(), args, job.SubmitOpts{OwnerID: b.owner})
	require.NoError(t, err)
	fmt.Println("JOB", j.ID)
	select {} // until killed
}

// crash starts the child, waits until step two blocks, and SIGKILLs it.
// The child's engine runs as host, when given.
func crash(t *testing.T, kind, dir string, cfg store.Config, host ...string) string {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "block"), nil, 0o640))
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildEngine$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(append([]string{kind, dir, cfg.SQLitePath, cfg.PostgresURL}, host...), "|"))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	var id string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "JOB" {
			id = f[1]
			break
		}
	}
	require.NotEmpty(t, id, "the child printed no job")
	go func() { _, _ = io.Copy(io.Discard, out) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(dir, "runs")); strings.Contains(string(b), "blocking") {
			break
		}
		require.True(t, time.Now().Before(deadline), "step two never started")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	require.NoError(t, os.Remove(filepath.Join(dir, "block")))
	return id
}

// TestCrashIsNotAFailure: a job whose reehub was SIGKILLed runs again after
// restart, after the kind's Cleanup: from its first step for an ordinary
// kind (in an emptied work directory), from its first unfinished step for a
// resumable one; and it fails only once it has used its attempts.
func TestCrashIsNotAFailure(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			tests := []struct {
				kind string
				runs []string // what ran after the crash
			}{
				{"steps", []string{"cleanup", "one", "two"}},
				{"resumable", []string{"cleanup", "two"}},
			}
			for _, tc := range tests {
				t.Run(tc.kind, func(t *testing.T) {
					dir := t.TempDir()
					cfg := storetest.Config(t, d, dir, "reehub_job")
					id := crash(t, tc.kind, dir, cfg)
					require.Equal(t, []string{"one", "two", "blocking"}, runs(t, dir))

					b := newBundle(t, cfg, dir, testConfig(dir), registerTestKinds(dir, 2))
					defer b.close(t)
					end := b.waitFinal(t, id)
					require.Equal(t, job.StateSucceeded, end.State, end.Reason)
					require.Equal(t, 2, end.Attempt)
					require.Equal(t, append([]string{"one", "two", "blocking"}, tc.runs...), runs(t, dir))
					steps, err := b.engine.Steps(context.Background(), id)
					require.NoError(t, err)
					require.Equal(t, job.StepSucceeded, steps[0].State)
					require.Equal(t, job.StepSucceeded, steps[1].State)
					rc, err := b.engine.OpenLog(context.Background(), id)
					require.NoError(t, err)
					log, _ := io.ReadAll(rc)
					_ = rc.Close()
					require.Equal(t, 1, strings.Count(string(log), "the server stopped during attempt 1"), string(log))
					require.Contains(t, string(log), "attempt 2 of 2")
					require.Equal(t, 1, strings.Count(string(log), "reehub: job succeeded"), string(log))
					require.NoDirExists(t, filepath.Join(dir, "work", id))
				})
			}
			t.Run("attempts used up", func(t *testing.T) {
				dir := t.TempDir()
				cfg := storetest.Config(t, d, dir, "reehub_job")
				id := crash(t, "steps", dir, cfg)
				// The second attempt is killed as well: a restarted engine
				// takes the job, and is itself killed in step two.
				require.NoError(t, os.WriteFile(filepath.Join(dir, "block"), nil, 0o640))
				second := startChildResume(t, dir, cfg)
				require.NoError(t, second.Process.Signal(syscall.SIGKILL))
				_ = second.Wait()
				require.NoError(t, os.Remove(filepath.Join(dir, "block")))

				b := newBundle(t, cfg, dir, testConfig(dir), registerTestKinds(dir, 2))
				defer b.close(t)
				end := b.waitFinal(t, id)
				require.Equal(t, job.StateFailed, end.State)
				require.Contains(t, end.Reason, "in each of its 2 attempts")
				require.NoDirExists(t, filepath.Join(dir, "work", id))
			})
		})
	}
}

const resumeEnv = "REEHUB_JOB_TEST_RESUME"

// TestChildResume is a child that only starts an engine (recovering what is
// there) and runs until killed.
func TestChildResume(t *testing.T) {
	spec := os.Getenv(resumeEnv)
	if spec == "" {
		t.Skip("only run as the child of a crash test")
	}
	parts := strings.SplitN(spec, "|", 3)
	_ = newBundle(t, store.Config{SQLitePath: parts[1], PostgresURL: parts[2]}, parts[0], testConfig(parts[0]), registerTestKinds(parts[0], 2))
	select {}
}

// startChildResume starts TestChildResume and returns once its attempt blocks in step two.
func startChildResume(t *testing.T, dir string, cfg store.Config) *exec.Cmd {
	t.Helper()
	before := strings.Count(string(must(os.ReadFile(filepath.Join(dir, "runs")))), "blocking")
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildResume$", "-test.count=1")
	cmd.Env = append(os.Environ(), resumeEnv+"="+strings.Join([]string{dir, cfg.SQLitePath, cfg.PostgresURL}, "|"))
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Count(string(must(os.ReadFile(filepath.Join(dir, "runs")))), "blocking") > before {
			return cmd
		}
		require.True(t, time.Now().Before(deadline), "the second attempt never reached step two")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestTakenOverAttemptStops: when recovery on another instance took a job
// over (a new attempt), the old attempt stops at its next heartbeat and
// leaves the job to the new one.
func TestTakenOverAttemptStops(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := newBundle(t, storetest.Config(t, "sqlite", dir, "reehub_job"), dir, testConfig(dir), registerTestKinds(dir, 0))
	defer b.close(t)
	ctx := context.Background()
	j, err := b.engine.Submit(ctx, blockArgs{}, job.SubmitOpts{OwnerID: b.owner})
	require.NoError(t, err)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cur, err := b.engine.Get(ctx, b.owner, j.ID)
		require.NoError(t, err)
		if cur.State == job.StateRunning {
			break
		}
		require.True(t, time.Now().Before(deadline))
	}
	next := 2
	require.NoError(t, b.store.UpdateJob(ctx, j.ID, nil, store.JobUpdate{Attempt: &next}))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		rc, err := b.engine.OpenLog(ctx, j.ID)
		require.NoError(t, err)
		log, _ := io.ReadAll(rc)
		_ = rc.Close()
		if strings.Contains(string(log), "taken over") {
			break
		}
		require.True(t, time.Now().Before(deadline), "the old attempt did not notice")
	}
	cur, err := b.engine.Get(ctx, b.owner, j.ID)
	require.NoError(t, err)
	require.Equal(t, job.StateRunning, cur.State, "the old attempt left the job to the new one")
	require.Equal(t, 2, cur.Attempt)
}

// TestAnotherHostRecovers (Postgres: instances on several hosts): a job
// whose attempt was SIGKILLed on host b is retried at once by host a,
// from its first step even for a resumable kind (b's work directory is out
// of a's reach), without a's Cleanup (b's containers are not on a's Podman);
// b owes the clean-up and pays it when its engine starts again.
func TestAnotherHostRecovers(t *testing.T) {
	if os.Getenv("REEHUB_TEST_DATABASE_URL") == "" {
		t.Skip("needs Postgres (REEHUB_TEST_DATABASE_URL)")
	}
	for _, kind := range []string{"steps", "resumable"} {
		t.Run(kind, func(t *testing.T) {
			dirB, dirA := t.TempDir(), t.TempDir()
			cfg := storetest.Config(t, "postgres", dirB, "reehub_job")
			ctx := context.Background()
			id := crash(t, kind, dirB, cfg, "b")
			require.Equal(t, []string{"one", "two", "blocking"}, runs(t, dirB))
			require.DirExists(t, filepath.Join(dirB, "work", id))

			acfg := testConfig(dirA)
			acfg.Host = "a"
			a := newBundle(t, cfg, dirA, acfg, registerTestKinds(dirA, 2))
			end := a.waitFinal(t, id)
			require.Equal(t, job.StateSucceeded, end.State, end.Reason)
			require.Equal(t, 2, end.Attempt)
			// Both steps ran again on a (they mark b's directory, named by the
			// args), and a ran no Cleanup (it would mark a's directory).
			require.Equal(t, []string{"one", "two", "blocking", "one", "two"}, runs(t, dirB))
			require.NoFileExists(t, filepath.Join(dirA, "runs"))
			// a's recovery noted the interruption in the recorded log (a had
			// no file of it), and a's attempt continued that log.
			log := readLog(t, a.engine, id)
			note := strings.Index(log, "reehub: the server stopped during attempt 1")
			require.GreaterOrEqual(t, note, 0, log)
			require.Greater(t, strings.Index(log, "reehub: attempt 2 of 2"), note, log)
			require.Equal(t, 1, strings.Count(log, "reehub: job succeeded"), log)
			row, err := a.store.JobByID(ctx, id)
			require.NoError(t, err)
			require.Equal(t, "a", row.Host)
			debts, err := a.store.HostCleanups(ctx, "b", "")
			require.NoError(t, err)
			require.Len(t, debts, 1)
			require.Equal(t, id, debts[0].JobID)
			require.Equal(t, 1, debts[0].Attempt)
			a.close(t)

			bcfg := testConfig(dirB)
			bcfg.Host = "b"
			b := newBundle(t, cfg, dirB, bcfg, registerTestKinds(dirB, 2))
			defer b.close(t)
			require.Equal(t, []string{"one", "two", "blocking", "one", "two", "cleanup"}, runs(t, dirB))
			require.NoDirExists(t, filepath.Join(dirB, "work", id))
			debts, err = b.store.HostCleanups(ctx, "b", "")
			require.NoError(t, err)
			require.Empty(t, debts)
		})
	}
}

// TestAPIOnlyEngine: an APIOnly engine submits and shows jobs but runs
// none; a worker engine on the same database runs them.
func TestAPIOnlyEngine(t *testing.T) {
	if os.Getenv("REEHUB_TEST_DATABASE_URL") == "" {
		t.Skip("needs Postgres (REEHUB_TEST_DATABASE_URL)")
	}
	apiDir, workDir := t.TempDir(), t.TempDir()
	cfg := storetest.Config(t, "postgres", apiDir, "reehub_job")
	ctx := context.Background()
	apiCfg := testConfig(apiDir)
	apiCfg.APIOnly, apiCfg.Host = true, "api"
	api := newBundle(t, cfg, apiDir, apiCfg, registerTestKinds(apiDir, 2))
	defer api.close(t)
	marks := t.TempDir()
	j, err := api.engine.Submit(ctx, stepArgs{Marks: marks}, job.SubmitOpts{OwnerID: api.owner})
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond) // ten polls: nothing takes it
	cur, err := api.engine.Get(ctx, api.owner, j.ID)
	require.NoError(t, err)
	require.Equal(t, job.StateQueued, cur.State)

	wcfg := testConfig(workDir)
	wcfg.Host = "worker"
	w := newBundle(t, cfg, workDir, wcfg, registerTestKinds(workDir, 2))
	defer w.close(t)
	end := api.waitFinal(t, j.ID)
	require.Equal(t, job.StateSucceeded, end.State, end.Reason)
	row, err := api.store.JobByID(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, "worker", row.Host)
	outs, err := api.engine.Outputs(ctx, j.ID)
	require.NoError(t, err)
	require.Len(t, outs, 1)
}

// scanStepArgs are stepArgs of a kind on the scans queue.
type scanStepArgs struct {
	Marks string `json:"marks"`
}

func (scanStepArgs) Kind() string    { return "test_scan_steps" }
func (a scanStepArgs) marks() string { return a.Marks }
func registerWithScanKind(marks string) func(*job.Engine) {
	return func(e *job.Engine) {
		registerTestKinds(marks, 2)(e)
		if err := job.Register[scanStepArgs](e, job.KindOpts{Family: job.FamilyFOSSology, Queue: job.QueueScans}, stepWorker[scanStepArgs]{}); err != nil {
			panic(err)
		}
	}
}

// TestWorkerServesItsQueues (Postgres: instances on several hosts): a worker
// that serves only the scans queue runs a scan but leaves a build queued,
// which the next worker that serves builds runs.
func TestWorkerServesItsQueues(t *testing.T) {
	if os.Getenv("REEHUB_TEST_DATABASE_URL") == "" {
		t.Skip("needs Postgres (REEHUB_TEST_DATABASE_URL)")
	}
	scanDir, buildDir := t.TempDir(), t.TempDir()
	cfg := storetest.Config(t, "postgres", scanDir, "reehub_job")
	ctx := context.Background()
	scanCfg := testConfig(scanDir)
	scanCfg.Host, scanCfg.Serve = "scanner", []string{job.QueueScans}
	scanner := newBundle(t, cfg, scanDir, scanCfg, registerWithScanKind(scanDir))
	defer scanner.close(t)

	build, err := scanner.engine.Submit(ctx, stepArgs{Marks: t.TempDir()}, job.SubmitOpts{OwnerID: scanner.owner})
	require.NoError(t, err)
	scan, err := scanner.engine.Submit(ctx, scanStepArgs{Marks: t.TempDir()}, job.SubmitOpts{OwnerID: scanner.owner})
	require.NoError(t, err)
	end := scanner.waitFinal(t, scan.ID)
	require.Equal(t, job.StateSucceeded, end.State, end.Reason)
	time.Sleep(500 * time.Millisecond) // ten more polls of the scans queue
	cur, err := scanner.engine.Get(ctx, scanner.owner, build.ID)
	require.NoError(t, err)
	require.Equal(t, job.StateQueued, cur.State, "the scans-only worker leaves the build")

	buildCfg := testConfig(buildDir)
	buildCfg.Host = "builder"
	builder := newBundle(t, cfg, buildDir, buildCfg, registerWithScanKind(buildDir))
	defer builder.close(t)
	end = scanner.waitFinal(t, build.ID)
	require.Equal(t, job.StateSucceeded, end.State, end.Reason)
	row, err := scanner.store.JobByID(ctx, build.ID)
	require.NoError(t, err)
	require.Equal(t, "builder", row.Host)
	row, err = scanner.store.JobByID(ctx, scan.ID)
	require.NoError(t, err)
	require.Equal(t, "scanner", row.Host)
}
