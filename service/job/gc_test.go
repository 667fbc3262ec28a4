package job_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/storetest"
)

// outputArgs make a job that outputs Unique and Common as two blobs.
type outputArgs struct {
	Unique string `json:"unique"`
	Common string `json:"common"`
}

func (outputArgs) Kind() string { return "test_outputs" }

type outputWorker struct{ cleaned chan string }

func (outputWorker) Steps(_ job.Job, a outputArgs) []job.StepDef {
	return []job.StepDef{{Name: "out", Run: func(ctx context.Context, w *job.Work) error {
		for name, content := range map[string]string{"unique": a.Unique, "common": a.Common} {
			tmp, err := os.CreateTemp(w.Dir, "out-*")
			if err != nil {
				return err
			}
			_, _ = tmp.WriteString(content)
			_ = tmp.Close()
			if err := w.AddOutputFile(ctx, name, "text/plain", tmp.Name()); err != nil {
				return err
			}
		}
		return nil
	}}}
}

func (o outputWorker) Cleanup(_ context.Context, id string) error {
	select {
	case o.cleaned <- id:
	default:
	}
	return nil
}

// cacheDigest is the digest of "a cache blob an index file names".
const cacheDigest = "sha256:9601452826d0ba50dbea199a3cec7676ad5c6e5c1e435c3a0d4d5e47d2769707"

// inputRef is the REE family's input column, standing in for any family's.
var inputRef = store.BlobColumn{Table: "ree_processes", Column: "input_digest", JobColumn: "id"}

func newGCBundle(t *testing.T, dialect string) (*bundle, chan string) {
	dir := t.TempDir()
	cleaned := make(chan string, 16)
	b := newBundle(t, storetest.Config(t, dialect, dir, "reehub_job"), dir, testConfig(dir), func(e *job.Engine) {
		require.NoError(t, job.Register[outputArgs](e, job.KindOpts{Family: job.FamilyREE, Queue: job.QueueBuilds}, outputWorker{cleaned}))
		require.NoError(t, e.RegisterBlobRefs(job.BlobInputs, inputRef))
		require.NoError(t, e.RegisterBlobRefFunc("cache", func(_ context.Context, digests []string) (map[string]bool, error) {
			out := map[string]bool{}
			for _, d := range digests {
				if d == cacheDigest {
					out[d] = true
				}
			}
			return out, nil
		}))
		require.Error(t, e.RegisterBlobRefs(job.BlobInputs, store.BlobColumn{Table: "x; DROP TABLE jobs", Column: "d"}), "names are checked")
	})
	t.Cleanup(func() { b.close(t) })
	return b, cleaned
}

// submit starts an output job whose domain row references input.
func (b *bundle) submitOutputs(t *testing.T, a outputArgs, input string, keep bool) job.Job {
	t.Helper()
	j, err := b.engine.Submit(context.Background(), a, job.SubmitOpts{OwnerID: b.owner, Keep: keep,
		InTx: func(ctx context.Context, tx *store.Store, j job.Job) error {
			return tx.CreateProcess(ctx, &store.Process{ID: j.ID, InputDigest: input})
		}})
	require.NoError(t, err)
	return b.waitFinal(t, j.ID)
}

func (b *bundle) digests(t *testing.T, id string) []string {
	t.Helper()
	outs, err := b.engine.Outputs(context.Background(), id)
	require.NoError(t, err)
	var ds []string
	for _, o := range outs {
		ds = append(ds, o.Digest)
	}
	return ds
}

func (b *bundle) exists(t *testing.T, digest string) bool {
	t.Helper()
	_, err := b.blobs.Stat(context.Background(), digest)
	if err != nil {
		require.ErrorIs(t, err, fault.ErrNotFound)
	}
	return err == nil
}

