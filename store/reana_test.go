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

	latest, err := st.WorkflowByName(ctx, a.ID, "analysis", 0)
	require.NoError(t, err)
	require.Equal(t, 2, latest.Run)
	_, err = st.WorkflowOf(ctx, b.ID, "11111111-1111-4111-8111-111111111111")
	require.ErrorIs(t, err, fault.ErrNotFound, "another user's workflow is not found")
	ws, err := st.Workflows(ctx, a.ID, "")
	require.NoError(t, err)
	require.Len(t, ws, 2)

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
