package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// Work is what a step gets besides its context.
type Work struct {
	// Job is the job as its attempt started.
	Job Job
	// Log receives the step's plain-text log; it also goes to the job's log,
	// which is readable through the API while the job runs.
	Log io.Writer
	// LogFile is the path of the job's log file (to copy it into an output).
	LogFile string
	// Dir is the job's scratch directory, removed when the job ends.
	Dir string

	e    *Engine
	step *Step
}

// Progress records how far the job is.
func (w *Work) Progress(ctx context.Context, percent int, message string) error {
	percent = min(max(percent, 0), 100)
	return w.e.store.UpdateJob(ctx, w.Job.ID, []string{string(StateRunning)},
		store.JobUpdate{ProgressPercent: &percent, ProgressMessage: &message})
}

// SetSummary records a one-line summary of a successful result (an SBOM
// rebuild's drift, say): it becomes the job's reason when the job succeeds.
// A new attempt starts without one.
func (w *Work) SetSummary(ctx context.Context, summary string) error {
	return w.e.store.UpdateJob(ctx, w.Job.ID, []string{string(StateRunning)}, store.JobUpdate{Reason: &summary})
}

// SetExitCode records the exit code of the command the step ran.
func (w *Work) SetExitCode(code int) { w.step.ExitCode = &code }

// AddOutput records the blob digest (already in the blob store) as the job's
// output name; a later attempt replaces it.
func (w *Work) AddOutput(ctx context.Context, name, mediaType, digest string) error {
	ref, err := w.e.blobs.Stat(ctx, digest)
	if err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	return w.e.store.PutJobOutput(ctx, store.JobOutput{JobID: w.Job.ID, Name: name, Digest: digest, Size: ref.Size, MediaType: mediaType})
}

// AddOutputFile stores the file at path (moved into the blob store) as the
// job's output name.
func (w *Work) AddOutputFile(ctx context.Context, name, mediaType, path string) error {
	ref, err := w.e.blobs.PutFile(ctx, path, true)
	if err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	return w.e.store.PutJobOutput(ctx, store.JobOutput{JobID: w.Job.ID, Name: name, Digest: ref.Digest, Size: ref.Size, MediaType: mediaType})
}

