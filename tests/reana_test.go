package tests

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// The REANA family end to end: the real binary on real Podman, every response
// validated against openapi.yaml, each call made the way reana-client 0.9.x
// makes it (access_token in the query, the reana.yaml as the JSON body of
// create, /-prefixed upload names, raw downloads with real slashes, stop and
// delete through PUT .../status).

const reanaQuota = 8 << 20

var (
	reanaOnce sync.Once
	// reanaOrigin is the HTTPS upstream of the network steps.
	reanaOrigin *tlsOrigin
	reanaIn     *instance
	reanaErr    error
)

// reanaInstance is an instance of its own (its own database), with a disk quota.
func reanaInstance(t *testing.T) *instance {
	t.Helper()
	reanaOnce.Do(func() {
		db := ""
		if base := os.Getenv("REEHUB_TEST_DATABASE_URL"); base != "" {
			if db, reanaErr = freshDatabase(base); reanaErr != nil {
				return
			}
		}
		// An HTTPS upstream signed by a CA of its own, trusted through
		// REEHUB_UPSTREAM_CA_FILE: a network step's proxy must trust it too.
		dir, err := os.MkdirTemp("", "reehub-reana-origin-")
		if err != nil {
			reanaErr = err
			return
		}
		if reanaOrigin, reanaErr = startTLSOrigin(dir); reanaErr != nil {
			return
		}
		reanaIn, reanaErr = startInstance(instanceOpts{name: "reana", database: db,
			extraEnv: []string{fmt.Sprintf("REEHUB_REANA_QUOTA_BYTES=%d", reanaQuota), "REEHUB_UPSTREAM_CA_FILE=" + reanaOrigin.caFile}})
	})
	require.NoError(t, reanaErr)
	return reanaIn
}

// rclient calls the REANA API as reana-client does: the token in access_token.
type rclient struct {
	t     *testing.T
	base  string
	token string
	hc    *http.Client
}

func newRClient(t *testing.T, in *instance, token string) *rclient {
	base := &reanaTransport{base: http.DefaultTransport, router: reanaServerRouter(t)}
	return &rclient{t: t, base: in.url, token: token, hc: &http.Client{Transport: &validatingTransport{base: base, router: specRouter(t)}}}
}

// reanaServerJSON is where reana-commons' reana_server.json is read from: the
// file REEHUB_REANA_SERVER_JSON names, else testdata/reana_server-0.9.4.json
// (reana-commons 0.9.11's file, committed; testdata/README.md names its commit).
func reanaServerJSON() string {
	if p := os.Getenv("REEHUB_REANA_SERVER_JSON"); p != "" {
		return p
	}
	return "testdata/reana_server-0.9.4.json"
}

var (
	reanaDocOnce sync.Once
	reanaDoc     *openapi3.T
	reanaDocErr  error
)

// reanaServerRouter routes to the operations of reana-commons' reana_server.json
// (0.9.4, in reana-commons 0.9.11), the document reana-client's bravado
// validates every response against.
func reanaServerRouter(t *testing.T) routers.Router {
	t.Helper()
	_, err := os.Stat(reanaServerJSON())
	require.NoError(t, err, "reana_server.json (see reanaServerJSON)")
	reanaDocOnce.Do(func() {
		raw, err := os.ReadFile(reanaServerJSON())
		if err != nil {
			reanaDocErr = err
			return
		}
		var v2 openapi2.T
		if reanaDocErr = json.Unmarshal(raw, &v2); reanaDocErr != nil {
			return
		}
		reanaDoc, reanaDocErr = openapi2conv.ToV3(&v2)
	})
	require.NoError(t, reanaDocErr)
	doc := *reanaDoc
	doc.Servers = openapi3.Servers{{URL: "/"}}
	r, err := gorillamux.NewRouter(&doc)
	require.NoError(t, err)
	for _, p := range []string{"/api/you", "/api/workflows/a.1/status", "/api/workflows/a.1/workspace/results%2Fx.txt"} {
		probe, _ := http.NewRequest("GET", p, nil)
		_, _, err := r.FindRoute(probe)
		require.NoError(t, err, "reana_server.json routes %s", p)
	}
	return r
}

// reanaTransport checks every successful response of an operation of
// reana_server.json against that document, as bravado does: the status must
// be declared and the JSON body must match its schema (x-nullable included).
type reanaTransport struct {
	base   http.RoundTripper
	router routers.Router
}

func (v *reanaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.base.RoundTrip(req)
	if err != nil || resp.StatusCode >= 300 || resp.StatusCode == http.StatusPartialContent {
		return resp, err // reana-client sends no Range; errors it reads itself (message)
	}
	probe := req.Clone(req.Context())
	probe.URL.Host, probe.Host, probe.URL.Scheme = "", "", ""
	route, params, err := v.router.FindRoute(probe)
	if err != nil {
		return resp, nil // not a REANA operation (reehub's additions)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/json" {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		input.SetBodyBytes(body)
	} else {
		input.Options.ExcludeResponseBody = true
		input.Body = io.NopCloser(bytes.NewReader(nil))
	}
	if err := openapi3filter.ValidateResponse(req.Context(), input); err != nil {
		return nil, fmt.Errorf("%s %s -> %d violates reana_server.json: %w", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp, nil
}

// do sends a request; query holds the parameters besides access_token.
func (c *rclient) do(method, path string, query url.Values, contentType string, body io.Reader) (*http.Response, []byte) {
	c.t.Helper()
	if query == nil {
		query = url.Values{}
	}
	query.Set("access_token", c.token)
	req, err := http.NewRequest(method, c.base+path+"?"+query.Encode(), body)
	require.NoError(c.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp, b
}

// json sends a JSON body (or none) and decodes a JSON answer into out, requiring status.
func (c *rclient) json(method, path string, query url.Values, in any, status int, out any) []byte {
	c.t.Helper()
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(c.t, err)
		body, ct = bytes.NewReader(b), "application/json"
	}
	resp, b := c.do(method, path, query, ct, body)
	require.Equal(c.t, status, resp.StatusCode, "%s %s: %s", method, path, b)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(b, out), string(b))
	}
	return b
}

