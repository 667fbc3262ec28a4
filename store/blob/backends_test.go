package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	gcblob "gocloud.dev/blob"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store/blob/weedtest"
)

// s3Endpoint is the loopback S3 endpoint of the SeaweedFS server TestMain
// starts (bin/weed, built by scripts/build-weed.sh; REEHUB_TEST_WEED names
// another binary); "" when there is none, and the s3 backend is skipped.
var s3Endpoint string

func TestMain(m *testing.M) {
	code, err := runWithS3(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "blob tests: no S3 server:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// runWithS3 runs the tests with a SeaweedFS server when there is a weed
// binary; without one it runs them without (REEHUB_TEST_REQUIRE_S3=1
// makes that an error, as in CI).
func runWithS3(m *testing.M) (int, error) {
	bin := weedtest.Binary("../..")
	if bin == "" {
		if weedtest.Required() {
			return 0, fmt.Errorf("no weed binary (run scripts/build-weed.sh)")
		}
		return m.Run(), nil
	}
	srv, err := weedtest.Start(bin, os.TempDir(), 90*time.Second)
	if err != nil {
		return 0, err
	}
	defer srv.Stop()
	s3Endpoint = srv.Endpoint
	return m.Run(), nil
}

// backend opens stores of one kind: file (a directory) or s3 (a bucket of
// the test's S3 server).
type backend struct {
	name string
	// open opens the store shared by the test as holder, with its own local
	// directory (a directory store's blobs, a bucket's cache).
	open func(t *testing.T, holder string) *Store
}

// backends are the kinds of store the tests run on: a directory always, a
// bucket when the S3 server runs.
func backends(t *testing.T) []backend {
	out := []backend{{name: "file", open: func(t *testing.T, holder string) *Store {
		dir := sharedDir(t)
		s, err := OpenURL(context.Background(), "file://"+dir, t.TempDir(), holder)
		require.NoError(t, err)
		return s
	}}}
	if s3Endpoint != "" {
		out = append(out, backend{name: "s3", open: func(t *testing.T, holder string) *Store {
			u := bucketURL(t)
			s, err := OpenURL(context.Background(), u, t.TempDir(), holder)
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			return s
		}})
	} else {
		t.Log("no S3 server (bin/weed): the s3 backend is skipped")
	}
	return out
}

var shared = map[string]string{}

// sharedDir is one directory per test, shared by its stores.
func sharedDir(t *testing.T) string {
	if d, ok := shared[t.Name()]; ok {
		return d
	}
	d := t.TempDir()
	shared[t.Name()] = d
	return d
}

// bucketURL is the URL of one new bucket per test, shared by its stores.
func bucketURL(t *testing.T) string {
	if u, ok := shared["s3:"+t.Name()]; ok {
		return u
	}
	name := fmt.Sprintf("reehub-%d", time.Now().UnixNano())
	u := "s3://" + name + "?endpoint=" + s3Endpoint + "&use_path_style=true&region=us-east-1&disable_https=true"
	ctx := context.Background()
	b, err := gcblob.OpenBucket(ctx, u)
	require.NoError(t, err)
	var c *s3.Client
	require.True(t, b.As(&c))
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	shared["s3:"+t.Name()] = u
	return u
}

// TestBackendsPutReadRangeDelete: what is put reads back whole, from any
// offset (an HTTP Range request seeks), and as a local file; deleting it
// makes it not found everywhere.
func TestBackendsPutReadRangeDelete(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			s := be.open(t, "a")
			// Larger than the S3 writer's part size (5 MiB): a multipart upload.
			content := make([]byte, 12<<20+7)
			_, _ = rand.Read(content)
			ref, err := s.Put(ctx, bytes.NewReader(content))
			require.NoError(t, err)
			require.Equal(t, digest(content), ref.Digest)
			require.Equal(t, int64(len(content)), ref.Size)

			// Another instance (own cache) reads it from the shared store.
			other := be.open(t, "b")
			st, err := other.Stat(ctx, ref.Digest)
			require.NoError(t, err)
			require.Equal(t, ref, st)
			r, err := other.Open(ctx, ref.Digest)
			require.NoError(t, err)
			off := int64(9<<20 + 3)
			_, err = r.Seek(off, io.SeekStart)
			require.NoError(t, err)
			part := make([]byte, 100)
			_, err = io.ReadFull(r, part)
			require.NoError(t, err)
			require.Equal(t, content[off:off+100], part)
			_, err = r.Seek(0, io.SeekStart)
			require.NoError(t, err)
			all, err := io.ReadAll(r)
			require.NoError(t, err)
			require.True(t, bytes.Equal(content, all))
			require.NoError(t, r.Close())

			p, err := other.LocalPath(ctx, ref.Digest)
			require.NoError(t, err)
			onDisk, err := os.ReadFile(p)
			require.NoError(t, err)
			require.True(t, bytes.Equal(content, onDisk))
			f, err := other.OpenFile(ctx, ref.Digest)
			require.NoError(t, err)
			fi, err := f.Stat()
			require.NoError(t, err)
			require.Equal(t, ref.Size, fi.Size())
			require.NoError(t, f.Close())

			require.NoError(t, s.Delete(ctx, ref.Digest))
			_, err = s.Stat(ctx, ref.Digest)
			require.ErrorIs(t, err, fault.ErrNotFound)
			if be.name == "s3" {
				// The other instance's cached copy is no proof of the blob:
				// Stat asks the bucket.
				_, err = other.Stat(ctx, ref.Digest)
				require.ErrorIs(t, err, fault.ErrNotFound)
			}
			require.ErrorIs(t, s.Delete(ctx, ref.Digest), fault.ErrNotFound)
			_, err = s.Open(ctx, ref.Digest)
			require.ErrorIs(t, err, fault.ErrNotFound)
			_, err = s.LocalPath(ctx, ref.Digest)
			require.ErrorIs(t, err, fault.ErrNotFound)
		})
	}
}

