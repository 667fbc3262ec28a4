package reana

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/reehub/reehub/ctxio"
	"github.com/reehub/reehub/fault"
)

// partialPrefix starts the names of uploads in progress; they are never
// listed.
const partialPrefix = ".reehub-partial-"

// CleanPath turns a workspace path from a request into a clean relative path:
// a leading / is stripped (reana-client sends /data/input.txt), and a path
// that is empty, leaves the workspace (..) or holds a NUL or backslash is
// refused with fault.ErrInvalid.
func CleanPath(p string) (string, error) {
	orig := p
	p = strings.TrimLeft(p, "/")
	if p == "" {
		return "", fault.Invalidf("path %q names no file in the workspace", orig)
	}
	if strings.ContainsAny(p, "\x00\\") {
		return "", fault.Invalidf("path %q holds a NUL or a backslash", orig)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", fault.Invalidf("path %q leaves the workspace", orig)
		}
	}
	c := path.Clean(p)
	if c == "." {
		return "", fault.Invalidf("path %q names no file in the workspace", orig)
	}
	return c, nil
}

// Workspace is one workflow's directory. Every access goes through an
// os.Root, so that neither .. nor a symbolic link (one a step made, say)
// reaches outside it.
type Workspace struct {
	dir string
}

// NewWorkspace returns the workspace at dir, creating it (0755) if needed.
func NewWorkspace(dir string) (*Workspace, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create workspace: %w", err)
	}
	return &Workspace{dir: dir}, nil
}

// Dir is the workspace's host directory.
func (w *Workspace) Dir() string { return w.dir }

func (w *Workspace) root() (*os.Root, error) {
	r, err := os.OpenRoot(w.dir)
	if err != nil {
		return nil, fmt.Errorf("open workspace: %w", err)
	}
	return r, nil
}

// escapeErr turns os.Root's refusals into a user-facing invalid error.
func escapeErr(name string, err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "path escapes") {
		return fault.Invalidf("path %q leaves the workspace (through a symbolic link)", name)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fault.NotFoundf("%s does not exist in the workspace", name)
	}
	return err
}

// File is a regular file of the workspace.
type File struct {
	// Name is the path relative to the workspace, with / separators.
	Name string
	// Size is the size in bytes.
	Size int64
	// Modified is the modification time.
	Modified time.Time
}

// ListOpts filters and pages List.
type ListOpts struct {
	// Glob keeps the paths that match it (see MatchGlob); "" keeps all.
	Glob string
	// Search keeps the paths that contain it; "" keeps all.
	Search string
	// Page is the page (1-based); 0 means 1.
	Page int
	// Size is the page size; 0 means everything.
	Size int
}

// List returns the workspace's regular files sorted by name, and the number
// of files that matched before paging. Uploads in progress are not listed.
func (w *Workspace) List(ctx context.Context, o ListOpts) ([]File, int, error) {
	r, err := w.root()
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	var out []File
	err = fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), partialPrefix) {
			return nil
		}
		if o.Glob != "" && !MatchGlob(strings.TrimLeft(o.Glob, "/"), p) {
			return nil
		}
		if o.Search != "" && !strings.Contains(p, o.Search) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		out = append(out, File{Name: p, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list workspace: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	total := len(out)
	if o.Size > 0 {
		page := max(o.Page, 1)
		lo := min((page-1)*o.Size, total)
		out = out[lo:min(lo+o.Size, total)]
	}
	return out, total, nil
}

// Usage returns the bytes the workspace's regular files take.
func (w *Workspace) Usage(ctx context.Context) (int64, error) {
	files, _, err := w.List(ctx, ListOpts{})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, f := range files {
		n += f.Size
	}
	return n, nil
}

// Upload streams r into the file name (see CleanPath), creating missing
// directories and replacing an existing file only once the upload is
// complete. When the upload would grow the workspace by more than room
// bytes (room < 0: no limit), it stops, leaves nothing and returns a
// fault.ErrTooLarge error; it also stops when ctx ends. It returns the bytes
// written.
func (w *Workspace) Upload(ctx context.Context, name string, rd io.Reader, room int64) (int64, error) {
	clean, err := CleanPath(name)
	if err != nil {
		return 0, err
	}
	r, err := w.root()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	dir := path.Dir(clean)
	if dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return 0, escapeErr(clean, err)
		}
	}
	var existing int64
	if st, err := r.Lstat(clean); err == nil {
		if st.IsDir() {
			return 0, fault.Conflictf("%s is a directory in the workspace", clean)
		}
		existing = st.Size()
	}
	tmp := path.Join(dir, partialPrefix+randHex(8))
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, escapeErr(clean, err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			_ = r.Remove(tmp)
		}
	}()
	src := rd
	limit := int64(-1)
	if room >= 0 {
		limit = room + existing
		src = io.LimitReader(src, limit+1)
	}
	n, err := ctxio.Copy(ctx, f, src)
	if err != nil {
		return n, fmt.Errorf("upload %s: %w", clean, err)
	}
	if limit >= 0 && n > limit {
		return n, fault.TooLargef("upload of %s stopped: it would exceed your disk quota (%s left)", clean, HumanSize(max(limit-existing, 0)))
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("upload %s: %w", clean, err)
	}
	if err := r.Rename(tmp, clean); err != nil {
		return n, escapeErr(clean, err)
	}
	done = true
	return n, nil
}

