package reana

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reehub/reehub/runtime/podman"
)

// Labels on every step container, so that recovery after a restart can find
// and remove the containers of a job (podman.Runtime.Cleanup, ListContainers).
const (
	LabelJob      = "io.reehub.job"            // the engine job's id
	LabelWorkflow = "io.reehub.reana.workflow" // the workflow's uuid
	LabelStep     = "io.reehub.reana.step"     // the step's index (0-based)
	LabelCommand  = "io.reehub.reana.command"  // the command's index (0-based)
)

// ContainerRuntime is what the executor needs of the container runtime;
// *podman.Runtime is one.
type ContainerRuntime interface {
	CreateContainer(ctx context.Context, o podman.ContainerOpts) (string, error)
	StartContainer(ctx context.Context, id string) error
	WaitContainer(ctx context.Context, id string) (int, error)
	ContainerLogs(ctx context.Context, id string, o podman.LogsOpts, w io.Writer) error
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	RemoveContainer(ctx context.Context, id string) error
}

// Executor runs steps' commands in containers.
type Executor struct {
	rt  ContainerRuntime
	cfg ExecutorConfig
}

// ExecutorConfig configures an Executor. The zero value uses the defaults.
type ExecutorConfig struct {
	// Shell runs each command, which is appended as the last argument.
	// Defaults to bash -c (REANA's serial engine runs bash).
	Shell []string
	// TailLines is how many last lines of output a failure reason quotes.
	// Defaults to 20.
	TailLines int
	// ComputeBackend is what the logs report as the compute backend.
	// Defaults to "Podman".
	ComputeBackend string
}

func (c ExecutorConfig) withDefaults() ExecutorConfig {
	if len(c.Shell) == 0 {
		c.Shell = []string{"bash", "-c"}
	}
	if c.TailLines <= 0 {
		c.TailLines = 20
	}
	if c.ComputeBackend == "" {
		c.ComputeBackend = "Podman"
	}
	return c
}

// NewExecutor returns an executor on rt.
func NewExecutor(rt ContainerRuntime, cfg ExecutorConfig) *Executor {
	return &Executor{rt: rt, cfg: cfg.withDefaults()}
}

// ComputeBackend is what the executor reports in job logs.
func (e *Executor) ComputeBackend() string { return e.cfg.ComputeBackend }

// StepRun is one step to run.
type StepRun struct {
	// JobID is the engine job's id (labelled on each container).
	JobID string
	// WorkflowID is the workflow's uuid.
	WorkflowID string
	// Index is the step's index in the workflow (0-based).
	Index int
	// Step is the step, its commands already expanded (ExpandSteps).
	Step Step
	// Image is the resolved environment's image (Environment.Image).
	Image string
	// Workspace is the host directory mounted read-write as the working
	// directory, at the same path inside the container.
	Workspace string
	// Env adds environment variables (env secrets among them).
	Env map[string]string
	// SecretDir, when set, is mounted read-only at SecretMountDir.
	SecretDir string
	// Network is the network for a step that asks for one (the recording
	// proxy's); "" runs without any network. A step with Network true and no
	// network given fails before it starts.
	Network string
	// AddHosts are extra /etc/hosts entries (the proxy's name).
	AddHosts []string
	// Mounts are extra bind mounts (the proxy's CA bundle).
	Mounts []podman.Mount
	// Redactor removes secret values from everything written to Log and
	// from the failure reason; nil redacts nothing.
	Redactor *Redactor
	// Log receives the step's output as it is produced; nil discards it.
	Log io.Writer
	// OnCommand, when set, is called before each command starts with its
	// index, the command and the container's id (for progress and logs).
	OnCommand func(index int, command, containerID string)
}

// StepResult is what happened to a step.
type StepResult struct {
	// StartedAt and FinishedAt bound the step's run.
	StartedAt, FinishedAt time.Time
	// ContainerID is the last container the step ran in (removed since).
	ContainerID string
	// Commands is the number of commands that ran to completion.
	Commands int
	// Failure is set when a command exited non-zero.
	Failure *StepFailure
}

