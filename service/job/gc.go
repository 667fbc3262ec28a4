package job

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// BlobKind says what a reference to a blob is, for usage reports.
type BlobKind string

const (
	// BlobOutputs are outputs of jobs.
	BlobOutputs BlobKind = "outputs"
	// BlobLogs are logs of jobs and of their steps.
	BlobLogs BlobKind = "logs"
	// BlobInputs are uploads that jobs work on.
	BlobInputs BlobKind = "inputs"
)

// blobRef is one registered column of blob digests, or a function that
// finds references outside the database (a cache index on disk).
type blobRef struct {
	kind BlobKind
	col  store.BlobColumn
	fn   BlobRefFunc
}

// BlobRefFunc returns which of digests something outside the database
// references (a family's cache index files, say).
type BlobRefFunc func(ctx context.Context, digests []string) (map[string]bool, error)

// RegisterBlobRefFunc adds references that are not rows: fn is asked, like
// the registered columns, before a blob goes. A family that keeps blobs as a
// cache indexed by files (base image archives per image ID) registers its
// index this way, or GC removes the cached blobs once they are older than the
// grace period. Register before Start.
func (e *Engine) RegisterBlobRefFunc(kind BlobKind, fn BlobRefFunc) error {
	if e.client != nil {
		return errors.New("register blob references: the engine is already started")
	}
	if fn == nil {
		return errors.New("register blob references: nil function")
	}
	e.refs = append(e.refs, blobRef{kind: kind, fn: fn})
	return nil
}

// engineRefs are the columns of the engine's own tables that hold digests.
func engineRefs() []blobRef {
	return []blobRef{
		{kind: BlobOutputs, col: store.BlobColumn{Table: "job_outputs", Column: "digest", JobColumn: "job_id"}},
		{kind: BlobLogs, col: store.BlobColumn{Table: "jobs", Column: "log_digest", JobColumn: "id"}},
		{kind: BlobLogs, col: store.BlobColumn{Table: "job_steps", Column: "log_digest", JobColumn: "job_id"}},
	}
}

// RegisterBlobRefs adds columns of a domain's tables that hold blob digests
// (an upload's digest, a report's): garbage collection and Delete remove a
// blob only when no registered column holds it, and usage reports count it
// under kind. The engine registers its own (outputs, job and step logs);
// every family registers the rest before Start, e.g. service/ree
// ree_processes.input_digest. A column with a JobColumn also names the
// blobs Delete considers when it deletes that job.
func (e *Engine) RegisterBlobRefs(kind BlobKind, cols ...store.BlobColumn) error {
	if e.client != nil {
		return errors.New("register blob references: the engine is already started")
	}
	for _, c := range cols {
		if _, err := e.store.ReferencedDigests(context.Background(), c, nil); err != nil {
			return fmt.Errorf("register blob references: %w", err)
		}
		e.refs = append(e.refs, blobRef{kind: kind, col: c})
	}
	return nil
}

// referenced returns which of digests any registered column holds.
func (e *Engine) referenced(ctx context.Context, digests []string) (map[string]BlobKind, error) {
	out := map[string]BlobKind{}
	for _, r := range e.refs {
		var found map[string]bool
		var err error
		if r.fn != nil {
			found, err = r.fn(ctx, digests)
		} else {
			found, err = e.store.ReferencedDigests(ctx, r.col, digests)
		}
		if err != nil {
			return nil, err
		}
		for d := range found {
			if _, seen := out[d]; !seen {
				out[d] = r.kind
			}
		}
	}
	return out, nil
}

// Resource is a runtime resource (a Podman image or network) that a family
// holds for one job.
type Resource struct {
	// Kind says what it is ("image", "network").
	Kind string
	// Name names it to its ResourceSet (an image reference, a network name).
	Name string
	// JobID is the job it belongs to; "" for a resource of no job (a base
	// image), which garbage collection removes only when it is Idle.
	JobID string
	// Idle marks a resource of no job that is a cache of a record kept
	// elsewhere (a registered image loaded back into Podman from the blob
	// store) and that nothing uses now; garbage collection removes it once
	// IdleSince is older than the grace period.
	Idle bool
	// IdleSince is when it was last used (loaded or asked for); the zero
	// time means unknown (long ago).
	IdleSince time.Time
	// Bytes is its size when known.
	Bytes int64
	// Cache marks a resource that may outlive its job's end (a built image):
	// garbage collection removes it from an ended job only when the set's
	// KeepAfterEnd says so.
	Cache bool
}

