package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
)

type testBundle struct {
	dir   string
	store *Store
}

func setup(t *testing.T) testBundle {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	return testBundle{dir: dir, store: s}
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// tmpFiles lists the store's tmp directory.
func tmpFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
	require.NoError(t, err)
	names := []string{}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenCreatesLayout(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	_, err := Open(dir)
	require.NoError(t, err)
	for _, d := range []string{"sha256", "tmp"} {
		fi, err := os.Stat(filepath.Join(dir, d))
		require.NoError(t, err)
		require.True(t, fi.IsDir())
	}
}

func TestPutOpenStatDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"small", []byte("hello, world\n")},
		{"bigger than a chunk", bytes.Repeat([]byte("0123456789abcdef"), 100_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ref, err := b.store.Put(ctx, bytes.NewReader(tt.data))
			require.NoError(t, err)
			require.Equal(t, Ref{Digest: digest(tt.data), Size: int64(len(tt.data))}, ref)

			p, err := b.store.Path(ref.Digest)
			require.NoError(t, err)
			hexPart := strings.TrimPrefix(ref.Digest, "sha256:")
			require.Equal(t, filepath.Join(b.dir, "sha256", hexPart[:2], hexPart), p)
			fi, err := os.Stat(p)
			require.NoError(t, err)
			require.Equal(t, fs.FileMode(0o444), fi.Mode())

			f, err := b.store.Open(ctx, ref.Digest)
			require.NoError(t, err)
			got, err := io.ReadAll(f)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			require.Equal(t, len(tt.data), len(got))
			require.True(t, bytes.Equal(tt.data, got))

			st, err := b.store.Stat(ctx, ref.Digest)
			require.NoError(t, err)
			require.Equal(t, ref, st)

			// Same content again: same ref, still one file.
			again, err := b.store.Put(ctx, bytes.NewReader(tt.data))
			require.NoError(t, err)
			require.Equal(t, ref, again)

			require.NoError(t, b.store.Delete(ctx, ref.Digest))
			_, err = b.store.Open(ctx, ref.Digest)
			require.ErrorIs(t, err, fault.ErrNotFound)
			require.ErrorIs(t, b.store.Delete(ctx, ref.Digest), fault.ErrNotFound)
		})
	}
}

func TestDedupeOneFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		_, err := b.store.Put(t.Context(), strings.NewReader("same"))
		require.NoError(t, err)
	}
	_, err := b.store.Put(t.Context(), strings.NewReader("other"))
	require.NoError(t, err)
	n := 0
	require.NoError(t, filepath.WalkDir(filepath.Join(b.dir, "sha256"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	}))
	require.Equal(t, 2, n)
	require.Empty(t, tmpFiles(t, b.dir))
}

func TestConcurrentPutsOfSameContent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	data := bytes.Repeat([]byte("concurrent"), 200_000)
	const n = 16
	refs := make([]Ref, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			refs[i], errs[i] = b.store.Put(t.Context(), bytes.NewReader(data))
		})
	}
	// Readers during the puts only ever see a complete blob or none.
	var torn atomic.Int32
	wg.Go(func() {
		<-start
		for range 200 {
			f, err := b.store.Open(t.Context(), digest(data))
			if err != nil {
				continue
			}
			got, _ := io.ReadAll(f)
			f.Close()
			if !bytes.Equal(got, data) {
				torn.Add(1)
			}
		}
	})
	close(start)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, Ref{Digest: digest(data), Size: int64(len(data))}, refs[i])
	}
	require.Zero(t, torn.Load())
	require.Empty(t, tmpFiles(t, b.dir))
	f, err := b.store.Open(t.Context(), digest(data))
	require.NoError(t, err)
	defer f.Close()
	got, err := io.ReadAll(f)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))
}