// TestBackendsPutFileAndCache: PutFile moves a staged file in; a bucket's
// local copy, once pruned, is fetched again on demand.
func TestBackendsPutFileAndCache(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			s := be.open(t, "a")
			tmp, err := s.TempFile("stage-*")
			require.NoError(t, err)
			_, _ = tmp.WriteString("staged output")
			require.NoError(t, tmp.Close())
			ref, err := s.PutFile(ctx, tmp.Name(), true)
			require.NoError(t, err)
			require.NoFileExists(t, tmp.Name())
			require.NoError(t, s.CleanTemp(0)) // a bucket's cache goes; a directory's blobs stay
			p, err := s.LocalPath(ctx, ref.Digest)
			require.NoError(t, err)
			got, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Equal(t, "staged output", string(got))
			fi, err := os.Stat(p)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(blobMode), fi.Mode().Perm())
		})
	}
}

// TestBackendsCollect: garbage collection keeps a blob younger than the
// grace period, one renewed by a second Put, one another instance holds,
// one the caller still references; it removes the rest.
func TestBackendsCollect(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			a, b := be.open(t, "a"), be.open(t, "b")
			later := time.Now().Add(2 * time.Hour)
			garbage := func(context.Context) (bool, error) { return true, nil }
			kept := func(context.Context) (bool, error) { return false, nil }

			onlyA, err := a.Put(ctx, strings.NewReader("only a"))
			require.NoError(t, err)
			both, err := a.Put(ctx, strings.NewReader("both"))
			require.NoError(t, err)
			_, err = b.Put(ctx, strings.NewReader("both"))
			require.NoError(t, err)

			var seen []string
			require.NoError(t, a.Walk(ctx, func(i Info) error { seen = append(seen, i.Digest); return nil }))
			require.ElementsMatch(t, []string{onlyA.Digest, both.Digest}, seen)
			others, err := a.OtherHolders(ctx, both.Digest)
			require.NoError(t, err)
			require.Equal(t, []string{"b"}, others)

			n, err := a.Collect(ctx, onlyA.Digest, time.Hour, garbage)
			require.NoError(t, err)
			require.Zero(t, n, "younger than the grace period")

			a.now = func() time.Time { return later }
			n, err = a.Collect(ctx, onlyA.Digest, time.Hour, kept)
			require.NoError(t, err)
			require.Zero(t, n, "still referenced")
			n, err = a.Collect(ctx, both.Digest, time.Hour, garbage)
			require.NoError(t, err)
			require.Zero(t, n, "held by b")
			n, err = a.Collect(ctx, onlyA.Digest, time.Hour, garbage)
			require.NoError(t, err)
			require.Equal(t, onlyA.Size, n)
			_, err = b.Stat(ctx, onlyA.Digest)
			require.ErrorIs(t, err, fault.ErrNotFound)

			// b lets go; a second Put by a renews the blob: kept, then collected.
			b.now = func() time.Time { return later }
			gone, err := b.Release(ctx, both.Digest, time.Hour)
			require.NoError(t, err)
			require.True(t, gone)
			if be.name == "s3" {
				// Object times come from the server: renew "now", collect "later".
				a.now = time.Now
				_, err = a.Put(ctx, strings.NewReader("both"))
				require.NoError(t, err)
				n, err = a.Collect(ctx, both.Digest, time.Hour, garbage)
				require.NoError(t, err)
				require.Zero(t, n, "renewed by the second Put")
				a.now = func() time.Time { return later }
			}
			n, err = a.Collect(ctx, both.Digest, time.Hour, garbage)
			require.NoError(t, err)
			require.Equal(t, both.Size, n)
			seen = nil
			require.NoError(t, a.Walk(ctx, func(i Info) error { seen = append(seen, i.Digest); return nil }))
			require.Empty(t, seen)
		})
	}
}

