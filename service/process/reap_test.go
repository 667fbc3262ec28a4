package process

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// TestReapKeepsStagedUploads: a work directory whose process is not recorded
// yet (an upload being extracted) survives the periodic reaper, while work
// directories of ended processes and old unknown ones are removed.
func TestReapKeepsStagedUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "reehub.db")})
	require.NoError(t, err)
	defer st.Close()
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	svc, err := New(st, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{DataDir: dir})
	require.NoError(t, err)

	u := store.User{Name: "u", Role: store.RoleUser}
	require.NoError(t, st.CreateUser(ctx, &u))
	ended := store.Process{ID: NewID(), OwnerID: u.ID, Kind: store.KindRecording}
	require.NoError(t, st.CreateProcess(ctx, &ended))
	require.NoError(t, st.FinishProcess(ctx, ended.ID, store.StateFailed, "x", ""))

	staged, old := NewID(), NewID()
	for _, id := range []string{staged, old, ended.ID} {
		require.NoError(t, os.MkdirAll(filepath.Join(svc.WorkDir(id), "context"), 0o750))
	}
	past := time.Now().Add(-2 * stagingGrace)
	require.NoError(t, os.Chtimes(svc.WorkDir(old), past, past))

	require.NoError(t, svc.reap(ctx, time.Minute, stagingGrace))
	require.DirExists(t, svc.WorkDir(staged), "an upload being staged is left alone")
	require.NoDirExists(t, svc.WorkDir(old), "an old unknown directory is garbage")
	require.NoDirExists(t, svc.WorkDir(ended.ID), "an ended process's directory is removed")

	// At start with SQLite nothing can be in flight: the grace is 0.
	require.NoError(t, svc.reap(ctx, 0, 0))
	require.NoDirExists(t, svc.WorkDir(staged))
}
