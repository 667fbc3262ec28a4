package blob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	gcblob "gocloud.dev/blob"
	// The s3:// scheme of gocloud.dev/blob (any S3-compatible store).
	_ "gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"

	"github.com/reehub/reehub/ctxio"
	"github.com/reehub/reehub/fault"
)

// A Store opened on a bucket URL (OpenURL) keeps its blobs in the bucket,
// under the keys a directory store uses as paths (sha256/<2 hex>/<hex>,
// holds/<holder>/<2 hex>/<hex>), plus renewed/<2 hex>/<hex>: an empty
// object written when content already stored is stored again, whose time
// restarts the blob's grace period (an object's time cannot be changed in
// place), and staging/<holder>/<random>: a Put's content while it streams
// in, before its digest (and so its key) is known. Its local directory is a
// cache: temporary files (outputs being written), and copies of blobs made
// on demand for the tools that need a file (OpenFile, LocalPath), removed by
// CleanTemp once unused for its age.

const (
	holdsPrefix   = "holds/"
	renewedPrefix = "renewed/"
	// stagingPrefix holds the objects of Puts in progress,
	// staging/<holder>/<random>, until they are copied to their blob's key.
	stagingPrefix = "staging/"
	// maxSingleCopy is the largest object S3's CopyObject copies (5 GiB);
	// larger ones need a multipart copy, which gocloud.dev/blob's Copy does
	// not make.
	maxSingleCopy = 5 << 30
)

// OpenURL opens the blob store named by rawURL as holder (see OpenFor): an
// empty URL, a plain path or file:///path is a directory store there (the
// layout of every earlier reehub, read and written as it always was);
// s3://bucket?endpoint=...&region=...&use_path_style=true (the query
// parameters of gocloud.dev/blob/s3blob; credentials from the AWS
// environment) is a bucket, with cacheDir as its local cache.
func OpenURL(ctx context.Context, rawURL, cacheDir, holder string) (*Store, error) {
	dir, isDir, err := dirOf(rawURL)
	if err != nil {
		return nil, err
	}
	if isDir {
		if dir == "" {
			dir = cacheDir
		}
		return OpenFor(dir, holder)
	}
	b, err := gcblob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", redact(rawURL), err)
	}
	if ok, err := b.IsAccessible(ctx); err != nil || !ok {
		_ = b.Close()
		return nil, fmt.Errorf("open blob store %s: the bucket is not accessible: %v", redact(rawURL), err)
	}
	s, err := OpenFor(cacheDir, holder)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	s.bucket, s.location = b, redact(rawURL)
	return s, nil
}

// dirOf reads a blob store URL: the directory of a directory store (and
// true), or false for a bucket URL.
func dirOf(rawURL string) (string, bool, error) {
	if rawURL == "" || !strings.Contains(rawURL, "://") {
		return rawURL, true, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", false, fmt.Errorf("blob store URL %q: %w", redact(rawURL), err)
	}
	if u.Scheme == "file" {
		if u.Host != "" && u.Host != "localhost" {
			return "", false, fmt.Errorf("blob store URL %q: a file URL names a local path (file:///path)", rawURL)
		}
		return filepath.FromSlash(u.Path), true, nil
	}
	return "", false, nil
}

// redact drops the user information of a URL for messages.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	u.User = nil
	return u.String()
}

// Location names where the blobs are: the directory, or the bucket's URL.
func (s *Store) Location() string {
	if s.bucket != nil {
		return s.location
	}
	return filepath.Dir(s.blobDir)
}

// Remote reports whether the blobs are in a bucket (the local directory a cache).
func (s *Store) Remote() bool { return s.bucket != nil }

// Close releases the bucket of a remote store.
func (s *Store) Close() error {
	if s.bucket == nil {
		return nil
	}
	return s.bucket.Close()
}

// key is the object key of the blob hexPart under prefix ("" for the blob itself).
func key(prefix, hexPart string) string {
	if prefix == "" {
		prefix = algo + "/"
	}
	return prefix + hexPart[:2] + "/" + hexPart
}

func notFound(err error) bool { return gcerrors.Code(err) == gcerrors.NotFound }

