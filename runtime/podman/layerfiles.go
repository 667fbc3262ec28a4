package podman

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/containers/podman/v5/pkg/bindings"
	"github.com/containers/podman/v5/pkg/bindings/containers"
	"github.com/containers/podman/v5/pkg/bindings/images"
	"github.com/containers/podman/v5/pkg/specgen"
	"github.com/containers/storage/pkg/archive"
)

// TopLayerFiles describes what the image ref's top layer changes, in the
// format of ImageFiles: every path the layer adds or modifies maps to the
// description of the entry in the image, every path it deletes to "deleted".
// For an image built with BuildOpts.Squash the top layer is everything the
// Dockerfile added to its base, so this lists exactly the files above the
// base without reading the base's.
//
// Podman lists the changed paths (its image diff against the parent layer).
// When the Podman service shares this host's file system (a local rootful
// socket), the changed files are read from the mounted image; otherwise the
// image is exported and only the changed paths are hashed.
func (r *Runtime) TopLayerFiles(ctx context.Context, ref string) (map[string]string, error) {
	entries, err := r.TopLayerEntries(ctx, ref, 0)
	if err != nil {
		return nil, err
	}
	files := make(map[string]string, len(entries))
	for p, e := range entries {
		files[p] = e.Desc
	}
	return files, nil
}

// FileEntry describes one path of an image's top layer.
type FileEntry struct {
	// Desc is the description of ImageFiles ("deleted" for a deleted path).
	Desc string
	// Size is the size of a regular file, 0 for anything else.
	Size int64
	// Text is the content of a regular file of at most the text limit that
	// looks like text (valid UTF-8 without NUL bytes); nil otherwise.
	Text []byte
}

