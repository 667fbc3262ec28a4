package job_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/storetest"
)

// TestStrandedFetchIsRequeued: a fetch of River's producer that locked a job
// (River marked it running) but whose result the producer never got leaves
// the job queued in the engine with no attempt. The bench saw this at load
// 90: a replay stayed queued for 30 minutes while later jobs ran, since
// River rescues a running job only after a day. Here the lost fetch is the
// fetch query run by hand (with its result dropped), with the producer's own
// polls far apart so that it does not take the job first; recovery must
// enqueue the job again and the job must then run once.
func TestStrandedFetchIsRequeued(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			cfg.PollInterval = 3 * time.Second
			b := newBundle(t, storetest.Config(t, d, dir, "reehub_job"), dir, cfg, registerTestKinds(dir, 0))
			defer b.close(t)
			ctx := context.Background()

			var stranded string
			for try := 0; try < 5 && stranded == ""; try++ {
				j, err := b.engine.Submit(ctx, stepArgs{Marks: dir}, job.SubmitOpts{OwnerID: b.owner})
				require.NoError(t, err)
				row, err := b.store.JobByID(ctx, j.ID)
				require.NoError(t, err)
				if loseFetch(t, b.store, row.RiverJobID) {
					stranded = j.ID
				} // else the producer took it first: it just runs; try again
			}
			require.NotEmpty(t, stranded, "the producer took every job before the lost fetch")

			// Without recovery the job would stay queued for a day; with it,
			// it is enqueued again after StaleAfter (1 s) and runs.
			end := b.waitFinal(t, stranded)
			require.Equal(t, job.StateSucceeded, end.State)
			require.Equal(t, 1, end.Attempt, "the stranded fetch is not an attempt")
		})
	}
}

// loseFetch does what River's fetch does to River job id (marks it running,
// attempted now) and drops the result, as a fetch that failed after its
// UPDATE took effect does. It reports whether the job was still available.
func loseFetch(t *testing.T, st *store.Store, id int64) bool {
	t.Helper()
	q := `UPDATE river_job SET state = 'running', attempt = attempt + 1, attempted_at = $1 WHERE id = $2 AND state = 'available'`
	var at any = time.Now().UTC()
	if st.Dialect() == store.SQLite {
		q = `UPDATE river_job SET state = 'running', attempt = attempt + 1, attempted_at = ? WHERE id = ? AND state = 'available'`
		at = time.Now().UTC().Format("2006-01-02 15:04:05.000") // River's SQLite time format
	}
	res, err := st.SQLDB().ExecContext(context.Background(), q, at, id)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	return n == 1
}
