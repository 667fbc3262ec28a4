// Package scan walks a directory tree and finds the licenses and copyright
// statements of every file, on all cores, streaming one Result per file.
// Memory stays flat with the size of the tree: files are read into one
// reused buffer per worker, capped at Options.MaxBytes, and results are handed
// to the caller as they come. Symlinks are never followed; each is reported
// with what it points at. Binary files are skipped, files over the cap are
// scanned on their first MaxBytes bytes, and text that is not UTF-8 is read as
// Latin-1; each of these is recorded on the Result.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/reehub/reehub/analysis/copyright"
	"github.com/reehub/reehub/analysis/license"
)

// Reason says why a file was skipped or scanned only in part.
type Reason string

// The reasons recorded on a Result.
const (
	// ReasonBinary: the file has NUL bytes in its first block; not scanned.
	ReasonBinary Reason = "binary"
	// ReasonCapped: the file is larger than Options.MaxBytes; only its start was scanned.
	ReasonCapped Reason = "capped"
	// ReasonNotUTF8: the file is not UTF-8; it was read as Latin-1 and offsets
	// refer to the decoded text.
	ReasonNotUTF8 Reason = "not-utf8"
	// ReasonSymlink: a symlink to a file or directory inside the root; not followed.
	ReasonSymlink Reason = "symlink"
	// ReasonDanglingSymlink: a symlink whose target does not exist.
	ReasonDanglingSymlink Reason = "dangling-symlink"
	// ReasonSymlinkOutside: a symlink whose target lies outside the root.
	ReasonSymlinkOutside Reason = "symlink-outside-root"
	// ReasonSymlinkLoop: a symlink that resolves to itself through a cycle.
	ReasonSymlinkLoop Reason = "symlink-loop"
	// ReasonPermission: the file or directory cannot be read.
	ReasonPermission Reason = "permission-denied"
	// ReasonSpecial: a device, socket or FIFO; not read.
	ReasonSpecial Reason = "special-file"
	// ReasonError: another read error, described in Result.Error.
	ReasonError Reason = "error"
)

// Reasons lists every reason.
func Reasons() []Reason {
	return []Reason{ReasonBinary, ReasonCapped, ReasonNotUTF8, ReasonSymlink, ReasonDanglingSymlink,
		ReasonSymlinkOutside, ReasonSymlinkLoop, ReasonPermission, ReasonSpecial, ReasonError}
}

// Result is what the scan found in one file.
type Result struct {
	// Path is the slash-separated path relative to the root.
	Path string `json:"path"`
	// Size is the file size in bytes.
	Size int64 `json:"size"`
	// Licenses are the licenses found, ordered by position.
	Licenses []license.Match `json:"licenses,omitempty"`
	// Copyrights are the copyright statements found, in order.
	Copyrights []copyright.Statement `json:"copyrights,omitempty"`
	// Skipped is set when the file was not scanned at all.
	Skipped Reason `json:"skipped,omitempty"`
	// Notes are the caveats of a scanned file: capped, not-utf8.
	Notes []Reason `json:"notes,omitempty"`
	// Target is where a symlink points, as written in the link.
	Target string `json:"target,omitempty"`
	// Error describes a ReasonError.
	Error string `json:"error,omitempty"`

	// refs are the text's pointers to license files, resolved by a walk.
	refs []license.FileRef
}

// Options tunes a scan. The zero value means the defaults.
type Options struct {
	// Workers is the number of files scanned at once. Defaults to the number of CPUs.
	Workers int
	// MaxBytes is how much of a file is read and scanned. Defaults to 1 MiB.
	MaxBytes int
	// SkipDirs are directory names not descended into. Defaults to .git, .hg,
	// .svn and .bzr; an empty non-nil slice skips none.
	SkipDirs []string
}

func (o *Options) withDefaults() Options {
	out := Options{}
	if o != nil {
		out = *o
	}
	if out.Workers <= 0 {
		out.Workers = runtime.NumCPU()
	}
	if out.MaxBytes <= 0 {
		out.MaxBytes = 1 << 20
	}
	if out.SkipDirs == nil {
		out.SkipDirs = []string{".git", ".hg", ".svn", ".bzr"}
	}
	return out
}

// Scanner scans files and trees. It is safe for concurrent use.
type Scanner struct {
	det  *license.Detector
	opts Options
}

// New returns a Scanner; opts may be nil.
func New(opts *Options) (*Scanner, error) {
	det, err := license.NewDetector()
	if err != nil {
		return nil, err
	}
	return &Scanner{det: det, opts: opts.withDefaults()}, nil
}

// binaryProbe is how much of a file is checked for NUL bytes.
const binaryProbe = 8 << 10

// maxHops bounds symlink resolution; more hops means a cycle.
const maxHops = 40

