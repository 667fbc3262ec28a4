package process_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/process"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// recordingArgs stand for service/ree's: the kind of a recording.
type recordingArgs struct{}

func (recordingArgs) Kind() string { return process.KindRecording.JobKind() }

// scanArgs are a job of another family.
type scanArgs struct{}

func (scanArgs) Kind() string { return "fossology_scan" }

type quick[A any] struct{}

func (quick[A]) Steps(job.Job, A) []job.StepDef {
	return []job.StepDef{{Name: "do", Run: func(ctx context.Context, w *job.Work) error {
		return w.AddOutput(ctx, process.OutputName, "application/zip", "sha256:"+"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	}}}
}

func (quick[A]) Cleanup(context.Context, string) error { return nil }

// TestViewShowsREEProcessesOnly: the REE view lists, reads and cancels only
// jobs of the REE family, in the REE vocabulary.
func TestViewShowsREEProcessesOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "reehub.db")})
	require.NoError(t, err)
	defer st.Close()
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	_, err = blobs.Put(ctx, &emptyReader{}) // the empty blob the quick kind outputs
	require.NoError(t, err)
	e, err := job.New(st, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)), job.Config{DataDir: dir, PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, job.Register[recordingArgs](e, job.KindOpts{Family: job.FamilyREE, Queue: job.QueueBuilds}, quick[recordingArgs]{}))
	require.NoError(t, job.Register[scanArgs](e, job.KindOpts{Family: job.FamilyFOSSology, Queue: job.QueueScans}, quick[scanArgs]{}))
	require.NoError(t, e.Start(ctx))
	defer func() { require.NoError(t, e.Stop(ctx)) }()
	u := store.User{Name: "u", Role: store.RoleUser}
	require.NoError(t, st.CreateUser(ctx, &u))
	view := process.New(st, e)

	tag := "mine"
	p, err := view.Submit(ctx, recordingArgs{}, process.SubmitOpts{OwnerID: u.ID, Tag: &tag, Dockerfile: "Dockerfile"})
	require.NoError(t, err)
	require.Equal(t, process.StateQueued, p.State)
	require.Equal(t, process.KindRecording, p.Kind)
	_, err = view.Submit(ctx, scanArgs{}, process.SubmitOpts{OwnerID: u.ID})
	require.Error(t, err, "the view submits REE kinds only")
	scan, err := e.Submit(ctx, scanArgs{}, job.SubmitOpts{OwnerID: u.ID})
	require.NoError(t, err)

	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, err := view.Get(ctx, u.ID, p.ID)
		require.NoError(t, err)
		if got.State.Final() {
			require.Equal(t, process.StateProcessed, got.State, "succeeded is processed in the REE API")
			require.Equal(t, &tag, got.Tag)
			break
		}
		require.True(t, time.Now().Before(deadline))
	}
	ps, total, err := view.List(ctx, process.Filter{OwnerID: u.ID, Limit: 10})
	require.NoError(t, err)
	require.EqualValues(t, 1, total, "the scan is no process")
	require.Equal(t, p.ID, ps[0].ID)
	processed := process.StateProcessed
	_, total, err = view.List(ctx, process.Filter{OwnerID: u.ID, State: &processed, Limit: 10})
	require.NoError(t, err)
	require.EqualValues(t, 1, total)
	replay := process.KindReplay
	_, total, err = view.List(ctx, process.Filter{OwnerID: u.ID, Kind: &replay, Limit: 10})
	require.NoError(t, err)
	require.EqualValues(t, 0, total)

	_, err = view.Get(ctx, u.ID, scan.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)
	_, err = view.Cancel(ctx, u.ID, scan.ID, "x")
	require.ErrorIs(t, err, fault.ErrNotFound)
	_, err = view.OpenLog(ctx, u.ID, scan.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)
	_, err = view.Cancel(ctx, u.ID, p.ID, "late")
	require.ErrorIs(t, err, fault.ErrConflict)
	require.Contains(t, err.Error(), "it is processed")
	f, _, err := view.OpenOutput(ctx, u.ID, p.ID)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

type emptyReader struct{}

func (*emptyReader) Read([]byte) (int, error) { return 0, io.EOF }
