package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/metrics"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/server"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/process"
	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/service/ree"
	"github.com/reehub/reehub/service/registry"
	"github.com/reehub/reehub/service/workflow"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// fakePodman is the part of the Podman service API that reehub's runtime
// calls without building: ping, version, image inspect and export. It serves
// on a unix socket; down() removes the socket, so that every call fails the
// way it does when the real service is stopped. Builds and everything else
// answer 500, so that a process fails quickly.
type fakePodman struct {
	sock    string
	images  map[string]string // catalogue ref -> image ID
	tar     []byte            // the export of every image
	exports atomic.Int32
	// exportDelay, when set, makes an export trickle for that long.
	exportDelay time.Duration

	mu  sync.Mutex
	srv *http.Server
}

func startFakePodman(t *testing.T) *fakePodman {
	t.Helper()
	dir, err := os.MkdirTemp("", "fp-") // unix socket paths are short
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	tarball := make([]byte, 256<<10)
	_, _ = rand.Read(tarball)
	fp := &fakePodman{sock: filepath.Join(dir, "podman.sock"), tar: tarball, images: map[string]string{}}
	for i, d := range baseimage.Catalogue() {
		fp.images[baseimage.Ref(d.Name)] = strings.Repeat(fmt.Sprintf("%x", i+10), 64)[:64]
	}
	fp.up(t)
	t.Cleanup(fp.down)
	return fp
}

func (fp *fakePodman) uri() string { return "unix://" + fp.sock }

func (fp *fakePodman) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("unix", fp.sock)
	require.NoError(t, err)
	fp.mu.Lock()
	fp.srv = &http.Server{Handler: http.HandlerFunc(fp.serve), ReadHeaderTimeout: 5 * time.Second}
	srv := fp.srv
	fp.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (fp *fakePodman) down() {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if fp.srv != nil {
		_ = fp.srv.Close()
		fp.srv = nil
	}
	_ = os.Remove(fp.sock)
}

func (fp *fakePodman) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	w.Header().Set("Libpod-API-Version", "4.3.1")
	switch {
	case strings.HasSuffix(p, "/_ping"):
		_, _ = io.WriteString(w, "OK")
	case strings.HasSuffix(p, "/libpod/version"):
		_ = json.NewEncoder(w).Encode(map[string]any{"Version": "4.3.1", "ApiVersion": "1.41", "Os": "linux", "Arch": "amd64"})
	case strings.Contains(p, "/libpod/images/") && strings.HasSuffix(p, "/json"):
		ref := strings.TrimSuffix(p[strings.Index(p, "/libpod/images/")+len("/libpod/images/"):], "/json")
		id, ok := fp.images[ref]
		if !ok {
			for _, known := range fp.images {
				if known == ref {
					id, ok = known, true
				}
			}
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]any{"cause": "image not known", "message": ref + ": image not known", "response": 404})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Id": id, "RepoTags": []string{ref}, "Size": len(fp.tar)})
	case strings.HasSuffix(p, "/libpod/images/export"):
		fp.exports.Add(1)
		w.Header().Set("Content-Type", "application/x-tar")
		if fp.exportDelay == 0 {
			_, _ = w.Write(fp.tar)
			return
		}
		const chunks = 50
		for i := range chunks {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(fp.exportDelay / chunks):
			}
			_, _ = w.Write(fp.tar[i*len(fp.tar)/chunks : (i+1)*len(fp.tar)/chunks])
			w.(http.Flusher).Flush()
		}
	default:
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"cause": "not faked", "message": "the fake Podman does not serve " + p, "response": 500})
	}
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is reehub's HTTP layer in process: the Gin engine behind httptest
// with a real SQLite store, blob store, auth service, process service (River
// started) and REE service on a fake Podman.
type harness struct {
	url      string
	password string
	podman   *fakePodman
	log      *syncBuffer
	auth     *auth.Service
	router   routers.Router
}

