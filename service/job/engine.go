package job

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// Worker does the work of one kind of job, whose typed arguments are A
// (River's JobArgs: A's Kind names the kind). A domain package implements one
// per kind and registers it with Register.
type Worker[A river.JobArgs] interface {
	// Steps returns the ordered steps of one attempt of job with args. The
	// steps of one attempt may share state through the closures.
	Steps(job Job, args A) []StepDef
	// Cleanup removes every runtime resource (containers, networks, images,
	// proxies) an attempt of job id may have left, e.g. after reehub was
	// killed. It runs before a job is retried and after it failed or was cancelled.
	Cleanup(ctx context.Context, id string) error
}

// StepDef is one step of a kind: a name and what it does.
type StepDef struct {
	// Name names the step within its job.
	Name string
	// Run does the step, writing its log to w.Log. A cancelled ctx means the
	// job is being cancelled or reehub is stopping.
	Run func(ctx context.Context, w *Work) error
}

// KindOpts describes a kind to Register.
type KindOpts struct {
	// Family is the API family whose view shows the kind's jobs. Required.
	Family Family
	// Queue is the queue the kind runs on; it must be one of Config.Queues. Required.
	Queue string
	// MaxAttempts overrides Config.MaxAttempts for this kind when positive.
	MaxAttempts int
	// Resumable makes a retried attempt start at the first step that did not
	// succeed, and keeps the work directory between attempts. Set it only
	// when each succeeded step's effects survive an interruption and the
	// kind's Cleanup. By default every attempt starts from the first step in
	// an empty work directory.
	Resumable bool
}

// kind is a registered kind, with its typed parts behind closures.
type kind struct {
	opts    KindOpts
	cleanup func(ctx context.Context, id string) error
	// insert inserts the River job of job id with the JSON args, in tx.
	insert func(ctx context.Context, tx *sql.Tx, id string, args []byte) (int64, error)
}

// Engine runs the jobs of every registered kind.
type Engine struct {
	cfg     Config
	store   *store.Store
	blobs   *blob.Store
	log     *slog.Logger
	kinds   map[string]*kind
	refs    []blobRef
	sets    []ResourceSet
	temps   []string
	workers *river.Workers
	client  *river.Client[*sql.Tx]

	mu       sync.Mutex
	running  map[string]context.CancelCauseFunc
	stopping atomic.Bool
	stopBg   context.CancelFunc
	bgDone   chan struct{}
	gcDone   chan struct{}
}

// New builds the engine; register the kinds, then call Start.
func New(st *store.Store, blobs *blob.Store, log *slog.Logger, cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("job engine: %w", err)
	}
	for _, d := range []string{"logs", "work"} {
		if err := os.MkdirAll(filepath.Join(cfg.DataDir, d), 0o750); err != nil {
			return nil, fmt.Errorf("job engine: %w", err)
		}
	}
	return &Engine{
		cfg: cfg, store: st, blobs: blobs, log: log, kinds: map[string]*kind{}, refs: engineRefs(), workers: river.NewWorkers(),
		running: map[string]context.CancelCauseFunc{},
	}, nil
}

// Register adds a kind: its typed args A, its worker and its options. Call it
// before Start, once per kind.
func Register[A river.JobArgs](e *Engine, opts KindOpts, w Worker[A]) error {
	var zero A
	name := zero.Kind()
	switch {
	case e.client != nil:
		return fmt.Errorf("register %s: the engine is already started", name)
	case name == "":
		return errors.New("register: the args name no kind")
	case e.kinds[name] != nil:
		return fmt.Errorf("register %s: registered twice", name)
	case opts.Family == "":
		return fmt.Errorf("register %s: a kind needs a family", name)
	}
	if _, ok := e.cfg.Queues[opts.Queue]; !ok {
		return fmt.Errorf("register %s: queue %q is not configured", name, opts.Queue)
	}
	if err := river.AddWorkerSafely(e.workers, &riverWorker[A]{e: e, w: w}); err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	e.kinds[name] = &kind{
		opts:    opts,
		cleanup: w.Cleanup,
		insert: func(ctx context.Context, tx *sql.Tx, id string, raw []byte) (int64, error) {
			var args A
			if err := json.Unmarshal(raw, &args); err != nil {
				return 0, fmt.Errorf("decode %s args: %w", name, err)
			}
			res, err := e.client.InsertTx(ctx, tx, envelope[A]{JobID: id, Args: args}, &river.InsertOpts{Queue: opts.Queue, MaxAttempts: 1})
			if err != nil {
				return 0, err
			}
			return res.Job.ID, nil
		},
	}
	return nil
}

