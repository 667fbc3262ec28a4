package store_test

import (
	"context"
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
func open(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), freshConfig(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// freshConfig names a database that does not exist yet: a SQLite file, or a
// new Postgres database when REEHUB_TEST_DATABASE_URL is set.
func freshConfig(t testing.TB) store.Config {
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

func newUser(t testing.TB, st *store.Store, name string) store.User {
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

// mkJob inserts a queued job with its REE row.
func mkJob(t *testing.T, st *store.Store, ownerID int64, family, kind string, tag *string) store.Job {
	t.Helper()
	ctx := context.Background()
	j := store.Job{ID: uuid.NewString(), Family: family, Kind: kind, OwnerID: ownerID, State: "queued", MaxAttempts: 3, Args: "{}"}
	require.NoError(t, st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateJob(ctx, &j); err != nil {
			return err
		}
		if family != "ree" {
			return nil
		}
		return tx.CreateProcess(ctx, &store.Process{ID: j.ID, Tag: tag})
	}))
	return j
}

func ptr[T any](v T) *T { return &v }

// TestUpdateJobIsCompareAndSet: the store changes a job only while it is in
// one of the states the caller names; the state machine itself is the engine's.
func TestUpdateJobIsCompareAndSet(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	alice, bob := newUser(t, st, "alice"), newUser(t, st, "bob")
	j := mkJob(t, st, alice.ID, "ree", "ree_recording", nil)

	require.NoError(t, st.UpdateJob(ctx, j.ID, []string{"queued"}, store.JobUpdate{State: ptr("running"), Attempt: ptr(1)}))
	err := st.UpdateJob(ctx, j.ID, []string{"queued"}, store.JobUpdate{State: ptr("running")})
	require.ErrorIs(t, err, fault.ErrConflict, "a second worker cannot take a running job")
	now := time.Now()
	require.NoError(t, st.UpdateJob(ctx, j.ID, []string{"running"}, store.JobUpdate{State: ptr("succeeded"), FinishedAt: &now, ProgressPercent: ptr(100)}))
	got, err := st.JobOf(ctx, alice.ID, j.ID)
	require.NoError(t, err)
	require.Equal(t, "succeeded", got.State)
	require.Equal(t, 1, got.Attempt)
	require.Equal(t, 100, got.ProgressPercent)
	require.NotNil(t, got.FinishedAt)
	require.ErrorIs(t, st.UpdateJob(ctx, j.ID, []string{"queued", "running"}, store.JobUpdate{State: ptr("failed")}), fault.ErrConflict,
		"an ended job stays ended")
	_, err = st.JobOf(ctx, bob.ID, j.ID)
	require.ErrorIs(t, err, fault.ErrNotFound, "another owner sees nothing")
	require.ErrorIs(t, st.UpdateJob(ctx, uuid.NewString(), nil, store.JobUpdate{State: ptr("failed")}), fault.ErrNotFound)
}

func TestStepsAndOutputs(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	u := newUser(t, st, "dave")
	j := mkJob(t, st, u.ID, "ree", "ree_replay", nil)
	require.NoError(t, st.ReplaceJobSteps(ctx, j.ID, []store.JobStep{{JobID: j.ID, Position: 0, Name: "a", State: "pending"}, {JobID: j.ID, Position: 1, Name: "b", State: "pending"}}))
	code := 2
	require.NoError(t, st.SaveJobStep(ctx, store.JobStep{JobID: j.ID, Position: 1, Name: "b", State: "failed", ExitCode: &code, Error: "boom"}))
	steps, err := st.JobSteps(ctx, j.ID)
	require.NoError(t, err)
	require.Len(t, steps, 2)
	require.Equal(t, "a", steps[0].Name)
	require.Equal(t, "failed", steps[1].State)
	require.Equal(t, 2, *steps[1].ExitCode)
	require.NoError(t, st.PutJobOutput(ctx, store.JobOutput{JobID: j.ID, Name: "x.zip", Digest: "sha256:1", Size: 1, MediaType: "application/zip"}))
	require.NoError(t, st.PutJobOutput(ctx, store.JobOutput{JobID: j.ID, Name: "x.zip", Digest: "sha256:2", Size: 2, MediaType: "application/zip"}))
	outs, err := st.JobOutputs(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, []store.JobOutput{{JobID: j.ID, Name: "x.zip", Digest: "sha256:2", Size: 2, MediaType: "application/zip"}}, outs, "a later attempt replaces an output")
}

func TestListProcessesFiltersAndPages(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	u := newUser(t, st, "carol")
	tag := "t"
	for i := range 5 {
		var tg *string
		if i%2 == 0 {
			tg = &tag
		}
		mkJob(t, st, u.ID, "ree", "ree_replay", tg)
		time.Sleep(2 * time.Millisecond)
	}
	// Jobs of other families are no processes, whatever their kind.
	mkJob(t, st, u.ID, "fossology", "fossology_scan", nil)
	all, total, err := st.ListProcesses(ctx, store.ProcessFilter{OwnerID: u.ID, Limit: 2})
	require.NoError(t, err)
	require.EqualValues(t, 5, total)
	require.Len(t, all, 2)
	require.True(t, !all[0].CreatedAt.Before(all[1].CreatedAt), "newest first")
	require.Equal(t, "ree", all[0].Family)
	tagged, total, err := st.ListProcesses(ctx, store.ProcessFilter{OwnerID: u.ID, Tag: &tag, Limit: 10})
	require.NoError(t, err)
	require.EqualValues(t, 3, total)
	require.Len(t, tagged, 3)
	require.Equal(t, "t", *tagged[0].Tag)
	_, total, err = st.ListProcesses(ctx, store.ProcessFilter{OwnerID: u.ID, States: []string{"queued"}, Limit: 10, Offset: 4})
	require.NoError(t, err)
	require.EqualValues(t, 5, total)
	_, total, err = st.ListProcesses(ctx, store.ProcessFilter{OwnerID: u.ID, Kinds: []string{"ree_recording"}, Limit: 10})
	require.NoError(t, err)
	require.EqualValues(t, 0, total)
}
