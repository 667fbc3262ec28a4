package tests

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/dep5"
	"github.com/reehub/reehub/service/fossology/fossologytest"
)

// fossEnv is a reehub instance for the FOSSology family with the servers
// its url, vcs and webhook tests reach: a file server and a git smart-HTTP
// server on loopback (on the instance's allow list), and a webhook receiver.
type fossEnv struct {
	in       *instance
	files    *httptest.Server
	git      *httptest.Server
	hook     *httptest.Server
	hookMu   sync.Mutex
	hookHits []hookHit
	hc       *http.Client
	archive  []byte
}

type hookHit struct {
	body      []byte
	signature string
}

var (
	fossOnce sync.Once
	fossE    *fossEnv
	fossErr  error
)

// fossology starts the FOSSology instance once for the tests of this file.
// close stops the FOSSology tests' instance and the servers it fetches
// from (TestMain, once every test has run).
func (e *fossEnv) close() {
	if e.in != nil {
		e.in.stop()
	}
	for _, srv := range []*httptest.Server{e.files, e.git, e.hook} {
		if srv != nil {
			srv.Close()
		}
	}
}

func fossology(t *testing.T) *fossEnv {
	t.Helper()
	fossOnce.Do(func() { fossE, fossErr = startFossEnv(t) })
	require.NoError(t, fossErr)
	return fossE
}

// seedArchive is the upload the seed's sequence scans: a zip holding the
// fixture tar.gz (itself holding a zip): GPL-2.0-or-later C file with a
// notice, MIT full text, SPDX-tagged Apache-2.0 file, a binary, a Latin-1 file.
func seedArchive(t testing.TB) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("file-to-scan/" + fossologytest.Name)
	require.NoError(t, err)
	_, err = w.Write(fossologytest.Archive(t))
	require.NoError(t, err)
	w, err = zw.Create("file-to-scan/README.md")
	require.NoError(t, err)
	_, err = w.Write([]byte("# file to scan\n"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func startFossEnv(t *testing.T) (*fossEnv, error) {
	// The job event stream is text; the response validator reads it as such.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.FileBodyDecoder)
	e := &fossEnv{archive: seedArchive(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("/project.zip", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(e.archive) })
	mux.HandleFunc("/to-loopback", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/secret", http.StatusFound)
	})
	e.files = httptest.NewServer(mux)
	git, err := startGitServer()
	if err != nil {
		return nil, err
	}
	e.git = git
	failFirst := true
	e.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.hookMu.Lock()
		e.hookHits = append(e.hookHits, hookHit{body: b, signature: r.Header.Get("X-Reehub-Signature-256")})
		fail := failFirst
		failFirst = false
		e.hookMu.Unlock()
		if fail {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	}))
	hosts := []string{strings.TrimPrefix(e.files.URL, "http://"), strings.TrimPrefix(e.git.URL, "http://"), strings.TrimPrefix(e.hook.URL, "http://")}
	db := ""
	if base := os.Getenv("REEHUB_TEST_DATABASE_URL"); base != "" {
		if db, err = freshDatabase(base); err != nil {
			return nil, err
		}
	}
	e.in, err = startInstance(instanceOpts{name: "fossology", database: db, extraEnv: []string{"REEHUB_UPLOAD_ALLOWED_HOSTS=" + strings.Join(hosts, ",")}})
	if err != nil {
		return nil, err
	}
	e.hc = &http.Client{Transport: &validatingTransport{base: http.DefaultTransport, router: specRouter(t)}}
	return e, nil
}

// startGitServer serves a repository (src/main.c, MIT-tagged) over git's
// smart HTTP protocol, with git http-backend behind net/http/cgi.
func startGitServer() (*httptest.Server, error) {
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		return nil, fmt.Errorf("git http-backend: %w", err)
	}
	root, err := os.MkdirTemp(suite.work, "git-")
	if err != nil {
		return nil, err
	}
	work := filepath.Join(root, "work")
	run := func(dir string, args ...string) error {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.org",
			"GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.org")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v\n%s", args, err, out)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Join(work, "src"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(work, "src", "main.c"), []byte("// SPDX-License-Identifier: MIT\nint main;\n"), 0o644); err != nil {
		return nil, err
	}
	for _, step := range [][]string{{root, "init", "-q", "-b", "trunk", work}, {work, "add", "."}, {work, "commit", "-q", "-m", "init"},
		{root, "clone", "-q", "--bare", work, filepath.Join(root, "srv", "project.git")}} {
		if err := run(step[0], step[1:]...); err != nil {
			return nil, err
		}
	}
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + filepath.Join(root, "srv"), "GIT_HTTP_EXPORT_ALL=1"}}
	return httptest.NewServer(h), nil
}