// envelope is the River args of a job: the engine's job id and the kind's args.
type envelope[A river.JobArgs] struct {
	JobID string `json:"job_id"`
	Args  A      `json:"args"`
}

// Kind is the kind of the wrapped args.
func (e envelope[A]) Kind() string { return e.Args.Kind() }

// InsertOpts passes on the insert options of args that have them.
func (e envelope[A]) InsertOpts() river.InsertOpts {
	if o, ok := any(e.Args).(river.JobArgsWithInsertOpts); ok {
		return o.InsertOpts()
	}
	return river.InsertOpts{}
}

// riverWorker is the one River worker of one kind.
type riverWorker[A river.JobArgs] struct {
	river.WorkerDefaults[envelope[A]]
	e *Engine
	w Worker[A]
}

// Work runs an attempt of the job the River job names.
func (rw *riverWorker[A]) Work(ctx context.Context, j *river.Job[envelope[A]]) error {
	return rw.e.run(ctx, j.ID, j.Args.JobID, func(job Job) []StepDef { return rw.w.Steps(job, j.Args.Args) })
}

// Start recovers jobs left by a previous run (paying this host's owed
// clean-ups first), then starts River. An APIOnly engine only builds its
// River client, which inserts and cancels jobs, and runs garbage collection.
func (e *Engine) Start(ctx context.Context) error {
	client, err := e.newClient(ctx)
	if err != nil {
		return err
	}
	e.client = client
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.stopBg, e.bgDone = stop, make(chan struct{})
	if e.cfg.APIOnly {
		close(e.bgDone)
	} else {
		// Nothing runs here yet: every clean-up this host owes is safe now.
		if err := e.payCleanups(ctx); err != nil {
			return err
		}
		if err := e.recover(ctx, true); err != nil {
			return err
		}
		if err := e.client.Start(ctx); err != nil {
			return fmt.Errorf("start job engine: %w", err)
		}
		go e.recoverLoop(bg)
	}
	e.registerGauges()
	if e.cfg.GCInterval > 0 {
		e.gcDone = make(chan struct{})
		go func() {
			defer close(e.gcDone)
			e.gcLoop(bg)
		}()
	}
	return nil
}

// Stop interrupts running attempts (they are queued again, their attempt given
// back), waits for the workers and stops River.
func (e *Engine) Stop(ctx context.Context) error {
	e.stopping.Store(true)
	if e.stopBg != nil {
		e.stopBg()
		<-e.bgDone
		if e.gcDone != nil {
			<-e.gcDone
		}
	}
	e.mu.Lock()
	for _, cancel := range e.running {
		cancel(errShutdown)
	}
	e.mu.Unlock()
	if e.client == nil || e.cfg.APIOnly {
		return nil
	}
	return e.client.Stop(ctx)
}

var errShutdown = errors.New("reehub is shutting down")

// SubmitOpts describes a job to submit.
type SubmitOpts struct {
	// ID is the job's UUID; a new one when empty.
	ID string
	// OwnerID is the submitting user. Required.
	OwnerID int64
	// GroupID is the group the job belongs to; nil for none.
	GroupID *int64
	// Keep marks the job to keep: retention never deletes it.
	Keep bool
	// KeepImage asks the kind to keep the image it builds after its output is packaged.
	KeepImage bool
	// InTx runs inside the job's transaction, after the job row is written:
	// the domain writes its own rows there, so that they exist exactly when the job does.
	InTx func(ctx context.Context, tx *store.Store, job Job) error
	// Inputs are directories the caller staged outside the engine's
	// directories, moved into the job's work directory (each under its key)
	// once the job is committed. The worker must also cope with an input that
	// is not there (recreate it from the job's args), since an attempt may
	// start before the move or after a retry emptied the work directory.
	Inputs map[string]string
}