// TestDeleteCountsReferences: deleting a job removes the blobs only it
// referenced (outputs, log, its domain row's input) and keeps those another
// job references; another user's job is not found; the row leaves a tombstone.
func TestDeleteCountsReferences(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, cleaned := newGCBundle(t, dialect)
			input, err := b.blobs.Put(ctx, strings.NewReader("the same uploaded zip"))
			require.NoError(t, err)
			first := b.submitOutputs(t, outputArgs{Unique: "first's own", Common: "both"}, input.Digest, false)
			second := b.submitOutputs(t, outputArgs{Unique: "second's own", Common: "both"}, input.Digest, false)
			require.Equal(t, job.StateSucceeded, first.State)
			outs := b.digests(t, first.ID) // common, unique (by name)
			require.Len(t, outs, 2)

			_, err = b.engine.Delete(ctx, job.DeleteOpts{ID: first.ID, OwnerID: b.owner + 1000})
			require.ErrorIs(t, err, fault.ErrNotFound, "another user's job")
			freed, err := b.engine.Delete(ctx, job.DeleteOpts{ID: first.ID, OwnerID: b.owner})
			require.NoError(t, err)
			require.GreaterOrEqual(t, freed.BlobsRemoved, 1)
			require.Equal(t, first.ID, <-cleaned, "the kind's Cleanup ran")

			require.True(t, b.exists(t, input.Digest), "the second job's input stays")
			require.True(t, b.exists(t, outs[0]), "the common output stays")
			require.False(t, b.exists(t, outs[1]), "the first job's own output is gone")
			if first.LogDigest() != second.LogDigest() {
				require.False(t, b.exists(t, first.LogDigest()))
			}
			_, err = b.engine.Get(ctx, b.owner, first.ID)
			require.ErrorIs(t, err, fault.ErrNotFound)
			tombs, err := b.store.Tombstones(ctx, []string{first.ID, second.ID})
			require.NoError(t, err)
			require.Contains(t, tombs, first.ID)
			require.NotContains(t, tombs, second.ID)
			_, err = os.Stat(b.engine.WorkDir(first.ID))
			require.ErrorIs(t, err, os.ErrNotExist)

			// The last reference goes with the second job: so do the shared blobs.
			_, err = b.engine.Delete(ctx, job.DeleteOpts{ID: second.ID, Admin: true})
			require.NoError(t, err)
			require.False(t, b.exists(t, input.Digest))
			require.False(t, b.exists(t, outs[0]))
		})
	}
}

// TestGCGraceAndRetention: GC removes unreferenced blobs older than the
// grace period only; retention of 0 deletes every ended job but the one
// marked to keep.
func TestGCGraceAndRetention(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, _ := newGCBundle(t, dialect)
			kept := b.submitOutputs(t, outputArgs{Unique: "kept", Common: "c"}, "", true)
			expired := b.submitOutputs(t, outputArgs{Unique: "expired", Common: "c"}, "", false)

			old, err := b.blobs.Put(ctx, strings.NewReader("an upload whose job never came"))
			require.NoError(t, err)
			p, err := b.blobs.Path(old.Digest)
			require.NoError(t, err)
			past := time.Now().Add(-2 * time.Hour)
			require.NoError(t, os.Chtimes(p, past, past))
			fresh, err := b.blobs.Put(ctx, strings.NewReader("an upload whose job is being submitted"))
			require.NoError(t, err)
			cached, err := b.blobs.Put(ctx, strings.NewReader("a cache blob an index file names"))
			require.NoError(t, err)
			p, err = b.blobs.Path(cached.Digest)
			require.NoError(t, err)
			require.NoError(t, os.Chtimes(p, past, past))
			for _, d := range b.digests(t, kept.ID) { // referenced, however old
				p, err := b.blobs.Path(d)
				require.NoError(t, err)
				require.NoError(t, os.Chtimes(p, past, past))
			}

			rep, err := b.engine.GC(ctx, job.GCOpts{Grace: time.Hour})
			require.NoError(t, err)
			require.Equal(t, 1, rep.BlobsRemoved)
			require.False(t, b.exists(t, old.Digest))
			require.True(t, b.exists(t, fresh.Digest))
			require.True(t, b.exists(t, cached.Digest), "referenced by the registered function")
			for _, d := range b.digests(t, kept.ID) {
				require.True(t, b.exists(t, d))
			}

			zero := time.Duration(0)
			rep, err = b.engine.GC(ctx, job.GCOpts{Grace: time.Hour, Retention: &zero})
			require.NoError(t, err)
			require.Equal(t, 1, rep.JobsExpired)
			_, err = b.engine.Get(ctx, b.owner, expired.ID)
			require.ErrorIs(t, err, fault.ErrNotFound)
			got, err := b.engine.Get(ctx, b.owner, kept.ID)
			require.NoError(t, err)
			require.True(t, got.Keep)

			// Unmarked, it expires too.
			_, err = b.engine.SetKeep(ctx, b.owner, kept.ID, false)
			require.NoError(t, err)
			n, _, err := b.engine.Expire(ctx, 0)
			require.NoError(t, err)
			require.Equal(t, 1, n)
		})
	}
}