type rStatus struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	Logs     string `json:"logs"`
	Progress struct {
		Total           struct{ Total int } `json:"total"`
		Finished        struct{ Total int } `json:"finished"`
		Failed          struct{ Total int } `json:"failed"`
		Cached          struct{ Total int } `json:"cached"`
		CurrentStepName *string             `json:"current_step_name"`
		CurrentCommand  *string             `json:"current_command"`
		RunStartedAt    *string             `json:"run_started_at"`
		RunFinishedAt   *string             `json:"run_finished_at"`
	} `json:"progress"`
}

func (c *rclient) status(wf string) rStatus {
	c.t.Helper()
	var st rStatus
	c.json("GET", "/api/workflows/"+wf+"/status", nil, nil, 200, &st)
	return st
}

// waitStatus polls until the workflow reaches one of the statuses.
func (c *rclient) waitStatus(wf string, want ...string) rStatus {
	c.t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		st := c.status(wf)
		for _, w := range want {
			if st.Status == w {
				return st
			}
		}
		require.True(c.t, time.Now().Before(deadline), "workflow %s stayed %s (want %v): %s", wf, st.Status, want, st.Logs)
		time.Sleep(300 * time.Millisecond)
	}
}

func (c *rclient) create(name string, spec map[string]any) string {
	c.t.Helper()
	var out struct {
		WorkflowID   string `json:"workflow_id"`
		WorkflowName string `json:"workflow_name"`
		Message      string `json:"message"`
	}
	c.json("POST", "/api/workflows", url.Values{"workflow_name": {name}}, spec, 201, &out)
	require.NotEmpty(c.t, out.WorkflowID)
	require.True(c.t, strings.HasPrefix(out.WorkflowName, name+"."), out.WorkflowName)
	return out.WorkflowName
}

func (c *rclient) upload(wf, name string, content []byte) {
	c.t.Helper()
	resp, b := c.do("POST", "/api/workflows/"+wf+"/workspace", url.Values{"file_name": {name}}, "application/octet-stream", bytes.NewReader(content))
	require.Equal(c.t, 200, resp.StatusCode, string(b))
}

func (c *rclient) start(wf string, params map[string]any, options map[string]any) {
	c.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	if options == nil {
		options = map[string]any{}
	}
	c.json("POST", "/api/workflows/"+wf+"/start", nil, map[string]any{"input_parameters": params, "operational_options": options}, 200, nil)
}

// restart restarts wf as reana-client restart does (restart: true) and
// returns the new run's name as the client makes it: workflow_name "."
// run_number.
func (c *rclient) restart(wf string, options map[string]any) string {
	c.t.Helper()
	var out struct {
		WorkflowName string `json:"workflow_name"`
		RunNumber    string `json:"run_number"`
	}
	c.json("POST", "/api/workflows/"+wf+"/start", nil, map[string]any{"input_parameters": map[string]any{}, "operational_options": options, "restart": true}, 200, &out)
	return out.WorkflowName + "." + out.RunNumber
}

// logs returns the decoded `logs` string of GET .../logs.
func (c *rclient) logs(wf string) (string, map[string]map[string]any) {
	c.t.Helper()
	var out struct {
		Logs string `json:"logs"`
	}
	c.json("GET", "/api/workflows/"+wf+"/logs", nil, nil, 200, &out)
	var doc struct {
		WorkflowLogs string                    `json:"workflow_logs"`
		JobLogs      map[string]map[string]any `json:"job_logs"`
	}
	require.NoError(c.t, json.Unmarshal([]byte(out.Logs), &doc), out.Logs)
	return doc.WorkflowLogs, doc.JobLogs
}

func serialSpec(params map[string]any, files []string, outputs []string, steps ...map[string]any) map[string]any {
	if files == nil {
		files = []string{}
	}
	if outputs == nil {
		outputs = []string{}
	}
	if steps == nil {
		steps = []map[string]any{}
	}
	return map[string]any{
		"version":  "0.9.0",
		"inputs":   map[string]any{"files": files, "parameters": params},
		"outputs":  map[string]any{"files": outputs},
		"workflow": map[string]any{"type": "serial", "specification": map[string]any{"steps": steps}},
	}
}

func step(name, env string, commands ...string) map[string]any {
	return map[string]any{"name": name, "environment": env, "commands": commands}
}

// reanaUser creates a user through POST /api/users as the admin and returns a client with their token.
func reanaUser(t *testing.T, in *instance, email string) *rclient {
	t.Helper()
	adm := newClient(t, in, basic("admin", in.password))
	req, err := http.NewRequest("POST", in.url+"/api/users?"+url.Values{"email": {email}}.Encode(), nil)
	require.NoError(t, err)
	req.SetBasicAuth("admin", in.password)
	resp, err := adm.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, 201, resp.StatusCode, string(b))
	require.NoError(t, json.Unmarshal(b, &out))
	return newRClient(t, in, out.AccessToken)
}

func noContainers(t *testing.T, label string) {
	t.Helper()
	out, err := exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "ps", "-a", "-q", "--filter", "label="+label).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Empty(t, strings.TrimSpace(string(out)), "containers left with label %s", label)
}

const gatherPy = "import sys\nfor i in range(int(sys.argv[1])):\n    print(i + 1)\n"

func analysisSpec() map[string]any {
	return serialSpec(map[string]any{"events": 3}, []string{"code/gather.py"}, []string{"results/summary.txt"},
		step("gather", "python_3_11", "mkdir -p results && python3 code/gather.py $events > results/data.txt", "printenv MY_TOKEN", "cat /etc/reana/secrets/netrc"),
		step("summarise", "python_3_11", `python3 -c 'print(sum(int(l) for l in open("results/data.txt")))' > results/summary.txt`),
	)
}