// run runs one attempt of job id, which River job riverID carries.
func (e *Engine) run(ctx context.Context, riverID int64, id string, plan func(Job) []StepDef) error {
	row, err := e.store.JobByID(ctx, id)
	if errors.Is(err, fault.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("run job %s: %w", id, err)
	}
	if row.RiverJobID != riverID {
		return nil // superseded: the job was queued again with a new River job
	}
	k := e.kinds[row.Kind]
	// What an earlier attempt of this job left on this host goes before this
	// attempt makes anything of the same names.
	if err := e.payCleanup(ctx, id); err != nil {
		return fmt.Errorf("run job %s: %w", id, err)
	}
	// A kind resumes only on the host whose work directory holds the
	// succeeded steps' effects; elsewhere the attempt starts from scratch.
	resumable := k.opts.Resumable && (row.Host == "" || row.Host == e.cfg.Host)
	now := e.store.Now()
	attempt, state, none := row.Attempt+1, string(StateRunning), ""
	no := false
	upd := store.JobUpdate{State: &state, Attempt: &attempt, HeartbeatAt: &now, Reason: &none, CancelRequested: &no, Host: &e.cfg.Host}
	if row.StartedAt == nil {
		upd.StartedAt = &now
	}
	if err := e.store.UpdateJob(ctx, id, from(StateRunning), upd); err != nil {
		if errors.Is(err, fault.ErrConflict) || errors.Is(err, fault.ErrNotFound) {
			return nil // cancelled while queued, or taken by another worker
		}
		return fmt.Errorf("start job %s: %w", id, err)
	}
	if row.StartedAt == nil {
		row.StartedAt = &now
		e.cfg.Metrics.JobWait(row.Family, row.Kind, k.opts.Queue, now.Sub(row.CreatedAt))
	}
	row.State, row.Attempt, row.HeartbeatAt, row.Host = state, attempt, &now, e.cfg.Host
	e.cfg.Metrics.JobState(row.Family, row.Kind, row.State)
	job := FromRow(row)

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	e.mu.Lock()
	e.running[id] = cancel
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.running, id)
		e.mu.Unlock()
	}()

	logFile, err := e.openLiveLog(ctx, id)
	if err != nil {
		e.log.Warn("open the log", "job", id, "err", err)
		return e.finish(ctx, job, StateFailed, "internal error: cannot write the log")
	}
	if attempt == 1 && row.RequestID != "" {
		fmt.Fprintf(logFile, "reehub: submitted by request %s\n", row.RequestID)
	}
	if attempt > 1 {
		fmt.Fprintf(logFile, "reehub: attempt %d of %d\n", attempt, job.MaxAttempts)
	}
	dir := e.WorkDir(id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		_ = logFile.Close()
		return e.finish(ctx, job, StateFailed, "internal error: cannot create the work directory")
	}
	defs := plan(job)
	steps, err := e.prepareSteps(ctx, job, resumable, defs)
	if err != nil {
		_ = logFile.Close()
		return e.finish(ctx, job, StateFailed, "internal error: cannot record the steps")
	}

	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		e.heartbeat(runCtx, id, attempt, cancel)
	}()
	started := time.Now()
	runErr := e.runSteps(runCtx, job, defs, steps, logFile, dir)
	cause := context.Cause(runCtx) // set only when the attempt was cancelled
	cancel(nil)
	<-hbDone

	end, reason := StateSucceeded, ""
	switch {
	case errors.Is(cause, errSuperseded):
		fmt.Fprintf(logFile, "reehub: attempt %d was taken over by another instance\n", attempt)
		_ = logFile.Close()
		return nil
	case runErr == nil:
	case errors.Is(cause, errShutdown) || (e.stopping.Load() && cause != nil):
		fmt.Fprintf(logFile, "reehub: attempt %d interrupted after %.1fs: reehub is stopping; the job runs again at the next start\n", attempt, time.Since(started).Seconds())
		_ = logFile.Close()
		return e.interrupted(context.WithoutCancel(ctx), row, true)
	case cause != nil:
		end, reason = StateCancelled, "cancelled: "+cause.Error()
	default:
		end, reason = StateFailed, userReason(runErr)
	}
	if end != StateSucceeded {
		if err := k.cleanup(context.WithoutCancel(ctx), id); err != nil {
			e.log.Warn("clean up after job", "job", id, "err", err)
		}
	}
	fmt.Fprintf(logFile, "reehub: job %s after %.1fs%s\n", end, time.Since(started).Seconds(), suffix(reason))
	_ = logFile.Close()
	return e.finish(context.WithoutCancel(ctx), job, end, reason)
}

// errSuperseded cancels an attempt whose job another instance took over.
var errSuperseded = errors.New("the attempt was taken over by another instance")

// prepareSteps returns the step records of this attempt: new ones for a new
// plan; for a retry, the succeeded ones kept when the kind resumes, every
// other reset to pending.
func (e *Engine) prepareSteps(ctx context.Context, job Job, resumable bool, defs []StepDef) ([]Step, error) {
	rows, err := e.store.JobSteps(ctx, job.ID)
	if err != nil {
		return nil, err
	}
	same := len(rows) == len(defs)
	for i := 0; same && i < len(rows); i++ {
		same = rows[i].Name == defs[i].Name
	}
	steps := make([]Step, len(defs))
	out := make([]store.JobStep, len(defs))
	for i, d := range defs {
		steps[i] = Step{Position: i, Name: d.Name, State: StepPending}
		if same && resumable && StepState(rows[i].State) == StepSucceeded {
			steps[i] = stepFromRow(rows[i])
		}
		out[i] = steps[i].row(job.ID)
	}
	return steps, e.store.ReplaceJobSteps(ctx, job.ID, out)
}