// Submit records a queued job of args' kind and enqueues its River job, in one transaction.
func (e *Engine) Submit(ctx context.Context, args river.JobArgs, o SubmitOpts) (Job, error) {
	k := e.kinds[args.Kind()]
	if k == nil {
		return Job{}, fmt.Errorf("submit: no worker for kind %s", args.Kind())
	}
	if e.client == nil {
		return Job{}, fmt.Errorf("submit %s: the engine is not started", args.Kind())
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return Job{}, fmt.Errorf("submit %s: encode args: %w", args.Kind(), err)
	}
	if o.ID == "" {
		o.ID = uuid.NewString()
	}
	row := store.Job{
		ID: o.ID, Family: string(k.opts.Family), Kind: args.Kind(), OwnerID: o.OwnerID, GroupID: o.GroupID,
		State: string(StateQueued), MaxAttempts: e.maxAttempts(k), Args: string(raw), Keep: o.Keep, KeepImage: o.KeepImage,
		RequestID: RequestID(ctx),
	}
	err = e.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateJob(ctx, &row); err != nil {
			return err
		}
		if o.InTx != nil {
			if err := o.InTx(ctx, tx, FromRow(row)); err != nil {
				return err
			}
		}
		return e.enqueue(ctx, tx, k, &row)
	})
	if err != nil {
		return Job{}, fmt.Errorf("submit %s: %w", args.Kind(), err)
	}
	e.cfg.Metrics.JobState(row.Family, row.Kind, row.State)
	for name, src := range o.Inputs {
		if err := e.moveInput(row.ID, name, src); err != nil {
			e.log.WarnContext(ctx, "move job input; the worker recreates it", "job", row.ID, "input", name, "err", err)
		}
	}
	return FromRow(row), nil
}

// enqueue inserts the River job of row in tx and records its id.
func (e *Engine) enqueue(ctx context.Context, tx *store.Store, k *kind, row *store.Job) error {
	sqlTx, err := tx.SQLTx()
	if err != nil {
		return err
	}
	rid, err := k.insert(ctx, sqlTx, row.ID, []byte(row.Args))
	if err != nil {
		return fmt.Errorf("enqueue job %s: %w", row.ID, err)
	}
	row.RiverJobID = rid
	return tx.UpdateJob(ctx, row.ID, nil, store.JobUpdate{RiverJobID: &rid})
}

// moveInput renames a staged directory into the job's work directory. Both
// renames (this one and a worker's own re-creation) are atomic, so the input
// is either absent or complete; the loser of a race leaves its copy.
func (e *Engine) moveInput(id, name, src string) error {
	dir := e.WorkDir(id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return os.Rename(src, filepath.Join(dir, name))
}

func (e *Engine) maxAttempts(k *kind) int {
	if k.opts.MaxAttempts > 0 {
		return k.opts.MaxAttempts
	}
	return e.cfg.MaxAttempts
}

// Get returns job id of the owner.
func (e *Engine) Get(ctx context.Context, ownerID int64, id string) (Job, error) {
	r, err := e.store.JobOf(ctx, ownerID, id)
	if err != nil {
		return Job{}, err
	}
	return FromRow(r), nil
}

// Steps returns the steps of job id in order.
func (e *Engine) Steps(ctx context.Context, id string) ([]Step, error) {
	rows, err := e.store.JobSteps(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]Step, len(rows))
	for i, r := range rows {
		out[i] = stepFromRow(r)
	}
	return out, nil
}

// Outputs returns the outputs of job id by name.
func (e *Engine) Outputs(ctx context.Context, id string) ([]Output, error) {
	rows, err := e.store.JobOutputs(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]Output, len(rows))
	for i, r := range rows {
		out[i] = Output{Name: r.Name, Digest: r.Digest, Size: r.Size, MediaType: r.MediaType}
	}
	return out, nil
}

// Cancel stops a queued or running job of the owner: a queued one is
// cancelled at once (with its River job, in one transaction); a running one
// is flagged, and its worker, on whichever instance, stops at its next
// heartbeat (at once when it runs here). A job that already ended is a conflict.
func (e *Engine) Cancel(ctx context.Context, ownerID int64, id, reason string) (Job, error) {
	var out store.Job
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		j, err := tx.JobOf(ctx, ownerID, id)
		if err != nil {
			return err
		}
		if State(j.State) == StateQueued {
			now, state := e.store.Now(), string(StateCancelled)
			err := tx.UpdateJob(ctx, id, []string{string(StateQueued)}, store.JobUpdate{State: &state, Reason: &reason, FinishedAt: &now})
			switch {
			case err == nil:
				if err := e.cancelRiverJob(ctx, tx, j.RiverJobID); err != nil {
					return fmt.Errorf("cancel job %s: %w", id, err)
				}
				out, err = tx.JobByID(ctx, id)
				return err
			case !errors.Is(err, fault.ErrConflict):
				return err
			}
			// A worker took it meanwhile: cancel it as a running job.
			if j, err = tx.JobByID(ctx, id); err != nil {
				return err
			}
		}
		if State(j.State) != StateRunning {
			return fault.Conflictf("job %s already ended: it is %s", id, j.State)
		}
		yes := true
		if err := tx.UpdateJob(ctx, id, []string{string(StateRunning)}, store.JobUpdate{CancelRequested: &yes, Reason: &reason}); err != nil {
			return err
		}
		out, err = tx.JobByID(ctx, id)
		return err
	})
	if err != nil {
		return Job{}, err
	}
	if State(out.State) == StateCancelled {
		e.removeFiles(id) // inputs moved in at submit
		e.cfg.Metrics.JobState(out.Family, out.Kind, out.State)
	}
	e.mu.Lock()
	cancel := e.running[id]
	e.mu.Unlock()
	if cancel != nil {
		cancel(errors.New(reason))
	}
	return FromRow(out), nil
}

