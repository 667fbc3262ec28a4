// Package workflow runs REANA workflows on reehub's job engine: it stores
// workflows, their steps, their owners' secrets and the serial cache, submits
// each start as a job of the engine (kind reana_workflow on the workflows
// queue, resumable, so that a killed reehub resumes at the step it was in),
// and runs each step with service/reana's Executor in Podman containers.
//
// A workflow's REANA status is a view of its current job: created until the
// first start, then queued, running, finished (the job succeeded), failed or
// stopped (cancelled), and deleted once deleted.
package workflow

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// Kind is the engine kind of a workflow run.
const Kind = "reana_workflow"

// Args are the engine arguments of one start of a workflow: the steps From to
// Target (inclusive, 0-based) run, with the cache when Cache.
type Args struct {
	WorkflowID string `json:"workflow_id"`
	From       int    `json:"from"`
	Target     int    `json:"target"`
	Cache      bool   `json:"cache"`
}

// Kind names the engine kind.
func (Args) Kind() string { return Kind }

// Runtime is what workflows need of the container runtime (declared here,
// where it is used); *podman.Runtime is one.
type Runtime interface {
	reana.ContainerRuntime
	// Cleanup removes every container and network labelled labelKey=labelValue.
	Cleanup(ctx context.Context, labelKey, labelValue string) error
	// CreateNetwork creates a network (internal: no route out) for a step
	// with network access, whose only way out is the recording proxy.
	CreateNetwork(ctx context.Context, name string, internal bool, labels map[string]string) (podman.Network, error)
	// RemoveNetwork removes a network; a missing one is no error.
	RemoveNetwork(ctx context.Context, name string) error
}

// Config tunes the service.
type Config struct {
	// DataDir holds reana/workspaces/<owner>/<workflow> and reana/logs/<workflow>. Required.
	DataDir string
	// QuotaBytes is each user's disk quota over their workspaces; 0 means none.
	QuotaBytes int64
	// HostRootsFile is the host's CA bundle, which steps with network access
	// trust besides the recording proxy's CA. Defaults to
	// /etc/ssl/certs/ca-certificates.crt.
	HostRootsFile string
	// UpstreamRoots is the recording proxy's upstream trust; nil means the
	// system roots.
	UpstreamRoots *x509.CertPool
	// RegisterImage registers an image archive a step wrote (a step's
	// images) in the image registry and returns the image's id; nil: a
	// step's images are not registered (the log says so).
	RegisterImage func(ctx context.Context, img StepImage) (string, error)
	// Version is reehub's version, recorded in a registered image's provenance.
	Version string
}

// StepImage is an image archive a step wrote and marked (the step's images).
type StepImage struct {
	// OwnerID owns the workflow.
	OwnerID int64
	// JobID is the run's job: the image is the job's and goes with it.
	JobID string
	// Key is the step's position and the path, unique within the job.
	Key string
	// Title is "<NAME.N> <step>: <path>".
	Title string
	// File is where the archive is read (an open file of the workspace).
	File string
	// Provenance is the workflow, the step, its commands, its environment
	// (as written and its image's digest), the digests of the workflow's
	// input files and of its specification, and reehub's version.
	Provenance map[string]any
}

// Owner is the user a request acts for.
type Owner struct {
	// ID is the user's numeric id.
	ID int64
	// UUID is the user's UUID (REANA's user field).
	UUID string
}

// Service is the REANA workflow service.
type Service struct {
	st       *store.Store
	eng      *job.Engine
	blobs    *blob.Store
	rt       Runtime
	exec     *reana.Executor
	resolver *reana.Resolver
	box      *reana.SecretBox
	cfg      Config
	log      *slog.Logger
}