// TestOpenURLReadsAnOlderDirectory: a directory written by an earlier
// reehub (blob.Open) reads the same through OpenURL, with a plain path and
// with a file URL.
func TestOpenURLReadsAnOlderDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := OpenFor(dir, "x")
	require.NoError(t, err)
	ref, err := old.Put(ctx, strings.NewReader("written before"))
	require.NoError(t, err)
	for _, u := range []string{dir, "file://" + dir} {
		s, err := OpenURL(ctx, u, "", "x")
		require.NoError(t, err)
		require.False(t, s.Remote())
		r, err := s.Open(ctx, ref.Digest)
		require.NoError(t, err)
		got, _ := io.ReadAll(r)
		_ = r.Close()
		require.Equal(t, "written before", string(got))
	}
	_, err = OpenURL(ctx, "file://elsewhere/x", "", "x")
	require.Error(t, err)
}

// watchedReader yields size random bytes and, once half of them are read,
// lists the local temporary directory (what a Put stages on disk).
type watchedReader struct {
	r       io.Reader
	left    int64
	half    int64
	tmpDir  string
	staged  []string
	failErr error // returned instead of the second half, when set
}

func (w *watchedReader) Read(p []byte) (int, error) {
	if w.left <= w.half && w.staged == nil {
		entries, _ := os.ReadDir(w.tmpDir)
		w.staged = []string{}
		for _, e := range entries {
			w.staged = append(w.staged, e.Name())
		}
		if w.failErr != nil {
			return 0, w.failErr
		}
	}
	if w.left == 0 {
		return 0, io.EOF
	}
	n, err := w.r.Read(p[:min(int64(len(p)), w.left)])
	w.left -= int64(n)
	return n, err
}

// bucketKeys lists the keys of the store's bucket under prefix.
func bucketKeys(t *testing.T, s *Store, prefix string) []string {
	t.Helper()
	var keys []string
	it := s.bucket.List(&gcblob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(context.Background())
		if err == io.EOF {
			return keys
		}
		require.NoError(t, err)
		keys = append(keys, o.Key)
	}
}

