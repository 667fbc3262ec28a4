package archive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// zent describes one entry of a test zip. A zero mode is a 0644 file.
type zent struct {
	name  string
	mode  fs.FileMode
	body  string
	store bool
}

// zipBytes builds a zip from ents exactly as given: no name checks, so
// hostile archives can be made.
func zipBytes(t testing.TB, ents ...zent) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range ents {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.store {
			fh.Method = zip.Store
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		fh.SetMode(mode)
		w, err := zw.CreateHeader(fh)
		require.NoError(t, err)
		if e.body != "" {
			_, err = io.WriteString(w, e.body)
			require.NoError(t, err)
		}
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// writeTemp writes data to a new file in a test directory and returns its
// path.
func writeTemp(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.zip")
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// bombZip returns a zip holding one entry of size zero bytes, deflated.
func bombZip(t testing.TB, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	w, err := zw.Create("zeros.bin")
	require.NoError(t, err)
	zeros := make([]byte, 1<<20)
	for n := int64(0); n < size; n += int64(len(zeros)) {
		_, err := w.Write(zeros[:min(int64(len(zeros)), size-n)])
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// patchCentral overwrites a little-endian uint32 at off inside the first
// central directory header of data.
func patchCentral(t testing.TB, data []byte, off int, v uint32) []byte {
	t.Helper()
	out := bytes.Clone(data)
	i := bytes.Index(out, []byte("PK\x01\x02"))
	require.GreaterOrEqual(t, i, 0)
	binary.LittleEndian.PutUint32(out[i+off:], v)
	return out
}

// manyEntries returns a zip of n empty stored files.
func manyEntries(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		_, err := zw.CreateHeader(&zip.FileHeader{Name: "f" + strconv.Itoa(i), Method: zip.Store})
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// mkfifo creates a named pipe at path.
func mkfifo(path string) error {
	return syscall.Mkfifo(path, 0o644)
}
