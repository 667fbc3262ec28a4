package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Info describes a stored blob for garbage collection and usage reports.
type Info struct {
	// Digest is the blob's digest.
	Digest string
	// Size is its length in bytes.
	Size int64
	// ModTime is when it was last stored (Put of the same content renews it).
	ModTime time.Time
}

// Walk calls fn for every stored blob, in no particular order, until fn
// returns an error or ctx ends. Blobs stored or removed meanwhile may or may
// not be seen.
func (s *Store) Walk(ctx context.Context, fn func(Info) error) error {
	if s.bucket != nil {
		return s.remoteWalk(ctx, fn)
	}
	shards, err := os.ReadDir(s.blobDir)
	if err != nil {
		return fmt.Errorf("walk blobs: %w", err)
	}
	for _, shard := range shards {
		if !shard.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.blobDir, shard.Name()))
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			digest := algo + ":" + e.Name()
			if _, err := parseDigest(digest); err != nil {
				continue // not a blob
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("walk blobs: %w", err)
			}
			if err := fn(Info{Digest: digest, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// holdPath is where holder's hold of the blob hexPart is.
func (s *Store) holdPath(holder, hexPart string) string {
	return filepath.Join(s.holdDir, holder, hexPart[:2], hexPart)
}

// hold records (or renews) this Store's holder's hold of digest.
func (s *Store) hold(ctx context.Context, digest string) error {
	if s.holder == "" {
		return nil
	}
	hexPart, err := parseDigest(digest)
	if err != nil {
		return err
	}
	if s.bucket != nil {
		if err := s.bucket.WriteAll(ctx, key(holdsPrefix+s.holder+"/", hexPart), nil, nil); err != nil {
			return fmt.Errorf("hold blob %s: %w", digest, err)
		}
		return nil
	}
	p := s.holdPath(s.holder, hexPart)
	now := s.now()
	if err := os.Chtimes(p, now, now); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("hold blob %s: %w", digest, err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("hold blob %s: %w", digest, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("hold blob %s: %w", digest, err)
	}
	return os.Chtimes(p, now, now)
}

// OtherHolders returns the instances other than this Store's holder that hold digest.
func (s *Store) OtherHolders(ctx context.Context, digest string) ([]string, error) {
	hexPart, err := parseDigest(digest)
	if err != nil {
		return nil, err
	}
	if s.bucket != nil {
		return s.remoteHolders(ctx, hexPart)
	}
	holders, err := os.ReadDir(s.holdDir)
	if err != nil {
		return nil, fmt.Errorf("list holders: %w", err)
	}
	var out []string
	for _, h := range holders {
		if !h.IsDir() || h.Name() == s.holder {
			continue
		}
		if _, err := os.Lstat(s.holdPath(h.Name(), hexPart)); err == nil {
			out = append(out, h.Name())
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("look up hold of %s: %w", h.Name(), err)
		}
	}
	return out, nil
}

// Release removes this Store's holder's hold of digest unless it was
// renewed less than grace ago (a Put of this instance that is not yet
// referenced by a row). It reports whether the hold is gone.
func (s *Store) Release(ctx context.Context, digest string, grace time.Duration) (bool, error) {
	if s.holder == "" {
		return true, nil
	}
	hexPart, err := parseDigest(digest)
	if err != nil {
		return false, err
	}
	if s.bucket != nil {
		return s.remoteRelease(ctx, hexPart, grace)
	}
	p := s.holdPath(s.holder, hexPart)
	gone, err := s.removeUnlessFresh(p, grace, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return gone, err
}

// Collect removes the blob digest if it is garbage: last stored more than
// grace ago, held by no other instance, and still garbage by the caller's
// own check (its database references it nowhere), all decided after the
// blob was moved aside, so that a concurrent Put of the same content (which
// renews the time, or places the blob anew when it is gone) or another
// instance's hold (written before its Put touches the blob) keeps it.
// Otherwise the blob is put back. It returns the bytes freed (0 when kept)
// and, when it removed the blob, removes this instance's hold too.
func (s *Store) Collect(ctx context.Context, digest string, grace time.Duration, stillGarbage func(ctx context.Context) (bool, error)) (int64, error) {
	p, err := s.Path(digest)
	if err != nil {
		return 0, err
	}
	if s.bucket != nil {
		hexPart, _ := parseDigest(digest)
		return s.remoteCollect(ctx, digest, hexPart, grace, stillGarbage)
	}
	var size int64
	gone, err := s.removeUnlessFresh(p, grace, func(aside string) (bool, error) {
		fi, err := os.Stat(aside)
		if err != nil {
			return false, err
		}
		size = fi.Size()
		others, err := s.OtherHolders(ctx, digest)
		if err != nil || len(others) > 0 {
			return false, err
		}
		return stillGarbage(ctx)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // removed meanwhile
	}
	if err != nil || !gone {
		return 0, err
	}
	if _, err := s.Release(ctx, digest, 0); err != nil {
		return size, err
	}
	return size, nil
}

// removeUnlessFresh moves the file at p aside (an atomic rename, so a
// concurrent writer's new file at p is never the one removed), then removes
// it if its modification time is older than grace and ok (nil: yes) agrees;
// else it links it back to p unless p exists again.
func (s *Store) removeUnlessFresh(p string, grace time.Duration, ok func(aside string) (bool, error)) (bool, error) {
	aside := filepath.Join(s.trashDir, filepath.Base(p)+"."+randomSuffix())
	if err := os.Rename(p, aside); err != nil {
		return false, err
	}
	fi, err := os.Stat(aside)
	keep := err != nil || s.now().Sub(fi.ModTime()) < grace
	if !keep && ok != nil {
		var yes bool
		yes, err = ok(aside)
		keep = err != nil || !yes
	}
	if keep {
		return false, errors.Join(err, putBack(aside, p))
	}
	if err := os.Remove(aside); err != nil {
		return false, fmt.Errorf("remove %s: %w", filepath.Base(p), err)
	}
	return true, nil
}

// putBack links aside back to p (unless p was stored anew meanwhile) and removes aside.
func putBack(aside, p string) error {
	if err := os.Link(aside, p); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("put back %s: %w", filepath.Base(p), err)
	}
	return os.Remove(aside)
}

// RestoreAside puts back whatever a Collect or Release cut off by a crash
// left moved aside (run it before collecting).
func (s *Store) RestoreAside() error {
	entries, err := os.ReadDir(s.trashDir)
	if err != nil {
		return fmt.Errorf("restore blobs moved aside: %w", err)
	}
	var errs []error
	for _, e := range entries {
		name, _, ok := strings.Cut(e.Name(), ".")
		if !ok || len(name) != 64 {
			continue
		}
		aside := filepath.Join(s.trashDir, e.Name())
		// A blob and a hold share the hex name; a hold is empty, and only
		// blobs are read-only. Put a blob back as a blob, drop a lone hold
		// (the next Put renews it).
		fi, err := os.Stat(aside)
		if err != nil {
			continue
		}
		if fi.Mode().Perm() == blobMode {
			errs = append(errs, putBack(aside, filepath.Join(s.blobDir, name[:2], name)))
		} else {
			errs = append(errs, os.Remove(aside))
		}
	}
	return errors.Join(errs...)
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TempBytes returns the bytes in the tmp directory (uploads and outputs being written).
func (s *Store) TempBytes() int64 {
	var n int64
	_ = filepath.WalkDir(s.tmpDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
