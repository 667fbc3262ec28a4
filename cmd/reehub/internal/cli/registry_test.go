package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// fakeRegistry answers the three calls of `registry push`: create, upload
// (whose upfile it counts) and get.
func fakeRegistry(t *testing.T, received *int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/images":
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"img1","title":"x","contenttype":"docker-image"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/image/img1/file":
			_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			require.NoError(t, err)
			part, err := multipart.NewReader(r.Body, params["boundary"]).NextPart()
			require.NoError(t, err)
			require.Equal(t, "upfile", part.FormName())
			n, err := io.Copy(io.Discard, part)
			require.NoError(t, err)
			*received = n
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/image/img1":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "img1", "imported": true, "size": *received, "digest": "sha256:00"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// runPush runs `reehub registry push FILE` against srv and returns stderr.
func runPush(t *testing.T, srv *httptest.Server, file string, terminal bool) string {
	t.Helper()
	env := map[string]string{"REEHUB_SERVER": srv.URL, "REEHUB_TOKEN": "tok", "REEHUB_CONFIG": filepath.Join(t.TempDir(), "config.json")}
	var stdout, stderr bytes.Buffer
	root := &cobra.Command{Use: "reehub", SilenceUsage: true, SilenceErrors: true}
	AddCommands(root, Options{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] },
		IsTerminal: func(io.Writer) bool { return terminal }})
	root.SetArgs([]string{"registry", "push", file})
	require.NoError(t, root.ExecuteContext(context.Background()), stderr.String())
	require.Equal(t, "img1\tsha256:00\t3000000 bytes\n", stdout.String())
	return stderr.String()
}

// TestRegistryPushProgress: the upload shows a progress bar on a terminal
// and none when stderr is piped; the whole file arrives as upfile.
func TestRegistryPushProgress(t *testing.T) {
	file := filepath.Join(t.TempDir(), "image.tar")
	require.NoError(t, os.WriteFile(file, bytes.Repeat([]byte("x"), 3_000_000), 0o644))
	var received int64
	srv := fakeRegistry(t, &received)

	onTerminal := runPush(t, srv, file, true)
	require.Equal(t, int64(3_000_000), received)
	require.Contains(t, onTerminal, "image img1 created")
	require.Regexp(t, `\rupload +[0-9]+% \|.*/3\.0 MB`, onTerminal, "a bar counting the file's bytes")

	piped := runPush(t, srv, file, false)
	require.Equal(t, "image img1 created\n", piped, "no bar when stderr is not a terminal")
}
