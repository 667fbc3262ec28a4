package job

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// recoverLoop runs recovery every StaleAfter/2 until ctx ends.
func (e *Engine) recoverLoop(ctx context.Context) {
	defer close(e.bgDone)
	t := time.NewTicker(e.cfg.StaleAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.recover(ctx, false); err != nil && ctx.Err() == nil {
				e.log.Warn("recover jobs", "err", err)
			}
			if err := e.payCleanups(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("clean up what attempts recovered by other hosts left here", "err", err)
			}
		}
	}
}

// recover brings every job to a definite state: a running job whose worker
// is gone is retried or failed (see the package doc), a queued job whose
// River job is gone is enqueued again, and the work directories of ended or
// unknown jobs are removed. At start on SQLite (atStart with one instance per
// database file) every running job is orphaned; otherwise a job is orphaned
// once its heartbeat is StaleAfter old.
func (e *Engine) recover(ctx context.Context, atStart bool) error {
	staleAfter := e.cfg.StaleAfter
	if atStart && e.store.Dialect() == store.SQLite {
		staleAfter = 0
	}
	running, err := e.store.JobsInState(ctx, string(StateRunning))
	if err != nil {
		return err
	}
	now := e.store.Now()
	for _, r := range running {
		if e.isLocal(r.ID) || (r.HeartbeatAt != nil && now.Sub(*r.HeartbeatAt) < staleAfter) {
			continue
		}
		e.log.Info("recovering an interrupted job", "job", r.ID, "kind", r.Kind, "attempt", r.Attempt, "max_attempts", r.MaxAttempts)
		e.appendLogNote(ctx, r.ID, fmt.Sprintf("reehub: the server stopped during attempt %d; what the attempt left was removed\n", r.Attempt))
		if err := e.interrupted(ctx, r, false); err != nil && !errors.Is(err, fault.ErrConflict) {
			return fmt.Errorf("recover job %s: %w", r.ID, err)
		}
	}
	if err := e.requeueLost(ctx); err != nil {
		return err
	}
	return e.removeStaleWorkDirs(ctx)
}

func (e *Engine) isLocal(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.running[id]
	return ok
}

// requeueLost enqueues again every queued job whose River job no longer
// waits to run: missing, finished, or discarded by River (e.g. a job of a
// kind an older reehub registered under another name), or stranded (see
// stranded).
func (e *Engine) requeueLost(ctx context.Context) error {
	queued, err := e.store.JobsInState(ctx, string(StateQueued))
	if err != nil {
		return err
	}
	now := time.Now()
	for _, r := range queued {
		k := e.kinds[r.Kind]
		if k == nil {
			continue // a kind of a newer or other server; left to it
		}
		why := "is gone"
		if r.RiverJobID != 0 {
			rj, err := e.client.JobGet(ctx, r.RiverJobID)
			if err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("look up river job of %s: %w", r.ID, err)
			}
			if err == nil && !finalized(rj.State) {
				if !e.stranded(r, rj, now) {
					continue
				}
				why = "was fetched but never started"
			}
		}
		e.log.Info("enqueueing a queued job whose River job "+why, "job", r.ID, "river_job", r.RiverJobID)
		err := e.store.InTx(ctx, func(tx *store.Store) error {
			cur, err := tx.JobByID(ctx, r.ID)
			if err != nil || cur.State != string(StateQueued) || cur.RiverJobID != r.RiverJobID {
				return err // it moved on meanwhile
			}
			return e.enqueue(ctx, tx, k, &cur)
		})
		if err != nil {
			return fmt.Errorf("requeue job %s: %w", r.ID, err)
		}
	}
	return nil
}

// stranded reports whether River job rj of queued job r was fetched (River
// marked it running) more than StaleAfter ago although no attempt of r
// started: the first thing an attempt does, within milliseconds of the fetch,
// is to mark the job running. River's producer loses the jobs of a fetch
// whose UPDATE took effect but whose result it did not get (the fetch query
// failed after locking them: under heavy load the SQLite writer reported its
// busy timeout), and River only rescues a running job after
// RescueStuckJobsAfter (24 hours), so without this the job stayed queued
// while later ones ran. The new River job supersedes rj: should rj's attempt
// start after all, run finds another River job on the row and does nothing,
// and of two attempts racing to start only one can move the job from queued
// to running.
func (e *Engine) stranded(r store.Job, rj *rivertype.JobRow, now time.Time) bool {
	if rj.State != rivertype.JobStateRunning || rj.AttemptedAt == nil || e.isLocal(r.ID) {
		return false
	}
	return now.Sub(*rj.AttemptedAt) > e.cfg.StaleAfter
}

func finalized(s rivertype.JobState) bool {
	return s == rivertype.JobStateCompleted || s == rivertype.JobStateCancelled || s == rivertype.JobStateDiscarded
}

// removeStaleWorkDirs removes work directories of ended and unknown jobs. A
// directory exists only after its job row is committed, so an unknown one is
// garbage (left by a job deleted by hand, or a half-moved input).
func (e *Engine) removeStaleWorkDirs(ctx context.Context) error {
	root := filepath.Join(e.cfg.DataDir, "work")
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("list work dirs: %w", err)
	}
	for _, d := range entries {
		j, err := e.store.JobByID(ctx, d.Name())
		switch {
		case err == nil && State(j.State).Final(), errors.Is(err, fault.ErrNotFound):
			e.removeFiles(d.Name())
		case err != nil:
			return err
		}
	}
	return nil
}
