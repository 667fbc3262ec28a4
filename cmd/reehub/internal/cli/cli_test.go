package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

func TestZipDirHonoursDockerignore(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"Dockerfile":          "FROM python_3_11\n",
		".dockerignore":       "# comment\nDockerfile\nbuild/\n*.log\n!keep.log\nnode_modules\n",
		"src/main.py":         "print(1)\n",
		"build/out.bin":       "x",
		"debug.log":           "x",
		"keep.log":            "x",
		"node_modules/a/b.js": "x",
		"sub/debug.log":       "x", // *.log matches only at the top, as in Docker
	} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o640))
	}
	require.NoError(t, os.Symlink("src/main.py", filepath.Join(dir, "link.py")))
	var buf bytes.Buffer
	require.NoError(t, zipDir(&buf, dir, "Dockerfile"))
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	var names []string
	modes := map[string]os.FileMode{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		modes[f.Name] = f.Mode()
	}
	sort.Strings(names)
	require.Equal(t, []string{".dockerignore", "Dockerfile", "keep.log", "link.py", "src/", "src/main.py", "sub/", "sub/debug.log"}, names,
		"the Dockerfile and .dockerignore are sent even when ignored; the rest follows the patterns")
	require.Equal(t, os.FileMode(0o640), modes["src/main.py"].Perm())
	require.True(t, modes["link.py"]&os.ModeSymlink != 0, "links stay links")
}

func TestProjectZipRefusesOtherFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(p, []byte("hello"), 0o644))
	_, _, err := projectZip(p, "Dockerfile")
	require.Equal(t, ExitUsage, ExitCode(err))
	require.ErrorContains(t, err, "neither a directory nor a zip")
	_, _, err = projectZip(filepath.Join(t.TempDir(), "missing"), "Dockerfile")
	require.Equal(t, ExitUsage, ExitCode(err))
}

func TestConfigIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "reehub", "config.json")
	c := &app{Options: Options{Getenv: func(k string) string {
		if k == "REEHUB_CONFIG" {
			return path
		}
		return ""
	}}}
	empty, err := c.loadConfig()
	require.NoError(t, err)
	require.Equal(t, Config{}, empty, "no file is an empty config")
	want := Config{Server: "http://localhost:5000", Token: "reeh_secret", TokenID: 7, User: "ada"}
	_, err = c.saveConfig(want)
	require.NoError(t, err)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	got, err := c.loadConfig()
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestExitCodes(t *testing.T) {
	require.Equal(t, ExitOK, ExitCode(nil))
	require.Equal(t, ExitFailed, ExitCode(errors.New("boom")))
	require.Equal(t, ExitUsage, ExitCode(fmt.Errorf("wrapped: %w", Usage(errors.New("bad")))))
	require.Equal(t, ExitAuth, ExitCode(apiError("ps", 401, []byte(`{"code":401,"message":"unauthorized","type":"ERROR"}`))))
	require.Equal(t, ExitAuth, ExitCode(apiError("ps", 403, nil)))
	err := apiError("cancel", 409, []byte(`{"code":409,"message":"process already ended","type":"ERROR"}`))
	require.Equal(t, ExitFailed, ExitCode(err))
	require.EqualError(t, err, "cancel: process already ended (HTTP 409)")
	require.Equal(t, ExitUnreachable, ExitCode(transportError(context.Background(), "http://x", errors.New("refused"))))
	_, err = normalizeServer("localhost:5000")
	require.Equal(t, ExitUsage, ExitCode(err))
	s, err := normalizeServer("http://localhost:5000/")
	require.NoError(t, err)
	require.Equal(t, "http://localhost:5000", s)
}

// rangeServer serves body with Range (http.ServeContent) and the sha256 as
// its ETag, and counts the bytes it sent.
func rangeServer(t *testing.T, body []byte, etag string) (*httptest.Server, *int64) {
	sent := new(int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"`+etag+`"`)
		cw := &countingWriter{ResponseWriter: w, n: sent}
		http.ServeContent(cw, r, "out.zip", time.Unix(0, 0), bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv, sent
}

type countingWriter struct {
	http.ResponseWriter
	n *int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	*c.n += int64(len(b))
	return c.ResponseWriter.Write(b)
}

func TestFetchResumesAndChecks(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	sum := sha256.Sum256(body)
	srv, sent := rangeServer(t, body, hex.EncodeToString(sum[:]))
	var stderr bytes.Buffer
	c := &app{Options: Options{Stdout: io.Discard, Stderr: &stderr, IsTerminal: func(io.Writer) bool { return false }}}
	s, err := newSession(srv.URL, func(context.Context, *http.Request) error { return nil })
	require.NoError(t, err)
	get := func(ctx context.Context, ed client.RequestEditorFn) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			return nil, err
		}
		if err := ed(ctx, req); err != nil {
			return nil, err
		}
		return http.DefaultClient.Do(req)
	}
	path := filepath.Join(t.TempDir(), "out.zip")
	third := len(body) / 3
	require.NoError(t, os.WriteFile(path+".part", body[:third], 0o644))
	res, err := c.fetch(context.Background(), s, "download", path, get)
	require.NoError(t, err)
	require.Equal(t, int64(third), res.Resumed)
	require.Equal(t, int64(len(body)-third), *sent, "only the rest is sent")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, body, got)
	require.Empty(t, stderr.String(), "no progress bar when stderr is not a terminal")

	// A .part that does not belong to the file fails the check and is removed.
	other := filepath.Join(t.TempDir(), "other.zip")
	require.NoError(t, os.WriteFile(other+".part", []byte(strings.Repeat("x", third)), 0o644))
	_, err = c.fetch(context.Background(), s, "download", other, get)
	require.ErrorContains(t, err, "sha256")
	require.NoFileExists(t, other+".part")
	require.NoFileExists(t, other)
}