func TestReanaHappyPath(t *testing.T) {
	in := reanaInstance(t)
	c := reanaUser(t, in, "jane@example.org")

	// ping: GET /api/you; a bad token is 403 there.
	var you struct {
		Email string `json:"email"`
	}
	c.json("GET", "/api/you", nil, nil, 200, &you)
	require.Equal(t, "jane@example.org", you.Email)
	bad := newRClient(t, in, "not-a-token-at-all")
	bad.json("GET", "/api/you", nil, nil, 403, nil)
	var info map[string]struct {
		Value any `json:"value"`
	}
	c.json("GET", "/api/info", nil, nil, 200, &info)
	require.Equal(t, []any{"kubernetes"}, info["compute_backends"].Value)

	// A secret the first step prints: it must appear in no log.
	secret := "s3cr3t-" + randomHex(6)
	c.json("POST", "/api/secrets/", nil, map[string]any{"MY_TOKEN": map[string]any{
		"name": "MY_TOKEN", "value": base64.StdEncoding.EncodeToString([]byte(secret)), "type": "env"}}, 201, nil)
	fileSecret := "machine example.org password f1le-" + randomHex(6)
	c.json("POST", "/api/secrets/", nil, map[string]any{"netrc": map[string]any{
		"name": "netrc", "value": base64.StdEncoding.EncodeToString([]byte(fileSecret)), "type": "file"}}, 201, nil)
	c.json("POST", "/api/secrets/", nil, map[string]any{"netrc": map[string]any{
		"name": "netrc", "value": base64.StdEncoding.EncodeToString([]byte("x")), "type": "file"}}, 409, nil)
	var secrets []map[string]string
	c.json("GET", "/api/secrets", nil, nil, 200, &secrets)
	require.Equal(t, []map[string]string{{"name": "MY_TOKEN", "type": "env"}, {"name": "netrc", "type": "file"}}, secrets)
	var missing []string
	c.json("DELETE", "/api/secrets/", nil, []string{"NOPE"}, 404, &missing)
	require.Equal(t, []string{"NOPE"}, missing)

	wf := c.create("analysis", analysisSpec())
	require.Equal(t, "analysis.1", wf)
	var spec struct {
		Specification struct {
			Inputs struct {
				Files []string `json:"files"`
			} `json:"inputs"`
		} `json:"specification"`
	}
	c.json("GET", "/api/workflows/"+wf+"/specification", nil, nil, 200, &spec)
	require.Equal(t, []string{"code/gather.py"}, spec.Specification.Inputs.Files)
	c.upload(wf, "/code/gather.py", []byte(gatherPy))
	var ls struct {
		Items []struct {
			Name string              `json:"name"`
			Size struct{ Raw int64 } `json:"size"`
		} `json:"items"`
	}
	c.json("GET", "/api/workflows/"+wf+"/workspace", url.Values{"page": {"1"}}, nil, 200, &ls)
	require.Len(t, ls.Items, 1)
	require.Equal(t, "code/gather.py", ls.Items[0].Name)
	require.Equal(t, int64(len(gatherPy)), ls.Items[0].Size.Raw)

	var params struct {
		Parameters map[string]any `json:"parameters"`
	}
	c.json("GET", "/api/workflows/"+wf+"/parameters", nil, nil, 200, &params)
	require.Equal(t, "3", params.Parameters["events"])
	c.start(wf, map[string]any{"events": "4"}, nil)
	c.json("POST", "/api/workflows/"+wf+"/start", nil, map[string]any{}, 409, nil) // not twice
	st := c.waitStatus(wf, "finished", "failed")
	require.Equal(t, "finished", st.Status, st.Logs)
	require.Equal(t, 2, st.Progress.Total.Total)
	require.Equal(t, 2, st.Progress.Finished.Total)
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`, *st.Progress.RunFinishedAt)

	wlog, jobs := c.logs(wf)
	require.Len(t, jobs, 2)
	allowed := map[string]bool{"workflow_uuid": true, "job_name": true, "compute_backend": true, "backend_job_id": true,
		"docker_img": true, "cmd": true, "status": true, "logs": true, "started_at": true, "finished_at": true}
	all := wlog
	for _, j := range jobs {
		for k, v := range j {
			require.True(t, allowed[k] || v == nil || v == "", "job log key %s would break reana-client", k)
		}
		require.Equal(t, "finished", j["status"])
		all += j["logs"].(string)
	}
	require.Contains(t, all, "[secret MY_TOKEN]")
	require.Contains(t, all, "[secret netrc]")
	require.NotContains(t, all, secret)
	require.NotContains(t, all, "f1le-")
	// Nor is any secret stored in clear in the data directory's database.
	db, err := os.ReadFile(in.dataDir + "/reehub.db")
	if err == nil {
		require.NotContains(t, string(db), secret)
	}

	// download as reana-client does: real slashes, file_name repeated, Content-Disposition's base name.
	resp, body := c.do("GET", "/api/workflows/"+wf+"/workspace/results/summary.txt", url.Values{"file_name": {"results/summary.txt"}}, "", nil)
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.Equal(t, "10\n", string(body)) // 1+2+3+4: the overridden parameter
	require.Equal(t, `attachment; filename="summary.txt"`, resp.Header.Get("Content-Disposition"))
	req, _ := http.NewRequest("GET", in.url+"/api/workflows/"+wf+"/workspace/results%2Fdata.txt?access_token="+url.QueryEscape(c.token), nil)
	req.Header.Set("Range", "bytes=0-1")
	rr, err := c.hc.Do(req)
	require.NoError(t, err)
	part, _ := io.ReadAll(rr.Body)
	rr.Body.Close()
	require.Equal(t, 206, rr.StatusCode)
	require.Equal(t, "1\n", string(part))
	resp, body = c.do("GET", "/api/workflows/"+wf+"/workspace/results", nil, "", nil)
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.Equal(t, "application/zip", resp.Header.Get("Content-Type"))
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	require.ElementsMatch(t, []string{"data.txt", "summary.txt"}, names)

	// Listing with the client's filters.
	var list struct {
		Items []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"items"`
	}
	c.json("GET", "/api/workflows", url.Values{"type": {"batch"}, "verbose": {"false"}, "page": {"1"},
		"status": {"created,running,finished,failed,stopped,queued,pending"}, "include_progress": {"true"}, "include_workspace_size": {"true"}}, nil, 200, &list)
	require.Equal(t, "analysis.1", list.Items[0].Name)

	// du (a GET with a JSON body, as reana-client sends it) and mv.
	var du struct {
		DiskUsageInfo []struct {
			Name string              `json:"name"`
			Size struct{ Raw int64 } `json:"size"`
		} `json:"disk_usage_info"`
	}
	c.json("GET", "/api/workflows/"+wf+"/disk_usage", nil, map[string]any{"summarize": true, "search": ""}, 200, &du)
	require.Len(t, du.DiskUsageInfo, 1)
	require.Equal(t, int64(len(gatherPy)+len("1\n2\n3\n4\n")+len("10\n")), du.DiskUsageInfo[0].Size.Raw)
	c.json("PUT", "/api/workflows/move_files/"+wf, url.Values{"source": {"results/summary.txt"}, "target": {"final/summary.txt"}}, nil, 200, nil)
	resp, body = c.do("GET", "/api/workflows/"+wf+"/workspace/final/summary.txt", nil, "", nil)
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.Equal(t, "10\n", string(body))

	// The seed's user administration: GET /api/users by email, POST with a chosen token.
	var users []map[string]string
	adm := newRClient(t, in, "")
	req, _ = http.NewRequest("GET", in.url+"/api/users?email=jane%40example.org", nil)
	req.SetBasicAuth("admin", in.password)
	ur, err := adm.hc.Do(req)
	require.NoError(t, err)
	ub, _ := io.ReadAll(ur.Body)
	ur.Body.Close()
	require.Equal(t, 200, ur.StatusCode, string(ub))
	require.NoError(t, json.Unmarshal(ub, &users))
	require.Len(t, users, 1)
	require.Equal(t, "jane@example.org", users[0]["email"])
	chosen := "chosen-token-" + randomHex(8)
	req, _ = http.NewRequest("POST", in.url+"/api/users?"+url.Values{"email": {"kai@example.org"}, "user_token": {chosen}}.Encode(), nil)
	req.SetBasicAuth("admin", in.password)
	ur, err = adm.hc.Do(req)
	require.NoError(t, err)
	ur.Body.Close()
	require.Equal(t, 201, ur.StatusCode)
	newRClient(t, in, chosen).json("GET", "/api/you", nil, nil, 200, &you)
	require.Equal(t, "kai@example.org", you.Email)
	c.json("POST", "/api/users", url.Values{"email": {"x@example.org"}}, nil, 403, nil) // not an admin

	// Another user sees none of it.
	other := reanaUser(t, in, "joe@example.org")
	other.json("GET", "/api/workflows/"+wf+"/status", nil, nil, 404, nil)
	other.json("GET", "/api/workflows/"+st.ID+"/workspace", nil, nil, 404, nil)
	resp, _ = other.do("GET", "/api/workflows/"+st.ID+"/workspace/results/summary.txt", nil, "", nil)
	require.Equal(t, 404, resp.StatusCode)

	// Delete through bravado's form (%2F), then the workflow with its workspace.
	var del struct {
		Deleted map[string]any `json:"deleted"`
	}
	c.json("DELETE", "/api/workflows/"+wf+"/workspace/results%2Fdata.txt", nil, nil, 200, &del)
	require.Contains(t, del.Deleted, "results/data.txt")
	c.json("PUT", "/api/workflows/"+wf+"/status", url.Values{"status": {"deleted"}}, map[string]any{"all_runs": false, "workspace": true}, 200, nil)
	require.Equal(t, "deleted", c.status(wf).Status)
	c.json("GET", "/api/workflows/"+wf+"/workspace", nil, nil, 404, nil)
	noContainers(t, "io.reehub.reana.workflow="+st.ID)
}