// New returns the service and registers its kind with the engine (before the engine starts).
func New(st *store.Store, eng *job.Engine, blobs *blob.Store, rt Runtime, resolver *reana.Resolver, box *reana.SecretBox, log *slog.Logger, cfg Config) (*Service, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("workflow: DataDir is required")
	}
	if cfg.HostRootsFile == "" {
		cfg.HostRootsFile = "/etc/ssl/certs/ca-certificates.crt"
	}
	for _, d := range []string{"workspaces", "logs"} {
		if err := os.MkdirAll(filepath.Join(cfg.DataDir, "reana", d), 0o755); err != nil {
			return nil, fmt.Errorf("workflow: %w", err)
		}
	}
	s := &Service{
		st: st, eng: eng, blobs: blobs, rt: rt, resolver: resolver, box: box, cfg: cfg, log: log,
		exec: reana.NewExecutor(rt, reana.ExecutorConfig{ComputeBackend: reana.ComputeBackendKubernetes}),
	}
	// Garbage collection keeps the blobs of the serial cache's entries.
	if err := eng.RegisterBlobRefFunc(job.BlobOutputs, s.cachedBlobs); err != nil {
		return nil, fmt.Errorf("workflow: %w", err)
	}
	err := job.Register[Args](eng, job.KindOpts{Family: job.FamilyREANA, Queue: job.QueueWorkflows, Resumable: true}, worker{s})
	if err != nil {
		return nil, fmt.Errorf("workflow: %w", err)
	}
	return s, nil
}

// WorkspaceRoot is where workspaces live (GET /api/info's workspaces).
func (s *Service) WorkspaceRoot() string {
	return filepath.Join(s.cfg.DataDir, "reana", "workspaces")
}

// Workflow is one workflow run as the API shows it.
type Workflow struct {
	// ID is the workflow's UUID.
	ID string
	// Name is NAME (without the run number).
	Name string
	// Run is the run number N.
	Run int
	// Restart is M of NAME.N.M, the M-th restart of run N (0 for the run itself).
	Restart int
	// Owner is the owner's UUID.
	Owner string
	// Status is REANA's status.
	Status reana.Status
	// Created is when it was created.
	Created time.Time
	// Progress is REANA's progress of its steps.
	Progress reana.Progress
	// Reason says why it failed ("" otherwise).
	Reason string
	// Spec is the submitted specification (Raw is what was sent).
	Spec *reana.Spec
	// Parameters are the parameters of the last start (the defaults before).
	Parameters map[string]string
	// Size is the workspace's size in bytes, -1 when not computed.
	Size int64

	row   store.Workflow
	job   *job.Job
	steps []store.WorkflowStep
}

// FullName is NAME.N, or NAME.N.M for a restart.
func (w Workflow) FullName() string { return reana.FullName(w.Name, w.Run, w.Restart) }

// RunNumber is REANA's run_number: "N", or "N.M" for a restart.
func (w Workflow) RunNumber() string { return reana.RunNumber(w.Run, w.Restart) }

// Create records a new run of name from spec: every step's environment is
// resolved now (an unknown image is invalid, naming it) and an empty
// workspace is made. The run number is one more than the owner's last run of name.
func (s *Service) Create(ctx context.Context, owner Owner, name string, spec *reana.Spec) (Workflow, error) {
	return s.create(ctx, owner, name, spec, "{}")
}

// create is Create, recording the outputs a re-run crate expects (JSON).
func (s *Service) create(ctx context.Context, owner Owner, name string, spec *reana.Spec, expected string) (Workflow, error) {
	name, err := reana.ValidateName(name)
	if err != nil {
		return Workflow{}, err
	}
	envJSON, err := s.resolveEnvironments(ctx, owner, spec)
	if err != nil {
		return Workflow{}, err
	}
	params, _ := json.Marshal(spec.Inputs.Parameters)
	opts, _ := json.Marshal(spec.Inputs.Options)
	for attempt := 0; ; attempt++ {
		run, err := s.st.NextWorkflowRun(ctx, owner.ID, name)
		if err != nil {
			return Workflow{}, err
		}
		id := uuid.NewString()
		row := store.Workflow{
			ID: id, OwnerID: owner.ID, Name: name, Run: run, Spec: string(spec.Raw), Parameters: string(params),
			Options: string(opts), Environments: envJSON, ExpectedOutputs: expected,
			Workspace: filepath.Join(s.WorkspaceRoot(), owner.UUID, id),
		}
		steps := make([]store.WorkflowStep, len(spec.Steps))
		for i, st := range spec.Steps {
			steps[i] = store.WorkflowStep{WorkflowID: id, Position: i, Name: st.Name, Status: reana.StepCreated}
		}
		err = s.st.CreateWorkflow(ctx, &row, steps)
		if errors.Is(err, fault.ErrConflict) && attempt < 5 {
			continue // another create took the run number
		}
		if err != nil {
			return Workflow{}, err
		}
		if _, err := reana.NewWorkspace(row.Workspace); err != nil {
			return Workflow{}, fmt.Errorf("workspace of %s: %w", reana.FullName(name, run, 0), err)
		}
		return s.view(ctx, row, false)
	}
}