// Entry is what Stat finds at a path.
type Entry struct {
	// Name is the clean relative path.
	Name string
	// Dir reports a directory (downloaded as a zip).
	Dir bool
	// Size is a file's size.
	Size int64
	// Modified is the modification time.
	Modified time.Time
}

// Stat describes the file or directory name.
func (w *Workspace) Stat(name string) (Entry, error) {
	clean, err := CleanPath(name)
	if err != nil {
		return Entry{}, err
	}
	r, err := w.root()
	if err != nil {
		return Entry{}, err
	}
	defer r.Close()
	st, err := r.Stat(clean)
	if err != nil {
		return Entry{}, escapeErr(clean, err)
	}
	return Entry{Name: clean, Dir: st.IsDir(), Size: st.Size(), Modified: st.ModTime()}, nil
}

// Open opens the regular file name for reading (the caller closes it).
func (w *Workspace) Open(name string) (*os.File, error) {
	clean, err := CleanPath(name)
	if err != nil {
		return nil, err
	}
	r, err := w.root()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.Open(clean)
	if err != nil {
		return nil, escapeErr(clean, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fault.Invalidf("%s is not a regular file", clean)
	}
	return f, nil
}

// WriteZip writes the directory name (".": the whole workspace) as a zip
// archive to out, with paths relative to that directory. Symbolic links are
// left out.
func (w *Workspace) WriteZip(ctx context.Context, name string, out io.Writer) error {
	dir := "."
	if name != "." && name != "" && name != "/" {
		clean, err := CleanPath(name)
		if err != nil {
			return err
		}
		dir = clean
	}
	r, err := w.root()
	if err != nil {
		return err
	}
	defer r.Close()
	fsys := r.FS()
	zw := zip.NewWriter(out)
	err = fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return escapeErr(p, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), partialPrefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if dir == "." {
			rel = p
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name, h.Method = rel, zip.Deflate
		dst, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(dst, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	return nil
}

// Delete removes the files that name matches: a file, a directory (with its
// contents) or a glob of files. It returns each removed file with its size
// and each failure with its reason; nothing matching is a fault.ErrNotFound.
func (w *Workspace) Delete(ctx context.Context, name string) (map[string]int64, map[string]string, error) {
	clean, err := CleanPath(name)
	if err != nil {
		return nil, nil, err
	}
	r, err := w.root()
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	deleted, failed := map[string]int64{}, map[string]string{}
	var targets []File
	if st, err := r.Lstat(clean); err == nil {
		if st.IsDir() {
			files, _, err := w.List(ctx, ListOpts{Glob: clean + "/**"})
			if err != nil {
				return nil, nil, err
			}
			targets = files
			defer func() {
				if len(failed) == 0 {
					_ = r.RemoveAll(clean)
				}
			}()
		} else {
			targets = []File{{Name: clean, Size: st.Size()}}
		}
	} else {
		files, _, err := w.List(ctx, ListOpts{Glob: clean})
		if err != nil {
			return nil, nil, err
		}
		targets = files
	}
	if len(targets) == 0 {
		return nil, nil, fault.NotFoundf("%s does not exist in the workspace", clean)
	}
	for _, f := range targets {
		if err := r.Remove(f.Name); err != nil {
			failed[f.Name] = escapeErr(f.Name, err).Error()
			continue
		}
		deleted[f.Name] = f.Size
	}
	return deleted, failed, nil
}

// Move renames source to target (a file or a directory). Missing parent
// directories of target are created; an existing target is a conflict.
func (w *Workspace) Move(source, target string) error {
	src, err := CleanPath(source)
	if err != nil {
		return err
	}
	dst, err := CleanPath(target)
	if err != nil {
		return err
	}
	r, err := w.root()
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Lstat(src); err != nil {
		return escapeErr(src, err)
	}
	if _, err := r.Lstat(dst); err == nil {
		return fault.Conflictf("%s already exists in the workspace", dst)
	}
	if dir := path.Dir(dst); dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return escapeErr(dst, err)
		}
	}
	if err := r.Rename(src, dst); err != nil {
		return escapeErr(dst, err)
	}
	return nil
}

// Remove deletes the whole workspace directory.
func (w *Workspace) Remove() error {
	if err := os.RemoveAll(w.dir); err != nil {
		return fmt.Errorf("remove workspace: %w", err)
	}
	return nil
}

// MatchGlob reports whether the slash-separated path p matches pattern:
// path.Match syntax per segment (*, ?, [...]) where ** matches any number
// of segments, and a pattern without a / also matches a top-level path
// (REANA's file_name filter).
func MatchGlob(pattern, p string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegs(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			if len(pat) == 1 {
				return true
			}
			for i := 0; i <= len(segs); i++ {
				if matchSegs(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], segs[0]); err != nil || !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// HumanSize renders a byte count as REANA does (binary units): "12 Bytes",
// "1 Byte", "1.5 KiB", "2.0 MiB".
func HumanSize(n int64) string {
	if n == 1 {
		return "1 Byte"
	}
	if n < 1024 {
		return fmt.Sprintf("%d Bytes", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