// TopLayerEntries is TopLayerFiles with the size of every regular file and
// the content of the text files of at most textLimit bytes (none for 0).
func (r *Runtime) TopLayerEntries(ctx context.Context, ref string, textLimit int64) (map[string]FileEntry, error) {
	img, err := r.InspectImage(ctx, ref)
	if err != nil {
		return nil, err
	}
	c, cancel := r.callCtx(ctx)
	defer cancel()
	changes, err := images.Diff(c, img.ID, nil)
	if err != nil {
		return nil, r.wrap("top layer files: diff "+ref, err)
	}
	files := map[string]FileEntry{}
	wanted := map[string]bool{}
	for _, ch := range changes {
		p := path.Clean("/" + ch.Path)
		if ch.Kind == archive.ChangeDelete {
			files[p] = FileEntry{Desc: "deleted"}
			continue
		}
		wanted[p] = true
	}
	if len(wanted) == 0 {
		return files, nil
	}
	spec := specgen.NewSpecGenerator(img.ID, false)
	spec.Name = "reehub-files-" + randomHex(6)
	spec.Command = []string{"/reehub-never-started"}
	spec.Labels = map[string]string{"io.reehub.purpose": "image-files"}
	created, err := containers.CreateWithSpec(c, spec, nil)
	if err != nil {
		return nil, r.wrap("top layer files: create container from "+ref, err)
	}
	defer func() {
		cleanCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		_ = r.removeContainer(cleanCtx, created.ID)
	}()
	if root, err := mountContainer(c, created.ID); err == nil && sharedRoot(root) {
		mounted := maps.Clone(files)
		err := describeMounted(ctx, root, wanted, mounted, textLimit)
		_ = containers.Unmount(context.WithoutCancel(c), created.ID, nil)
		if err == nil {
			return mounted, nil
		}
		if !errors.Is(err, errNotShared) {
			return nil, fmt.Errorf("top layer files of %s: %w", ref, err)
		}
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var all map[string]FileEntry
	go func() {
		// Hard links are described by their target's content, which may lie
		// outside the layer, so every file is described and the rest dropped.
		var err error
		all, err = tarEntries(pr, func(p string) int64 {
			if wanted[p] {
				return textLimit
			}
			return 0
		})
		pr.CloseWithError(err)
		done <- err
	}()
	exportErr := containers.Export(c, created.ID, pw, nil)
	pw.CloseWithError(exportErr)
	parseErr := <-done
	if exportErr != nil {
		return nil, r.wrap("top layer files: export "+ref, exportErr)
	}
	if parseErr != nil {
		return nil, fmt.Errorf("top layer files of %s: %w", ref, parseErr)
	}
	for p := range wanted {
		if d, ok := all[p]; ok {
			files[p] = d
		}
	}
	return files, nil
}

// mountContainer mounts a container and returns the mount point. Podman 4
// answers with the bare path where the bindings expect a JSON string, so the
// answer is read either way.
func mountContainer(ctx context.Context, id string) (string, error) {
	conn, err := bindings.GetClient(ctx)
	if err != nil {
		return "", err
	}
	resp, err := conn.DoRequest(ctx, nil, http.MethodPost, "/containers/%s/mount", nil, nil, id)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if !resp.IsSuccess() {
		return "", resp.Process(nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", err
	}
	var root string
	if json.Unmarshal(body, &root) != nil {
		root = strings.TrimSpace(string(body))
	}
	return root, nil
}

// sharedRoot reports whether a mount point that Podman returned is visible
// here as a directory, which it is only when the service runs on this host.
func sharedRoot(root string) bool {
	if root == "" || !filepath.IsAbs(root) {
		return false
	}
	st, err := os.Stat(root)
	return err == nil && st.IsDir()
}

// errNotShared says that a mount point Podman returned is not Podman's mount.
var errNotShared = errors.New("the image mount is not visible here")

// describeMounted describes the wanted paths of the file system mounted at
// root as tarFiles would describe their tar entries.
func describeMounted(ctx context.Context, root string, wanted map[string]bool, files map[string]FileEntry, textLimit int64) error {
	for p := range wanted {
		if err := ctx.Err(); err != nil {
			return err
		}
		full := filepath.Join(root, filepath.FromSlash(p))
		fi, err := os.Lstat(full)
		if errors.Is(err, fs.ErrNotExist) {
			// Every path the diff names as added or changed is in the image, so
			// the mount is not the one Podman made (another mount namespace).
			return errNotShared
		}
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: no stat information", p)
		}
		owner := fmt.Sprintf("%04o %d:%d", st.Mode&0o7777, st.Uid, st.Gid)
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFREG:
			f, err := os.Open(full)
			if err != nil {
				return err
			}
			e, err := readEntry(f, st.Size, textLimit)
			_ = f.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			e.Desc += " " + owner
			files[p] = e
		case syscall.S_IFDIR:
			files[p] = FileEntry{Desc: "dir " + owner}
		case syscall.S_IFLNK:
			target, err := os.Readlink(full)
			if err != nil {
				return err
			}
			files[p] = FileEntry{Desc: "link:" + target}
		case syscall.S_IFCHR:
			files[p] = FileEntry{Desc: fmt.Sprintf("char %d:%d %s", major(st.Rdev), minor(st.Rdev), owner)}
		case syscall.S_IFBLK:
			files[p] = FileEntry{Desc: fmt.Sprintf("block %d:%d %s", major(st.Rdev), minor(st.Rdev), owner)}
		case syscall.S_IFIFO:
			files[p] = FileEntry{Desc: "fifo " + owner}
		}
	}
	return nil
}

// major and minor split a Linux device number (glibc's encoding).
func major(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func minor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }

// readEntry reads a regular file of size bytes: its description
// ("sha256:<hex>", without the owner), its size and, when it has at most
// textLimit bytes and looks like text, its content.
func readEntry(r io.Reader, size, textLimit int64) (FileEntry, error) {
	h := sha256.New()
	var keep *bytes.Buffer
	w := io.Writer(h)
	if size <= textLimit {
		keep = &bytes.Buffer{}
		w = io.MultiWriter(h, keep)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		return FileEntry{}, err
	}
	e := FileEntry{Desc: "sha256:" + hex.EncodeToString(h.Sum(nil)), Size: n}
	if keep != nil && n <= textLimit && IsText(keep.Bytes()) {
		e.Text = keep.Bytes()
	}
	return e, nil
}

// IsText reports whether b looks like text: valid UTF-8 without NUL bytes.
func IsText(b []byte) bool {
	return utf8.Valid(b) && !bytes.ContainsRune(b, 0)
}