func TestMalformedDigest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := digest([]byte("x"))
	bad := []string{
		"",
		"sha256:",
		strings.TrimPrefix(good, "sha256:"),
		"sha512:" + strings.TrimPrefix(good, "sha256:"),
		"sha256:" + strings.ToUpper(strings.TrimPrefix(good, "sha256:")),
		good[:len(good)-1],
		good + "0",
		good[:len(good)-1] + "g",
		"sha256:../../../../etc/passwd" + strings.Repeat("0", 35),
		"sha256:" + strings.Repeat("0", 62) + "/x",
	}
	for _, d := range bad {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			_, err := b.store.Open(t.Context(), d)
			require.ErrorIs(t, err, fault.ErrInvalid)
			require.ErrorContains(t, err, "malformed digest")
			_, err = b.store.Stat(t.Context(), d)
			require.ErrorIs(t, err, fault.ErrInvalid)
			_, err = b.store.Path(d)
			require.ErrorIs(t, err, fault.ErrInvalid)
			require.ErrorIs(t, b.store.Delete(t.Context(), d), fault.ErrInvalid)
		})
	}
}

func TestMissingBlob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := digest([]byte("never stored"))
	_, err := b.store.Open(t.Context(), d)
	require.ErrorIs(t, err, fault.ErrNotFound)
	require.ErrorContains(t, err, d)
	_, err = b.store.Stat(t.Context(), d)
	require.ErrorIs(t, err, fault.ErrNotFound)
	require.ErrorIs(t, b.store.Delete(t.Context(), d), fault.ErrNotFound)
}

// failingReader yields some bytes and then an error, like a dropped upload.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	m := min(len(p), r.n)
	r.n -= m
	return m, nil
}

func TestPutFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		r    io.Reader
		want string
	}{
		{"reader error", t.Context(), &failingReader{n: 1 << 20}, "connection reset"},
		{"cancelled", cancelled, strings.NewReader("data"), "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, err := b.store.Put(tt.ctx, tt.r)
			require.ErrorContains(t, err, tt.want)
			require.Empty(t, tmpFiles(t, b.dir))
			shards, err := os.ReadDir(filepath.Join(b.dir, "sha256"))
			require.NoError(t, err)
			require.Empty(t, shards)
		})
	}
}

func TestCleanTemp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{"put-crashed1", "put-crashed2"} {
		f, err := b.store.TempFile(name + "-*")
		require.NoError(t, err)
		_, err = f.WriteString("half an upload")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.NoError(t, os.Chtimes(f.Name(), old, old))
	}
	fresh, err := b.store.TempFile("put-running-*")
	require.NoError(t, err)
	require.NoError(t, fresh.Close())
	ref, err := b.store.Put(t.Context(), strings.NewReader("kept"))
	require.NoError(t, err)

	require.NoError(t, b.store.CleanTemp(time.Hour))
	require.Equal(t, []string{filepath.Base(fresh.Name())}, tmpFiles(t, b.dir))
	_, err = b.store.Stat(t.Context(), ref.Digest)
	require.NoError(t, err)

	require.NoError(t, b.store.CleanTemp(0))
	require.Empty(t, tmpFiles(t, b.dir))
}

