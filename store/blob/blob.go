// Package blob stores files by the SHA-256 of their content.
//
// A Store is a directory: blobs live at sha256/<first two hex digits>/<hex>,
// read-only, and new content is streamed into tmp/ while it is hashed,
// synced, and renamed into place, so a blob is either complete or absent,
// even after a crash. Writing the same content twice stores it once.
// Digests are written "sha256:<64 lowercase hex digits>".
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	gcblob "gocloud.dev/blob"

	"github.com/reehub/reehub/ctxio"
	"github.com/reehub/reehub/fault"
)

const (
	// algo is the digest algorithm and the name of the blob directory.
	algo = "sha256"
	// blobMode is the permission of stored blobs: nobody edits a blob in
	// place.
	blobMode = 0o444
)

// Ref names a stored blob.
type Ref struct {
	// Digest is the blob's content digest, "sha256:<hex>".
	Digest string
	// Size is the blob's length in bytes.
	Size int64
}

// Store is a content-addressed blob directory. It is safe for concurrent use
// by several goroutines and several processes sharing the directory.
type Store struct {
	blobDir  string
	tmpDir   string
	holdDir  string
	trashDir string
	// holder names the instance whose holds this Store writes ("" writes none).
	holder string
	now    func() time.Time
	// bucket, when set, holds the blobs; the directory is then a cache (see OpenURL).
	bucket   *gcblob.Bucket
	location string
	// copyLimit is the largest staging object copied inside the bucket in
	// one request (S3's CopyObject takes at most 5 GiB); a larger one is
	// streamed from its staging key to its blob key.
	copyLimit int64
}

// Open opens the store in dir, creating dir/sha256 and dir/tmp if needed.
// It writes no holds (see OpenFor).
func Open(dir string) (*Store, error) { return OpenFor(dir, "") }