func TestReanaFailureRestartAndCache(t *testing.T) {
	in := reanaInstance(t)
	c := reanaUser(t, in, "ann@example.org")
	spec := serialSpec(map[string]any{}, nil, []string{"out/b.txt"},
		step("first", "python_3_11", "mkdir -p out && echo one > out/a.txt"),
		step("second", "python_3_11", "cat input.txt > out/b.txt && cat out/a.txt >> out/b.txt"),
	)
	wf := c.create("restart", spec)
	c.start(wf, nil, nil)
	st := c.waitStatus(wf, "finished", "failed")
	require.Equal(t, "failed", st.Status)
	require.Contains(t, st.Logs, `step "second" failed`)
	require.Contains(t, st.Logs, "cat input.txt > out/b.txt")
	require.Contains(t, st.Logs, "exited with code 1")
	require.Contains(t, st.Logs, "No such file or directory")
	wlog, _ := c.logs(wf)
	require.Contains(t, wlog, "step second: failed with exit code 1")

	// Fix the input and restart from the failed step, as reana-client restart
	// does: the restart is a new run restart.1.1 in the same workspace, and
	// the first step is not run again.
	c.upload(wf, "input.txt", []byte("fixed\n"))
	re := c.restart(wf, map[string]any{"FROM": "second"})
	require.Equal(t, "restart.1.1", re)
	st = c.waitStatus(re, "finished", "failed")
	require.Equal(t, "finished", st.Status, st.Logs)
	require.Equal(t, "failed", c.status(wf).Status, "restart.1 stays the failed run")
	require.Equal(t, "finished", c.status("restart").Status, "the name alone is the latest restart")
	wlog, _ = c.logs(re)
	require.Contains(t, wlog, "step second: started")
	require.NotContains(t, wlog, "step first: started")
	_, jobs := c.logs(re)
	require.Len(t, jobs, 2, "the kept first step is shown with the restart")
	resp, body := c.do("GET", "/api/workflows/"+re+"/workspace/out/b.txt", nil, "", nil)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "fixed\none\n", string(body))
	// Another restart of restart.1 is restart.1.2; the list shows every run.
	require.Equal(t, "restart.1.2", c.restart(wf, map[string]any{"TARGET": "first"}))
	require.Equal(t, "finished", c.waitStatus("restart.1.2", "finished", "failed").Status)
	var list struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	c.json("GET", "/api/workflows", url.Values{"type": {"batch"}, "search": {"restart"}}, nil, 200, &list)
	var names []string
	for _, it := range list.Items {
		names = append(names, it.Name)
	}
	require.ElementsMatch(t, []string{"restart.1", "restart.1.1", "restart.1.2"}, names)

	// CACHE=on: a second run with unchanged inputs skips both steps and restores their outputs.
	cached := serialSpec(map[string]any{}, nil, nil,
		step("make", "python_3_11", "mkdir -p out && date +%s%N > out/stamp.txt"),
		step("copy", "python_3_11", "cp out/stamp.txt out/copy.txt"),
	)
	w1 := c.create("cached", cached)
	c.upload(w1, "in.txt", []byte("same\n"))
	c.start(w1, nil, map[string]any{"CACHE": "on"})
	require.Equal(t, "finished", c.waitStatus(w1, "finished", "failed").Status)
	_, first := c.do("GET", "/api/workflows/"+w1+"/workspace/out/copy.txt", nil, "", nil)
	w2 := c.create("cached", cached)
	require.Equal(t, "cached.2", w2)
	c.upload(w2, "in.txt", []byte("same\n"))
	c.start(w2, nil, map[string]any{"CACHE": "on"})
	st = c.waitStatus(w2, "finished", "failed")
	require.Equal(t, "finished", st.Status, st.Logs)
	require.Equal(t, 2, st.Progress.Cached.Total)
	wlog, _ = c.logs(w2)
	require.Contains(t, wlog, "step make: cached")
	require.Contains(t, wlog, "step copy: cached")
	_, second := c.do("GET", "/api/workflows/"+w2+"/workspace/out/copy.txt", nil, "", nil)
	require.Equal(t, string(first), string(second), "the cached output is restored, not recomputed")
	// A changed input runs the steps again.
	w3 := c.create("cached", cached)
	c.upload(w3, "in.txt", []byte("changed\n"))
	c.start(w3, nil, map[string]any{"CACHE": "on"})
	st = c.waitStatus(w3, "finished", "failed")
	require.Equal(t, 0, st.Progress.Cached.Total)
}