// cancelRiverJob cancels the River job of a cancelled queued job in tx, so
// that it never starts; one that is gone already is fine.
func (e *Engine) cancelRiverJob(ctx context.Context, tx *store.Store, riverJobID int64) error {
	if riverJobID == 0 {
		return nil
	}
	sqlTx, err := tx.SQLTx()
	if err != nil {
		return err
	}
	if _, err := e.client.JobCancelTx(ctx, sqlTx, riverJobID); err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("cancel river job %d: %w", riverJobID, err)
	}
	return nil
}

// OpenLog returns the log of job id as written so far (the owner check is the caller's).
func (e *Engine) OpenLog(ctx context.Context, id string) (io.ReadCloser, error) {
	for range 2 {
		j, err := e.store.JobByID(ctx, id)
		if err != nil {
			return nil, err
		}
		if j.LogDigest != "" {
			return e.blobs.Open(ctx, j.LogDigest)
		}
		// While the job runs (or waits for another attempt), its log is
		// recorded in the database by the worker that runs it: every
		// instance reads the same.
		if rc, err := e.openRecordedLog(ctx, id); err != nil || rc != nil {
			return rc, err
		}
		// Nothing recorded: a log written before logs were recorded, or
		// one that just moved into the blob store.
		f, err := os.Open(e.logPath(id))
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open log of %s: %w", id, err)
		}
		if State(j.State) == StateQueued {
			return io.NopCloser(eofReader{}), nil
		}
		// The log moved into the blob store between the two reads: read again.
	}
	return io.NopCloser(eofReader{}), nil
}

// OpenOutput returns output name of job id (the owner check is the caller's),
// as a stream that seeks (ranged reads of a remote blob store).
func (e *Engine) OpenOutput(ctx context.Context, id, name string) (io.ReadSeekCloser, Output, error) {
	outs, err := e.Outputs(ctx, id)
	if err != nil {
		return nil, Output{}, err
	}
	for _, o := range outs {
		if o.Name == name {
			f, err := e.blobs.Open(ctx, o.Digest)
			return f, o, err
		}
	}
	return nil, Output{}, fault.NotFoundf("job %s has no output %s", id, name)
}

// OpenOutputFile is OpenOutput as a local file, for readers that need one
// (a zip's ReaderAt): a remote blob store's blob is copied into its cache first.
func (e *Engine) OpenOutputFile(ctx context.Context, id, name string) (*os.File, Output, error) {
	outs, err := e.Outputs(ctx, id)
	if err != nil {
		return nil, Output{}, err
	}
	for _, o := range outs {
		if o.Name == name {
			f, err := e.blobs.OpenFile(ctx, o.Digest)
			return f, o, err
		}
	}
	return nil, Output{}, fault.NotFoundf("job %s has no output %s", id, name)
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func (e *Engine) logPath(id string) string { return filepath.Join(e.cfg.DataDir, "logs", id+".log") }

func (e *Engine) stepLogPath(id string, pos int, name string) string {
	return filepath.Join(e.cfg.DataDir, "logs", id, fmt.Sprintf("%02d-%s.log", pos, name))
}

// WorkDir is the scratch directory of job id. Only the engine and the job's
// worker write there.
func (e *Engine) WorkDir(id string) string { return filepath.Join(e.cfg.DataDir, "work", id) }

// removeFiles removes the work directory and step logs of an ended job.
func (e *Engine) removeFiles(id string) {
	for _, d := range []string{e.WorkDir(id), filepath.Join(e.cfg.DataDir, "logs", id)} {
		if err := os.RemoveAll(d); err != nil {
			e.log.Warn("remove job files", "job", id, "dir", d, "err", err)
		}
	}
}

// Running reports whether the engine is started and not stopping: whether
// this instance takes jobs (an APIOnly one submits them for the workers of
// other instances).
func (e *Engine) Running() bool { return e.client != nil && !e.stopping.Load() }

// Host is the worker host this engine runs attempts on (Config.Host).
func (e *Engine) Host() string { return e.cfg.Host }