// ResourceSet lists and removes the runtime resources of a family; register
// it with RegisterResources. Garbage collection removes a listed resource
// when its job is gone from this database (a tombstone: deleted, even by
// hand) or ended (a Cache resource only unless KeepAfterEnd keeps it), and
// never one of a job this database does not know: another instance sharing
// the Podman service may own it.
type ResourceSet interface {
	// List returns the family's resources.
	List(ctx context.Context) ([]Resource, error)
	// Remove removes one; a resource already gone is not an error.
	Remove(ctx context.Context, r Resource) error
	// KeepAfterEnd reports whether a Cache resource of ended job j stays
	// (its owner asked to keep the image, or it is registered).
	KeepAfterEnd(ctx context.Context, j Job, r Resource) bool
}

// RegisterResources adds a family's runtime resources to garbage collection.
func (e *Engine) RegisterResources(set ResourceSet) { e.sets = append(e.sets, set) }

// RegisterTempDir adds a directory whose entries are temporary (uploads
// staged before their job exists): garbage collection removes entries
// older than the grace period.
func (e *Engine) RegisterTempDir(dir string) { e.temps = append(e.temps, dir) }

// GCOpts tunes one garbage collection.
type GCOpts struct {
	// Grace is how old an unreferenced blob, a temporary file or a work
	// directory must be before it goes, so that nothing being written is
	// touched. Defaults to Config.GCGrace; NoGrace means none.
	Grace time.Duration
	// Retention, when set, first deletes jobs that ended longer than this
	// ago and are not marked to keep (0 deletes every ended one). Defaults
	// to Config.Retention.
	Retention *time.Duration
}

// GCReport says what a garbage collection freed.
type GCReport struct {
	// JobsExpired counts jobs deleted by retention.
	JobsExpired int
	// BlobsRemoved and BlobBytes count unreferenced blobs removed (by retention too).
	BlobsRemoved int
	BlobBytes    int64
	// BlobsHeldElsewhere counts unreferenced blobs kept because another instance holds them.
	BlobsHeldElsewhere int
	// ImagesRemoved, NetworksRemoved and OtherResourcesRemoved count runtime resources removed.
	ImagesRemoved, NetworksRemoved, OtherResourcesRemoved int
	// ImageBytes is the size of the removed images (shared layers may stay).
	ImageBytes int64
	// WorkDirsRemoved and FileBytes count work directories, stray logs and
	// temporary files removed, and their bytes.
	WorkDirsRemoved, TempFilesRemoved int
	FileBytes                         int64
	// TombstonesPruned counts tombstones older than Config.TombstoneTTL dropped.
	TombstonesPruned int64
}

// attrs are the report's fields for the log.
func (r GCReport) attrs() []any {
	return []any{"jobs_expired", r.JobsExpired, "blobs_removed", r.BlobsRemoved, "blob_bytes", r.BlobBytes,
		"blobs_held_elsewhere", r.BlobsHeldElsewhere, "images_removed", r.ImagesRemoved, "image_bytes", r.ImageBytes,
		"networks_removed", r.NetworksRemoved, "other_resources_removed", r.OtherResourcesRemoved,
		"work_dirs_removed", r.WorkDirsRemoved, "temp_files_removed", r.TempFilesRemoved, "file_bytes", r.FileBytes,
		"tombstones_pruned", r.TombstonesPruned}
}