// remoteCommit uploads the finished file src as ref (streamed: the bucket's
// writer uploads a large file in parts), or, when the bucket has it, renews
// it; either way holder's hold comes first (see commit).
func (s *Store) remoteCommit(ctx context.Context, src string, ref Ref) error {
	hexPart, err := parseDigest(ref.Digest)
	if err != nil {
		return err
	}
	if err := s.hold(ctx, ref.Digest); err != nil {
		return err
	}
	k := key("", hexPart)
	if a, err := s.bucket.Attributes(ctx, k); err == nil && a.Size == ref.Size {
		if err := s.bucket.WriteAll(ctx, key(renewedPrefix, hexPart), nil, nil); err != nil {
			return fmt.Errorf("store blob %s: renew: %w", ref.Digest, err)
		}
		return nil
	} else if err != nil && !notFound(err) {
		return fmt.Errorf("store blob %s: %w", ref.Digest, err)
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("store blob %s: %w", ref.Digest, err)
	}
	defer f.Close()
	if err := s.bucket.Upload(ctx, k, f, &gcblob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
		return fmt.Errorf("store blob %s: upload: %w", ref.Digest, err)
	}
	return nil
}

// materialise makes sure the local cache has the blob and returns its path,
// downloading it (checked against its digest) when it is not there.
func (s *Store) materialise(ctx context.Context, digest string) (string, error) {
	p, err := s.Path(digest)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		now := s.now()
		_ = os.Chtimes(p, now, now) // in use: CleanTemp keeps it
		return p, nil
	}
	if s.bucket == nil {
		return "", fault.NotFoundf("blob %s not found", digest)
	}
	hexPart, _ := parseDigest(digest)
	r, err := s.bucket.NewReader(ctx, key("", hexPart), nil)
	if notFound(err) {
		return "", fault.NotFoundf("blob %s not found", digest)
	}
	if err != nil {
		return "", fmt.Errorf("fetch blob %s: %w", digest, err)
	}
	defer r.Close()
	tmp, err := s.TempFile("fetch-*")
	if err != nil {
		return "", err
	}
	done := false
	defer func() {
		if !done {
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := ctxio.Copy(ctx, io.MultiWriter(tmp, h), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("fetch blob %s: %w", digest, err)
	}
	if got := digestOf(h); got != digest {
		return "", fmt.Errorf("fetch blob %s: the bucket's object has digest %s (%d bytes)", digest, got, n)
	}
	if err := os.Chmod(tmp.Name(), blobMode); err != nil {
		return "", fmt.Errorf("fetch blob %s: %w", digest, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("fetch blob %s: %w", digest, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", fmt.Errorf("fetch blob %s: %w", digest, err)
	}
	done = true
	return p, nil
}

// remoteOpen opens the bucket's object of digest: a reader that seeks by
// opening ranged reads, so an HTTP Range request reads only its range.
func (s *Store) remoteOpen(ctx context.Context, hexPart, digest string) (io.ReadSeekCloser, error) {
	r, err := s.bucket.NewReader(ctx, key("", hexPart), nil)
	if notFound(err) {
		return nil, fault.NotFoundf("blob %s not found", digest)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", digest, err)
	}
	return r, nil
}

// remoteStat returns the Ref of the bucket's object of digest.
func (s *Store) remoteStat(ctx context.Context, hexPart, digest string) (Ref, error) {
	a, err := s.bucket.Attributes(ctx, key("", hexPart))
	if notFound(err) {
		return Ref{}, fault.NotFoundf("blob %s not found", digest)
	}
	if err != nil {
		return Ref{}, fmt.Errorf("stat blob %s: %w", digest, err)
	}
	return Ref{Digest: digest, Size: a.Size}, nil
}

// remoteDelete deletes the object of digest, its renewal and the local copy.
func (s *Store) remoteDelete(ctx context.Context, hexPart, digest string) error {
	err := s.bucket.Delete(ctx, key("", hexPart))
	if notFound(err) {
		return fault.NotFoundf("blob %s not found", digest)
	}
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", digest, err)
	}
	if err := s.bucket.Delete(ctx, key(renewedPrefix, hexPart)); err != nil && !notFound(err) {
		return fmt.Errorf("delete blob %s: %w", digest, err)
	}
	if p, err := s.Path(digest); err == nil {
		_ = os.Remove(p)
	}
	return nil
}

// remoteWalk lists the bucket's blobs, each with the later of its own time
// and its renewal's.
func (s *Store) remoteWalk(ctx context.Context, fn func(Info) error) error {
	renewed := map[string]time.Time{}
	it := s.bucket.List(&gcblob.ListOptions{Prefix: renewedPrefix})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		renewed[path.Base(o.Key)] = o.ModTime
	}
	it = s.bucket.List(&gcblob.ListOptions{Prefix: algo + "/"})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		digest := algo + ":" + path.Base(o.Key)
		if _, err := parseDigest(digest); err != nil || o.IsDir {
			continue
		}
		mod := o.ModTime
		if r, ok := renewed[path.Base(o.Key)]; ok && r.After(mod) {
			mod = r
		}
		if err := fn(Info{Digest: digest, Size: o.Size, ModTime: mod}); err != nil {
			return err
		}
	}
}