func TestReanaStop(t *testing.T) {
	in := reanaInstance(t)
	c := reanaUser(t, in, "sam@example.org")
	wf := c.create("sleeper", serialSpec(map[string]any{}, nil, nil, step("nap", "python_3_11", "echo napping && sleep 300")))
	c.start(wf, nil, nil)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st := c.status(wf)
		if st.Status == "running" && st.Progress.CurrentCommand != nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "never running: %+v", st)
		time.Sleep(200 * time.Millisecond)
	}
	// Live logs while the step runs.
	require.Eventually(t, func() bool {
		_, jobs := c.logs(wf)
		for _, j := range jobs {
			if strings.Contains(fmt.Sprint(j["logs"]), "napping") {
				return true
			}
		}
		return false
	}, time.Minute, 300*time.Millisecond)
	start := time.Now()
	c.json("PUT", "/api/workflows/"+wf+"/status", url.Values{"status": {"stop"}}, map[string]any{"force_stop": true}, 200, nil)
	require.Less(t, time.Since(start), 15*time.Second)
	st := c.status(wf)
	require.Equal(t, "stopped", st.Status)
	noContainers(t, "io.reehub.reana.workflow="+st.ID)
	c.json("PUT", "/api/workflows/"+wf+"/status", url.Values{"status": {"stop"}}, map[string]any{"force_stop": true}, 409, nil)
	// REANA restarts finished and failed runs only (reana-server _start_workflow).
	var e struct {
		Message string `json:"message"`
	}
	c.json("POST", "/api/workflows/"+wf+"/start", nil, map[string]any{"restart": true, "input_parameters": map[string]any{}, "operational_options": map[string]any{}}, 409, &e)
	require.Contains(t, e.Message, "Only finished or failed workflows can be restarted.")
}

func TestReanaRefusals(t *testing.T) {
	in := reanaInstance(t)
	c := reanaUser(t, in, "bob@example.org")
	var e struct {
		Message string `json:"message"`
	}
	for _, tc := range []struct {
		spec map[string]any
		want string
	}{
		{serialSpec(map[string]any{}, nil, nil), "step"},
		{map[string]any{"workflow": map[string]any{"type": "cwl", "file": "main.cwl"}}, "serial"},
		{serialSpec(map[string]any{}, nil, nil, step("a", "no-such-image:1.0", "true")), "no-such-image:1.0"},
		{serialSpec(map[string]any{}, nil, nil, map[string]any{"name": "a", "environment": "python_3_11", "commands": []string{}}), "command"},
		{serialSpec(map[string]any{}, nil, nil, map[string]any{"name": "net", "environment": "python_3_11", "commands": []string{"true"}, "network": "yes"}), "network"},
		{serialSpec(map[string]any{}, nil, nil, step("a", "python_3_11", "echo $undefined")), "undefined"},
	} {
		c.json("POST", "/api/workflows", url.Values{"workflow_name": {"bad"}}, tc.spec, 400, &e)
		require.Contains(t, e.Message, tc.want)
	}
	wf := c.create("files", serialSpec(map[string]any{}, nil, nil, step("a", "python_3_11", "true")))
	for _, name := range []string{"../escape.txt", "/../../etc/passwd", "a/../../b"} {
		resp, b := c.do("POST", "/api/workflows/"+wf+"/workspace", url.Values{"file_name": {name}}, "application/octet-stream", strings.NewReader("x"))
		require.Equal(t, 400, resp.StatusCode, "%s: %s", name, b)
	}
	resp, _ := c.do("GET", "/api/workflows/"+wf+"/workspace/..%2F..%2Fetc%2Fpasswd", nil, "", nil)
	require.Contains(t, []int{400, 404}, resp.StatusCode)
	// The quota: an upload that would exceed it is 413 and leaves nothing.
	resp, b := c.do("POST", "/api/workflows/"+wf+"/workspace", url.Values{"file_name": {"big.bin"}}, "application/octet-stream", bytes.NewReader(make([]byte, reanaQuota+1)))
	require.Equal(t, 413, resp.StatusCode, string(b))
	require.NoError(t, json.Unmarshal(b, &e))
	require.Contains(t, e.Message, "quota")
	var ls struct {
		Total int `json:"total"`
	}
	c.json("GET", "/api/workflows/"+wf+"/workspace", nil, nil, 200, &ls)
	require.Equal(t, 0, ls.Total)
	// A step that takes the owner over the quota fails the run, saying so.
	fat := c.create("fat", serialSpec(map[string]any{}, nil, nil, step("fill", "python_3_11", fmt.Sprintf("head -c %d /dev/zero > fill.bin", reanaQuota+1))))
	c.start(fat, nil, nil)
	fs := c.waitStatus(fat, "finished", "failed")
	require.Equal(t, "failed", fs.Status)
	require.Contains(t, fs.Logs, "disk quota")
	c.json("PUT", "/api/workflows/"+fat+"/status", url.Values{"status": {"deleted"}}, map[string]any{"workspace": true}, 200, nil)

	// The seed's spec form and PUT .../status?status=start.
	var created struct {
		WorkflowName string `json:"workflow_name"`
	}
	yamlSpec := "workflow:\n  type: serial\n  specification:\n    steps:\n      - environment: python_3_11\n        commands: [\"echo seed > seed.txt\"]\n"
	c.json("POST", "/api/workflows", url.Values{"workflow_name": {"seed"}, "spec": {yamlSpec}}, nil, 201, &created)
	c.json("PUT", "/api/workflows/"+created.WorkflowName+"/status", url.Values{"status": {"start"}}, map[string]any{}, 200, nil)
	require.Equal(t, "finished", c.waitStatus(created.WorkflowName, "finished", "failed").Status)
	c.json("PUT", "/api/workflows/"+created.WorkflowName+"/status", url.Values{"status": {"start"}}, map[string]any{}, 409, &e)
}

