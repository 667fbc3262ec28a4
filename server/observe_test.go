package server_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/metrics"
	"github.com/reehub/reehub/server"
	"github.com/reehub/reehub/service/auth"
)

// series returns the value of the series name{labels} in a Prometheus text
// scrape (labels must match exactly those given, in any order), and whether
// it is there.
func series(t *testing.T, scrape, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	labelRe := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
	for _, line := range strings.Split(scrape, "\n") {
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		got := map[string]string{}
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			require.Positive(t, end, line)
			for _, m := range labelRe.FindAllStringSubmatch(rest[1:end], -1) {
				got[m[1]] = m[2]
			}
			rest = rest[end+1:]
		} else if !strings.HasPrefix(rest, " ") {
			continue // a longer name with this prefix
		}
		if len(got) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			match = match && got[k] == v
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		require.NoError(t, err, line)
		return v, true
	}
	return 0, false
}

func (h *harness) scrape(t *testing.T) string {
	t.Helper()
	r := h.do(t, req{method: "GET", path: "/metrics", auth: h.admin(), unchecked: true})
	require.Equal(t, 200, r.StatusCode, string(r.body))
	require.Contains(t, r.Header.Get("Content-Type"), "text/plain")
	return string(r.body)
}

// TestMetricsAndRequestIDs drives real requests and a job (a recording that
// fails on the fake Podman) and reads /metrics before and after: the request
// counters by operationId and status, the job transitions, wait and step
// times, and the queue gauges change by what happened. /metrics is for admins
// only; the request id of the submitting request is in the response, the
// access log and the job's log.
func TestMetricsAndRequestIDs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{metrics: metrics.New()})
	ctx := context.Background()

	// Only admins (and only with the admin scope) read the metrics.
	require.Equal(t, 401, h.do(t, req{method: "GET", path: "/metrics", unchecked: true}).StatusCode)
	admin, err := h.auth.Basic(ctx, "admin", h.password)
	require.NoError(t, err)
	_, err = h.auth.CreateUser(ctx, admin, auth.NewUser{Name: "bob", Password: "bob-password-1"})
	require.NoError(t, err)
	bob := func(r *http.Request) { r.SetBasicAuth("bob", "bob-password-1") }
	r := h.do(t, req{method: "GET", path: "/metrics", auth: bob, unchecked: true})
	require.Equal(t, 403, r.StatusCode, string(r.body))
	require.Equal(t, 403, h.do(t, req{method: "GET", path: "/metrics", auth: bearer(h.token(t, auth.ScopeRead)), unchecked: true}).StatusCode)
	require.Equal(t, 200, h.do(t, req{method: "GET", path: "/metrics", auth: bearer(h.token(t, auth.ScopeAdmin)), unchecked: true}).StatusCode)

	before := h.scrape(t)
	ping := map[string]string{"operation": "systemPing", "method": "GET", "status": "200"}
	pings0, _ := series(t, before, "reehub_http_requests_total", ping)
	for range 3 {
		require.Equal(t, 200, h.do(t, req{method: "GET", path: "/api/ping"}).StatusCode)
	}
	// A 404 is counted under "unmatched", not under its path.
	require.Equal(t, 404, h.do(t, req{method: "GET", path: "/no/such/path"}).StatusCode)
	// Bob's 403 above is counted under the route of /metrics.
	forbidden, ok := series(t, before, "reehub_http_requests_total", map[string]string{"operation": "/metrics", "method": "GET", "status": "403"})
	require.True(t, ok, before)
	require.Equal(t, 2.0, forbidden)

	// A job submitted with a request id carries it into its log.
	body, ct := multipartForm(t, projectZip(t, "FROM python_3_11\nRUN true\n"), "tag", "metrics")
	sub := h.do(t, req{method: "POST", path: "/api/recording/create", body: body, contentType: ct, auth: h.admin(), header: map[string]string{server.RequestIDHeader: "client-req:42"}})
	require.Equal(t, 200, sub.StatusCode, string(sub.body))
	require.Equal(t, "client-req:42", sub.Header.Get(server.RequestIDHeader))
	id := regexp.MustCompile(`"uuid":"([0-9a-f-]+)"`).FindStringSubmatch(string(sub.body))[1]
	require.Equal(t, "failed", waitEnded(t, h, id))
	logRes := h.do(t, req{method: "GET", path: "/api/process/log/" + id, auth: h.admin()})
	require.Equal(t, 200, logRes.StatusCode)
	require.True(t, strings.HasPrefix(string(logRes.body), "reehub: submitted by request client-req:42\n"), string(logRes.body))

	after := h.scrape(t)
	pings1, ok := series(t, after, "reehub_http_requests_total", ping)
	require.True(t, ok, after)
	require.Equal(t, pings0+3, pings1)
	n, ok := series(t, after, "reehub_http_requests_total", map[string]string{"operation": "unmatched", "method": "GET", "status": "404"})
	require.True(t, ok)
	require.Equal(t, 1.0, n)
	n, ok = series(t, after, "reehub_http_request_duration_seconds_count", map[string]string{"operation": "reeRecordingCreate", "status": "200"})
	require.True(t, ok, after)
	require.Equal(t, 1.0, n)
	require.NotContains(t, after, "/no/such/path")

	kind := regexp.MustCompile(`reehub_job_transitions_total\{family="ree",kind="([a-z_.]+)",state="queued"\}`).FindStringSubmatch(after)
	require.NotNil(t, kind, after)
	for _, state := range []string{"queued", "running", "failed"} {
		n, ok := series(t, after, "reehub_job_transitions_total", map[string]string{"family": "ree", "kind": kind[1], "state": state})
		require.True(t, ok, state)
		require.Equal(t, 1.0, n, state)
	}
	_, ok = series(t, after, "reehub_job_transitions_total", map[string]string{"family": "ree", "kind": kind[1], "state": "succeeded"})
	require.False(t, ok, "nothing succeeded")
	n, ok = series(t, after, "reehub_job_wait_seconds_count", map[string]string{"family": "ree", "kind": kind[1], "queue": "builds"})
	require.True(t, ok, after)
	require.Equal(t, 1.0, n)
	n, ok = series(t, after, "reehub_job_duration_seconds_count", map[string]string{"family": "ree", "kind": kind[1], "state": "failed"})
	require.True(t, ok, after)
	require.Equal(t, 1.0, n)
	// Labels come sorted by name: family, kind, state, step.
	require.Regexp(t, `reehub_job_step_duration_seconds_count\{family="ree",kind="`+regexp.QuoteMeta(kind[1])+`",state="failed",step="[a-z_-]+"\} 1`, after)
	n, ok = series(t, after, "reehub_scrape_errors_total", map[string]string{"group": "reehub_jobs"})
	require.True(t, ok)
	require.Zero(t, n)
	// The queue is empty again; the gauge is there for every kind, at 0.
	for _, state := range []string{"queued", "running"} {
		n, ok = series(t, after, "reehub_jobs", map[string]string{"family": "ree", "kind": kind[1], "queue": "builds", "state": state})
		require.True(t, ok, after)
		require.Zero(t, n)
	}
	// The storage gauges (read once a minute: their values are the first
	// scrape's) are there although the fake Podman lists no images.
	_, ok = series(t, after, "reehub_blobs", map[string]string{})
	require.True(t, ok, after)
	n, ok = series(t, after, "reehub_database_bytes", map[string]string{})
	require.True(t, ok, after)
	require.Positive(t, n)
	require.Contains(t, after, `reehub_blob_bytes{kind="logs"}`)
	require.NotContains(t, after, "reehub_image_bytes ")
	require.Contains(t, after, "go_goroutines")

	// The access log line of the submission.
	logs := h.log.String()
	line := ""
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "msg=request") && strings.Contains(l, "request_id=client-req:42") {
			line = l
		}
	}
	require.NotEmpty(t, line, logs)
	for _, want := range []string{"method=POST", "route=reeRecordingCreate", "status=200", "principal=admin", "url=/api/recording/create", "duration="} {
		require.Contains(t, line, want)
	}
	require.Regexp(t, `bytes=[1-9]`, line)
}

