package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// TestAdminListener starts reehub with REEHUB_ADMIN_ADDR: the admin listener
// serves /metrics without authentication, with the metric families of
// docs/operations.md once a recording ran, and pprof; the main listener
// serves no pprof (404) and /metrics to admins only (401 without
// credentials, 403 for a user or an admin's token without the admin scope).
func TestAdminListener(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	port, err := freePort()
	require.NoError(t, err)
	adminURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	in, err := startInstance(instanceOpts{name: "admin-listener", extraEnv: []string{fmt.Sprintf("REEHUB_ADMIN_ADDR=127.0.0.1:%d", port)}})
	require.NoError(t, err)
	t.Cleanup(in.stop)
	root := admin(t, in)

	// Work for the metrics to count: requests, and a recording (a job with
	// steps, a build behind the proxy, blobs).
	_, st := record(t, root, project(t, "FROM python_3_11\nRUN echo metrics > /m.txt\n"))
	require.Equal(t, client.ReeProcessStateProcessed, st.Status, deref(st.Reason))

	get := func(url string, auth func(*http.Request)) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		require.NoError(t, err)
		if auth != nil {
			auth(req)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	// The admin listener: /metrics for anyone, in the Prometheus text format.
	status, body := get(adminURL+"/metrics", nil)
	require.Equal(t, 200, status, body)
	// The text format declares each family once: "# TYPE name type".
	families := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			families[f[2]] = f[3]
		}
	}
	want := map[string]string{ // name: type, as docs/operations.md lists them
		"reehub_http_requests_total":           "counter",
		"reehub_http_request_duration_seconds": "histogram",
		"reehub_job_transitions_total":         "counter",
		"reehub_jobs":                          "gauge",
		"reehub_job_wait_seconds":              "histogram",
		"reehub_job_duration_seconds":          "histogram",
		"reehub_job_step_duration_seconds":     "histogram",
		"reehub_build_duration_seconds":        "histogram",
		"reehub_blob_bytes":                    "gauge",
		"reehub_blobs":                         "gauge",
		"reehub_database_bytes":                "gauge",
		"go_goroutines":                        "gauge",
		"process_resident_memory_bytes":        "gauge",
	}
	for name, typ := range want {
		got, ok := families[name]
		if !ok {
			t.Errorf("the admin /metrics has no %s", name)
			continue
		}
		require.Equal(t, typ, got, name)
	}
	// The recording is counted by family, kind and state, and the requests by operation.
	require.Contains(t, body, `reehub_job_transitions_total{family="ree",kind="`)
	require.Regexp(t, `reehub_job_transitions_total\{family="ree",kind="[a-z_]+",state="succeeded"\} [1-9]`, body)
	require.Regexp(t, `reehub_http_requests_total\{method="POST",operation="reeRecordingCreate",status="200"\} 1`, body)
	require.Regexp(t, `reehub_build_duration_seconds_count\{mode="record",result="ok"\} 1`, body)
	require.Regexp(t, `reehub_jobs\{family="ree",kind="[a-z_]+",queue="[a-z_]+",state="queued"\} 0`, body, "queue depth, 0 included")

	// pprof only on the admin listener.
	status, body = get(adminURL+"/debug/pprof/", nil)
	require.Equal(t, 200, status)
	require.Contains(t, body, "goroutine")
	status, body = get(adminURL+"/debug/pprof/heap?debug=1", nil)
	require.Equal(t, 200, status)
	require.Contains(t, body, "heap profile")
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=2", "/debug/pprof/cmdline"} {
		status, _ = get(in.url+path, func(r *http.Request) { r.SetBasicAuth("admin", in.password) })
		require.Equal(t, 404, status, "no pprof on the main listener, even for an admin: %s", path)
	}
	// The admin listener is not the API.
	status, _ = get(adminURL+"/api/ping", nil)
	require.Equal(t, 404, status, "the admin listener serves only metrics and pprof")

	// /metrics on the main listener: admins only.
	status, body = get(in.url+"/metrics", nil)
	require.Equal(t, 401, status, body)
	require.Contains(t, body, `"code"`, "in the error model")
	user, password := newPasswordUser(t, in)
	status, _ = get(in.url+"/metrics", func(r *http.Request) { r.SetBasicAuth(user, password) })
	require.Equal(t, 403, status, "a user who is not an admin")
	tok, err := root.AccountCreateTokenWithResponse(ctx, client.AccountNewToken{Name: "no-admin-scope", Scopes: []client.AccountScope{"read", "write"}})
	require.NoError(t, err)
	require.Equal(t, 201, tok.StatusCode(), string(tok.Body))
	status, _ = get(in.url+"/metrics", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.JSON201.Token) })
	require.Equal(t, 403, status, "an admin's token without the admin scope")
	status, body = get(in.url+"/metrics", func(r *http.Request) { r.SetBasicAuth("admin", in.password) })
	require.Equal(t, 200, status)
	require.Contains(t, body, "# TYPE reehub_http_requests_total counter")
}