// TestReleaseFreesUnreferenced: Release removes the given blobs that no
// registered column references, keeps a referenced one, and keeps one
// stored again after storedAt (an upload of the same content in flight).
func TestReleaseFreesUnreferenced(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, _ := newGCBundle(t, dialect)
			loose, err := b.blobs.Put(ctx, strings.NewReader("a deleted row's blob"))
			require.NoError(t, err)
			held, err := b.blobs.Put(ctx, strings.NewReader("a blob a row still names"))
			require.NoError(t, err)
			kept := b.submitOutputs(t, outputArgs{Unique: "u", Common: "c"}, held.Digest, true)
			require.Equal(t, job.StateSucceeded, kept.State)

			// Stored after storedAt: left for GC.
			fresh, err := b.engine.Release(ctx, []string{loose.Digest}, time.Now().Add(-time.Hour))
			require.NoError(t, err)
			require.Zero(t, fresh.BlobsRemoved)
			require.True(t, b.exists(t, loose.Digest))

			freed, err := b.engine.Release(ctx, []string{loose.Digest, held.Digest, loose.Digest, ""}, time.Now().Add(time.Minute))
			require.NoError(t, err)
			require.Equal(t, 1, freed.BlobsRemoved)
			require.False(t, b.exists(t, loose.Digest), "nothing references it")
			require.True(t, b.exists(t, held.Digest), "a row still references it")
		})
	}
}

// fakeSet is a ResourceSet of resources of no job.
type fakeSet struct {
	list    []job.Resource
	removed []string
	inUse   map[string]bool
}

func (f *fakeSet) List(context.Context) ([]job.Resource, error) { return f.list, nil }

func (f *fakeSet) Remove(_ context.Context, r job.Resource) error {
	if f.inUse[r.Name] {
		return fault.Conflictf("%s is in use", r.Name)
	}
	f.removed = append(f.removed, r.Name)
	return nil
}

func (f *fakeSet) KeepAfterEnd(context.Context, job.Job, job.Resource) bool { return true }

// TestGCIdleResources: a resource of no job goes only when its set marks it
// idle since longer than the grace period; one that is used again when it
// is removed (a conflict) stays and is no error.
func TestGCIdleResources(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, _ := newGCBundle(t, "sqlite")
	old := time.Now().Add(-2 * time.Hour)
	set := &fakeSet{list: []job.Resource{
		{Kind: "image", Name: "base", Bytes: 1},
		{Kind: "image", Name: "idle-long", Bytes: 10, Idle: true, IdleSince: old},
		{Kind: "image", Name: "idle-unknown", Bytes: 100, Idle: true},
		{Kind: "image", Name: "idle-now", Bytes: 1000, Idle: true, IdleSince: time.Now()},
		{Kind: "image", Name: "used-again", Bytes: 10000, Idle: true, IdleSince: old},
	}, inUse: map[string]bool{"used-again": true}}
	b.engine.RegisterResources(set)
	rep, err := b.engine.GC(ctx, job.GCOpts{Grace: time.Hour})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"idle-long", "idle-unknown"}, set.removed)
	require.Equal(t, 2, rep.ImagesRemoved)
	require.EqualValues(t, 110, rep.ImageBytes)
}