// runSteps runs the steps in order, skipping succeeded ones, until one fails.
func (e *Engine) runSteps(ctx context.Context, job Job, defs []StepDef, steps []Step, jobLog io.Writer, dir string) error {
	var runErr error
	for i, d := range defs {
		st := &steps[i]
		if st.State == StepSucceeded {
			continue
		}
		if runErr != nil {
			st.State = StepSkipped
			e.saveStep(ctx, job.ID, *st)
			continue
		}
		pct := i * 100 / len(defs)
		msg := "step " + d.Name
		if err := (&Work{Job: job, e: e}).Progress(ctx, pct, msg); err != nil && ctx.Err() == nil {
			e.log.Warn("record progress", "job", job.ID, "err", err)
		}
		now := e.store.Now()
		*st = Step{Position: i, Name: d.Name, State: StepRunning, StartedAt: &now}
		e.saveStep(ctx, job.ID, *st)
		runErr = e.runStep(ctx, job, d, st, jobLog, dir)
	}
	return runErr
}

// runStep runs one step with its own log and records how it ended.
func (e *Engine) runStep(ctx context.Context, job Job, d StepDef, st *Step, jobLog io.Writer, dir string) error {
	path := e.stepLogPath(job.ID, st.Position, d.Name)
	var stepLog *os.File
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err == nil {
		stepLog, _ = os.Create(path)
	}
	w := &Work{Job: job, Log: jobLog, LogFile: e.logPath(job.ID), Dir: dir, e: e, step: st}
	if stepLog != nil {
		w.Log = io.MultiWriter(jobLog, stepLog)
	}
	err := runSafely(ctx, d, w)
	now := e.store.Now()
	st.FinishedAt = &now
	switch {
	case err == nil:
		st.State = StepSucceeded
	case ctx.Err() != nil:
		st.State, st.Error = StepCancelled, context.Cause(ctx).Error()
	default:
		st.State, st.Error = StepFailed, userReason(err)
	}
	if st.StartedAt != nil {
		e.cfg.Metrics.StepEnded(string(job.Family), job.Kind, d.Name, string(st.State), now.Sub(*st.StartedAt))
	}
	if stepLog != nil {
		_ = stepLog.Close()
		if ref, perr := e.blobs.PutFile(context.WithoutCancel(ctx), path, true); perr == nil {
			st.LogDigest = ref.Digest
		} else {
			e.log.Warn("store step log", "job", job.ID, "step", d.Name, "err", perr)
		}
	}
	e.saveStep(context.WithoutCancel(ctx), job.ID, *st)
	return err
}

// runSafely runs a step, turning a panic into its error (River would recover
// it too, but then the job would stay running until recovery).
func runSafely(ctx context.Context, d StepDef, w *Work) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("step %s panicked: %v", d.Name, r)
		}
	}()
	return d.Run(ctx, w)
}

func (e *Engine) saveStep(ctx context.Context, id string, st Step) {
	if err := e.store.SaveJobStep(context.WithoutCancel(ctx), st.row(id)); err != nil {
		e.log.Warn("record step", "job", id, "step", st.Name, "err", err)
	}
}

// heartbeat records liveness and turns a cancel request (from any instance) into cancellation.
func (e *Engine) heartbeat(ctx context.Context, id string, attempt int, cancel context.CancelCauseFunc) {
	t := time.NewTicker(e.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := e.store.Now()
			err := e.store.UpdateJob(ctx, id, []string{string(StateRunning)}, store.JobUpdate{HeartbeatAt: &now, WhereAttempt: &attempt})
			if errors.Is(err, fault.ErrConflict) {
				// Recovery on another instance found this attempt stale and
				// took the job over: this attempt must stop without touching it.
				cancel(errSuperseded)
				return
			}
			if err != nil {
				if ctx.Err() == nil {
					e.log.Warn("heartbeat", "job", id, "err", err)
				}
				continue
			}
			j, err := e.store.JobByID(ctx, id)
			if err == nil && j.CancelRequested {
				cancel(errors.New("cancel requested"))
				return
			}
		}
	}
}