// TestReanaKillDuringStep kills reehub (SIGKILL) while the second step runs:
// after the restart the workflow resumes at that step (the first is not run
// again), the killed attempt's container is removed, and it finishes.
func TestReanaKillDuringStep(t *testing.T) {
	in, err := startInstance(instanceOpts{name: "reana-kill-" + randomHex(3), database: freshDBOrEmpty(t)})
	require.NoError(t, err)
	defer in.stop()
	c := reanaUser(t, in, "kim@example.org")
	wf := c.create("resume", serialSpec(map[string]any{}, nil, nil,
		step("first", "python_3_11", "echo run >> first-runs.txt"),
		step("second", "python_3_11", "echo second started && sleep 6 && echo done > second.txt"),
	))
	c.start(wf, nil, nil)
	var id string
	require.Eventually(t, func() bool {
		st := c.status(wf)
		id = st.ID
		return st.Progress.CurrentStepName != nil && *st.Progress.CurrentStepName == "second" && st.Progress.CurrentCommand != nil
	}, 2*time.Minute, 200*time.Millisecond)
	require.Eventually(t, func() bool {
		out, _ := exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "ps", "-q", "--filter", "label=io.reehub.reana.workflow="+id).Output()
		return strings.TrimSpace(string(out)) != ""
	}, time.Minute, 200*time.Millisecond)
	in.kill()
	out, err := exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "ps", "-a", "-q", "--filter", "label=io.reehub.reana.workflow="+id).Output()
	require.NoError(t, err)
	require.NotEmpty(t, strings.TrimSpace(string(out)), "the killed step's container is left for recovery to find")
	require.NoError(t, in.start())
	st := c.waitStatus(wf, "finished", "failed")
	require.Equal(t, "finished", st.Status, st.Logs)
	_, runs := c.do("GET", "/api/workflows/"+wf+"/workspace/first-runs.txt", nil, "", nil)
	require.Equal(t, "run\n", string(runs), "the first step ran once")
	_, done := c.do("GET", "/api/workflows/"+wf+"/workspace/second.txt", nil, "", nil)
	require.Equal(t, "done\n", string(done))
	noContainers(t, "io.reehub.reana.workflow="+id)
}