// resp is an answer of the server, read whole.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), string(r.body))
}

// do sends a request the way curl or fossology-python does; every answer
// is validated against openapi.yaml by the client's transport.
func (e *fossEnv) do(t testing.TB, method, path string, header map[string]string, body io.Reader) resp {
	t.Helper()
	req, err := http.NewRequest(method, e.in.url+path, body)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	r, err := e.hc.Do(req)
	require.NoError(t, err)
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return resp{status: r.StatusCode, header: r.Header, body: b}
}

// token gets a JWT with the seed's form-encoded request.
func (e *fossEnv) token(t testing.TB, user, pass, scope string) string {
	t.Helper()
	form := url.Values{"username": {user}, "password": {pass}, "token_name": {"t" + randomHex(3)}, "token_scope": {scope},
		"token_expire": {time.Now().AddDate(0, 0, 10).Format("2006-01-02")}}
	r := e.do(t, "POST", "/repo/api/v1/tokens", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader(form.Encode()))
	require.Equal(t, 201, r.status, string(r.body))
	var tok struct{ Authorization string }
	r.json(t, &tok)
	require.True(t, strings.HasPrefix(tok.Authorization, "Bearer "), tok.Authorization)
	return tok.Authorization
}

// created reads {"code": 201, "message": <id>, "type": "INFO"}.
func created(t testing.TB, r resp, code int) int {
	t.Helper()
	require.Equal(t, code, r.status, string(r.body))
	var c struct {
		Code    int
		Message int
		Type    string
	}
	r.json(t, &c)
	require.Equal(t, code, c.Code)
	require.Equal(t, "INFO", c.Type)
	return c.Message
}