func TestPutFile(t *testing.T) {
	t.Parallel()
	data := []byte("file content\n")
	tests := []struct {
		name     string
		inStore  bool // create the source with TempFile
		move     bool
		srcKept  bool
		existing bool // the blob is already stored
		otherFS  bool // the source is on another file system
	}{
		{name: "copy", move: false, srcKept: true},
		{name: "move same fs", inStore: true, move: true},
		{name: "move from elsewhere", move: true},
		{name: "move duplicate", inStore: true, move: true, existing: true},
		{name: "copy duplicate", move: false, srcKept: true, existing: true},
		{name: "move across file systems", move: true, otherFS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.existing {
				_, err := b.store.Put(t.Context(), bytes.NewReader(data))
				require.NoError(t, err)
			}
			var src string
			if tt.inStore {
				f, err := b.store.TempFile("upload-*")
				require.NoError(t, err)
				_, err = f.Write(data)
				require.NoError(t, err)
				require.NoError(t, f.Close())
				src = f.Name()
			} else if tt.otherFS {
				src = otherFSFile(t, b.dir)
				require.NoError(t, os.WriteFile(src, data, 0o600))
			} else {
				src = filepath.Join(t.TempDir(), "src")
				require.NoError(t, os.WriteFile(src, data, 0o600))
			}
			ref, err := b.store.PutFile(t.Context(), src, tt.move)
			require.NoError(t, err)
			require.Equal(t, Ref{Digest: digest(data), Size: int64(len(data))}, ref)
			_, serr := os.Stat(src)
			if tt.srcKept {
				require.NoError(t, serr)
			} else {
				require.ErrorIs(t, serr, fs.ErrNotExist)
			}
			p, err := b.store.Path(ref.Digest)
			require.NoError(t, err)
			got, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Equal(t, data, got)
			fi, err := os.Stat(p)
			require.NoError(t, err)
			require.Equal(t, fs.FileMode(0o444), fi.Mode())
			require.Empty(t, tmpFiles(t, b.dir))
		})
	}
}

func TestPutFileRefusesNonRegular(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.PutFile(t.Context(), t.TempDir(), true)
	require.ErrorContains(t, err, "not a regular file")
	_, err = b.store.PutFile(t.Context(), filepath.Join(t.TempDir(), "missing"), false)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// patternReader yields size bytes of a repeating, non-trivial pattern
// without holding them in memory.
type patternReader struct {
	left int64
	off  int
}

var pattern = func() []byte {
	p := make([]byte, 4093) // prime length: chunks never line up
	for i := range p {
		p[i] = byte(i*7 + i/13)
	}
	return p
}()

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], pattern[r.off:])
		r.off = (r.off + c) % len(pattern)
		n += c
	}
	r.left -= int64(n)
	return n, nil
}

func TestPutLargeStreamKeepsMemoryFlat(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("writes 1 GiB")
	}
	b := setup(t)
	const size = 1 << 30

	// Expected digest, computed over the same stream.
	h := sha256.New()
	_, err := io.Copy(h, &patternReader{left: size})
	require.NoError(t, err)
	want := "sha256:" + hex.EncodeToString(h.Sum(nil))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	ref, err := b.store.Put(t.Context(), &patternReader{left: size})
	close(done)
	wg.Wait()
	require.NoError(t, err)
	require.Equal(t, Ref{Digest: want, Size: size}, ref)

	delta := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("1 GiB Put: peak HeapInuse %d KiB, %+d KiB over the start", peak.Load()>>10, delta>>10)
	// Other tests run in parallel, so allow generous slack; a buffered Put
	// would need over 1 GiB.
	require.Less(t, delta, int64(64<<20))
}

// otherFSFile returns a path in /dev/shm, which is on another file system
// than dir, or skips the test.
func otherFSFile(t *testing.T, dir string) string {
	t.Helper()
	var a, b syscall.Stat_t
	if syscall.Stat("/dev/shm", &a) != nil || syscall.Stat(dir, &b) != nil || a.Dev == b.Dev {
		t.Skip("no second file system at /dev/shm")
	}
	d, err := os.MkdirTemp("/dev/shm", "blobtest-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "src")
}

// TestPutChecked: the check sees the complete file and its digest and size;
// a refused content leaves nothing, neither blob nor temporary file.
func TestPutChecked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	content := []byte("checked content")
	var seen Ref
	ref, err := b.store.PutChecked(ctx, bytes.NewReader(content), func(path string, r Ref) error {
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, content, got)
		seen = r
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, digest(content), ref.Digest)
	require.Equal(t, ref, seen)

	refused := errors.New("not an image")
	_, err = b.store.PutChecked(ctx, bytes.NewReader([]byte("other")), func(string, Ref) error { return refused })
	require.ErrorIs(t, err, refused)
	_, err = b.store.Stat(ctx, digest([]byte("other")))
	require.Error(t, err)
	require.Empty(t, tmpFiles(t, b.dir))
}