// resolveEnvironments resolves each step's environment (an unknown image is
// invalid, naming it), as the JSON of the workflow's environments column.
func (s *Service) resolveEnvironments(ctx context.Context, owner Owner, spec *reana.Spec) (string, error) {
	envs := map[string]reana.Environment{}
	for _, st := range spec.Steps {
		if _, ok := envs[st.Environment]; ok {
			continue
		}
		e, err := s.resolver.Resolve(ctx, owner.ID, st.Environment)
		if err != nil {
			return "", err
		}
		envs[st.Environment] = e
	}
	if _, err := reana.ExpandSteps(spec.Steps, spec.Inputs.Parameters); err != nil {
		return "", err
	}
	b, err := json.Marshal(envs)
	if err != nil {
		return "", fmt.Errorf("environments: %w", err)
	}
	return string(b), nil
}

// find returns the row a reference names (UUID, NAME.N or NAME for its latest run).
func (s *Service) find(ctx context.Context, owner Owner, ref string) (store.Workflow, error) {
	r, err := reana.ParseRef(ref)
	if err != nil {
		return store.Workflow{}, err
	}
	var row store.Workflow
	if r.ID != "" {
		row, err = s.st.WorkflowOf(ctx, owner.ID, r.ID)
	} else {
		row, err = s.st.WorkflowByName(ctx, owner.ID, r.Name, r.Run, r.Restart)
	}
	if errors.Is(err, fault.ErrNotFound) {
		return store.Workflow{}, fault.NotFoundf("workflow %s not found", ref)
	}
	return row, err
}

// Get returns the owner's workflow ref; another user's is not found.
func (s *Service) Get(ctx context.Context, owner Owner, ref string) (Workflow, error) {
	row, err := s.find(ctx, owner, ref)
	if err != nil {
		return Workflow{}, err
	}
	return s.view(ctx, row, false)
}

// view builds the API view of a row: its job's status, its steps' progress.
func (s *Service) view(ctx context.Context, row store.Workflow, withSize bool) (Workflow, error) {
	spec, err := reana.ParseJSON([]byte(row.Spec))
	if err != nil {
		return Workflow{}, fmt.Errorf("workflow %s: stored specification: %w", row.ID, err)
	}
	w := Workflow{ID: row.ID, Name: row.Name, Run: row.Run, Restart: row.RunMinor, Created: row.CreatedAt, Spec: spec, Size: -1, row: row, Status: reana.StatusCreated}
	if owner, err := s.st.UserByID(ctx, row.OwnerID); err == nil {
		w.Owner = owner.UUID
	}
	_ = json.Unmarshal([]byte(row.Parameters), &w.Parameters)
	if w.Parameters == nil {
		w.Parameters = map[string]string{}
	}
	if row.JobID != "" {
		j, err := s.eng.Get(ctx, row.OwnerID, row.JobID)
		if err != nil {
			return Workflow{}, err
		}
		w.job = &j
		switch j.State {
		case job.StateQueued:
			w.Status = reana.StatusQueued
		case job.StateRunning:
			w.Status = reana.StatusRunning
		case job.StateSucceeded:
			w.Status = reana.StatusFinished
		case job.StateFailed:
			w.Status, w.Reason = reana.StatusFailed, j.Reason
		case job.StateCancelled:
			w.Status = reana.StatusStopped
		}
	}
	if row.DeletedAt != nil {
		w.Status = reana.StatusDeleted
	}
	steps, err := s.st.WorkflowSteps(ctx, row.ID)
	if err != nil {
		return Workflow{}, err
	}
	w.steps = steps
	states := make([]reana.StepState, len(steps))
	for i, st := range steps {
		status := st.Status
		if status == reana.StepRunning && w.Status != reana.StatusRunning {
			status = reana.StepStopped // an attempt that ended without recording its step
		}
		states[i] = reana.StepState{Name: st.Name, JobID: stepJobID(st), Status: status, Command: st.Command}
	}
	var started, finished, stopped *time.Time
	if w.job != nil {
		started = w.job.StartedAt
		switch w.job.State {
		case job.StateSucceeded, job.StateFailed:
			finished = w.job.FinishedAt
		case job.StateCancelled:
			stopped = w.job.FinishedAt
		}
	}
	w.Progress = reana.NewProgress(states, started, finished, stopped)
	if withSize && row.DeletedAt == nil {
		if ws, err := reana.NewWorkspace(row.Workspace); err == nil {
			if n, err := ws.Usage(ctx); err == nil {
				w.Size = n
			}
		}
	}
	return w, nil
}