// Run runs the step's commands in order, each with the shell in a new
// container of the step's image, with the workspace as working directory,
// as the step's user (kubernetes_uid, else the workspace's owner, who then
// owns what the commands write). It stops at the first command that exits
// non-zero and reports it in StepResult.Failure (not as an error). When ctx
// ends (a stop), the running container is killed at once; every container
// is removed before Run returns. The error is for what kept the step from
// running: the runtime failing, or ctx ending (wrapped).
func (e *Executor) Run(ctx context.Context, r StepRun) (res StepResult, err error) {
	res.StartedAt = time.Now()
	defer func() { res.FinishedAt = time.Now() }()
	if r.Step.Network && r.Network == "" {
		return res, fmt.Errorf("step %q asks for the network, but no recording network is configured", r.Step.Name)
	}
	user, err := stepUser(r.Workspace, r.Step.UID)
	if err != nil {
		return res, fmt.Errorf("step %q: %w", r.Step.Name, err)
	}
	env := map[string]string{
		"REANA_WORKSPACE":     r.Workspace,
		"REANA_WORKFLOW_UUID": r.WorkflowID,
		"HOME":                r.Workspace,
	}
	for k, v := range r.Env {
		env[k] = v
	}
	mounts := []podman.Mount{{Source: r.Workspace, Target: r.Workspace}}
	if r.SecretDir != "" {
		mounts = append(mounts, podman.Mount{Source: r.SecretDir, Target: SecretMountDir, ReadOnly: true})
	}
	mounts = append(mounts, r.Mounts...)
	network := ""
	if r.Step.Network {
		network = r.Network
	}
	log := io.Discard
	if r.Log != nil {
		log = r.Log
	}
	for i, cmd := range r.Step.Commands {
		tail := newLineTail(e.cfg.TailLines)
		out := &redactWriter{w: io.MultiWriter(log, tail), r: r.Redactor}
		id, code, err := e.runCommand(ctx, r, i, cmd, podman.ContainerOpts{
			Name:        fmt.Sprintf("reehub-reana-%s-%d-%d-%s", shortWorkflow(r.WorkflowID), r.Index, i, randHex(3)),
			Image:       r.Image,
			Command:     append(append([]string(nil), e.cfg.Shell...), cmd),
			Entrypoint:  []string{},
			Env:         env,
			WorkDir:     r.Workspace,
			User:        user,
			Mounts:      mounts,
			Network:     network,
			AddHosts:    r.AddHosts,
			MemoryLimit: r.Step.MemoryLimit,
			Labels: map[string]string{
				LabelJob: r.JobID, LabelWorkflow: r.WorkflowID,
				LabelStep: strconv.Itoa(r.Index), LabelCommand: strconv.Itoa(i),
			},
		}, out)
		out.flush()
		if id != "" {
			res.ContainerID = id
		}
		if err != nil {
			return res, err
		}
		if code != 0 {
			res.Failure = &StepFailure{
				Step: r.Step.Name, Command: r.Redactor.Redact(cmd), ExitCode: code,
				Tail: strings.TrimRight(tail.String(), "\n"),
			}
			return res, nil
		}
		res.Commands++
	}
	return res, nil
}

