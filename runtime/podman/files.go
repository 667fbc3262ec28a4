package podman

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	files := map[string]string{}
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
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				return nil, fmt.Errorf("read %s: %w", name, err)
			}
			files[name] = "sha256:" + hex.EncodeToString(sum.Sum(nil)) + " " + owner
		case tar.TypeDir:
			files[name] = "dir " + owner
		case tar.TypeSymlink:
			files[name] = "link:" + h.Linkname
		case tar.TypeLink:
			target := path.Clean("/" + h.Linkname)
			if d, ok := files[target]; ok {
				files[name] = d
			} else {
				files[name] = "hardlink:" + target
			}
		case tar.TypeChar:
			files[name] = fmt.Sprintf("char %d:%d %s", h.Devmajor, h.Devminor, owner)
		case tar.TypeBlock:
			files[name] = fmt.Sprintf("block %d:%d %s", h.Devmajor, h.Devminor, owner)
		case tar.TypeFifo:
			files[name] = "fifo " + owner
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
