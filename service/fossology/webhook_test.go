package fossology_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/service/fossology"
	"github.com/reehub/reehub/service/fossology/fetch"
	"github.com/reehub/reehub/service/fossology/fossologytest"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
	"github.com/reehub/reehub/store/storetest"
)

// startHooked is start with webhooks allowed to reach allowed (a loopback
// host:port) and retried after 100 ms.
func startHooked(t *testing.T, cfg store.Config, dir, allowed string) *instance {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := job.New(st, blobs, log, job.Config{DataDir: dir, PollInterval: 50 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond,
		StaleAfter: 5 * time.Second, Queues: map[string]job.QueueConfig{job.QueueScans: {MaxWorkers: 1}}})
	require.NoError(t, err)
	hosts, err := fetch.ParseAllowList(allowed)
	require.NoError(t, err)
	svc, err := fossology.New(st, blobs, eng, log, fossology.Config{DataDir: dir, Fetch: fetch.Policy{Allowed: hosts},
		WebhookBackoff: 100 * time.Millisecond, WebhookTimeout: 5 * time.Second})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	return &instance{store: st, engine: eng, svc: svc}
}

// TestWebhookOnceAcrossInstances: two reehub instances on one Postgres
// database both deliver due webhooks; each delivery is claimed through the
// database, so the receiver gets every attempt exactly once: the first
// (answered 503) and its one retry, never a copy from the other instance.
func TestWebhookOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	if os.Getenv("REEHUB_TEST_DATABASE_URL") == "" {
		t.Skip("needs Postgres (REEHUB_TEST_DATABASE_URL): several instances share one database only there")
	}
	var mu sync.Mutex
	var hits []string
	var at []time.Time
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, string(b))
		at = append(at, time.Now())
		n := len(hits)
		mu.Unlock()
		time.Sleep(300 * time.Millisecond) // both instances see the delivery due meanwhile
		if n == 1 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	}))
	defer hook.Close()
	dir := t.TempDir()
	cfg := storetest.Config(t, "postgres", dir, "reehub_foss")
	host := strings.TrimPrefix(hook.URL, "http://")
	a := startHooked(t, cfg, dir, host)
	defer a.stop(t)
	b := startHooked(t, cfg, dir, host)
	defer b.stop(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, in := range []*instance{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); in.svc.RunWebhooks(ctx, 10*time.Millisecond) }()
	}
	defer func() { cancel(); wg.Wait() }()

	alice := caller(t, a.store, "alice")
	id := upload(t, a, alice, fossologytest.Name, fossologytest.Archive(t))
	jobID, _, err := a.svc.ScheduleJobs(context.Background(), alice, store.TopFolderID, id,
		fossology.ScanOptions{Analysis: fossology.Analysis{Ojo: true}}, &fossology.Webhook{URL: hook.URL + "/done", Secret: "s3cret"})
	require.NoError(t, err)
	require.Equal(t, fossology.JobCompleted, waitJob(t, a, alice, jobID).Status)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(hits)
		mu.Unlock()
		if n >= 2 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the webhook was not retried: %d deliveries", n)
	}
	time.Sleep(2 * time.Second) // time for a duplicate to arrive, if any were sent
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, hits, 2, "one first attempt and one retry, each sent by one instance")
	require.GreaterOrEqual(t, at[1].Sub(at[0]), 300*time.Millisecond,
		"the retry comes after the first attempt was answered, not as a copy sent by the other instance meanwhile")
	require.Contains(t, hits[1], `"status":"Completed"`)
}