// GC removes what nothing needs any more: with a retention, expired jobs
// first (see Delete); then runtime resources of gone or ended jobs (see
// ResourceSet), work directories and stray logs of ended or unknown jobs,
// temporary files, and blobs that no registered column references, each
// older than the grace period. It only touches what this instance's
// database says is gone, so instances sharing the Podman service or the
// blob store (see blob.OpenFor) never remove each other's. It logs what it freed.
func (e *Engine) GC(ctx context.Context, o GCOpts) (GCReport, error) {
	if o.Grace == 0 {
		o.Grace = e.cfg.GCGrace
	}
	o.Grace = max(o.Grace, 0)
	if o.Retention == nil {
		o.Retention = e.cfg.Retention
	}
	var rep GCReport
	var errs []error
	// The shared part (retention, blobs, tombstones) runs on one instance of
	// the database at a time: another that is at it already makes this one
	// skip it. This host's Podman resources and files are this instance's own.
	shared := func() error {
		var errs []error
		if o.Retention != nil {
			n, freed, err := e.Expire(ctx, *o.Retention)
			rep.JobsExpired, rep.BlobsRemoved, rep.BlobBytes = n, freed.BlobsRemoved, freed.BlobBytes
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	ran, err := e.store.TryExclusive(ctx, gcLockKey, shared)
	errs = append(errs, err, e.gcResources(ctx, o.Grace, &rep), e.gcFiles(ctx, o.Grace, &rep))
	if ran {
		_, err = e.store.TryExclusive(ctx, gcLockKey, func() error {
			errs := []error{e.gcBlobs(ctx, o.Grace, &rep)}
			if n, err := e.store.PruneTombstones(ctx, e.store.Now().Add(-e.cfg.TombstoneTTL)); err == nil {
				rep.TombstonesPruned = n
			} else {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		})
		errs = append(errs, err)
	} else {
		e.log.DebugContext(ctx, "garbage collection: another instance collects the shared part (retention, blobs)")
	}
	err = errors.Join(errs...)
	e.log.InfoContext(ctx, "garbage collection", append(rep.attrs(), "grace", o.Grace.String(), "ok", err == nil)...)
	e.recordGC(rep, err == nil)
	if err != nil {
		return rep, fmt.Errorf("garbage collection: %w", err)
	}
	return rep, nil
}

// gcResources removes the runtime resources of gone and ended jobs.
func (e *Engine) gcResources(ctx context.Context, grace time.Duration, rep *GCReport) error {
	var errs []error
	cutoff := e.store.Now().Add(-grace)
	for _, set := range e.sets {
		rs, err := set.List(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var ids []string
		for _, r := range rs {
			if r.JobID != "" {
				ids = append(ids, r.JobID)
			}
		}
		jobs, err := e.store.JobsByID(ctx, ids)
		if err != nil {
			return err
		}
		tombs, err := e.store.Tombstones(ctx, ids)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.JobID == "" {
				if !r.Idle || r.IdleSince.After(cutoff) {
					continue
				}
				if err := set.Remove(ctx, r); errors.Is(err, fault.ErrConflict) {
					continue // used again since it was listed
				} else if err != nil {
					errs = append(errs, err)
					continue
				}
				if r.Kind == "image" {
					rep.ImagesRemoved++
					rep.ImageBytes += r.Bytes
				} else {
					rep.OtherResourcesRemoved++
				}
				continue
			}
			j, known := jobs[r.JobID]
			_, deleted := tombs[r.JobID]
			switch {
			case deleted && !known:
			case !known || !State(j.State).Final() || j.FinishedAt == nil || j.FinishedAt.After(cutoff) || e.isLocal(r.JobID):
				continue // another instance's, still running, or just ended
			case r.Cache && set.KeepAfterEnd(ctx, FromRow(j), r):
				continue
			}
			if err := set.Remove(ctx, r); err != nil {
				errs = append(errs, err)
				continue
			}
			switch r.Kind {
			case "image":
				rep.ImagesRemoved++
				rep.ImageBytes += r.Bytes
			case "network":
				rep.NetworksRemoved++
			default:
				rep.OtherResourcesRemoved++
			}
		}
	}
	return errors.Join(errs...)
}

// gcFiles removes work directories and logs of ended and unknown jobs, and
// temporary files, older than grace.
func (e *Engine) gcFiles(ctx context.Context, grace time.Duration, rep *GCReport) error {
	cutoff := time.Now().Add(-grace)
	var errs []error
	for _, sub := range []string{"work", "logs"} {
		root := filepath.Join(e.cfg.DataDir, sub)
		entries, err := os.ReadDir(root)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, d := range entries {
			id := strings.TrimSuffix(d.Name(), ".log")
			info, err := d.Info()
			if err != nil || info.ModTime().After(cutoff) || e.isLocal(id) {
				continue
			}
			j, err := e.store.JobByID(ctx, id)
			if err == nil && !State(j.State).Final() {
				continue
			}
			if err != nil && !errors.Is(err, fault.ErrNotFound) {
				errs = append(errs, err)
				continue
			}
			p := filepath.Join(root, d.Name())
			n := du(p)
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, err)
				continue
			}
			rep.FileBytes += n
			if sub == "work" {
				rep.WorkDirsRemoved++
			} else {
				rep.TempFilesRemoved++
			}
		}
	}
	before := e.blobs.TempBytes()
	if err := e.blobs.CleanTemp(grace); err != nil {
		errs = append(errs, err)
	}
	rep.FileBytes += max(before-e.blobs.TempBytes(), 0)
	for _, dir := range e.temps {
		entries, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, d := range entries {
			if info, err := d.Info(); err != nil || info.ModTime().After(cutoff) {
				continue
			}
			p := filepath.Join(dir, d.Name())
			n := du(p)
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, err)
				continue
			}
			rep.TempFilesRemoved++
			rep.FileBytes += n
		}
	}
	return errors.Join(errs...)
}