// runCommand runs one command and returns its container's id and exit code.
func (e *Executor) runCommand(ctx context.Context, r StepRun, i int, cmd string, o podman.ContainerOpts, out io.Writer) (string, int, error) {
	if err := ctx.Err(); err != nil {
		return "", 0, fmt.Errorf("step %q: %w", r.Step.Name, err)
	}
	id, err := e.rt.CreateContainer(ctx, o)
	if err != nil {
		return "", 0, fmt.Errorf("step %q command %d: %w", r.Step.Name, i+1, err)
	}
	// The container goes whatever happens, even when ctx has ended.
	defer func() {
		rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = e.rt.RemoveContainer(rmCtx, id)
	}()
	if r.OnCommand != nil {
		r.OnCommand(i, r.Redactor.Redact(cmd), id)
	}
	if err := e.rt.StartContainer(ctx, id); err != nil {
		return id, 0, fmt.Errorf("step %q command %d: %w", r.Step.Name, i+1, err)
	}
	// Follow the output while waiting; a stop (ctx ending) kills at once.
	var wg sync.WaitGroup
	wg.Add(1)
	logCtx, stopLogs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLogs()
	go func() {
		defer wg.Done()
		_ = e.rt.ContainerLogs(logCtx, id, podman.LogsOpts{Follow: true}, out)
	}()
	stopped := context.AfterFunc(ctx, func() {
		killCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = e.rt.StopContainer(killCtx, id, 0)
	})
	defer stopped()
	code, err := e.rt.WaitContainer(context.WithoutCancel(ctx), id)
	// Give the log stream a moment to drain after the exit, then end it.
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		stopLogs()
		<-drained
	}
	if ctx.Err() != nil {
		return id, code, fmt.Errorf("step %q stopped during command %d: %w", r.Step.Name, i+1, ctx.Err())
	}
	if err != nil {
		return id, 0, fmt.Errorf("step %q command %d: %w", r.Step.Name, i+1, err)
	}
	return id, code, nil
}

// stepUser returns the "uid:gid" a step runs as: uid when given (the
// workspace is then handed to that user), else the workspace's owner.
func stepUser(workspace string, uid *int) (string, error) {
	st, err := os.Stat(workspace)
	if err != nil {
		return "", fmt.Errorf("workspace: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return "", errors.New("workspace: cannot read its owner")
	}
	owner, group := int(sys.Uid), int(sys.Gid)
	if uid == nil || *uid == owner {
		return fmt.Sprintf("%d:%d", owner, group), nil
	}
	if err := chownTree(workspace, *uid, group); err != nil {
		return "", fmt.Errorf("workspace: hand it to uid %d: %w", *uid, err)
	}
	return fmt.Sprintf("%d:%d", *uid, group), nil
}

func chownTree(dir string, uid, gid int) error {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := os.Lchown(dir, uid, gid); err != nil {
		return err
	}
	return walkRoot(r, ".", func(p string) error { return r.Lchown(p, uid, gid) })
}

func walkRoot(r *os.Root, dir string, fn func(string) error) error {
	f, err := r.Open(dir)
	if err != nil {
		return err
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := e.Name()
		if dir != "." {
			p = dir + "/" + e.Name()
		}
		if err := fn(p); err != nil {
			return err
		}
		if e.IsDir() {
			if err := walkRoot(r, p, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func shortWorkflow(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// lineTail keeps the last n lines written to it.
type lineTail struct {
	mu    sync.Mutex
	n     int
	lines []string
	part  string
}

func newLineTail(n int) *lineTail { return &lineTail{n: n} }

func (t *lineTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.part + string(p)
	parts := strings.Split(s, "\n")
	t.part = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
	if len(t.part) > 4096 { // a line without end: keep its end only
		t.part = t.part[len(t.part)-4096:]
	}
	return len(p), nil
}

func (t *lineTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if t.part != "" {
		lines = append(append([]string(nil), lines...), t.part)
		if len(lines) > t.n {
			lines = lines[len(lines)-t.n:]
		}
	}
	return strings.Join(lines, "\n")
}

// redactWriter redacts secrets line by line before passing output on, so a
// secret split across two writes is still caught (unless it spans lines).
type redactWriter struct {
	mu   sync.Mutex
	w    io.Writer
	r    *Redactor
	part string
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.r == nil || len(rw.r.pairs) == 0 {
		return rw.w.Write(p)
	}
	s := rw.part + string(p)
	cut := strings.LastIndexByte(s, '\n')
	if cut < 0 {
		rw.part = s
		if len(rw.part) > 64<<10 { // bound a line without end
			_, err := io.WriteString(rw.w, rw.r.Redact(rw.part))
			rw.part = ""
			return len(p), err
		}
		return len(p), nil
	}
	rw.part = s[cut+1:]
	_, err := io.WriteString(rw.w, rw.r.Redact(s[:cut+1]))
	return len(p), err
}

func (rw *redactWriter) flush() {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.part != "" {
		_, _ = io.WriteString(rw.w, rw.r.Redact(rw.part))
		rw.part = ""
	}
}