// TestBucketPutStreams (S3): a Put into a bucket stages nothing on local
// disk: the content streams into a staging object in parts while it is
// hashed and is then copied to its blob's key; no staging object is left,
// after a Put of content already stored either, nor after a Put whose
// reader fails midway, which stores nothing.
func TestBucketPutStreams(t *testing.T) {
	if s3Endpoint == "" {
		t.Skip("no S3 server (bin/weed)")
	}
	ctx := context.Background()
	u := bucketURL(t)
	s, err := OpenURL(ctx, u, t.TempDir(), "a")
	require.NoError(t, err)
	defer s.Close()
	const size = 12<<20 + 5 // more than one part of the S3 writer
	content := make([]byte, size)
	_, _ = rand.Read(content)
	w := &watchedReader{r: bytes.NewReader(content), left: size, half: size / 2, tmpDir: s.TempDir()}
	ref, err := s.Put(ctx, w)
	require.NoError(t, err)
	require.Equal(t, digest(content), ref.Digest)
	require.NotNil(t, w.staged, "the reader was read past its half")
	require.Empty(t, w.staged, "nothing is staged in the local temporary directory")
	p, err := s.Path(ref.Digest)
	require.NoError(t, err)
	require.NoFileExists(t, p, "no local copy is made by a Put")
	require.Empty(t, bucketKeys(t, s, stagingPrefix), "no staging object is left")
	hexPart, _ := parseDigest(ref.Digest)
	require.Equal(t, []string{key("", hexPart)}, bucketKeys(t, s, algo+"/"))
	r, err := s.Open(ctx, ref.Digest)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.True(t, bytes.Equal(content, got))

	// The same content again: renewed, not copied again.
	again, err := s.Put(ctx, bytes.NewReader(content))
	require.NoError(t, err)
	require.Equal(t, ref, again)
	require.Equal(t, []string{key(renewedPrefix, hexPart)}, bucketKeys(t, s, renewedPrefix))
	require.Empty(t, bucketKeys(t, s, stagingPrefix))

	// A reader that fails midway stores nothing and leaves nothing.
	other := make([]byte, size)
	_, _ = rand.Read(other)
	broken := &watchedReader{r: bytes.NewReader(other), left: size, half: size / 2, tmpDir: s.TempDir(), failErr: io.ErrUnexpectedEOF}
	_, err = s.Put(ctx, broken)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	_, err = s.Stat(ctx, digest(other))
	require.ErrorIs(t, err, fault.ErrNotFound)
	require.Empty(t, bucketKeys(t, s, stagingPrefix), "the aborted upload left no staging object")
	require.Equal(t, []string{key("", hexPart)}, bucketKeys(t, s, algo+"/"))

	// Past the single-request copy limit (S3's 5 GiB, lowered here) the
	// staging object is streamed to its key instead.
	s.copyLimit = size / 3
	big := make([]byte, size)
	_, _ = rand.Read(big)
	bigRef, err := s.Put(ctx, bytes.NewReader(big))
	require.NoError(t, err)
	r, err = s.Open(ctx, bigRef.Digest)
	require.NoError(t, err)
	got, err = io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.True(t, bytes.Equal(big, got), "the streamed copy is the content")
	require.Empty(t, bucketKeys(t, s, stagingPrefix))

	// A staging object a crash left is removed by CleanTemp once old.
	require.NoError(t, s.bucket.WriteAll(ctx, s.stagingDir()+"left-by-a-crash", []byte("x"), nil))
	require.NoError(t, s.CleanTemp(time.Hour))
	require.Len(t, bucketKeys(t, s, stagingPrefix), 1, "a young staging object may be a Put in progress")
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	require.NoError(t, s.CleanTemp(time.Hour))
	require.Empty(t, bucketKeys(t, s, stagingPrefix))
}