// OpenFor opens the store in dir as holder, the id of a reehub instance
// (every reehub sharing one database is one instance). Each blob this Store
// stores is also held by holder (a file under dir/holds/<holder>/), so that
// instances with separate databases can share the directory: garbage
// collection removes a blob only when no other instance holds it (see Collect).
func OpenFor(dir, holder string) (*Store, error) {
	if holder != "" && (strings.ContainsAny(holder, `/\`) || holder == "." || holder == "..") {
		return nil, fmt.Errorf("open blob store: holder %q must be a plain name", holder)
	}
	s := &Store{
		blobDir:  filepath.Join(dir, algo),
		tmpDir:   filepath.Join(dir, "tmp"),
		holdDir:  filepath.Join(dir, "holds"),
		trashDir: filepath.Join(dir, "trash"),
		holder:   holder,
		now:      time.Now,
	}
	for _, d := range []string{s.blobDir, s.tmpDir, s.holdDir, s.trashDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("open blob store: %w", err)
		}
	}
	return s, nil
}

// Put stores everything r yields and returns its Ref. The content is
// streamed to a temporary file while it is hashed, synced to disk and
// renamed into place; memory use does not grow with the size. A bucket
// store streams it to a staging object instead, nothing on local disk (see
// remotePut). Content that is already stored is not stored again. On error,
// including cancellation of ctx, nothing is left behind.
func (s *Store) Put(ctx context.Context, r io.Reader) (Ref, error) {
	return s.PutChecked(ctx, r, nil)
}

// PutChecked is Put with a check of the content before it is committed:
// check (when not nil) gets the path of the complete, synced temporary file
// and its Ref (digest and size computed while streaming); an error of check
// is returned and nothing is stored. check must not change or keep the file.
func (s *Store) PutChecked(ctx context.Context, r io.Reader, check func(path string, ref Ref) error) (Ref, error) {
	if s.bucket != nil && check == nil {
		return s.remotePut(ctx, r)
	}
	tmp, err := s.TempFile("put-*")
	if err != nil {
		return Ref{}, err
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			os.Remove(tmpName)
		}
	}()

	h := sha256.New()
	n, err := ctxio.Copy(ctx, io.MultiWriter(tmp, h), r)
	if err != nil {
		tmp.Close()
		return Ref{}, fmt.Errorf("store blob: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Ref{}, fmt.Errorf("store blob: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Ref{}, fmt.Errorf("store blob: %w", err)
	}
	ref := Ref{Digest: digestOf(h), Size: n}
	if check != nil {
		if err := check(tmpName, ref); err != nil {
			return Ref{}, err
		}
	}
	if err := s.commit(ctx, tmpName, ref); err != nil {
		return Ref{}, err
	}
	committed = true
	return ref, nil
}

// PutFile stores the regular file at path. With move set, the file is
// renamed into the store when it is on the same file system (create it with
// TempFile to make sure) and copied then removed otherwise; the caller must
// not change or use it afterwards. Without move, the file is copied and left
// alone.
func (s *Store) PutFile(ctx context.Context, path string, move bool) (Ref, error) {
	f, err := os.Open(path)
	if err != nil {
		return Ref{}, fmt.Errorf("store file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Ref{}, fmt.Errorf("store file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Ref{}, fmt.Errorf("store file %s: not a regular file", path)
	}
	if !move {
		return s.Put(ctx, f)
	}

	h := sha256.New()
	n, err := ctxio.Copy(ctx, h, f)
	if err != nil {
		return Ref{}, fmt.Errorf("store file %s: %w", path, err)
	}
	if n != fi.Size() {
		return Ref{}, fmt.Errorf("store file %s: changed while being stored", path)
	}
	// The writer may not have synced; fsync works on a read-only descriptor.
	if err := f.Sync(); err != nil {
		return Ref{}, fmt.Errorf("store file %s: sync: %w", path, err)
	}
	ref := Ref{Digest: digestOf(h), Size: n}
	err = s.commit(ctx, path, ref)
	if errors.Is(err, syscall.EXDEV) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return Ref{}, fmt.Errorf("store file %s: %w", path, err)
		}
		copied, err := s.Put(ctx, f)
		if err != nil {
			return Ref{}, err
		}
		if copied != ref {
			return Ref{}, fmt.Errorf("store file %s: changed while being stored", path)
		}
		if err := os.Remove(path); err != nil {
			return Ref{}, fmt.Errorf("store file: remove moved file: %w", err)
		}
		return ref, nil
	}
	if err != nil {
		return Ref{}, err
	}
	return ref, nil
}

// commit moves the finished file src into place as ref, or removes it if
// the blob is already stored. A remote store uploads it first, and keeps
// the file as its local copy.
func (s *Store) commit(ctx context.Context, src string, ref Ref) error {
	dst, err := s.Path(ref.Digest)
	if err != nil {
		return err
	}
	if s.bucket != nil {
		if err := s.remoteCommit(ctx, src, ref); err != nil {
			return err
		}
	} else if err := s.hold(ctx, ref.Digest); err != nil {
		// The hold comes before the blob is touched or placed, so that another
		// instance's Collect either sees the hold or sees the blob fresh.
		return err
	}
	if fi, err := os.Lstat(dst); err == nil && fi.Mode().IsRegular() && fi.Size() == ref.Size {
		// Stored already: a fresh modification time restarts the grace period
		// of garbage collection, which may be about to remove a blob that was
		// unreferenced until now. If the blob went meanwhile (or its time
		// cannot be set), this copy is renamed into place instead.
		now := s.now()
		if err := os.Chtimes(dst, now, now); err == nil {
			if err := os.Remove(src); err != nil {
				return fmt.Errorf("store blob: remove duplicate: %w", err)
			}
			return nil
		}
	}
	if err := os.Chmod(src, blobMode); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	shard := filepath.Dir(dst)
	if err := os.MkdirAll(shard, 0o755); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	// Rename replaces atomically: a concurrent Put of the same content
	// renames identical bytes, and readers see one complete file or the
	// other.
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("store blob %s: %w", ref.Digest, err)
	}
	if err := syncDir(shard); err != nil {
		return fmt.Errorf("store blob %s: %w", ref.Digest, err)
	}
	return nil
}

// Open opens the blob with the given digest for reading, as a stream that
// seeks (http.ServeContent serves ranges of it): the file of a directory
// store or a local copy, else the bucket's object, read in ranges as it is
// sought. A malformed digest is fault.ErrInvalid; a blob that is not stored
// is fault.ErrNotFound. Use OpenFile where a tool needs a file.
func (s *Store) Open(ctx context.Context, digest string) (io.ReadSeekCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := s.Path(digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		if s.bucket != nil {
			hexPart, _ := parseDigest(digest)
			return s.remoteOpen(ctx, hexPart, digest)
		}
		return nil, fault.NotFoundf("blob %s not found", digest)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", digest, err)
	}
	return f, nil
}

// OpenFile opens the blob as a local file, for what needs one (a zip's
// ReaderAt, a size from Stat): a remote store first copies the blob into its
// local cache, checked against its digest. Errors are those of Open.
func (s *Store) OpenFile(ctx context.Context, digest string) (*os.File, error) {
	p, err := s.LocalPath(ctx, digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fault.NotFoundf("blob %s not found", digest)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", digest, err)
	}
	return f, nil
}

// LocalPath returns the path of a local file of the blob, for tools that
// read files (podman load, unpackers): the blob itself in a directory store;
// a copy in a remote store's cache, made now if missing and kept while it is
// used (CleanTemp removes copies unused for its age). The file must not be
// changed. Errors are those of Open.
func (s *Store) LocalPath(ctx context.Context, digest string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if s.bucket == nil {
		p, err := s.Path(digest)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return "", fault.NotFoundf("blob %s not found", digest)
		}
		return p, nil
	}
	return s.materialise(ctx, digest)
}

// Stat returns the Ref of a stored blob. A malformed digest is
// fault.ErrInvalid; a blob that is not stored is fault.ErrNotFound.
func (s *Store) Stat(ctx context.Context, digest string) (Ref, error) {
	if err := ctx.Err(); err != nil {
		return Ref{}, err
	}
	p, err := s.Path(digest)
	if err != nil {
		return Ref{}, err
	}
	if s.bucket != nil {
		hexPart, _ := parseDigest(digest)
		return s.remoteStat(ctx, hexPart, digest)
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Ref{}, fault.NotFoundf("blob %s not found", digest)
	}
	if err != nil {
		return Ref{}, fmt.Errorf("stat blob %s: %w", digest, err)
	}
	return Ref{Digest: digest, Size: fi.Size()}, nil
}

// Path returns where the blob with the given digest is or would be stored
// in the local directory (a remote store's cache), without checking that it
// exists. A malformed digest is fault.ErrInvalid. Readers use Open,
// OpenFile or LocalPath, which work with every store.
func (s *Store) Path(digest string) (string, error) {
	hexPart, err := parseDigest(digest)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.blobDir, hexPart[:2], hexPart), nil
}

// Delete removes the blob with the given digest. A malformed digest is
// fault.ErrInvalid; a blob that is not stored is fault.ErrNotFound. Readers
// that already opened the blob keep reading it.
func (s *Store) Delete(ctx context.Context, digest string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.Path(digest)
	if err != nil {
		return err
	}
	if s.bucket != nil {
		hexPart, _ := parseDigest(digest)
		return s.remoteDelete(ctx, hexPart, digest)
	}
	err = os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fault.NotFoundf("blob %s not found", digest)
	}
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", digest, err)
	}
	return nil
}

// CleanTemp removes files in the store's tmp directory last modified more
// than olderThan ago: what a crash left behind in the middle of a Put. Pick
// olderThan longer than any upload takes, since a running Put's file is
// there too. A remote store also drops local copies unused for olderThan,
// and this holder's staging objects older than that (a crash's leftovers).
func (s *Store) CleanTemp(olderThan time.Duration) error {
	if s.bucket != nil {
		if err := s.pruneCache(olderThan); err != nil {
			return fmt.Errorf("prune the blob cache: %w", err)
		}
		if err := s.pruneStaging(olderThan); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(s.tmpDir)
	if err != nil {
		return fmt.Errorf("clean blob temp files: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	var errs []error
	for _, e := range entries {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // finished meanwhile
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.tmpDir, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean blob temp files: %w", err)
	}
	return nil
}

// TempDir is the store's tmp directory: files staged there are on the same
// file system as the blobs, so PutFile with move renames them.
func (s *Store) TempDir() string { return s.tmpDir }

// TempFile creates a new file in the store's tmp directory, named by
// pattern as os.CreateTemp does. It is on the same file system as the
// blobs, so PutFile with move renames it; CleanTemp removes it if it is
// abandoned.
func (s *Store) TempFile(pattern string) (*os.File, error) {
	f, err := os.CreateTemp(s.tmpDir, pattern)
	if err != nil {
		return nil, fmt.Errorf("create blob temp file: %w", err)
	}
	return f, nil
}

// parseDigest checks that digest is "sha256:" followed by 64 lowercase hex
// digits and returns the hex digits.
func parseDigest(digest string) (string, error) {
	hexPart, ok := strings.CutPrefix(digest, algo+":")
	if !ok || len(hexPart) != sha256.Size*2 || strings.ToLower(hexPart) != hexPart {
		return "", fault.Invalidf("malformed digest %q: want sha256: and 64 lowercase hex digits", digest)
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return "", fault.Invalidf("malformed digest %q: want sha256: and 64 lowercase hex digits", digest)
	}
	return hexPart, nil
}

func digestOf(h hash.Hash) string {
	return algo + ":" + hex.EncodeToString(h.Sum(nil))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	return errors.Join(serr, cerr)
}
