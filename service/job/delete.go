package job

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// DeleteOpts says which job Delete deletes and for whom.
type DeleteOpts struct {
	// ID is the job.
	ID string
	// OwnerID is the user asking; another user's job is not found unless Admin.
	OwnerID int64
	// Admin may delete any user's job.
	Admin bool
	// Reason is the cancel reason of a job that still runs.
	Reason string
	// Check, when set, runs on the job before anything happens (a family's
	// view checks that the job is one of its own; an error stops the delete).
	Check func(Job) error
}

// Freed says what a delete freed.
type Freed struct {
	// BlobsRemoved and BlobBytes count the blobs that only the job referenced.
	BlobsRemoved int
	BlobBytes    int64
}

// Delete deletes a job and everything only it held: a queued or running
// job is cancelled first and deleted once it stopped (on whichever
// instance runs it, within Config.DeleteWait); then its kind's Cleanup
// removes its runtime resources, its rows go (steps, outputs and the
// family's rows by ON DELETE CASCADE; the database keeps a tombstone), its
// files go, and so does each blob it referenced that no registered column
// references any more and that was not stored again since the job ended
// (an upload of the same content that is not yet a job keeps it; garbage
// collection takes it later if it stays unreferenced).
func (e *Engine) Delete(ctx context.Context, o DeleteOpts) (Freed, error) {
	row, err := e.lookup(ctx, o)
	if err != nil {
		return Freed{}, err
	}
	if o.Check != nil {
		if err := o.Check(FromRow(row)); err != nil {
			return Freed{}, err
		}
	}
	if !State(row.State).Final() {
		if row, err = e.stop(ctx, row, o.Reason); err != nil {
			return Freed{}, err
		}
	}
	if k := e.kinds[row.Kind]; k != nil {
		if err := k.cleanup(ctx, row.ID); err != nil {
			return Freed{}, fmt.Errorf("delete job %s: %w", row.ID, err)
		}
	}
	var digests []string
	seen := map[string]bool{}
	for _, r := range e.refs {
		if r.fn != nil {
			continue // not tied to a job
		}
		ds, err := e.store.JobDigests(ctx, r.col, row.ID)
		if err != nil {
			return Freed{}, fmt.Errorf("delete job %s: %w", row.ID, err)
		}
		for _, d := range ds {
			if !seen[d] {
				seen[d] = true
				digests = append(digests, d)
			}
		}
	}
	if err := e.store.DeleteJob(ctx, row.ID); err != nil {
		return Freed{}, fmt.Errorf("delete job %s: %w", row.ID, err)
	}
	e.removeFiles(row.ID)
	if err := os.Remove(e.logPath(row.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		e.log.Warn("remove job log", "job", row.ID, "err", err)
	}
	// A blob stored again after the job ended may be another job's upload
	// whose row is not committed yet: it stays for GC to decide.
	ended := e.store.Now()
	if row.FinishedAt != nil {
		ended = *row.FinishedAt
	}
	grace := max(time.Since(ended)-time.Second, 0)
	refs, err := e.referenced(ctx, digests)
	if err != nil {
		return Freed{}, fmt.Errorf("delete job %s: %w", row.ID, err)
	}
	var unreferenced []string
	for _, d := range digests {
		if _, ok := refs[d]; !ok {
			unreferenced = append(unreferenced, d)
		}
	}
	n, freed, _, err := e.collect(ctx, unreferenced, grace)
	if err != nil {
		e.log.Warn("remove blobs of deleted job; GC retries", "job", row.ID, "err", err)
	}
	e.log.InfoContext(ctx, "deleted job", "job", row.ID, "kind", row.Kind, "blobs_removed", n, "blob_bytes", freed)
	return Freed{BlobsRemoved: n, BlobBytes: freed}, nil
}

// lookup returns the job a delete names, checking the owner.
func (e *Engine) lookup(ctx context.Context, o DeleteOpts) (store.Job, error) {
	if o.Admin {
		return e.store.JobByID(ctx, o.ID)
	}
	return e.store.JobOf(ctx, o.OwnerID, o.ID)
}

// stop cancels a job that has not ended and waits, at most
// Config.DeleteWait, until it has.
func (e *Engine) stop(ctx context.Context, row store.Job, reason string) (store.Job, error) {
	if e.client == nil {
		return row, fault.Conflictf("job %s is %s; only a started engine can cancel it", row.ID, row.State)
	}
	if reason == "" {
		reason = "deleted"
	}
	if _, err := e.Cancel(ctx, row.OwnerID, row.ID, reason); err != nil && !errors.Is(err, fault.ErrConflict) {
		return row, err
	}
	deadline := time.Now().Add(e.cfg.DeleteWait)
	for {
		cur, err := e.store.JobByID(ctx, row.ID)
		if err != nil {
			return row, err
		}
		if State(cur.State).Final() {
			return cur, nil
		}
		if time.Now().After(deadline) {
			return cur, fault.New(fault.ErrUnavailable, fmt.Sprintf("job %s is still stopping after %s; delete it again later", row.ID, e.cfg.DeleteWait))
		}
		if State(cur.State) == StateQueued {
			// Queued again by recovery meanwhile: cancel that attempt too.
			if _, err := e.Cancel(ctx, cur.OwnerID, cur.ID, reason); err != nil && !errors.Is(err, fault.ErrConflict) {
				return cur, err
			}
		}
		select {
		case <-ctx.Done():
			return cur, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Expire deletes every job that ended more than age ago and is not marked to
// keep (0 deletes every ended one), and returns how many and what they freed.
func (e *Engine) Expire(ctx context.Context, age time.Duration) (int, Freed, error) {
	var total Freed
	n := 0
	cutoff := e.store.Now().Add(-age)
	final := []string{string(StateSucceeded), string(StateFailed), string(StateCancelled)}
	for {
		batch, err := e.store.JobsFinishedBefore(ctx, final, cutoff, 100)
		if err != nil {
			return n, total, err
		}
		if len(batch) == 0 {
			return n, total, nil
		}
		for _, j := range batch {
			f, err := e.Delete(ctx, DeleteOpts{ID: j.ID, Admin: true, Reason: "retention"})
			if err != nil && !errors.Is(err, fault.ErrNotFound) {
				return n, total, fmt.Errorf("retention: %w", err)
			}
			n++
			total.BlobsRemoved += f.BlobsRemoved
			total.BlobBytes += f.BlobBytes
		}
	}
}

// SetKeep sets or clears the keep mark of a job of the owner.
func (e *Engine) SetKeep(ctx context.Context, ownerID int64, id string, keep bool) (Job, error) {
	if _, err := e.store.JobOf(ctx, ownerID, id); err != nil {
		return Job{}, err
	}
	if err := e.store.SetJobKeep(ctx, id, keep); err != nil {
		return Job{}, err
	}
	return e.Get(ctx, ownerID, id)
}

// Release removes, of digests, the blobs that no registered column
// references any more, for a family that deleted rows of its own that are
// not a job's (an image of the ViCE registry). A blob stored again since
// storedAt stays for garbage collection to decide (an upload of the same
// content whose row is not committed yet), as in Delete.
func (e *Engine) Release(ctx context.Context, digests []string, storedAt time.Time) (Freed, error) {
	refs, err := e.referenced(ctx, digests)
	if err != nil {
		return Freed{}, fmt.Errorf("release blobs: %w", err)
	}
	var unreferenced []string
	seen := map[string]bool{}
	for _, d := range digests {
		if _, ok := refs[d]; !ok && d != "" && !seen[d] {
			seen[d] = true
			unreferenced = append(unreferenced, d)
		}
	}
	grace := max(time.Since(storedAt)-time.Second, 0)
	n, freed, _, err := e.collect(ctx, unreferenced, grace)
	if err != nil {
		return Freed{}, fmt.Errorf("release blobs: %w", err)
	}
	return Freed{BlobsRemoved: n, BlobBytes: freed}, nil
}