// TestRequestIDValidation: a well-formed X-Request-Id is kept, anything else
// (too long, spaces, control characters) is replaced by a generated UUID, and
// a request without one gets one; the access token of a query never reaches
// the log.
func TestRequestIDValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	uuidRe := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for _, tc := range []struct {
		in   string
		keep bool
	}{
		{"", false},
		{"abc-DEF_1.2:3", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"has space", false},
		{"semi;colon", false},
		{"quote\"", false},
	} {
		hdr := map[string]string{}
		if tc.in != "" {
			hdr[server.RequestIDHeader] = tc.in
		}
		r := h.do(t, req{method: "GET", path: "/api/ping", header: hdr})
		got := r.Header.Get(server.RequestIDHeader)
		if tc.keep {
			require.Equal(t, tc.in, got)
		} else {
			require.Regexp(t, uuidRe, got, "%q", tc.in)
		}
	}
	// Errors carry it too.
	r := h.do(t, req{method: "GET", path: "/api/process/status/not-a-uuid", auth: h.admin(), header: map[string]string{server.RequestIDHeader: "err-1"}})
	require.Equal(t, 400, r.StatusCode)
	require.Equal(t, "err-1", r.Header.Get(server.RequestIDHeader))
	// No /metrics without a registry.
	require.Equal(t, 404, h.do(t, req{method: "GET", path: "/metrics", auth: h.admin()}).StatusCode)

	tok := h.token(t, auth.ScopeRead)
	require.Equal(t, 200, h.do(t, req{method: "GET", path: "/api/you?access_token=" + tok, header: map[string]string{server.RequestIDHeader: "tok-1"}}).StatusCode)
	logs := h.log.String()
	require.NotContains(t, logs, tok)
	require.Regexp(t, `msg=request .*route=reanaYou .*principal=admin .*request_id=tok-1`, logs)
}
