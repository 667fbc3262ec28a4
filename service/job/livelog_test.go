package job_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store/storetest"
)

// readLog reads the whole log of job id as engine e serves it.
func readLog(t *testing.T, e *job.Engine, id string) string {
	t.Helper()
	rc, err := e.OpenLog(context.Background(), id)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

// TestLiveLogFromAnyInstance (Postgres: instances on several machines): the
// log of a job running on a worker is read live from an API-only instance
// with its own data directory (nothing on its disk), growing by appends
// (what a follower read stays a prefix); once the job ended the log is its
// blob, the same bytes plus the end, and its recorded chunks are gone.
func TestLiveLogFromAnyInstance(t *testing.T) {
	if os.Getenv("REEHUB_TEST_DATABASE_URL") == "" {
		t.Skip("needs Postgres (REEHUB_TEST_DATABASE_URL)")
	}
	apiDir, workDir, marks := t.TempDir(), t.TempDir(), t.TempDir()
	cfg := storetest.Config(t, "postgres", apiDir, "reehub_job")
	ctx := context.Background()
	apiCfg := testConfig(apiDir)
	apiCfg.APIOnly, apiCfg.Host = true, "api"
	api := newBundle(t, cfg, apiDir, apiCfg, registerTestKinds(apiDir, 1))
	defer api.close(t)
	wcfg := testConfig(workDir)
	wcfg.Host = "worker"
	w := newBundle(t, cfg, workDir, wcfg, registerTestKinds(workDir, 1))
	defer w.close(t)

	require.NoError(t, os.WriteFile(filepath.Join(marks, "block"), nil, 0o640))
	j, err := api.engine.Submit(ctx, stepArgs{Marks: marks}, job.SubmitOpts{OwnerID: api.owner})
	require.NoError(t, err)
	var live string
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(live, "step two ran\n"); time.Sleep(50 * time.Millisecond) {
		prev := live
		live = readLog(t, api.engine, j.ID)
		require.True(t, strings.HasPrefix(live, prev), "the live log only grows: %q then %q", prev, live)
		require.True(t, time.Now().Before(deadline), "the API instance never saw step two's line; it read %q", live)
	}
	cur, err := api.engine.Get(ctx, api.owner, j.ID)
	require.NoError(t, err)
	require.Equal(t, job.StateRunning, cur.State, "read while the job runs")
	require.Contains(t, live, "step one ran\n")
	require.NoFileExists(t, filepath.Join(apiDir, "logs", j.ID+".log"), "nothing of the job is on the API instance's disk")
	require.Equal(t, live, readLog(t, w.engine, j.ID), "the worker serves the same")

	_, err = api.engine.Cancel(ctx, api.owner, j.ID, "by test")
	require.NoError(t, err)
	end := api.waitFinal(t, j.ID)
	require.Equal(t, job.StateCancelled, end.State)
	// The final log is a blob (the bundles' blob directories are their own
	// here: the worker's has it).
	final := readLog(t, w.engine, j.ID)
	require.True(t, strings.HasPrefix(final, live), "the final log continues the live one: %q then %q", live, final)
	require.Contains(t, final[len(live):], "reehub: job cancelled")
	n, err := api.store.JobLogSize(ctx, j.ID)
	require.NoError(t, err)
	require.Zero(t, n, "the recorded chunks go once the log is a blob")
}