// roCrateContext reads the RO-Crate 1.1 JSON-LD context's terms from the file
// REEHUB_ROCRATE_CONTEXT names, else testdata/ro-crate-1.1-context.jsonld
// (ResearchObject/ro-crate docs/_specification/1.1/context.jsonld, committed;
// testdata/README.md names its commit).
func roCrateContext(t *testing.T) map[string]any {
	p := os.Getenv("REEHUB_ROCRATE_CONTEXT")
	if p == "" {
		p = "testdata/ro-crate-1.1-context.jsonld"
	}
	b, err := os.ReadFile(p)
	require.NoError(t, err, "the RO-Crate 1.1 context")
	var doc struct {
		Context map[string]any `json:"@context"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.NotEmpty(t, doc.Context)
	return doc.Context
}

func TestReanaCrate(t *testing.T) {
	in := reanaInstance(t)
	c := reanaUser(t, in, "cro@example.org")
	spec := analysisSpec()
	steps := spec["workflow"].(map[string]any)["specification"].(map[string]any)["steps"].([]map[string]any)
	steps[0]["commands"] = []string{"mkdir -p results && python3 code/gather.py $events > results/data.txt"}
	wf := c.create("crated", spec)
	c.json("GET", "/api/workflows/"+wf+"/ro-crate.zip", nil, nil, 409, nil) // not run yet
	c.upload(wf, "/code/gather.py", []byte(gatherPy))
	c.start(wf, map[string]any{"events": "5"}, nil)
	require.Equal(t, "finished", c.waitStatus(wf, "finished", "failed").Status)

	resp, body := c.do("GET", "/api/workflows/"+wf+"/ro-crate.zip", nil, "", nil)
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.Equal(t, `attachment; filename="crated.1-ro-crate.zip"`, resp.Header.Get("Content-Disposition"))
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	require.Contains(t, files, "ro-crate-metadata.json")
	require.Contains(t, files, "reana.yaml")
	require.Equal(t, gatherPy, string(files["code/gather.py"]))
	require.Equal(t, "15\n", string(files["results/summary.txt"]))

	var meta struct {
		Context []any            `json:"@context"`
		Graph   []map[string]any `json:"@graph"`
	}
	require.NoError(t, json.Unmarshal(files["ro-crate-metadata.json"], &meta))
	require.Equal(t, "https://w3id.org/ro/crate/1.1/context", meta.Context[0])
	local := meta.Context[1].(map[string]any)
	byID := map[string]map[string]any{}
	for _, e := range meta.Graph {
		byID[e["@id"].(string)] = e
	}
	// Every term is RO-Crate 1.1's or one the crate's own context defines.
	if terms := roCrateContext(t); terms != nil {
		defined := func(k string) bool { _, a := terms[k]; _, b := local[k]; return a || b }
		for _, e := range meta.Graph {
			for k, v := range e {
				if strings.HasPrefix(k, "@") {
					if k == "@type" {
						types, ok := v.([]any)
						if !ok {
							types = []any{v}
						}
						for _, ty := range types {
							require.True(t, defined(ty.(string)), "type %s of %s is not defined", ty, e["@id"])
						}
					}
					continue
				}
				require.True(t, defined(k), "term %s of %s is not defined by the RO-Crate 1.1 context", k, e["@id"])
			}
		}
	}
	root := byID["./"]
	require.Contains(t, fmt.Sprint(root["conformsTo"]), "https://w3id.org/ro/wfrun/workflow/0.5")
	require.Equal(t, map[string]any{"@id": "reana.yaml"}, root["mainEntity"])
	sum := sha256Hex(files["results/summary.txt"])
	require.Equal(t, sum, byID["results/summary.txt"]["sha256"])
	require.Equal(t, sha256Hex([]byte(gatherPy)), byID["code/gather.py"]["sha256"])
	var stepRuns int
	for _, e := range meta.Graph {
		if e["@type"] == "CreateAction" && strings.HasPrefix(e["@id"].(string), "#steprun-") {
			stepRuns++
			require.EqualValues(t, 0, e["exitCode"])
			require.NotEmpty(t, e["startTime"])
			require.NotEmpty(t, e["endTime"])
			img := byID[e["containerImage"].(map[string]any)["@id"].(string)]
			require.Equal(t, "ContainerImage", img["@type"])
			require.Regexp(t, `^[0-9a-f]{64}$`, img["sha256"])
			require.Contains(t, e["description"], "python3")
		}
	}
	require.Equal(t, 2, stepRuns)

	// Re-run the crate: its inputs and parameters reproduce the output.
	resp, b := c.do("POST", "/api/workflows", url.Values{"workflow_name": {"again"}}, "application/zip", bytes.NewReader(body))
	require.Equal(t, 201, resp.StatusCode, string(b))
	var created struct {
		WorkflowName string `json:"workflow_name"`
	}
	require.NoError(t, json.Unmarshal(b, &created))
	c.start(created.WorkflowName, nil, nil)
	require.Equal(t, "finished", c.waitStatus(created.WorkflowName, "finished", "failed").Status)
	var st struct {
		OutputsMatch map[string]bool `json:"outputs_match"`
	}
	c.json("GET", "/api/workflows/"+created.WorkflowName+"/status", nil, nil, 200, &st)
	require.Equal(t, map[string]bool{"results/summary.txt": true}, st.OutputsMatch)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestReanaProcessEnvironment: a step's environment may name a REE process's
// image. A replay's image is released once its output is packaged; the
// workflow loads it back from the replay's image.oci.tar and runs in it. A
// recording's released image (a defined REE holds no image) and another
// user's process are refused at creation, naming them.
func TestReanaProcessEnvironment(t *testing.T) {
	in := reanaInstance(t)
	c := reanaUser(t, in, "ree@example.org")
	ree := newClient(t, in, bearer(c.token))
	rec, st := record(t, ree, project(t, "FROM debian_bookworm\nRUN echo hello from the REE > /greeting\n"))
	require.Equal(t, client.ReeProcessStateProcessed, st.Status, deref(st.Reason))
	rid, rst := replay(t, ree, "/api/replay/create", download(t, ree, rec))
	require.Equal(t, client.ReeProcessStateProcessed, rst.Status, deref(rst.Reason))
	require.False(t, imageExists(rid), "the replay's image is released once packaged")

	wf := c.create("ree-env", serialSpec(map[string]any{}, nil, []string{"out.txt"},
		step("greet", "reehub/"+rid.String(), "cat /greeting > out.txt")))
	require.True(t, imageExists(rid), "creation loaded the image back from the replay's output")
	// Release it again (as garbage collection would): the step loads it back once more.
	out, err := exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "rmi", "localhost/reehub/"+rid.String()).CombinedOutput()
	require.NoError(t, err, string(out))
	c.start(wf, nil, nil)
	s := c.waitStatus(wf, "finished", "failed")
	require.Equal(t, "finished", s.Status, s.Logs)
	resp, body := c.do("GET", "/api/workflows/"+wf+"/workspace/out.txt", nil, "", nil)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "hello from the REE\n", string(body))

	var e struct {
		Message string `json:"message"`
	}
	c.json("POST", "/api/workflows", url.Values{"workflow_name": {"rec-env"}}, serialSpec(map[string]any{}, nil, nil,
		step("greet", rec.String(), "cat /greeting")), 400, &e)
	require.Contains(t, e.Message, "was released")
	require.Contains(t, e.Message, "replay it")
	other := reanaUser(t, in, "other-ree@example.org")
	other.json("POST", "/api/workflows", url.Values{"workflow_name": {"theirs"}}, serialSpec(map[string]any{}, nil, nil,
		step("greet", "localhost/reehub/"+rid.String(), "cat /greeting")), 400, &e)
	require.Contains(t, e.Message, "is unknown", "another user's process image is not theirs to use")
}

// TestReanaNetworkStep: a step with reehub's `network: true` reaches the
// network only through the recording proxy, on real Podman: its download is
// recorded into the workspace, and a restart replays it after the upstream
// is gone. A step without it has no network at all.
func TestReanaNetworkStep(t *testing.T) {
	in := reanaInstance(t)
	c := reanaUser(t, in, "net@example.org")
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "payload of "+r.URL.Path+"\n")
	}))
	get := `python3 -c "import sys, urllib.request; open(sys.argv[2], 'wb').write(urllib.request.urlopen(sys.argv[1], timeout=10).read())" `
	download := step("download", "python_3_11", get+upstream.URL+"/data.txt data.txt", get+reanaOrigin.URL+"/hello.txt hello.txt")
	download["network"] = true
	wf := c.create("net", serialSpec(map[string]any{}, nil, []string{"data.txt"}, download))
	c.start(wf, nil, nil)
	st := c.waitStatus(wf, "finished", "failed")
	require.Equal(t, "finished", st.Status, st.Logs)
	_, body := c.do("GET", "/api/workflows/"+wf+"/workspace/data.txt", nil, "", nil)
	require.Equal(t, "payload of /data.txt\n", string(body))
	_, body = c.do("GET", "/api/workflows/"+wf+"/workspace/hello.txt", nil, "", nil)
	require.Equal(t, originBody, string(body), "an HTTPS upstream the proxy trusts through REEHUB_UPSTREAM_CA_FILE")
	resp, idx := c.do("GET", "/api/workflows/"+wf+"/workspace/.reehub/network/download/index.json", nil, "", nil)
	require.Equal(t, 200, resp.StatusCode, string(idx))
	require.Contains(t, string(idx), "/data.txt")
	wlog, _ := c.logs(wf)
	require.Contains(t, wlog, "2 recorded")

	upstream.Close()
	c.upload(wf, "data.txt", []byte("overwritten\n"))
	re := c.restart(wf, map[string]any{})
	st = c.waitStatus(re, "finished", "failed")
	require.Equal(t, "finished", st.Status, st.Logs)
	_, body = c.do("GET", "/api/workflows/"+re+"/workspace/data.txt", nil, "", nil)
	require.Equal(t, "payload of /data.txt\n", string(body), "replayed from the recording with the upstream gone")
	wlog, _ = c.logs(re)
	require.Contains(t, wlog, "2 replayed")

	offline := c.create("offline", serialSpec(map[string]any{}, nil, nil, step("try", "python_3_11", get+"http://1.1.1.1/ x.txt")))
	c.start(offline, nil, nil)
	st = c.waitStatus(offline, "finished", "failed")
	require.Equal(t, "failed", st.Status, "a step without network: true has no network")
	out, err := exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "network", "ls", "-q", "--filter", "name=reehub-wf-").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Empty(t, strings.TrimSpace(string(out)), "no step network is left")
}

// mkImagePy writes a one-layer OCI archive (hello.txt) to argv[1], as a
// step that assembles an image would.
const mkImagePy = `import hashlib, io, json, sys, tarfile
def digest(b): return "sha256:" + hashlib.sha256(b).hexdigest()
def add(t, name, b):
    ti = tarfile.TarInfo(name); ti.size = len(b); t.addfile(ti, io.BytesIO(b))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    add(t, "hello.txt", b"built by a workflow step\n")
layer = buf.getvalue()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(cfg), "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(layer), "size": len(layer)}]}).encode()
idx = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(man), "size": len(man)}]}).encode()
with tarfile.open(sys.argv[1], "w") as t:
    add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add(t, "index.json", idx)
    for b in (layer, cfg, man):
        add(t, "blobs/sha256/" + hashlib.sha256(b).hexdigest(), b)
