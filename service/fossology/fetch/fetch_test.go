package fetch_test

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/fetch"
)

func hostOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return u.Host
}

func dest(t *testing.T) string { return filepath.Join(t.TempDir(), "download") }

func TestURL(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("payload ", 4096)
	mux := http.NewServeMux()
	mux.HandleFunc("/files/project.tar.gz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/missing", http.NotFound)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "internal secret") }))
	defer other.Close()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/secret", http.StatusFound)
	})
	mux.HandleFunc("/redirect-self", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/files/project.tar.gz", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	allowed := fetch.Policy{Allowed: []string{hostOf(t, srv)}}
	ctx := context.Background()

	res, err := allowed.URL(ctx, srv.URL+"/files/project.tar.gz", dest(t), fetch.Options{})
	require.NoError(t, err)
	require.Equal(t, "project.tar.gz", res.Name)
	sum := sha256.Sum256([]byte(body))
	require.Equal(t, hex.EncodeToString(sum[:]), res.Hash.SHA256)
	require.Equal(t, int64(len(body)), res.Hash.Size)
	got, err := os.ReadFile(res.Path)
	require.NoError(t, err)
	require.Equal(t, body, string(got))

	res, err = allowed.URL(ctx, srv.URL+"/redirect-self", dest(t), fetch.Options{Name: "Display name"})
	require.NoError(t, err)
	require.Equal(t, "Display name", res.Name)

	for _, tc := range []struct {
		name   string
		policy fetch.Policy
		url    string
		opts   fetch.Options
		kind   error
		msg    string
	}{
		{"loopback refused", fetch.Policy{}, srv.URL + "/files/project.tar.gz", fetch.Options{}, fault.ErrInvalid, "a loopback address"},
		{"redirect into refused address", allowed, srv.URL + "/redirect", fetch.Options{}, fault.ErrInvalid, "a loopback address"},
		{"too large", fetch.Policy{Allowed: allowed.Allowed, MaxBytes: 1000}, srv.URL + "/files/project.tar.gz", fetch.Options{}, fault.ErrTooLarge, "upload limit of 1000 bytes"},
		{"timeout", fetch.Policy{Allowed: allowed.Allowed, Timeout: 300 * time.Millisecond}, srv.URL + "/slow", fetch.Options{}, fault.ErrInvalid, "did not finish"},
		{"not found", allowed, srv.URL + "/missing", fetch.Options{}, fault.ErrInvalid, "answered 404"},
		{"file scheme", allowed, "file:///etc/passwd", fetch.Options{}, fault.ErrInvalid, "only http and https"},
		{"reject list", allowed, srv.URL + "/files/project.tar.gz", fetch.Options{Reject: ".gz"}, fault.ErrInvalid, "reject list"},
		{"accept list", allowed, srv.URL + "/files/project.tar.gz", fetch.Options{Accept: "*.zip,*.deb"}, fault.ErrInvalid, "accept list"},
		{"metadata address", fetch.Policy{}, "http://169.254.169.254/latest/meta-data", fetch.Options{}, fault.ErrInvalid, "link-local"},
		{"unresolvable", fetch.Policy{}, "http://no-such-host.invalid/x", fetch.Options{}, fault.ErrInvalid, "cannot be resolved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dest(t)
			_, err := tc.policy.URL(ctx, tc.url, d, tc.opts)
			require.ErrorIs(t, err, tc.kind, "%v", err)
			require.ErrorContains(t, err, tc.msg)
			_, serr := os.Stat(d)
			require.ErrorIs(t, serr, os.ErrNotExist, "nothing is left behind")
		})
	}
}

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	got, err := fetch.ParseAllowList("mirror.internal, 10.1.0.0/16 127.0.0.1:8080")
	require.NoError(t, err)
	require.Equal(t, []string{"mirror.internal", "10.1.0.0/16", "127.0.0.1:8080"}, got)
	_, err = fetch.ParseAllowList("10.0.0.0/99")
	require.Error(t, err)
	_, err = fetch.ParseAllowList("user@host")
	require.Error(t, err)
	_ = netip.Addr{}
}

