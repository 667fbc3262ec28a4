package tests

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/store"
)

// killTree is a tar.gz of n small C files, each SPDX-tagged MIT with one of
// 20 copyright lines: enough files for the scan to be killed mid-way.
func killTree(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for i := range n {
		body := fmt.Appendf(nil, "// SPDX-License-Identifier: MIT\n// Copyright %d Example Corp\n%s\n", 2000+i%20, bytes.Repeat([]byte("int x; "), 300))
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("big/f%05d.c", i), Mode: 0o644, Size: int64(len(body))}))
		_, err := tw.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

// TestFossologyKillDuringScan kills `reehub serve` with SIGKILL while a scan
// job runs and starts it again on the same data directory and database: the
// job resumes by itself and completes once, its results are complete and
// have no duplicate rows, and its webhook is delivered exactly once.
func TestFossologyKillDuringScan(t *testing.T) {
	const files = 6000
	var mu sync.Mutex
	var hooks []string
	hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	db := freshDBOrEmpty(t)
	in, err := startInstance(instanceOpts{name: "foss-kill-" + randomHex(3), database: db,
		extraEnv: []string{"REEHUB_UPLOAD_ALLOWED_HOSTS=" + strings.TrimPrefix(hook.URL, "http://")}})
	require.NoError(t, err)
	defer in.stop()
	e := &fossEnv{in: in, hc: &http.Client{Transport: &validatingTransport{base: http.DefaultTransport, router: specRouter(t)}}}
	auth := e.token(t, "admin", in.password, "write")
	h := map[string]string{"Authorization": auth}

	up := created(t, e.uploadFile(t, auth, 1, "big.tar.gz", killTree(t, files), nil), 201)
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		r := e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d", up), h, nil)
		if r.status != 503 {
			require.Equal(t, 200, r.status, string(r.body))
			break
		}
		require.True(t, time.Now().Before(deadline), "upload %d still unpacking", up)
	}
	body := `{"analysis":{"nomos":true,"monk":true,"ojo":true,"copyright_email_author":true,"mimetype":true},"decider":{"ojo_decider":true},"webhook":{"url":"` + hook.URL + `/done"}}`
	job := created(t, e.do(t, "POST", "/repo/api/v1/jobs", map[string]string{"Authorization": auth, "Content-Type": "application/json",
		"folderId": "1", "uploadId": strconv.Itoa(up)}, strings.NewReader(body)), 201)
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		r := e.do(t, "GET", fmt.Sprintf("/repo/api/v1/jobs/%d", job), h, nil)
		require.Equal(t, 200, r.status)
		var j struct {
			Status string
			ETA    int `json:"eta"`
		}
		r.json(t, &j)
		require.NotEqual(t, "Completed", j.Status, "the scan ended before it could be killed")
		if j.Status == "Processing" && j.ETA > 0 {
			break // files are being scanned and stored
		}
		require.True(t, time.Now().Before(deadline), "the scan never started")
	}
	in.kill()
	require.NoError(t, in.start())

	var final map[string]any
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		r := e.do(t, "GET", fmt.Sprintf("/repo/api/v1/jobs/%d", job), h, nil)
		require.Equal(t, 200, r.status)
		r.json(t, &final)
		if final["status"] == "Completed" || final["status"] == "Failed" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the job did not end after the restart: %v", final)
	}
	require.Equal(t, "Completed", final["status"])

	// One job for the scan, listed once.
	r := e.do(t, "GET", fmt.Sprintf("/repo/api/v1/jobs?upload=%d", up), map[string]string{"Authorization": auth, "limit": "100"}, nil)
	require.Equal(t, 200, r.status)
	var jobs []struct{ ID int }
	r.json(t, &jobs)
	seen := 0
	for _, j := range jobs {
		if j.ID == job {
			seen++
		}
	}
	require.Equal(t, 1, seen, "%s", r.body)

	// Every file has its one license and the copyrights are complete.
	type fileLicenses struct {
		FilePath string
		Findings struct {
			Scanner    []string
			Conclusion []string
		}
	}
	var lic []fileLicenses
	for page := 1; ; page++ { // the list is paged, as FOSSology's is
		r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/licenses?agent=ojo&containers=false", up),
			map[string]string{"Authorization": auth, "limit": "1000", "page": strconv.Itoa(page)}, nil)
		require.Equal(t, 200, r.status)
		var got []fileLicenses
		r.json(t, &got)
		lic = append(lic, got...)
		pages, err := strconv.Atoi(r.header.Get("X-Total-Pages"))
		require.NoError(t, err)
		if page >= pages {
			break
		}
	}
	mit := 0
	for _, l := range lic {
		if strings.HasSuffix(l.FilePath, ".c") {
			require.Equal(t, []string{"MIT"}, l.Findings.Scanner, l.FilePath)
			require.Equal(t, []string{"MIT"}, l.Findings.Conclusion, "ojo_decider concluded %s", l.FilePath)
			mit++
		}
	}
	require.Equal(t, files, mit)
	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/copyrights", up), h, nil)
	require.Equal(t, 200, r.status)
	var crs []struct {
		Copyright string
		FilePath  []string
	}
	r.json(t, &crs)
	require.Len(t, crs, 20)
	total := 0
	for _, c := range crs {
		total += len(c.FilePath)
	}
	require.Equal(t, files, total, "each file's copyright once")

	// The webhook is sent once, for the completed job.
	time.Sleep(3 * time.Second)
	mu.Lock()
	require.Len(t, hooks, 1, "%v", hooks)
	require.Contains(t, hooks[0], `"status":"Completed"`)
	mu.Unlock()

	// No duplicate rows: the findings in the database, read after a stop.
	in.stop()
	cfg := store.Config{SQLitePath: filepath.Join(in.dataDir, "reehub.db"), PostgresURL: db}
	if db != "" {
		cfg.SQLitePath = ""
	}
	st, err := store.Open(context.Background(), cfg)
	require.NoError(t, err)
	defer st.Close()
	rows, err := st.FossologyFindings(context.Background(), int64(up))
	require.NoError(t, err)
	keys := map[string]int{}
	byAgent := map[string]int{}
	for _, f := range rows {
		k := fmt.Sprintf("%s|%s|%s|%s|%d", f.Agent, f.Type, f.Path, f.Value, f.StartLine)
		keys[k]++
		require.Equal(t, 1, keys[k], "duplicate finding %s", k)
		byAgent[f.Agent+"/"+f.Type]++
	}
	require.Equal(t, files, byAgent["ojo/license"], "%v", byAgent)
	require.Equal(t, files, byAgent["copyright_email_author/copyright"], "%v", byAgent)
	decisions, err := st.FossologyDecisions(context.Background(), int64(up))
	require.NoError(t, err)
	require.Len(t, decisions, files)
	require.NoError(t, in.start()) // for the deferred stop
}