`

// TestReanaStepImage: an image archive a step writes and marks with the step
// key images is registered in the image registry once the step succeeds:
// an implicit docker-image of the workflow's owner with the step's
// provenance and an SBOM, served at /v1 and /v2/.
func TestReanaStepImage(t *testing.T) {
	ctx := context.Background()
	in := reanaInstance(t)
	c := reanaUser(t, in, "img@example.org")
	build := step("build", "python_3_11", "python3 code/mkimage.py out/image.tar")
	build["images"] = []string{"out/image.tar"}
	spec := serialSpec(map[string]any{}, []string{"code/mkimage.py"}, []string{"out/image.tar"}, step("prepare", "python_3_11", "mkdir -p out"), build)
	wf := c.create("imgstep", spec)
	c.upload(wf, "code/mkimage.py", []byte(mkImagePy))
	c.start(wf, nil, nil)
	st := c.waitStatus(wf, "finished", "failed")
	require.Equal(t, "finished", st.Status, st.Logs)
	wlog, _ := c.logs(wf)
	require.Contains(t, wlog, "registered image out/image.tar as registry-")

	v := newClient(t, in, bearer(c.token))
	list, err := v.ViceImageListWithResponse(ctx, &client.ViceImageListParams{Q: ptrTo("imgstep")})
	require.NoError(t, err)
	require.Equal(t, 200, list.StatusCode(), string(list.Body))
	require.Len(t, *list.JSON200, 1)
	im := (*list.JSON200)[0]
	require.Equal(t, "imgstep.1 build: out/image.tar", *im.Title)
	require.Equal(t, client.ViceImageImagetypeImplicit, *im.Imagetype)
	require.True(t, *im.Imported)
	prov := (*im.Specifics)["provenance"].(map[string]any)
	require.Equal(t, "build", prov["step"])
	require.Equal(t, "imgstep.1", prov["workflow"])
	require.Equal(t, []any{"python3 code/mkimage.py out/image.tar"}, prov["commands"])
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, prov["image_id"])
	require.Contains(t, prov["input_digests"], "code/mkimage.py")
	require.Regexp(t, `^sha256:`, prov["base_images"].(map[string]any)["python_3_11"])
	sb, err := v.ViceImageSbomWithResponse(ctx, *im.Id)
	require.NoError(t, err)
	require.Equal(t, 200, sb.StatusCode(), string(sb.Body))
	mreq, _ := http.NewRequest("GET", in.url+"/v2/"+*im.Id+"/manifests/latest", nil)
	mreq.Header.Set("Authorization", "Bearer "+c.token)
	mreq.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	mresp, err := http.DefaultClient.Do(mreq)
	require.NoError(t, err)
	mresp.Body.Close()
	require.Equal(t, 200, mresp.StatusCode, "published at /v2/")
}
