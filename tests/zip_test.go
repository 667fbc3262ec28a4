package tests

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// zipEntry is one entry of a hand-made zip.
type zipEntry struct {
	name    string
	body    string
	mode    fs.FileMode // 0 = regular 0644
	symlink string      // target, for a symlink entry
	method  uint16
}

// makeZip writes entries to a new zip file and returns its path.
func makeZip(t testing.TB, entries ...zipEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: e.method}
		if h.Method == 0 {
			h.Method = zip.Deflate
		}
		switch {
		case e.symlink != "":
			h.SetMode(fs.ModeSymlink | 0o777)
		case e.mode != 0:
			h.SetMode(e.mode)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		content := e.body
		if e.symlink != "" {
			content = e.symlink
		}
		_, err = io.WriteString(w, content)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return writeTemp(t, buf.Bytes())
}

func writeTemp(t testing.TB, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "upload.zip")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// project returns a zip of a Dockerfile project.
func project(t testing.TB, dockerfile string, files ...zipEntry) string {
	t.Helper()
	return makeZip(t, append([]zipEntry{{name: "Dockerfile", body: dockerfile}}, files...)...)
}

// bomb returns a zip whose one entry expands from a few KB to size bytes of zeros.
func bomb(t testing.TB, size int) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("Dockerfile")
	require.NoError(t, err)
	_, _ = io.WriteString(w, "FROM python_3_11\n")
	w, err = zw.Create("zeros.bin")
	require.NoError(t, err)
	chunk := make([]byte, 1<<20)
	for n := 0; n < size; n += len(chunk) {
		_, err = w.Write(chunk)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return writeTemp(t, buf.Bytes())
}

// rezip rewrites a zip, letting edit change, drop (return false) or add entries.
func rezip(t testing.TB, src string, edit func(name string, body []byte) ([]byte, bool), add map[string][]byte) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	require.NoError(t, err)
	defer zr.Close()
	out := filepath.Join(t.TempDir(), "edited.zip")
	f, err := os.Create(out)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		rc, err := e.Open()
		require.NoError(t, err)
		body, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		if edit != nil {
			var keep bool
			body, keep = edit(e.Name, body)
			if !keep {
				continue
			}
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: zip.Store})
		require.NoError(t, err)
		_, err = w.Write(body)
		require.NoError(t, err)
	}
	for name, body := range add {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return out
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