// finish stores the log as a blob, removes the job's work directory and
// records the end state, in that order: once a job shows its end state,
// nothing of it is left on disk.
func (e *Engine) finish(ctx context.Context, job Job, state State, reason string) error {
	cur, err := e.store.JobByID(ctx, job.ID)
	if err != nil {
		return fmt.Errorf("finish job %s: %w", job.ID, err)
	}
	if cur.Attempt != job.Attempt || State(cur.State) != StateRunning || !StateRunning.CanBecome(state) {
		return nil // ended or taken over meanwhile: its files are no longer this attempt's
	}
	if (state == StateCancelled && cur.Reason != "") || state == StateSucceeded {
		reason = cur.Reason // the cancel request's words, or the summary a step set
	}
	if ref, err := e.blobs.PutFile(ctx, e.logPath(job.ID), true); err == nil {
		if err := e.store.UpdateJob(ctx, job.ID, nil, store.JobUpdate{LogDigest: &ref.Digest}); err != nil {
			e.log.Warn("record log", "job", job.ID, "err", err)
		} else if err := e.store.DeleteJobLog(ctx, job.ID); err != nil {
			e.log.Warn("remove the recorded live log", "job", job.ID, "err", err) // the job's deletion removes it
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		e.log.Warn("store log", "job", job.ID, "err", err)
	}
	e.removeFiles(job.ID)
	if steps, err := e.store.JobSteps(ctx, job.ID); err == nil {
		for _, st := range steps {
			if StepState(st.State) == StepPending || StepState(st.State) == StepRunning {
				st.State = string(StepSkipped)
				_ = e.store.SaveJobStep(ctx, st)
			}
		}
	}
	now, s := e.store.Now(), string(state)
	upd := store.JobUpdate{State: &s, Reason: &reason, FinishedAt: &now, WhereAttempt: &job.Attempt}
	if state == StateSucceeded {
		done, msg := 100, "done"
		upd.ProgressPercent, upd.ProgressMessage = &done, &msg
	}
	err = e.store.UpdateJob(ctx, job.ID, []string{string(StateRunning)}, upd)
	switch {
	case err == nil:
		e.cfg.Metrics.JobState(cur.Family, cur.Kind, s)
		if cur.StartedAt != nil {
			e.cfg.Metrics.JobEnded(cur.Family, cur.Kind, s, now.Sub(*cur.StartedAt))
		}
	case !errors.Is(err, fault.ErrConflict):
		return fmt.Errorf("finish job %s: %w", job.ID, err)
	}
	return nil
}

// interrupted handles an attempt that did not end by itself (reehub was
// killed or stopped): the kind's Cleanup removes what the attempt left, the
// work directory goes unless the kind resumes, and the job is queued again
// with a new River job, or failed once it has had its attempts. A graceful
// stop (giveBack) does not count the attempt.
//
// An attempt that ran on another host (a dead instance's, found by this
// one's recovery) left its containers, networks and work directory there,
// out of this host's reach: the job is queued again for any host at once, and
// a clean-up owed by the attempt's host is recorded in the same transaction;
// that host pays it (payCleanups) when its reehub runs again, and before it
// runs an attempt of the job itself.
func (e *Engine) interrupted(ctx context.Context, row store.Job, giveBack bool) error {
	k := e.kinds[row.Kind]
	// On SQLite every attempt is this instance's, whatever its host was named.
	elsewhere := e.store.Dialect() == store.Postgres && row.Host != "" && row.Host != e.cfg.Host
	if k == nil {
		return e.finish(ctx, FromRow(row), StateFailed, fmt.Sprintf("no worker of kind %s on this server", row.Kind))
	}
	if elsewhere {
		debt := store.HostCleanup{Host: row.Host, JobID: row.ID, Kind: row.Kind, Attempt: row.Attempt}
		if err := e.store.AddHostCleanup(ctx, debt); err != nil {
			return err
		}
		e.log.Info("the interrupted attempt ran on another host, which owes its clean-up", "job", row.ID, "host", row.Host, "attempt", row.Attempt)
	} else if err := k.cleanup(ctx, row.ID); err != nil {
		e.log.Warn("clean up interrupted attempt", "job", row.ID, "err", err)
	}
	attempt := row.Attempt
	if giveBack && attempt > 0 {
		attempt--
	}
	if attempt >= row.MaxAttempts {
		reason := fmt.Sprintf("reehub stopped while the job was running, in each of its %d attempts; giving up", row.MaxAttempts)
		return e.finish(ctx, FromRow(row), StateFailed, reason)
	}
	if !k.opts.Resumable && !elsewhere {
		if err := os.RemoveAll(e.WorkDir(row.ID)); err != nil {
			e.log.Warn("remove work dir of interrupted attempt", "job", row.ID, "err", err)
		}
	}
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		state, none, no := string(StateQueued), "", false
		upd := store.JobUpdate{State: &state, Attempt: &attempt, Reason: &none, CancelRequested: &no, WhereAttempt: &row.Attempt}
		if err := tx.UpdateJob(ctx, row.ID, []string{string(StateRunning)}, upd); err != nil {
			return err
		}
		return e.enqueue(ctx, tx, k, &row)
	})
	if err == nil {
		e.cfg.Metrics.JobState(row.Family, row.Kind, string(StateQueued))
	}
	return err
}