type harnessOpts struct {
	maxUploadBytes   int64
	corsOrigins      []string
	openRegistration bool
	// metrics, when set, is given to the engine, the REE service and the server.
	metrics *metrics.Metrics
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	fp := startFakePodman(t)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	rt, err := podman.Connect(ctx, fp.uri())
	require.NoError(t, err)
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "reehub.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	authSvc := auth.New(st, log, auth.Config{})
	password := "pw-" + hex.EncodeToString([]byte(t.Name()))[:8]
	_, _, err = authSvc.EnsureAdmin(ctx, password)
	require.NoError(t, err)
	engine, err := job.New(st, blobs, log, job.Config{DataDir: dir, Queues: map[string]job.QueueConfig{job.QueueBuilds: {MaxWorkers: 1}}, Metrics: o.metrics,
		PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	procs := process.New(st, engine)
	catalog := ree.NewCatalog(rt, baseimage.Catalogue(), filepath.Join(dir, "image-exports"))
	reeSvc, err := ree.New(rt, blobs, procs, engine, catalog, log, ree.Config{
		Version: "test", BaseImageCacheDir: filepath.Join(dir, "base-images"), StagingDir: filepath.Join(dir, "uploads"),
		Metrics: o.metrics,
	})
	require.NoError(t, err)
	box, err := reana.NewSecretBox(bytes.Repeat([]byte("s"), 32))
	require.NoError(t, err)
	workflows, err := workflow.New(st, engine, blobs, rt, reana.NewResolver(rt, catalog, nil, nil), box, log, workflow.Config{DataDir: dir})
	require.NoError(t, err)
	regSvc, err := registry.New(st, blobs, rt, log, registry.Config{DataDir: dir, Engine: engine})
	require.NoError(t, err)
	require.NoError(t, engine.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = engine.Stop(sctx)
	})
	h, err := server.New(server.Deps{
		Auth: authSvc, Processes: procs, REE: reeSvc, Catalog: catalog, Workflows: workflows, Registry: regSvc,
		PodmanVersion: rt.Version, PingDatabase: st.Ping, Usage: engine.Usage, Log: log, Metrics: o.metrics,
	}, server.Config{Version: "test", Database: "sqlite", MaxUploadBytes: o.maxUploadBytes, UploadDir: blobs.TempDir(),
		CORSOrigins: o.corsOrigins, OpenRegistration: o.openRegistration})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &harness{url: srv.URL, password: password, podman: fp, log: logs, auth: authSvc, router: specRouter(t)}
}

// specRouter routes requests to operations of the committed openapi.yaml.
func specRouter(t *testing.T) routers.Router {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	doc.Servers = openapi3.Servers{{URL: "/"}}
	r, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return r
}

// req is one request of a test.
type req struct {
	method, path string
	body         []byte
	contentType  string
	auth         func(*http.Request)
	header       map[string]string
	// unchecked skips the response's check against openapi.yaml; only for
	// statuses that the accounts family does not declare yet (see the report).
	unchecked bool
}

// resp is an answer with its body read.
type resp struct {
	*http.Response
	body []byte
}

// errorBody decodes the error model and checks its shape.
func (r resp) errorBody(t *testing.T) string {
	t.Helper()
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Type    string `json:"type"`
	}
	require.Contains(t, r.Header.Get("Content-Type"), "application/json", string(r.body))
	require.NoError(t, json.Unmarshal(r.body, &e), string(r.body))
	require.Equal(t, r.StatusCode, e.Code)
	require.Equal(t, "ERROR", e.Type)
	require.NotEmpty(t, e.Message)
	return e.Message
}

func (h *harness) admin() func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth("admin", h.password) }
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// token creates a personal token of the admin with the given scopes.
func (h *harness) token(t *testing.T, scopes ...auth.Scope) string {
	t.Helper()
	p, err := h.auth.Basic(context.Background(), "admin", h.password)
	require.NoError(t, err)
	_, secret, err := h.auth.CreateToken(context.Background(), p, auth.NewToken{Name: "t-" + string(scopes[0]), Scopes: scopes})
	require.NoError(t, err)
	return secret
}

// do sends r and checks the response against openapi.yaml: its status must
// be declared and a JSON or text body must match its schema.
func (h *harness) do(t *testing.T, r req) resp {
	t.Helper()
	return h.doCtx(t, context.Background(), r)
}

func (h *harness) doCtx(t *testing.T, ctx context.Context, r req) resp {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hr, err := http.NewRequestWithContext(ctx, r.method, h.url+r.path, body)
	require.NoError(t, err)
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.auth != nil {
		r.auth(hr)
	}
	res, err := http.DefaultClient.Do(hr)
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	out := resp{Response: res, body: b}
	if !r.unchecked {
		require.NoError(t, h.checkSpec(hr, out), "%s %s -> %d %s", r.method, r.path, res.StatusCode, b)
	}
	return out
}

// checkSpec validates a response against openapi.yaml; HEAD is checked as the
// GET it answers, without a body.
func (h *harness) checkSpec(hr *http.Request, r resp) error {
	probe := hr.Clone(context.Background())
	probe.URL.Host, probe.Host, probe.URL.Scheme = "", "", ""
	head := probe.Method == http.MethodHead
	if head {
		probe.Method = http.MethodGet
	}
	route, params, err := h.router.FindRoute(probe)
	if err != nil {
		return nil // not an API operation (docs, openapi.yaml) or an unknown path
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 r.StatusCode,
		Header:                 r.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !head && r.StatusCode != http.StatusPartialContent && (mt == "application/json" || strings.HasPrefix(mt, "text/")) {
		in.SetBodyBytes(r.body)
	} else {
		in.Options.ExcludeResponseBody = true
		in.Body = io.NopCloser(bytes.NewReader(nil))
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// projectZip is a recording project: a Dockerfile FROM a catalogue image.
func projectZip(t *testing.T, dockerfile string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("Dockerfile")
	require.NoError(t, err)
	_, err = io.WriteString(w, dockerfile)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// multipartForm encodes fields and an optional file part.
func multipartForm(t *testing.T, file []byte, fields ...string) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		require.NoError(t, mw.WriteField(fields[i], fields[i+1]))
	}
	if file != nil {
		w, err := mw.CreateFormFile("file", "project.zip")
		require.NoError(t, err)
		_, err = w.Write(file)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return b.Bytes(), mw.FormDataContentType()
}