// uploadFile posts a multipart upload as the seed's curl does.
func (e *fossEnv) uploadFile(t testing.TB, auth string, folder int, name string, content []byte, extra map[string]string) resp {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="fileInput"; filename=%q`, name))
	h.Set("Content-Type", "application/x-zip-compressed")
	w, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = w.Write(content)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	hdr := map[string]string{"Authorization": auth, "folderId": strconv.Itoa(folder), "uploadDescription": "Test Upload",
		"uploadType": "file", "public": "public", "Content-Type": mw.FormDataContentType()}
	for k, v := range extra {
		hdr[k] = v
	}
	return e.do(t, "POST", "/repo/api/v1/uploads", hdr, &buf)
}

// waitUpload polls GET /uploads/{id} as fossology-python does: 503 carries
// an integer Retry-After and a JSON message; it returns the final answer.
func (e *fossEnv) waitUpload(t testing.TB, auth string, id int) resp {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d", id), map[string]string{"Authorization": auth}, nil)
		if r.status != 503 {
			return r
		}
		_, err := strconv.Atoi(r.header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After must be an integer")
		require.NotEmpty(t, r.header.Get("Look-at"))
		require.True(t, time.Now().Before(deadline), "upload %d still unpacking", id)
		time.Sleep(200 * time.Millisecond)
	}
}

// waitJob polls GET /jobs/{id} until the job ends and returns it.
func (e *fossEnv) waitJob(t testing.TB, auth string, id int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r := e.do(t, "GET", fmt.Sprintf("/repo/api/v1/jobs/%d", id), map[string]string{"Authorization": auth}, nil)
		require.Equal(t, 200, r.status, string(r.body))
		var j map[string]any
		r.json(t, &j)
		for _, k := range []string{"id", "name", "queueDate", "uploadId", "userId", "groupId", "eta", "status"} {
			require.Contains(t, j, k)
		}
		if j["status"] == "Completed" || j["status"] == "Failed" {
			return j
		}
		require.True(t, time.Now().Before(deadline), "job %d did not end", id)
		time.Sleep(300 * time.Millisecond)
	}
}

const seedJobs = `{
  "analysis": {"bucket": true, "copyright_email_author": true, "ecc": true, "keyword": true, "mime": true, "monk": true, "nomos": true, "ojo": true, "package": true},
  "decider": {"nomos_monk": true, "new_scanner": true, "ojo_decider": true}
}`

// TestFossologySeedSequence runs the seed's curl sequence against the real
// server: token, folders, upload, jobs, summary, licenses, report.
func TestFossologySeedSequence(t *testing.T) {
	t.Parallel()
	e := fossology(t)
	auth := e.token(t, "admin", e.in.password, "write")
	h := map[string]string{"Authorization": auth}

	// Wrong credentials are a 404, as FOSSology answers.
	bad := e.do(t, "POST", "/repo/api/v1/tokens", map[string]string{"Content-Type": "application/json"},
		strings.NewReader(`{"username":"admin","password":"wrong","token_name":"x","token_scope":"read","token_expire":"`+time.Now().AddDate(0, 0, 3).Format("2006-01-02")+`"}`))
	require.Equal(t, 404, bad.status)

	r := e.do(t, "GET", "/repo/api/v1/folders", h, nil)
	require.Equal(t, 200, r.status)
	var folders []map[string]any
	r.json(t, &folders)
	require.Equal(t, "Software Repository", folders[0]["name"])
	require.EqualValues(t, 1, folders[0]["id"])
	require.Nil(t, folders[0]["parent"])

	name := "Folder3-" + randomHex(3)
	fh := map[string]string{"Authorization": auth, "parentFolder": "1", "folderName": name, "folderDescription": "Another folder"}
	folder := created(t, e.do(t, "POST", "/repo/api/v1/folders", fh, nil), 201)
	require.Equal(t, folder, created(t, e.do(t, "POST", "/repo/api/v1/folders", fh, nil), 200), "an existing folder is a 200")

	up := created(t, e.uploadFile(t, auth, folder, "FileToScan.zip", e.archive, nil), 201)
	r = e.waitUpload(t, auth, up)
	require.Equal(t, 200, r.status, string(r.body))
	var upload struct {
		Folderid   int
		Uploadname string
		Hash       struct {
			Sha1, Md5, Sha256 string
			Size              int64
		}
	}
	r.json(t, &upload)
	sum := sha256.Sum256(e.archive)
	require.Equal(t, strings.ToUpper(hex.EncodeToString(sum[:])), upload.Hash.Sha256)
	require.Equal(t, int64(len(e.archive)), upload.Hash.Size)
	require.Len(t, upload.Hash.Sha1, 40)
	require.Len(t, upload.Hash.Md5, 32)
	require.Equal(t, folder, upload.Folderid)

	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/jobs?upload=%d", up), h, nil)
	require.Equal(t, 200, r.status)
	var jobs []map[string]any
	r.json(t, &jobs)
	require.Equal(t, "Completed", jobs[0]["status"])

	// fossology-python sends page and limit as headers and the folder as a query.
	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads?folderId=%d&limit=100&page=1", folder), map[string]string{"Authorization": auth, "limit": "100", "page": "1"}, nil)
	require.Equal(t, 200, r.status)
	require.Equal(t, "1", r.header.Get("X-Total-Pages"))
	var listed []map[string]any
	r.json(t, &listed)
	require.Len(t, listed, 1)

	jh := map[string]string{"Authorization": auth, "Content-Type": "application/json", "folderId": strconv.Itoa(folder), "uploadId": strconv.Itoa(up)}
	jr := e.do(t, "POST", "/repo/api/v1/jobs", jh, strings.NewReader(seedJobs))
	jobID := created(t, jr, 201)
	require.Contains(t, jr.header.Get("Warning"), "bucket", "bucket is left out, and said so")
	j := e.waitJob(t, auth, jobID)
	require.Equal(t, "Completed", j["status"])
	require.NotEmpty(t, j["firstFindingDate"], "time to a first license result")

	// The event stream of an ended job is its last state.
	ev := e.do(t, "GET", fmt.Sprintf("/repo/api/v1/jobs/%d/events", jobID), h, nil)
	require.Equal(t, 200, ev.status)
	require.Contains(t, string(ev.body), "event: job\ndata: ")
	require.Contains(t, string(ev.body), `"status":"Completed"`)

	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/summary", up), h, nil)
	require.Equal(t, 200, r.status)
	var summary map[string]any
	r.json(t, &summary)
	for _, k := range []string{"id", "uploadName", "mainLicense", "uniqueLicenses", "totalLicenses", "uniqueConcludedLicenses",
		"totalConcludedLicenses", "filesToBeCleared", "filesCleared", "clearingStatus", "copyrightCount"} {
		require.Contains(t, summary, k)
	}
	require.Equal(t, "FileToScan.zip", summary["uploadName"])
	require.Nil(t, summary["mainLicense"])
	require.GreaterOrEqual(t, summary["uniqueLicenses"], float64(3))
	require.GreaterOrEqual(t, summary["copyrightCount"], float64(3))

	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/licenses?agent=nomos,monk,ojo&containers=true", up), h, nil)
	require.Equal(t, 200, r.status, string(r.body))
	var lic []struct {
		FilePath string
		Findings struct {
			Scanner    []string
			Conclusion []string
		}
	}
	r.json(t, &lic)
	byPath := map[string][]string{}
	for _, l := range lic {
		require.True(t, strings.HasPrefix(l.FilePath, "FileToScan.zip"), l.FilePath)
		byPath[strings.TrimPrefix(l.FilePath, "FileToScan.zip/file-to-scan/"+fossologytest.Name+"/project/")] = l.Findings.Scanner
	}
	require.Contains(t, byPath["src/hello.c"], "GPL-2.0-or-later")
	require.Contains(t, byPath["vendor/lib.zip/LICENSE"], "MIT")
	require.Contains(t, byPath["vendor/lib.zip/x.go"], "Apache-2.0")
	require.Equal(t, []string{"No_license_found"}, byPath["bin/hello"])
	require.Contains(t, byPath, "NOTICE.latin1")

	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/copyrights", up), h, nil)
	require.Equal(t, 200, r.status)
	require.Contains(t, string(r.body), "Jos\u00e9 M\u00fcller", "the Latin-1 file decoded")

	// Clearing: conclude the C file by hand, bulk-conclude the MIT text, set the main license.
	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/tree", up), h, nil)
	require.Equal(t, 200, r.status)
	var tree []struct {
		ItemID   int `json:"itemId"`
		FilePath string
		Kind     string
	}
	r.json(t, &tree)
	item := func(suffix string) int {
		for _, it := range tree {
			if strings.HasSuffix(it.FilePath, suffix) {
				return it.ItemID
			}
		}
		t.Fatalf("no item %s", suffix)
		return 0
	}
	ch := map[string]string{"Authorization": auth, "Content-Type": "application/json"}
	r = e.do(t, "PUT", fmt.Sprintf("/repo/api/v1/uploads/%d/item/%d/clearing-decision", up, item("src/hello.c")), ch,
		strings.NewReader(`{"decisionType":"IDENTIFIED","licenses":["GPL-2.0-only"],"comment":"checked"}`))
	require.Equal(t, 200, r.status, string(r.body))
	bulk := created(t, e.do(t, "POST", fmt.Sprintf("/repo/api/v1/uploads/%d/item/%d/bulk-scan", up, tree[0].ItemID), ch,
		strings.NewReader(`{"refText":"Permission is hereby granted, free of charge, to any person","bulkActions":[{"licenseShortName":"MIT-0"}]}`)), 201)
	require.Equal(t, "Completed", e.waitJob(t, auth, bulk)["status"])
	r = e.do(t, "POST", fmt.Sprintf("/repo/api/v1/uploads/%d/licenses/main", up), ch, strings.NewReader(`{"shortName":"GPL-2.0-only"}`))
	require.Equal(t, 200, r.status, string(r.body))
	r = e.do(t, "GET", fmt.Sprintf("/api/v1/uploads/%d/summary", up), h, nil) // the /api/v1 twin
	require.Equal(t, 200, r.status)
	r.json(t, &summary)
	require.Equal(t, "GPL-2.0-only", summary["mainLicense"])
	require.GreaterOrEqual(t, summary["filesCleared"], float64(2))
	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/licenses?agent=nomos&containers=False", up), h, nil)
	require.Equal(t, 200, r.status)
	require.Contains(t, string(r.body), `"conclusion":["GPL-2.0-only"]`)
	require.Contains(t, string(r.body), `"conclusion":["MIT-0"]`)
	// A bulk REMOVE takes MIT-0 off the same files and an ADD in the same
	// bulk puts MIT on them.
	bulk = created(t, e.do(t, "POST", fmt.Sprintf("/repo/api/v1/uploads/%d/item/%d/bulk-scan", up, tree[0].ItemID), ch,
		strings.NewReader(`{"refText":"Permission is hereby granted, free of charge, to any person","bulkActions":[`+
			`{"licenseShortName":"MIT-0","licenseAction":"REMOVE"},{"licenseShortName":"MIT","licenseAction":"ADD"}]}`)), 201)
	require.Equal(t, "Completed", e.waitJob(t, auth, bulk)["status"])
	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/licenses?agent=nomos&containers=False", up), h, nil)
	require.Equal(t, 200, r.status)
	require.NotContains(t, string(r.body), `MIT-0`)
	require.Contains(t, string(r.body), `"conclusion":["MIT"]`)

	// Reports: 201 with a URL ending in the id, then the file as an attachment.
	for _, f := range []string{"dep5", "spdx2", "spdx2tv", "spdx2json", "cyclonedx", "readmeoss", "unifiedreport"} {
		r = e.do(t, "GET", "/repo/api/v1/report", map[string]string{"Authorization": auth, "reportFormat": f, "uploadId": strconv.Itoa(up)}, nil)
		require.Equal(t, 201, r.status, string(r.body))
		var info struct{ Message string }
		r.json(t, &info)
		m := regexp.MustCompile(`/report/([0-9]+)$`).FindStringSubmatch(info.Message)
		require.NotNil(t, m, info.Message)
		var got resp
		for deadline := time.Now().Add(time.Minute); ; {
			got = e.do(t, "GET", "/repo/api/v1/report/"+m[1], h, nil)
			if got.status != 503 {
				break
			}
			_, err := strconv.Atoi(got.header.Get("Retry-After"))
			require.NoError(t, err)
			require.True(t, time.Now().Before(deadline))
			time.Sleep(200 * time.Millisecond)
		}
		require.Equal(t, 200, got.status, string(got.body))
		require.Regexp(t, `^attachment; filename="?[^"]+"?$`, got.header.Get("Content-Disposition"))
		switch f {
		case "dep5":
			doc, err := dep5.Parse(bytes.NewReader(got.body))
			require.NoError(t, err, string(got.body))
			require.NotEmpty(t, doc.Files)
			require.Contains(t, string(got.body), "License: GPL-2", "Debian's name of GPL-2.0-only")
		case "spdx2json", "cyclonedx":
			var v map[string]any
			require.NoError(t, json.Unmarshal(got.body, &v))
		case "unifiedreport":
			require.Equal(t, "PK", string(got.body[:2]))
		default:
			require.Contains(t, string(got.body), "GPL-2.0-only")
		}
	}

	// Cleanup, as fossology-python does it.
	require.Equal(t, 202, e.do(t, "DELETE", fmt.Sprintf("/repo/api/v1/uploads/%d", up), h, nil).status)
	require.Equal(t, 404, e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d", up), h, nil).status)
	_, err := os.Stat(filepath.Join(e.in.dataDir, "fossology", "trees", strconv.Itoa(up)))
	require.ErrorIs(t, err, os.ErrNotExist, "the tree goes with the upload")
	require.Equal(t, 202, e.do(t, "DELETE", fmt.Sprintf("/repo/api/v1/folders/%d", folder), h, nil).status)
}

