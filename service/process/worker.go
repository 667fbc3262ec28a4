package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// worker is the one River worker; it runs a process through its kind's Runner.
type worker struct {
	river.WorkerDefaults[jobArgs]
	svc *Service
}

// Work runs the process named by the job.
func (w *worker) Work(ctx context.Context, job *river.Job[jobArgs]) error {
	return w.svc.run(ctx, job.Args.ProcessID)
}

// run moves the process to running, runs it with heartbeats, and records the end state.
func (s *Service) run(ctx context.Context, id string) error {
	if err := s.store.StartProcess(ctx, id); err != nil {
		if errors.Is(err, fault.ErrConflict) || errors.Is(err, fault.ErrNotFound) {
			return nil // cancelled while queued, or already handled
		}
		return fmt.Errorf("start process %s: %w", id, err)
	}
	p, err := s.store.ProcessByID(ctx, id)
	if err != nil {
		return err
	}
	runner := s.runners[p.Kind]

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.mu.Lock()
	s.running[id] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
	}()

	logFile, err := os.OpenFile(s.logPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return s.finish(ctx, p, store.StateFailed, "internal error: cannot write the log", "")
	}
	var note string
	work := Work{Log: logFile, LogFile: s.logPath(id), Dir: s.workDir(id), Note: &note}
	if err := os.MkdirAll(work.Dir, 0o750); err != nil {
		_ = logFile.Close()
		return s.finish(ctx, p, store.StateFailed, "internal error: cannot create the work directory", "")
	}

	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		s.heartbeat(runCtx, id, cancel)
	}()
	started := time.Now()
	output, runErr := runner.Run(runCtx, p, work)
	cause := context.Cause(runCtx) // set only when the run was cancelled
	cancel(nil)
	<-hbDone

	state, reason := store.StateProcessed, ""
	switch {
	case runErr == nil:
		reason = note
	case errors.Is(cause, errShutdown):
		state, reason = store.StateFailed, "reehub was stopped while the process was running; start it again"
	case cause != nil:
		state, reason = store.StateCancelled, "cancelled: "+cause.Error()
	default:
		state, reason = store.StateFailed, userReason(runErr)
	}
	if state == store.StateCancelled || state == store.StateFailed {
		if err := runner.Cleanup(context.WithoutCancel(ctx), id); err != nil {
			s.log.Warn("clean up after process", "process", id, "err", err)
		}
	}
	fmt.Fprintf(logFile, "reehub: process %s after %.1fs%s\n", state, time.Since(started).Seconds(), suffix(reason))
	_ = logFile.Close()
	return s.finish(context.WithoutCancel(ctx), p, state, reason, output)
}

// heartbeat records liveness and turns a cancel request (from any instance) into cancellation.
func (s *Service) heartbeat(ctx context.Context, id string, cancel context.CancelCauseFunc) {
	t := time.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			requested, err := s.store.Heartbeat(ctx, id)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("heartbeat", "process", id, "err", err)
				}
				continue
			}
			if requested {
				cancel(errors.New("cancel requested"))
				return
			}
		}
	}
}

// finish stores the log as a blob, records the end state and removes the work directory.
func (s *Service) finish(ctx context.Context, p store.Process, state store.ProcessState, reason, output string) error {
	if state == store.StateCancelled {
		if cur, err := s.store.ProcessByID(ctx, p.ID); err == nil && cur.Reason != "" {
			reason = cur.Reason
		}
	}
	if err := s.store.FinishProcess(ctx, p.ID, state, reason, output); err != nil && !errors.Is(err, fault.ErrConflict) {
		return fmt.Errorf("finish process %s: %w", p.ID, err)
	}
	if ref, err := s.blobs.PutFile(ctx, s.logPath(p.ID), true); err == nil {
		if err := s.store.SetProcessLog(ctx, p.ID, ref.Digest); err != nil {
			s.log.Warn("record log", "process", p.ID, "err", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("store log", "process", p.ID, "err", err)
	}
	if err := os.RemoveAll(s.workDir(p.ID)); err != nil {
		s.log.Warn("remove work dir", "process", p.ID, "err", err)
	}
	return nil
}

// reapLoop periodically ends processes whose worker stopped heartbeating.
func (s *Service) reapLoop(ctx context.Context) {
	defer close(s.bgDone)
	t := time.NewTicker(s.cfg.StaleAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.reap(ctx, s.cfg.StaleAfter, stagingGrace); err != nil && ctx.Err() == nil {
				s.log.Warn("reap orphaned processes", "err", err)
			}
		}
	}
}

// stagingGrace is how long a work directory without a process row is left
// alone: uploads are extracted there before the process is recorded.
const stagingGrace = time.Hour

// reap fails running processes not heartbeating for staleAfter, cleans their
// runtime resources and work directories, and removes work directories of
// ended processes, and of unknown ones older than grace (staged uploads that a
// crash or a refused request left).
func (s *Service) reap(ctx context.Context, staleAfter, grace time.Duration) error {
	ps, err := s.store.ProcessesInState(ctx, store.StateRunning)
	if err != nil {
		return err
	}
	now := s.store.Now()
	for _, p := range ps {
		s.mu.Lock()
		_, local := s.running[p.ID]
		s.mu.Unlock()
		if local || (p.HeartbeatAt != nil && now.Sub(*p.HeartbeatAt) < staleAfter) {
			continue
		}
		s.log.Info("ending orphaned process", "process", p.ID, "kind", p.Kind)
		if r := s.runners[p.Kind]; r != nil {
			if err := r.Cleanup(ctx, p.ID); err != nil {
				s.log.Warn("clean up orphaned process", "process", p.ID, "err", err)
			}
		}
		if f, err := os.OpenFile(s.logPath(p.ID), os.O_WRONLY|os.O_APPEND, 0); err == nil {
			fmt.Fprintln(f, "reehub: the server stopped while this process ran; its resources were removed")
			_ = f.Close()
		}
		if err := s.finish(ctx, p, store.StateFailed, "reehub stopped while the process was running; start it again", ""); err != nil {
			return err
		}
		if p.JobID != 0 {
			_, _ = s.queue.JobCancel(ctx, p.JobID)
		}
	}
	// Work directories of processes that are not running are leftovers.
	entries, err := os.ReadDir(filepath.Join(s.cfg.DataDir, "work"))
	if err != nil {
		return fmt.Errorf("list work dirs: %w", err)
	}
	for _, e := range entries {
		dir := filepath.Join(s.cfg.DataDir, "work", e.Name())
		p, err := s.store.ProcessByID(ctx, e.Name())
		switch {
		case err == nil && p.State.Final():
			_ = os.RemoveAll(dir)
		case errors.Is(err, fault.ErrNotFound):
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) >= grace {
				_ = os.RemoveAll(dir)
			}
		}
	}
	return nil
}

// userReason turns a runner error into the reason shown to the user: fault
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