// Text scans text that is already in memory and fills in the Result's
// licenses, copyrights and notes (binary text is skipped).
func (s *Scanner) Text(text []byte, r *Result) {
	if len(text) > s.opts.MaxBytes {
		text = text[:s.opts.MaxBytes]
		r.Notes = append(r.Notes, ReasonCapped)
	}
	if slices.Contains(text[:min(len(text), binaryProbe)], 0) {
		r.Skipped = ReasonBinary
		return
	}
	if !utf8.Valid(text) {
		// A capped file may end inside a rune: drop the partial rune first.
		trimmed := trimPartialRune(text)
		if !utf8.Valid(trimmed) {
			text = latin1(text)
			r.Notes = append(r.Notes, ReasonNotUTF8)
		} else {
			text = trimmed
		}
	}
	r.Licenses, r.refs = s.det.DetectRefs(text)
	r.Copyrights = copyright.Extract(text)
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

// latin1 decodes ISO-8859-1 bytes to UTF-8.
func latin1(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

// job is one path for a worker.
type job struct {
	abs, rel string
	d        fs.DirEntry
}

// Walk scans every file under root and calls fn once per file, directory
// that could not be read, symlink or special file, from the calling goroutine,
// in no particular order. It stops at the first error fn returns, or when ctx
// ends, and returns that error.
func (s *Scanner) Walk(ctx context.Context, root string, fn func(Result) error) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("scan %s: %w", root, err)
	}
	info, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("scan %s: %w", root, err)
	}
	if !info.IsDir() {
		return s.walkFile(ctx, root, fn)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := newTree(s, root)
	jobs := make(chan job, s.opts.Workers*4)
	results := make(chan Result, s.opts.Workers*4)
	var walkErr error
	go func() {
		defer close(jobs)
		walkErr = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			rel := relPath(root, p)
			if err != nil {
				// An unreadable directory (or entry): report it and go on.
				r := Result{Path: rel, Skipped: ReasonError, Error: err.Error()}
				if errors.Is(err, fs.ErrPermission) {
					r.Skipped, r.Error = ReasonPermission, ""
				}
				select {
				case results <- r:
				case <-ctx.Done():
					return ctx.Err()
				}
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if p != root && slices.Contains(s.opts.SkipDirs, d.Name()) {
					return fs.SkipDir
				}
				return nil
			}
			select {
			case jobs <- job{abs: p, rel: rel, d: d}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, s.opts.MaxBytes)
			for j := range jobs {
				r := s.file(root, j, buf)
				t.resolve(&r, r.refs)
				r.refs = nil
				select {
				case results <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	var fnErr error
	for r := range results {
		if fnErr != nil {
			continue
		}
		if fnErr = fn(r); fnErr != nil {
			cancel()
		}
	}
	if fnErr != nil {
		return fnErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if walkErr != nil {
		return fmt.Errorf("scan %s: %w", root, walkErr)
	}
	return nil
}

// walkFile scans a single file given as the root.
func (s *Scanner) walkFile(ctx context.Context, p string, fn func(Result) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	info, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("scan %s: %w", p, err)
	}
	r := s.file(filepath.Dir(p), job{abs: p, rel: filepath.Base(p), d: fs.FileInfoToDirEntry(info)}, make([]byte, s.opts.MaxBytes))
	newTree(s, filepath.Dir(p)).resolve(&r, r.refs)
	r.refs = nil
	return fn(r)
}

// relPath returns p relative to root, slash-separated.
func relPath(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(rel)
}

// file scans one walked entry, reading into buf.
func (s *Scanner) file(root string, j job, buf []byte) Result {
	r := Result{Path: j.rel}
	mode := j.d.Type()
	switch {
	case mode&fs.ModeSymlink != 0:
		r.Target, r.Skipped = resolve(root, j.rel)
		return r
	case !mode.IsRegular():
		r.Skipped = ReasonSpecial
		return r
	}
	f, err := os.Open(j.abs)
	if err != nil {
		return readFailure(r, err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil {
		r.Size = info.Size()
	}
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return readFailure(r, err)
	}
	s.Text(buf[:n], &r)
	if r.Size > int64(n) && !slices.Contains(r.Notes, ReasonCapped) && r.Skipped == "" {
		r.Notes = append(r.Notes, ReasonCapped)
	}
	return r
}

// readFailure records why a file could not be read.
func readFailure(r Result, err error) Result {
	if errors.Is(err, fs.ErrPermission) {
		r.Skipped = ReasonPermission
		return r
	}
	r.Skipped, r.Error = ReasonError, err.Error()
	return r
}

// resolve follows the symlink at rel (relative to root) without leaving the
// root: absolute targets are taken as relative to the root, as in a root file
// system. It returns the link's own target and the reason to record.
func resolve(root, rel string) (string, Reason) {
	cur := rel
	first := ""
	for hop := 0; hop < maxHops; hop++ {
		target, err := os.Readlink(filepath.Join(root, filepath.FromSlash(cur)))
		if err != nil {
			return first, ReasonDanglingSymlink
		}
		if hop == 0 {
			first = target
		}
		next := path.Join(path.Dir(cur), filepath.ToSlash(target))
		if path.IsAbs(target) {
			next = path.Clean(strings.TrimLeft(filepath.ToSlash(target), "/"))
		}
		if next == ".." || strings.HasPrefix(next, "../") {
			return first, ReasonSymlinkOutside
		}
		info, err := os.Lstat(filepath.Join(root, filepath.FromSlash(next)))
		switch {
		case err != nil:
			return first, ReasonDanglingSymlink
		case info.Mode()&fs.ModeSymlink == 0:
			return first, ReasonSymlink
		}
		cur = next
	}
	return first, ReasonSymlinkLoop
}