// payCleanups pays every clean-up this host owes, except those of jobs
// running here (their attempt paid it when it started).
func (e *Engine) payCleanups(ctx context.Context) error {
	debts, err := e.store.HostCleanups(ctx, e.cfg.Host, "")
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range debts {
		if e.isLocal(d.JobID) {
			continue
		}
		errs = append(errs, e.pay(ctx, d))
	}
	return errors.Join(errs...)
}

// payCleanup pays the clean-up this host owes for job id, if any.
func (e *Engine) payCleanup(ctx context.Context, id string) error {
	debts, err := e.store.HostCleanups(ctx, e.cfg.Host, id)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range debts {
		errs = append(errs, e.pay(ctx, d))
	}
	return errors.Join(errs...)
}

// pay runs the kind's Cleanup of the job on this host, removes the job's
// work directory and logs here (the attempt's; the job runs or ran
// elsewhere), and forgets the debt.
func (e *Engine) pay(ctx context.Context, d store.HostCleanup) error {
	if k := e.kinds[d.Kind]; k != nil {
		if err := k.cleanup(ctx, d.JobID); err != nil {
			return fmt.Errorf("clean up what attempt %d of job %s left on host %s: %w", d.Attempt, d.JobID, d.Host, err)
		}
	}
	e.removeFiles(d.JobID)
	if err := os.Remove(e.logPath(d.JobID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		e.log.Warn("remove the log of an attempt recovered elsewhere", "job", d.JobID, "err", err)
	}
	e.log.Info("cleaned up what an attempt recovered by another host left here", "job", d.JobID, "attempt", d.Attempt, "host", d.Host)
	return e.store.DoneHostCleanup(ctx, d.Host, d.JobID)
}

// userReason turns a step error into the reason shown to the user: fault
// errors carry user-facing text; anything else is summarised.
func userReason(err error) string {
	for _, kind := range []error{fault.ErrInvalid, fault.ErrNotFound, fault.ErrConflict, fault.ErrTooLarge, fault.ErrUnavailable} {
		if errors.Is(err, kind) {
			return err.Error()
		}
	}
	return "internal error: " + err.Error()
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}
