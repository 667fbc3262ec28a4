package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// open returns a store on a fresh SQLite file, or on a fresh Postgres
// database when REEHUB_TEST_DATABASE_URL is set.
func open(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), freshConfig(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// freshConfig names a database that does not exist yet: a SQLite file, or a
// new Postgres database when REEHUB_TEST_DATABASE_URL is set.
func freshConfig(t *testing.T) store.Config {
	t.Helper()
	ctx := context.Background()
	cfg := store.Config{SQLitePath: filepath.Join(t.TempDir(), "reehub.db")}
	if base := os.Getenv("REEHUB_TEST_DATABASE_URL"); base != "" {
		conn, err := pgx.Connect(ctx, base)
		require.NoError(t, err)
		name := "reehub_store_" + uuid.NewString()[:8]
		_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
		require.NoError(t, err)
		c := conn.Config()
		_ = conn.Close(ctx)
		cfg = store.Config{PostgresURL: fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", c.User, c.Password, c.Host, c.Port, name)}
	}
	return cfg
}

func TestMigrationsAreIdempotent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := store.Config{SQLitePath: filepath.Join(dir, "x.db")}
	for range 2 {
		st, err := store.Open(context.Background(), cfg)
		require.NoError(t, err)
		require.NoError(t, st.Close())
	}
}

func newUser(t *testing.T, st *store.Store, name string) store.User {
	t.Helper()
	u := store.User{Name: name, Role: store.RoleUser}
	require.NoError(t, st.CreateUser(context.Background(), &u))
	return u
}

func TestUsersAreUnique(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	newUser(t, st, "alice")
	err := st.CreateUser(ctx, &store.User{Name: "alice", Role: store.RoleUser})
	require.ErrorIs(t, err, fault.ErrConflict)
	_, err = st.UserByName(ctx, "bob")
	require.ErrorIs(t, err, fault.ErrNotFound)
}

func TestProcessStateMachine(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	alice, bob := newUser(t, st, "alice"), newUser(t, st, "bob")
	mk := func() store.Process {
		p := store.Process{ID: uuid.NewString(), OwnerID: alice.ID, Kind: store.KindRecording}
		require.NoError(t, st.CreateProcess(ctx, &p))
		return p
	}

	tests := []struct {
		name string
		run  func(t *testing.T, p store.Process)
	}{
		{"start then finish", func(t *testing.T, p store.Process) {
			require.NoError(t, st.StartProcess(ctx, p.ID))
			require.ErrorIs(t, st.StartProcess(ctx, p.ID), fault.ErrConflict, "a running process cannot start again")
			require.NoError(t, st.FinishProcess(ctx, p.ID, store.StateProcessed, "", "sha256:abc"))
			got, err := st.ProcessOf(ctx, alice.ID, p.ID)
			require.NoError(t, err)
			require.Equal(t, store.StateProcessed, got.State)
			require.Equal(t, "sha256:abc", got.OutputDigest)
			require.NotNil(t, got.FinishedAt)
			require.ErrorIs(t, st.FinishProcess(ctx, p.ID, store.StateFailed, "x", ""), fault.ErrConflict, "an ended process stays ended")
		}},
		{"cancel queued ends it", func(t *testing.T, p store.Process) {
			got, err := st.RequestCancel(ctx, alice.ID, p.ID, "by alice")
			require.NoError(t, err)
			require.Equal(t, store.StateCancelled, got.State)
			require.ErrorIs(t, st.StartProcess(ctx, p.ID), fault.ErrConflict, "a cancelled process never starts")
		}},
		{"cancel running flags it", func(t *testing.T, p store.Process) {
			require.NoError(t, st.StartProcess(ctx, p.ID))
			got, err := st.RequestCancel(ctx, alice.ID, p.ID, "by alice")
			require.NoError(t, err)
			require.Equal(t, store.StateRunning, got.State)
			requested, err := st.Heartbeat(ctx, p.ID)
			require.NoError(t, err)
			require.True(t, requested)
		}},
		{"cancel ended conflicts", func(t *testing.T, p store.Process) {
			require.NoError(t, st.FinishProcess(ctx, p.ID, store.StateFailed, "boom", ""))
			_, err := st.RequestCancel(ctx, alice.ID, p.ID, "late")
			require.ErrorIs(t, err, fault.ErrConflict)
		}},
		{"another owner sees nothing", func(t *testing.T, p store.Process) {
			_, err := st.ProcessOf(ctx, bob.ID, p.ID)
			require.ErrorIs(t, err, fault.ErrNotFound)
			_, err = st.RequestCancel(ctx, bob.ID, p.ID, "bob")
			require.ErrorIs(t, err, fault.ErrNotFound)
		}},
		{"unknown id", func(t *testing.T, _ store.Process) {
			err := st.StartProcess(ctx, uuid.NewString())
			require.True(t, errors.Is(err, fault.ErrNotFound), "got %v", err)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, mk()) })
	}
}

func TestListProcessesFiltersAndPages(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	u := newUser(t, st, "carol")
	tag := "t"
	for i := range 5 {
		p := store.Process{ID: uuid.NewString(), OwnerID: u.ID, Kind: store.KindReplay}
		if i%2 == 0 {
			p.Tag = &tag
		}
		require.NoError(t, st.CreateProcess(ctx, &p))
		time.Sleep(2 * time.Millisecond)
	}
	all, total, err := st.ListProcesses(ctx, store.ProcessFilter{OwnerID: u.ID, Limit: 2})
	require.NoError(t, err)
	require.EqualValues(t, 5, total)
	require.Len(t, all, 2)
	require.True(t, !all[0].CreatedAt.Before(all[1].CreatedAt), "newest first")
	tagged, total, err := st.ListProcesses(ctx, store.ProcessFilter{OwnerID: u.ID, Tag: &tag, Limit: 10})
	require.NoError(t, err)
	require.EqualValues(t, 3, total)
	require.Len(t, tagged, 3)
	queued := store.StateQueued
	_, total, err = st.ListProcesses(ctx, store.ProcessFilter{OwnerID: u.ID, State: &queued, Limit: 10, Offset: 4})
	require.NoError(t, err)
	require.EqualValues(t, 5, total)
}