// stepJobID is the REANA job id of a step's run ("" before it ran).
func stepJobID(st store.WorkflowStep) string {
	if st.JobID == "" {
		return ""
	}
	base, err := uuid.Parse(st.WorkflowID)
	if err != nil {
		return ""
	}
	return uuid.NewSHA1(base, fmt.Appendf(nil, "%s/%d", st.JobID, st.Position)).String()
}

// ListOpts filters and pages List.
type ListOpts struct {
	// Statuses keeps these statuses; empty keeps every status but deleted.
	Statuses []reana.Status
	// Search keeps names containing it.
	Search string
	// Ascending sorts oldest first (default newest first).
	Ascending bool
	// Page (1-based) and Size page the list; Size 0 means all.
	Page, Size int
	// WithSize computes each workspace's size.
	WithSize bool
	// Ref keeps only this workflow (UUID or NAME.N) or the runs of NAME.
	Ref string
}

// List returns a page of the owner's workflows, the number that matched, and
// whether the owner has any workflow at all.
func (s *Service) List(ctx context.Context, owner Owner, o ListOpts) ([]Workflow, int, bool, error) {
	name := ""
	var only string
	if o.Ref != "" {
		r, err := reana.ParseRef(o.Ref)
		if err != nil {
			return nil, 0, false, err
		}
		if r.ID != "" || r.Run > 0 {
			row, err := s.find(ctx, owner, o.Ref)
			if err != nil {
				return nil, 0, false, err
			}
			only, name = row.ID, row.Name
		} else {
			name = r.Name
		}
	}
	rows, err := s.st.Workflows(ctx, owner.ID, name)
	if err != nil {
		return nil, 0, false, err
	}
	all, err := s.st.Workflows(ctx, owner.ID, "")
	if err != nil {
		return nil, 0, false, err
	}
	if o.Ascending {
		slices.Reverse(rows)
	}
	var out []Workflow
	for _, row := range rows {
		if only != "" && row.ID != only {
			continue
		}
		if o.Search != "" && !strings.Contains(reana.FullName(row.Name, row.Run, row.RunMinor), o.Search) {
			continue
		}
		w, err := s.view(ctx, row, false)
		if err != nil {
			return nil, 0, false, err
		}
		if len(o.Statuses) == 0 && w.Status == reana.StatusDeleted {
			continue
		}
		if len(o.Statuses) > 0 && !slices.Contains(o.Statuses, w.Status) {
			continue
		}
		out = append(out, w)
	}
	total := len(out)
	if o.Size > 0 {
		page := max(o.Page, 1)
		lo := min((page-1)*o.Size, total)
		out = out[lo:min(lo+o.Size, total)]
	}
	if o.WithSize {
		for i := range out {
			if w, err := s.view(ctx, out[i].row, true); err == nil {
				out[i] = w
			}
		}
	}
	return out, total, len(all) > 0, nil
}

