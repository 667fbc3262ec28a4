package podman

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/containers/podman/v5/pkg/bindings/containers"
	"github.com/containers/podman/v5/pkg/specgen"
)

// ImageFiles returns the flattened file system of the image ref: each path
// (absolute, such as "/etc/passwd") maps to a description of the entry:
//
//	regular file   "sha256:<hex of content> <octal mode> <uid>:<gid>"
//	directory      "dir <octal mode> <uid>:<gid>"
//	symbolic link  "link:<target>"
//	device, fifo   "<char|block|fifo> <major>:<minor> <octal mode> <uid>:<gid>"
//
// Hard links get the description of the file they link to. It creates a
// container from the image without starting it, exports it and removes it.
func (r *Runtime) ImageFiles(ctx context.Context, ref string) (map[string]string, error) {
	img, err := r.InspectImage(ctx, ref)
	if err != nil {
		return nil, err
	}
	spec := specgen.NewSpecGenerator(img.ID, false)
	spec.Name = "reehub-files-" + randomHex(6)
	spec.Command = []string{"/reehub-never-started"}
	spec.Labels = map[string]string{"io.reehub.purpose": "image-files"}
	c, cancel := r.callCtx(ctx)
	defer cancel()
	created, err := containers.CreateWithSpec(c, spec, nil)
	if err != nil {
		return nil, r.wrap("image files: create container from "+ref, err)
	}
	defer func() {
		cleanCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		_ = r.removeContainer(cleanCtx, created.ID)
	}()

	pr, pw := io.Pipe()
	type result struct {
		files map[string]string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		files, err := tarFiles(pr)
		pr.CloseWithError(err) // unblock the exporter if parsing stopped early
		done <- result{files, err}
	}()
	exportErr := containers.Export(c, created.ID, pw, nil)
	pw.CloseWithError(exportErr)
	res := <-done
	if exportErr != nil {
		return nil, r.wrap("image files: export "+ref, exportErr)
	}
	if res.err != nil {
		return nil, fmt.Errorf("image files of %s: %w", ref, res.err)
	}
	return res.files, nil
}

// tarFiles describes every entry of a tar stream as ImageFiles does.
func tarFiles(rd io.Reader) (map[string]string, error) {
	entries, err := tarEntries(rd, nil)
	if err != nil {
		return nil, err
	}
	files := make(map[string]string, len(entries))
	for p, e := range entries {
		files[p] = e.Desc
	}
	return files, nil
}

// tarEntries describes every entry of a tar stream as ImageFiles does, with
// sizes; textLimit, when not nil, gives per path the largest text file whose
// content is kept.
func tarEntries(rd io.Reader, textLimit func(path string) int64) (map[string]FileEntry, error) {
	files := map[string]FileEntry{}
	tr := tar.NewReader(rd)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read tar: %w", err)
		}
		name := path.Clean("/" + h.Name)
		owner := fmt.Sprintf("%04o %d:%d", h.Mode&0o7777, h.Uid, h.Gid)
		switch h.Typeflag {
		case tar.TypeReg:
			var limit int64
			if textLimit != nil {
				limit = textLimit(name)
			}
			e, err := readEntry(tr, h.Size, limit)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", name, err)
			}
			e.Desc += " " + owner
			files[name] = e
		case tar.TypeDir:
			files[name] = FileEntry{Desc: "dir " + owner}
		case tar.TypeSymlink:
			files[name] = FileEntry{Desc: "link:" + h.Linkname}
		case tar.TypeLink:
			target := path.Clean("/" + h.Linkname)
			if d, ok := files[target]; ok {
				files[name] = d
			} else {
				files[name] = FileEntry{Desc: "hardlink:" + target}
			}
		case tar.TypeChar:
			files[name] = FileEntry{Desc: fmt.Sprintf("char %d:%d %s", h.Devmajor, h.Devminor, owner)}
		case tar.TypeBlock:
			files[name] = FileEntry{Desc: fmt.Sprintf("block %d:%d %s", h.Devmajor, h.Devminor, owner)}
		case tar.TypeFifo:
			files[name] = FileEntry{Desc: "fifo " + owner}
		}
	}
}

// DiffFiles returns the sorted paths whose descriptions differ between a and
// b, including paths present in only one of them.
func DiffFiles(a, b map[string]string) []string {
	var out []string
	for p, da := range a {
		if db, ok := b[p]; !ok || db != da {
			out = append(out, p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