// gcBlobs removes blobs older than grace that no registered column references.
func (e *Engine) gcBlobs(ctx context.Context, grace time.Duration, rep *GCReport) error {
	if err := e.blobs.RestoreAside(); err != nil {
		return err
	}
	cutoff := time.Now().Add(-grace)
	var old []string
	err := e.blobs.Walk(ctx, func(b blob.Info) error {
		if b.ModTime.Before(cutoff) {
			old = append(old, b.Digest)
		}
		return nil
	})
	if err != nil {
		return err
	}
	refs, err := e.referenced(ctx, old)
	if err != nil {
		return err
	}
	var unreferenced []string
	for _, d := range old {
		if _, ok := refs[d]; !ok {
			unreferenced = append(unreferenced, d)
		}
	}
	n, freed, held, err := e.collect(ctx, unreferenced, grace)
	rep.BlobsRemoved += n
	rep.BlobBytes += freed
	rep.BlobsHeldElsewhere += held
	return err
}

// collect removes each of digests that is still garbage (see
// blob.Store.Collect), re-checking the references after moving it aside; a
// blob another instance holds stays, and this instance's hold goes.
func (e *Engine) collect(ctx context.Context, digests []string, grace time.Duration) (removed int, freed int64, held int, err error) {
	var errs []error
	for _, d := range digests {
		// Another instance's blob is left in place (not even moved aside,
		// which its readers would notice); this instance's hold goes.
		if others, err := e.blobs.OtherHolders(ctx, d); err != nil || len(others) > 0 {
			if err == nil {
				held++
				_, err = e.blobs.Release(ctx, d, grace)
			}
			errs = append(errs, err)
			continue
		}
		n, err := e.blobs.Collect(ctx, d, grace, func(ctx context.Context) (bool, error) {
			refs, err := e.referenced(ctx, []string{d})
			return len(refs) == 0, err
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n > 0 || e.blobGone(ctx, d) {
			removed++
			freed += n
		}
	}
	return removed, freed, held, errors.Join(errs...)
}

func (e *Engine) blobGone(ctx context.Context, digest string) bool {
	_, err := e.blobs.Stat(ctx, digest)
	return errors.Is(err, fault.ErrNotFound)
}

// du returns the bytes of the regular files under p.
func du(p string) int64 {
	var n int64
	_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// gcLockKey names the shared part of garbage collection to store.TryExclusive.
const gcLockKey = 1

// gcLoop runs GC every Config.GCInterval until ctx ends.
func (e *Engine) gcLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := e.GC(ctx, GCOpts{}); err != nil && ctx.Err() == nil {
				e.log.Warn("garbage collection", "err", err)
			}
		}
	}
}