// StartOpts are what a start carries.
type StartOpts struct {
	// InputParameters override the specification's parameters.
	InputParameters map[string]any
	// Options are REANA's operational options: FROM, TARGET, CACHE.
	Options map[string]any
	// Restart starts an ended run again (so do FROM and TARGET).
	Restart bool
	// Spec, with a restart, replaces the specification for the new run
	// (reana-client restart -f reana.yaml).
	Spec *reana.Spec
}

// plan is what one start runs: the steps From..Target of Spec, with the
// cache when Cache, with the parameters and options as JSON.
type plan struct {
	spec         *reana.Spec
	from, target int
	cache        bool
	params, opts string
}

// planStart checks a start's options and parameters against spec and returns
// its plan: FROM (default the first step) to TARGET (default the last), and
// CACHE on or off (default off).
func planStart(spec *reana.Spec, o StartOpts) (plan, error) {
	opts := map[string]string{}
	for k, v := range spec.Inputs.Options {
		opts[k] = v
	}
	for k, v := range o.Options {
		switch b := v.(type) {
		case bool:
			opts[k] = map[bool]string{true: "on", false: "off"}[b]
		default:
			opts[k] = reana.FormatParameter(v)
		}
	}
	for k := range opts {
		switch k {
		case "FROM", "TARGET", "CACHE":
		default:
			return plan{}, fault.Invalidf("operational option %s is not supported by serial workflows; use FROM, TARGET or CACHE", k)
		}
	}
	params, err := reana.MergeParameters(spec.Inputs.Parameters, o.InputParameters)
	if err != nil {
		return plan{}, err
	}
	if _, err := reana.ExpandSteps(spec.Steps, params); err != nil {
		return plan{}, err
	}
	p := plan{spec: spec, from: 0, target: len(spec.Steps) - 1}
	if v := opts["FROM"]; v != "" {
		if p.from = stepIndex(spec.Steps, v); p.from < 0 {
			return plan{}, fault.Invalidf("operational option FROM: the workflow has no step %q", v)
		}
	}
	if v := opts["TARGET"]; v != "" {
		if p.target = stepIndex(spec.Steps, v); p.target < 0 {
			return plan{}, fault.Invalidf("operational option TARGET: the workflow has no step %q", v)
		}
	}
	if p.from > p.target {
		return plan{}, fault.Invalidf("operational options: FROM step %q comes after TARGET step %q", spec.Steps[p.from].Name, spec.Steps[p.target].Name)
	}
	switch strings.ToLower(opts["CACHE"]) {
	case "", "off", "false", "no":
	case "on", "true", "yes":
		p.cache = true
	default:
		return plan{}, fault.Invalidf("operational option CACHE must be on or off, not %q", opts["CACHE"])
	}
	pj, _ := json.Marshal(params)
	oj, _ := json.Marshal(opts)
	p.params, p.opts = string(pj), string(oj)
	return p, nil
}