// remoteModTime is the later of the blob's time and its renewal's.
func (s *Store) remoteModTime(ctx context.Context, hexPart string) (time.Time, int64, error) {
	a, err := s.bucket.Attributes(ctx, key("", hexPart))
	if err != nil {
		return time.Time{}, 0, err
	}
	mod := a.ModTime
	if r, err := s.bucket.Attributes(ctx, key(renewedPrefix, hexPart)); err == nil && r.ModTime.After(mod) {
		mod = r.ModTime
	}
	return mod, a.Size, nil
}

// remoteCollect is Collect on a bucket. An object cannot be moved aside
// atomically, so the blob's time (and its renewal's) is read again right
// before it is deleted: a Put of the same content renews it first.
func (s *Store) remoteCollect(ctx context.Context, digest, hexPart string, grace time.Duration, stillGarbage func(ctx context.Context) (bool, error)) (int64, error) {
	mod, size, err := s.remoteModTime(ctx, hexPart)
	if notFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("collect blob %s: %w", digest, err)
	}
	if s.now().Sub(mod) < grace {
		return 0, nil
	}
	others, err := s.OtherHolders(ctx, digest)
	if err != nil || len(others) > 0 {
		return 0, err
	}
	if yes, err := stillGarbage(ctx); err != nil || !yes {
		return 0, err
	}
	if again, _, err := s.remoteModTime(ctx, hexPart); err != nil || !again.Equal(mod) {
		return 0, nil // renewed or gone meanwhile
	}
	if err := s.remoteDelete(ctx, hexPart, digest); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return 0, nil
		}
		return 0, err
	}
	if _, err := s.Release(ctx, digest, 0); err != nil {
		return size, err
	}
	return size, nil
}

// remoteHolders lists the holders of the bucket other than this Store's that hold hexPart.
func (s *Store) remoteHolders(ctx context.Context, hexPart string) ([]string, error) {
	it := s.bucket.List(&gcblob.ListOptions{Prefix: holdsPrefix, Delimiter: "/"})
	var out []string
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list holders: %w", err)
		}
		h := strings.TrimSuffix(strings.TrimPrefix(o.Key, holdsPrefix), "/")
		if !o.IsDir || h == "" || h == s.holder {
			continue
		}
		ok, err := s.bucket.Exists(ctx, key(holdsPrefix+h+"/", hexPart))
		if err != nil {
			return nil, fmt.Errorf("look up hold of %s: %w", h, err)
		}
		if ok {
			out = append(out, h)
		}
	}
}

// remoteRelease removes this Store's hold of hexPart unless it is fresher than grace.
func (s *Store) remoteRelease(ctx context.Context, hexPart string, grace time.Duration) (bool, error) {
	k := key(holdsPrefix+s.holder+"/", hexPart)
	a, err := s.bucket.Attributes(ctx, k)
	if notFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("release blob: %w", err)
	}
	if s.now().Sub(a.ModTime) < grace {
		return false, nil
	}
	if err := s.bucket.Delete(ctx, k); err != nil && !notFound(err) {
		return false, fmt.Errorf("release blob: %w", err)
	}
	return true, nil
}