// TestFossologyURLVCSAndWebhook: url and vcs uploads from servers on the
// allow list, and a job webhook that is retried and signed.
func TestFossologyURLVCSAndWebhook(t *testing.T) {
	t.Parallel()
	e := fossology(t)
	auth := e.token(t, "admin", e.in.password, "write")
	h := map[string]string{"Authorization": auth}
	jh := map[string]string{"Authorization": auth, "Content-Type": "application/json", "folderId": "1", "uploadType": "url"}

	u := created(t, e.do(t, "POST", "/repo/api/v1/uploads", jh, strings.NewReader(`{"url":"`+e.files.URL+`/project.zip","name":"project.zip"}`)), 201)
	r := e.waitUpload(t, auth, u)
	require.Equal(t, 200, r.status, string(r.body))
	sum := sha256.Sum256(e.archive)
	require.Contains(t, string(r.body), strings.ToUpper(hex.EncodeToString(sum[:])))

	// fossology-python 4.x: the same fields as headers (booleans lower-case)
	// and in the JSON body, the source under location, maxRecursionDepth a
	// string as in the library's own example, a null description.
	py := map[string]string{"Authorization": auth, "Content-Type": "application/json", "folderId": "1", "public": "protected",
		"applyGlobal": "false", "ignoreScm": "false", "uploadType": "url"}
	pu := created(t, e.do(t, "POST", "/repo/api/v1/uploads", py, strings.NewReader(`{"folderId":"1","uploadDescription":null,"public":"protected","applyGlobal":false,"ignoreScm":false,"uploadType":"url",`+
		`"location":{"url":"`+e.files.URL+`/project.zip","name":"project-py.zip","accept":"zip","reject":"","maxRecursionDepth":"1"}}`)), 201)
	r = e.waitUpload(t, auth, pu)
	require.Equal(t, 200, r.status, string(r.body))
	require.Contains(t, string(r.body), `"uploadname":"project-py.zip"`)
	require.Contains(t, string(r.body), strings.ToUpper(hex.EncodeToString(sum[:])))
	// A flat body's maxRecursionDepth may be digits too; a body folderId
	// that is not the header's, or not a number, is a 400 that creates nothing.
	fu := created(t, e.do(t, "POST", "/repo/api/v1/uploads", jh, strings.NewReader(`{"url":"`+e.files.URL+`/project.zip","name":"project-flat.zip","maxRecursionDepth":"1"}`)), 201)
	require.Equal(t, 200, e.waitUpload(t, auth, fu).status)
	before := e.do(t, "GET", "/repo/api/v1/uploads", h, nil)
	require.Equal(t, 200, before.status)
	for _, bad := range []string{`"2"`, `"abc"`, `1.5`} {
		r = e.do(t, "POST", "/repo/api/v1/uploads", py, strings.NewReader(`{"folderId":`+bad+`,"uploadType":"url","location":{"url":"`+e.files.URL+`/project.zip","name":"bad.zip"}}`))
		require.Equal(t, 400, r.status, bad+": "+string(r.body))
		require.Contains(t, string(r.body), "folderId", bad)
	}
	after := e.do(t, "GET", "/repo/api/v1/uploads", h, nil)
	require.Equal(t, string(before.body), string(after.body), "a refused upload leaves nothing")

	jh["uploadType"] = "vcs"
	v := created(t, e.do(t, "POST", "/repo/api/v1/uploads", jh, strings.NewReader(`{"vcsType":"git","vcsUrl":"`+e.git.URL+`/project.git","vcsBranch":"trunk","vcsName":"project","vcsUsername":"","vcsPassword":""}`)), 201)
	require.Equal(t, 200, e.waitUpload(t, auth, v).status)

	secret := "hook-" + randomHex(4)
	body := `{"analysis":{"ojo":true},"decider":{"ojo_decider":true},"webhook":{"url":"` + e.hook.URL + `/done","secret":"` + secret + `"}}`
	sh := map[string]string{"Authorization": auth, "Content-Type": "application/json", "folderId": "1", "uploadId": strconv.Itoa(v)}
	job := created(t, e.do(t, "POST", "/repo/api/v1/jobs", sh, strings.NewReader(body)), 201)
	require.Equal(t, "Completed", e.waitJob(t, auth, job)["status"])
	r = e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/licenses?agent=ojo", v), h, nil)
	require.Equal(t, 200, r.status)
	require.Contains(t, string(r.body), `"filePath":"project/src/main.c","findings":{"scanner":["MIT"]`)

	// fossology-python's documented job spec: reuse_upload 0 is "no reuse",
	// so bulk_reused has nothing to apply and is left out, and said so; its
	// placeholder agent specific_agent is an unknown agent, a 400.
	noReuse := e.do(t, "POST", "/repo/api/v1/jobs", sh, strings.NewReader(`{"analysis":{"ojo":true},"decider":{"bulk_reused":true,"ojo_decider":true},`+
		`"reuse":{"reuse_upload":0,"reuse_group":0,"reuse_main":true,"reuse_enhanced":true,"reuse_report":true,"reuse_copyright":true}}`))
	require.Contains(t, noReuse.header.Get("Warning"), "bulk_reused")
	require.Equal(t, "Completed", e.waitJob(t, auth, created(t, noReuse, 201))["status"])
	r = e.do(t, "POST", "/repo/api/v1/jobs", sh, strings.NewReader(`{"analysis":{"ojo":true,"specific_agent":true}}`))
	require.Equal(t, 400, r.status)
	require.Contains(t, string(r.body), "specific_agent")

	// The first delivery is refused by the receiver; the retry arrives, signed.
	deadline := time.Now().Add(30 * time.Second)
	for {
		e.hookMu.Lock()
		hits := append([]hookHit(nil), e.hookHits...)
		e.hookMu.Unlock()
		if len(hits) >= 2 {
			last := hits[len(hits)-1]
			m := hmac.New(sha256.New, []byte(secret))
			m.Write(last.body)
			require.Equal(t, "sha256="+hex.EncodeToString(m.Sum(nil)), last.signature)
			require.Contains(t, string(last.body), `"status":"Completed"`)
			require.Contains(t, string(last.body), fmt.Sprintf(`"id":%d`, job))
			break
		}
		require.True(t, time.Now().Before(deadline), "webhook not retried: %d deliveries", len(hits))
		time.Sleep(200 * time.Millisecond)
	}
}