// Start queues a run of the workflow. A created workflow starts from its
// first step. A finished or failed one starts again only as a restart
// (restart, or the options FROM or TARGET; a stopped one not at all, as in
// REANA), which, as in REANA, is
// a new run NAME.N.M (the M-th restart of NAME.N) in the same workspace,
// running FROM (default its first step) to TARGET (default its last); the
// steps outside FROM..TARGET keep what the restarted run left. The result is
// the run that was queued.
func (s *Service) Start(ctx context.Context, owner Owner, ref string, o StartOpts) (Workflow, error) {
	row, err := s.find(ctx, owner, ref)
	if err != nil {
		return Workflow{}, err
	}
	w, err := s.view(ctx, row, false)
	if err != nil {
		return Workflow{}, err
	}
	_, hasFrom := o.Options["FROM"]
	_, hasTarget := o.Options["TARGET"]
	if err := reana.CheckStart(w.FullName(), w.Status, o.Restart || hasFrom || hasTarget); err != nil {
		return Workflow{}, err
	}
	restart := w.Status != reana.StatusCreated
	if o.Spec != nil && !restart {
		return Workflow{}, fault.Invalidf("reana_specification replaces the specification of a restart only; workflow %s has not run yet", w.FullName())
	}
	spec := w.Spec
	if o.Spec != nil {
		spec = o.Spec
	}
	p, err := planStart(spec, o)
	if err != nil {
		return Workflow{}, err
	}
	if !restart {
		if err := s.submit(ctx, owner, row.ID, p, nil); err != nil {
			return Workflow{}, err
		}
		if row, err = s.st.WorkflowByID(ctx, row.ID); err != nil {
			return Workflow{}, err
		}
		return s.view(ctx, row, false)
	}
	envs := row.Environments
	if o.Spec != nil {
		if envs, err = s.resolveEnvironments(ctx, owner, o.Spec); err != nil {
			return Workflow{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		clone := store.Workflow{
			ID: uuid.NewString(), OwnerID: owner.ID, Name: row.Name, Run: row.Run, Spec: string(spec.Raw),
			Parameters: p.params, Options: p.opts, Environments: envs, Workspace: row.Workspace, ExpectedOutputs: row.ExpectedOutputs,
		}
		steps := restartSteps(clone.ID, w, spec, p)
		err := s.submit(ctx, owner, clone.ID, p, func(ctx context.Context, tx *store.Store) error {
			minor, err := tx.NextRestartRun(ctx, owner.ID, row.Name, row.Run)
			if err != nil {
				return err
			}
			clone.RunMinor = minor
			return tx.CreateWorkflow(ctx, &clone, steps)
		})
		if errors.Is(err, fault.ErrConflict) && attempt < 5 {
			continue // another restart took the number
		}
		if err != nil {
			return Workflow{}, err
		}
		for _, st := range steps {
			if st.JobID != "" { // kept from the restarted run: so is its output
				s.copyStepLog(row.ID, clone.ID, st.Position)
			}
		}
		if row, err = s.st.WorkflowByID(ctx, clone.ID); err != nil {
			return Workflow{}, err
		}
		return s.view(ctx, row, false)
	}
}

// submit queues the job of plan p for workflow id, resetting the steps it
// runs; create, when given, first writes the workflow's row in the same
// transaction.
func (s *Service) submit(ctx context.Context, owner Owner, id string, p plan, create func(context.Context, *store.Store) error) error {
	_, err := s.eng.Submit(ctx, Args{WorkflowID: id, From: p.from, Target: p.target, Cache: p.cache}, job.SubmitOpts{
		OwnerID: owner.ID,
		InTx: func(ctx context.Context, tx *store.Store, j job.Job) error {
			if create != nil {
				if err := create(ctx, tx); err != nil {
					return err
				}
			}
			if err := tx.ResetWorkflowSteps(ctx, id, p.from, p.target, reana.StepCreated); err != nil {
				return err
			}
			return tx.UpdateWorkflow(ctx, id, store.WorkflowUpdate{JobID: &j.ID, Parameters: &p.params, Options: &p.opts})
		},
	})
	return err
}

// restartSteps are the step rows of a restart (workflow id) of w with plan p:
// the steps FROM..TARGET are created; the others keep what w left of them
// (status, job, command, exit code, times), unless the restart replaced the
// specification, which makes every step new.
func restartSteps(id string, w Workflow, spec *reana.Spec, p plan) []store.WorkflowStep {
	steps := make([]store.WorkflowStep, len(spec.Steps))
	for i, st := range spec.Steps {
		steps[i] = store.WorkflowStep{WorkflowID: id, Position: i, Name: st.Name, Status: reana.StepCreated}
		if i >= p.from && i <= p.target || spec != w.Spec || i >= len(w.steps) {
			continue
		}
		old := w.steps[i]
		old.WorkflowID = id
		if old.Status == reana.StepRunning {
			old.Status = reana.StepStopped // as view shows a step of an ended run
		}
		steps[i] = old
	}
	return steps
}

// copyStepLog copies the output of step pos of workflow from to workflow to,
// for a step a restart keeps; a missing log is no error.
func (s *Service) copyStepLog(from, to string, pos int) {
	b, err := os.ReadFile(s.stepLogPath(from, pos))
	if err != nil {
		return
	}
	dst := s.stepLogPath(to, pos)
	err = os.MkdirAll(filepath.Dir(dst), 0o755)
	if err == nil {
		err = os.WriteFile(dst, b, 0o644)
	}
	if err != nil {
		s.log.Warn("copy the log of a kept step", "workflow", to, "step", pos, "err", err)
	}
}

func stepIndex(steps []reana.Step, name string) int {
	return slices.IndexFunc(steps, func(s reana.Step) bool { return s.Name == name })
}

// Stop stops a queued or running workflow: the running step's container is
// killed at once. It waits (up to 30 s) until the run has ended.
func (s *Service) Stop(ctx context.Context, owner Owner, ref string) (Workflow, error) {
	row, err := s.find(ctx, owner, ref)
	if err != nil {
		return Workflow{}, err
	}
	w, err := s.view(ctx, row, false)
	if err != nil {
		return Workflow{}, err
	}
	if err := reana.CheckStop(w.FullName(), w.Status); err != nil {
		return Workflow{}, err
	}
	if _, err := s.eng.Cancel(ctx, owner.ID, row.JobID, "stopped by its owner"); err != nil {
		if errors.Is(err, fault.ErrConflict) {
			return s.view(ctx, row, false) // it ended meanwhile
		}
		return Workflow{}, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		w, err := s.view(ctx, row, false)
		if err != nil || w.Status.Ended() || time.Now().After(deadline) {
			return w, err
		}
		select {
		case <-ctx.Done():
			return w, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Delete marks the workflow deleted (every run of its name with allRuns),
// removing the workspace files when workspace is true. An active run is a
// conflict.
func (s *Service) Delete(ctx context.Context, owner Owner, ref string, allRuns, workspace bool) (Workflow, error) {
	row, err := s.find(ctx, owner, ref)
	if err != nil {
		return Workflow{}, err
	}
	rows := []store.Workflow{row}
	if allRuns {
		if rows, err = s.st.Workflows(ctx, owner.ID, row.Name); err != nil {
			return Workflow{}, err
		}
	}
	var views []Workflow
	for _, r := range rows {
		w, err := s.view(ctx, r, false)
		if err != nil {
			return Workflow{}, err
		}
		if allRuns && w.Status == reana.StatusDeleted {
			continue
		}
		if err := reana.CheckDelete(w.FullName(), w.Status); err != nil {
			return Workflow{}, err
		}
		views = append(views, w)
	}
	now := s.st.Now()
	for _, w := range views {
		if err := s.st.UpdateWorkflow(ctx, w.ID, store.WorkflowUpdate{DeletedAt: &now}); err != nil {
			return Workflow{}, err
		}
		if workspace {
			if err := os.RemoveAll(w.row.Workspace); err != nil {
				return Workflow{}, fmt.Errorf("delete workspace of %s: %w", w.FullName(), err)
			}
		}
	}
	row, err = s.st.WorkflowByID(ctx, row.ID)
	if err != nil {
		return Workflow{}, err
	}
	return s.view(ctx, row, false)
}

// cachedBlobs reports which of digests a cache entry's outputs name.
func (s *Service) cachedBlobs(ctx context.Context, digests []string) (map[string]bool, error) {
	outputs, err := s.st.CacheOutputs(ctx)
	if err != nil {
		return nil, err
	}
	named := map[string]bool{}
	for _, o := range outputs {
		var m map[string]string
		if json.Unmarshal([]byte(o), &m) != nil {
			continue
		}
		for _, d := range m {
			named[d] = true
		}
	}
	out := map[string]bool{}
	for _, d := range digests {
		if named[d] {
			out[d] = true
		}
	}
	return out, nil
}