// gitServer serves a bare repository over smart HTTP with git http-backend,
// behind basic auth user/secret.
func gitServer(t *testing.T) (*httptest.Server, *int) {
	t.Helper()
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		t.Skip("git http-backend not installed")
	}
	root := t.TempDir()
	work := filepath.Join(root, "work")
	gitRun := func(dir string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.org",
			"GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.org")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(work, "src"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, "src", "main.c"), []byte("// SPDX-License-Identifier: MIT\nint main;\n"), 0o644))
	gitRun(root, "init", "-q", "-b", "trunk", work)
	gitRun(work, "add", ".")
	gitRun(work, "commit", "-q", "-m", "init")
	gitRun(root, "clone", "-q", "--bare", work, filepath.Join(root, "srv", "project.git"))
	hits := 0
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + filepath.Join(root, "srv"), "GIT_HTTP_EXPORT_ALL=1"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "s3cr3t-pass" {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "auth", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestGit(t *testing.T) {
	t.Parallel()
	srv, _ := gitServer(t)
	p := fetch.Policy{Allowed: []string{hostOf(t, srv)}, Timeout: time.Minute}
	ctx := context.Background()

	res, err := p.Git(ctx, fetch.VCS{Type: "git", URL: srv.URL + "/project.git", Branch: "trunk", Username: "user", Password: "s3cr3t-pass"}, dest(t))
	require.NoError(t, err)
	require.Equal(t, "project.tar", res.Name)
	f, err := os.Open(res.Path)
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		names = append(names, h.Name)
	}
	require.Equal(t, []string{"src/", "src/main.c"}, names, "the working tree without .git")

	// Credentials in the URL are moved out of it.
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("user", "s3cr3t-pass")
	res, err = p.Git(ctx, fetch.VCS{Type: "git", URL: u.String() + "/project.git", Name: "Display name"}, dest(t))
	require.NoError(t, err)
	require.Equal(t, "Display name.tar", res.Name)

	for _, tc := range []struct {
		name   string
		policy fetch.Policy
		vcs    fetch.VCS
		kind   error
		msg    string
	}{
		{"wrong password", p, fetch.VCS{Type: "git", URL: srv.URL + "/project.git", Username: "user", Password: "wrong-s3cr3t"}, fault.ErrInvalid, "cloning"},
		{"no such repository", p, fetch.VCS{Type: "git", URL: srv.URL + "/nothing.git", Username: "user", Password: "s3cr3t-pass"}, fault.ErrInvalid, "cloning"},
		{"no such branch", p, fetch.VCS{Type: "git", URL: srv.URL + "/project.git", Branch: "nope", Username: "user", Password: "s3cr3t-pass"}, fault.ErrInvalid, "cloning"},
		{"loopback refused", fetch.Policy{}, fetch.VCS{Type: "git", URL: srv.URL + "/project.git"}, fault.ErrInvalid, "a loopback address"},
		{"svn", p, fetch.VCS{Type: "svn", URL: srv.URL}, fault.ErrInvalid, "not supported"},
		{"ssh", p, fetch.VCS{Type: "git", URL: "ssh://git@example.org/x.git"}, fault.ErrInvalid, "only http and https"},
		{"option branch", p, fetch.VCS{Type: "git", URL: srv.URL + "/project.git", Branch: "--upload-pack=touch /tmp/x"}, fault.ErrInvalid, "not a branch name"},
		{"too large", fetch.Policy{Allowed: p.Allowed, MaxBytes: 10}, fetch.VCS{Type: "git", URL: srv.URL + "/project.git", Username: "user", Password: "s3cr3t-pass"}, fault.ErrTooLarge, "upload limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dest(t)
			_, err := tc.policy.Git(ctx, tc.vcs, d)
			require.ErrorIs(t, err, tc.kind, "%v", err)
			require.ErrorContains(t, err, tc.msg)
			require.NotContains(t, err.Error(), "s3cr3t", "credentials never appear in messages")
			_, serr := os.Stat(d)
			require.ErrorIs(t, serr, os.ErrNotExist)
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(d), ".git-clone-*"))
			require.Empty(t, left)
		})
	}
	require.NotContains(t, fetch.VCS{URL: "x", Password: "s3cr3t"}.String(), "s3cr3t")
}