// TestFossologyBadInput: each bad input is a clear 4xx in the error model,
// and leaves nothing behind.
func TestFossologyBadInput(t *testing.T) {
	t.Parallel()
	e := fossology(t)
	auth := e.token(t, "admin", e.in.password, "write")
	h := map[string]string{"Authorization": auth}
	isError := func(r resp, status int, contains string) {
		t.Helper()
		require.Equal(t, status, r.status, string(r.body))
		var m struct {
			Code    int
			Message string
			Type    string
		}
		r.json(t, &m)
		require.Equal(t, status, m.Code)
		require.Equal(t, "ERROR", m.Type)
		require.Contains(t, m.Message, contains)
	}
	isError(e.do(t, "GET", "/repo/api/v1/folders/9999", h, nil), 404, "folder 9999")
	isError(e.do(t, "GET", "/repo/api/v1/uploads/9999", h, nil), 404, "upload 9999")
	isError(e.uploadFile(t, auth, 9999, "x.zip", e.archive, nil), 404, "folder 9999")
	isError(e.do(t, "POST", "/repo/api/v1/uploads", map[string]string{"Authorization": auth, "folderId": "abc", "uploadType": "file", "Content-Type": "multipart/form-data; boundary=x"}, strings.NewReader("--x--\r\n")), 400, "folderId")
	isError(e.do(t, "GET", "/repo/api/v1/report", map[string]string{"Authorization": auth, "uploadId": "1", "reportFormat": "pdf"}, nil), 400, "reportFormat")

	// A read token may not write.
	read := e.token(t, "admin", e.in.password, "read")
	isError(e.do(t, "POST", "/repo/api/v1/folders", map[string]string{"Authorization": read, "parentFolder": "1", "folderName": "nope"}, nil), 403, "scope")

	// Another group's upload is not found.
	up := created(t, e.uploadFile(t, auth, 1, "mine.zip", e.archive, nil), 201)
	require.Equal(t, 200, e.waitUpload(t, auth, up).status)
	other := newUser(t, e.in)
	name, pass := otherCreds(t, other)
	otherAuth := e.token(t, name, pass, "write")
	isError(e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d", up), map[string]string{"Authorization": otherAuth}, nil), 404, "not found")
	isError(e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/licenses", up), map[string]string{"Authorization": otherAuth}, nil), 404, "not found")

	// An unknown agent, and a listing of an agent that was not scheduled.
	jh := map[string]string{"Authorization": auth, "Content-Type": "application/json", "folderId": "1", "uploadId": strconv.Itoa(up)}
	isError(e.do(t, "POST", "/repo/api/v1/jobs", jh, strings.NewReader(`{"analysis":{"scancode":true}}`)), 400, "scancode")
	job := created(t, e.do(t, "POST", "/repo/api/v1/jobs", jh, strings.NewReader(`{"analysis":{"nomos":true}}`)), 201)
	require.Equal(t, "Completed", e.waitJob(t, auth, job)["status"])
	isError(e.do(t, "GET", fmt.Sprintf("/repo/api/v1/uploads/%d/licenses?agent=ojo", up), h, nil), 412, "ojo")

	// Corrupt and hostile archives: accepted, then refused with the reason;
	// no tree is left and the upload is never listed.
	good := fossologytest.Archive(t)
	var evil bytes.Buffer
	zw := zip.NewWriter(&evil)
	w, err := zw.Create("../../escape.txt")
	require.NoError(t, err)
	_, _ = w.Write([]byte("x"))
	require.NoError(t, zw.Close())
	for _, c := range []struct {
		name    string
		content []byte
		why     string
	}{{"cut.tar.gz", good[:len(good)/2], "cut.tar.gz"}, {"evil.zip", evil.Bytes(), "escape"}} {
		id := created(t, e.uploadFile(t, auth, 1, c.name, c.content, nil), 201)
		isError(e.waitUpload(t, auth, id), 400, c.why)
		_, err := os.Stat(filepath.Join(e.in.dataDir, "fossology", "trees", strconv.Itoa(id)))
		require.ErrorIs(t, err, os.ErrNotExist, c.name)
		r := e.do(t, "GET", "/repo/api/v1/uploads?name="+c.name, h, nil)
		require.Equal(t, "[]\n", string(r.body))
	}

	// A url upload to a refused address, directly or through a redirect, and a vcs URL that does not clone.
	uh := map[string]string{"Authorization": auth, "Content-Type": "application/json", "folderId": "1", "uploadType": "url"}
	isError(e.do(t, "POST", "/repo/api/v1/uploads", uh, strings.NewReader(`{"url":"http://127.0.0.1:1/x.tar.gz"}`)), 400, "loopback")
	redirected := created(t, e.do(t, "POST", "/repo/api/v1/uploads", uh, strings.NewReader(`{"url":"`+e.files.URL+`/to-loopback","name":"r.tar.gz"}`)), 201)
	isError(e.waitUpload(t, auth, redirected), 400, "loopback")
	uh["uploadType"] = "vcs"
	isError(e.do(t, "POST", "/repo/api/v1/uploads", uh, strings.NewReader(`{"vcsType":"git","vcsUrl":"http://10.0.0.1/x.git"}`)), 400, "private")
	noClone := created(t, e.do(t, "POST", "/repo/api/v1/uploads", uh, strings.NewReader(`{"vcsType":"git","vcsUrl":"`+e.git.URL+`/missing.git","vcsPassword":"pw-never-shown"}`)), 201)
	r := e.waitUpload(t, auth, noClone)
	isError(r, 400, "clon")
	require.NotContains(t, string(r.body), "pw-never-shown")
	log, err := os.ReadFile(e.in.logPath)
	require.NoError(t, err)
	require.NotContains(t, string(log), "pw-never-shown", "credentials are never logged")
}

// otherCreds returns the user name and password of a client made by newUser.
func otherCreds(t *testing.T, c *api) (string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "/", nil)
	require.NoError(t, c.auth(context.Background(), req))
	u, p, ok := req.BasicAuth()
	require.True(t, ok)
	return u, p
}
