package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

func TestWorkflowsRunsAndSteps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := open(t)
	a, b := newUser(t, st, "ann"), newUser(t, st, "bob")
	run, err := st.NextWorkflowRun(ctx, a.ID, "analysis")
	require.NoError(t, err)
	require.Equal(t, 1, run)
	mk := func(id string, owner int64, run int) {
		w := store.Workflow{ID: id, OwnerID: owner, Name: "analysis", Run: run, Spec: "{}", Workspace: "/ws/" + id}
		require.NoError(t, st.CreateWorkflow(ctx, &w, []store.WorkflowStep{
			{WorkflowID: id, Position: 0, Name: "one", Status: "created"},
			{WorkflowID: id, Position: 1, Name: "two", Status: "created"},
		}))
	}
	mk("11111111-1111-4111-8111-111111111111", a.ID, 1)
	mk("22222222-2222-4222-8222-222222222222", a.ID, 2)
	mk("33333333-3333-4333-8333-333333333333", b.ID, 1)
	err = st.CreateWorkflow(ctx, &store.Workflow{ID: "44444444-4444-4444-8444-444444444444", OwnerID: a.ID, Name: "analysis", Run: 2, Spec: "{}", Workspace: "/x"}, nil)
	require.ErrorIs(t, err, fault.ErrConflict, "a run number is taken once per owner and name")
	run, err = st.NextWorkflowRun(ctx, a.ID, "analysis")
	require.NoError(t, err)
	require.Equal(t, 3, run)

	latest, err := st.WorkflowByName(ctx, a.ID, "analysis", 0, 0)
	require.NoError(t, err)
	require.Equal(t, 2, latest.Run)

	// Restarts, as reana-db numbers them: analysis.1.1, analysis.1.2 share run 1.
	_, err = st.NextRestartRun(ctx, a.ID, "analysis", 7)
	require.ErrorIs(t, err, fault.ErrNotFound, "no run 7 to restart")
	for want, id := range []string{"55555555-5555-4555-8555-555555555555", "66666666-6666-4666-8666-666666666666"} {
		minor, err := st.NextRestartRun(ctx, a.ID, "analysis", 1)
		require.NoError(t, err)
		require.Equal(t, want+1, minor)
		require.NoError(t, st.CreateWorkflow(ctx, &store.Workflow{ID: id, OwnerID: a.ID, Name: "analysis", Run: 1, RunMinor: minor, Spec: "{}", Workspace: "/ws/1"}, nil))
	}
	err = st.CreateWorkflow(ctx, &store.Workflow{ID: "77777777-7777-4777-8777-777777777777", OwnerID: a.ID, Name: "analysis", Run: 1, RunMinor: 2, Spec: "{}", Workspace: "/x"}, nil)
	require.ErrorIs(t, err, fault.ErrConflict, "a restart number is taken once per run")
	run, err = st.NextWorkflowRun(ctx, a.ID, "analysis")
	require.NoError(t, err)
	require.Equal(t, 3, run, "restarts do not take a run number")
	one, err := st.WorkflowByName(ctx, a.ID, "analysis", 1, 0)
	require.NoError(t, err)
	require.Equal(t, "11111111-1111-4111-8111-111111111111", one.ID, "NAME.1 is run 1 itself, not its latest restart")
	r2, err := st.WorkflowByName(ctx, a.ID, "analysis", 1, 2)
	require.NoError(t, err)
	require.Equal(t, "66666666-6666-4666-8666-666666666666", r2.ID)
	_, err = st.WorkflowByName(ctx, a.ID, "analysis", 1, 3)
	require.ErrorIs(t, err, fault.ErrNotFound)
	latest, err = st.WorkflowByName(ctx, a.ID, "analysis", 0, 0)
	require.NoError(t, err)
	require.Equal(t, 2, latest.Run, "the highest run comes before the restarts of an earlier one")
	require.Zero(t, latest.RunMinor)
	_, err = st.WorkflowOf(ctx, b.ID, "11111111-1111-4111-8111-111111111111")
	require.ErrorIs(t, err, fault.ErrNotFound, "another user's workflow is not found")
	ws, err := st.Workflows(ctx, a.ID, "")
	require.NoError(t, err)
	require.Len(t, ws, 4)

	job := "job-1"
	require.NoError(t, st.UpdateWorkflow(ctx, latest.ID, store.WorkflowUpdate{JobID: &job}))
	code := 0
	require.NoError(t, st.SaveWorkflowStep(ctx, store.WorkflowStep{WorkflowID: latest.ID, Position: 0, Name: "one", Status: "finished", JobID: job, ExitCode: &code}))
	require.NoError(t, st.SaveWorkflowStep(ctx, store.WorkflowStep{WorkflowID: latest.ID, Position: 1, Name: "two", Status: "failed", JobID: job, ExitCode: &code}))
	require.NoError(t, st.ResetWorkflowSteps(ctx, latest.ID, 1, 1, "created"))
	steps, err := st.WorkflowSteps(ctx, latest.ID)
	require.NoError(t, err)
	require.Equal(t, "finished", steps[0].Status)
	require.NotNil(t, steps[0].ExitCode)
	require.Equal(t, "created", steps[1].Status)
	require.Nil(t, steps[1].ExitCode)
	require.Empty(t, steps[1].JobID)
}

func TestSecretsAndCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := open(t)
	a, b := newUser(t, st, "ann"), newUser(t, st, "bob")
	require.NoError(t, st.PutSecret(ctx, store.Secret{OwnerID: a.ID, Name: "TOKEN", Type: "env", Sealed: "c2VhbGVk"}, false))
	require.ErrorIs(t, st.PutSecret(ctx, store.Secret{OwnerID: a.ID, Name: "TOKEN", Type: "env", Sealed: "x"}, false), fault.ErrConflict)
	require.NoError(t, st.PutSecret(ctx, store.Secret{OwnerID: a.ID, Name: "TOKEN", Type: "file", Sealed: "bmV3"}, true))
	require.NoError(t, st.PutSecret(ctx, store.Secret{OwnerID: b.ID, Name: "TOKEN", Type: "env", Sealed: "Yg=="}, false))
	secs, err := st.Secrets(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, secs, 1)
	require.Equal(t, "file", secs[0].Type)
	require.Equal(t, "bmV3", secs[0].Sealed)
	n, err := st.DeleteSecrets(ctx, a.ID, []string{"TOKEN", "OTHER"})
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	secs, err = st.Secrets(ctx, b.ID)
	require.NoError(t, err)
	require.Len(t, secs, 1, "another user's secret of the same name stays")

	_, err = st.CacheEntryOf(ctx, a.ID, "k")
	require.ErrorIs(t, err, fault.ErrNotFound)
	require.NoError(t, st.PutCacheEntry(ctx, store.CacheEntry{OwnerID: a.ID, CacheKey: "k", WorkflowID: "w1", Step: "s", Outputs: `{"a":"sha256:1"}`}))
	require.NoError(t, st.PutCacheEntry(ctx, store.CacheEntry{OwnerID: a.ID, CacheKey: "k", WorkflowID: "w2", Step: "s", Outputs: `{}`}))
	e, err := st.CacheEntryOf(ctx, a.ID, "k")
	require.NoError(t, err)
	require.Equal(t, "w2", e.WorkflowID)
	_, err = st.CacheEntryOf(ctx, b.ID, "k")
	require.ErrorIs(t, err, fault.ErrNotFound, "the cache is per owner")
}