// pruneCache removes local copies of a remote store's blobs unused for
// olderThan (the bucket keeps them).
func (s *Store) pruneCache(olderThan time.Duration) error {
	cutoff := s.now().Add(-olderThan)
	return filepath.WalkDir(s.blobDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.ModTime().Before(cutoff) {
			_ = os.Remove(p)
		}
		return nil
	})
}

// stagingDir is this Store's staging prefix in the bucket.
func (s *Store) stagingDir() string {
	h := s.holder
	if h == "" {
		h = "_"
	}
	return stagingPrefix + h + "/"
}

// remotePut streams r into a new staging object of the bucket (the bucket's
// writer uploads it in parts as it comes) while hashing it, then copies the
// staging object to the blob's key inside the store (or renews the blob if
// it is stored) and deletes the staging object. Nothing is written to local
// disk, and memory holds only the writer's parts. On error, including
// cancellation of ctx, the upload is aborted and nothing is left behind.
func (s *Store) remotePut(ctx context.Context, r io.Reader) (Ref, error) {
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return Ref{}, fmt.Errorf("store blob: %w", err)
	}
	stage := s.stagingDir() + hex.EncodeToString(rnd[:])
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, stage, &gcblob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return Ref{}, fmt.Errorf("store blob: %w", err)
	}
	h := sha256.New()
	n, err := ctxio.Copy(ctx, io.MultiWriter(w, h), r)
	if err != nil {
		cancel() // aborts the upload: Close discards it
		_ = w.Close()
		return Ref{}, fmt.Errorf("store blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return Ref{}, fmt.Errorf("store blob: upload: %w", err)
	}
	// A staging object that cannot be deleted now goes with CleanTemp once old.
	defer func() { _ = s.bucket.Delete(context.WithoutCancel(ctx), stage) }()
	ref := Ref{Digest: digestOf(h), Size: n}
	hexPart, err := parseDigest(ref.Digest)
	if err != nil {
		return Ref{}, err
	}
	if err := s.hold(ctx, ref.Digest); err != nil {
		return Ref{}, err
	}
	k := key("", hexPart)
	if a, err := s.bucket.Attributes(ctx, k); err == nil && a.Size == ref.Size {
		if err := s.bucket.WriteAll(ctx, key(renewedPrefix, hexPart), nil, nil); err != nil {
			return Ref{}, fmt.Errorf("store blob %s: renew: %w", ref.Digest, err)
		}
		return ref, nil
	} else if err != nil && !notFound(err) {
		return Ref{}, fmt.Errorf("store blob %s: %w", ref.Digest, err)
	}
	if err := s.promote(ctx, k, stage, ref.Size); err != nil {
		return Ref{}, fmt.Errorf("store blob %s: copy from staging: %w", ref.Digest, err)
	}
	return ref, nil
}

// promote copies the staging object stage of size bytes to key k: in one
// request inside the bucket up to the copy limit, else streamed through this
// process (read in ranges, written in parts; memory flat), since a larger
// single-request copy is refused by S3.
func (s *Store) promote(ctx context.Context, k, stage string, size int64) error {
	limit := s.copyLimit
	if limit <= 0 {
		limit = maxSingleCopy
	}
	if size <= limit {
		return s.bucket.Copy(ctx, k, stage, nil)
	}
	r, err := s.bucket.NewReader(ctx, stage, nil)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, k, &gcblob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return err
	}
	n, err := ctxio.Copy(ctx, w, r)
	if err == nil && n != size {
		err = fmt.Errorf("staging object has %d bytes, want %d", n, size)
	}
	if err != nil {
		cancel() // aborts the upload: Close discards it
		_ = w.Close()
		return err
	}
	return w.Close()
}

// pruneStaging deletes this Store's staging objects older than olderThan:
// what a Put interrupted by a crash left in the bucket.
func (s *Store) pruneStaging(olderThan time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cutoff := s.now().Add(-olderThan)
	it := s.bucket.List(&gcblob.ListOptions{Prefix: s.stagingDir()})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("prune staged uploads: %w", err)
		}
		if o.IsDir || !o.ModTime.Before(cutoff) {
			continue
		}
		if err := s.bucket.Delete(ctx, o.Key); err != nil && !notFound(err) {
			return fmt.Errorf("prune staged upload %s: %w", o.Key, err)
		}
	}
}
