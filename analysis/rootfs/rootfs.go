// Package rootfs gives a safe, read-only view of a root file system: a
// directory on disk, or the file system an image archive (OCI archive,
// docker-archive or a plain rootfs tar) describes once its layers are applied.
//
// Paths follow io/fs rules (slash-separated, unrooted, "." for the root).
// Symbolic links are resolved as inside a chroot: an absolute target starts
// again at the root and ".." never climbs above it, so no name ever leads
// outside the root. Link cycles end with an error after 40 hops.
package rootfs

import (
	"context"
	"errors"
	"io/fs"
	"strings"

	"github.com/reehub/reehub/fault"
)

// maxLinks bounds the symbolic links followed while resolving one name, as
// Linux does (ELOOP after 40).
const maxLinks = 40

var (
	// ErrSymlinkLoop reports a name whose symbolic links do not end within
	// 40 hops (a cycle, or an absurdly long chain).
	ErrSymlinkLoop = fault.New(fault.ErrInvalid, "too many levels of symbolic links")
	// ErrNotRegular reports an Open of something that is neither a regular file
	// nor a directory (a FIFO, a device, a socket): opening it could block.
	ErrNotRegular = fault.New(fault.ErrInvalid, "not a regular file or directory")
	// ErrContentSkipped reports an Open of an archive file whose content was not
	// kept because the archive's Keep filter rejected it.
	ErrContentSkipped = fault.New(fault.ErrNotFound, "file content was not kept")
)

// Kind names the sort of input a Source reads.
type Kind string

// The kinds of Source.
const (
	// KindDir is a directory on disk.
	KindDir Kind = "dir"
	// KindDockerArchive is a docker-archive TAR (manifest.json).
	KindDockerArchive Kind = "docker-archive"
	// KindOCIArchive is an OCI image layout in a TAR (index.json, oci-layout).
	KindOCIArchive Kind = "oci-archive"
	// KindTar is a plain TAR (optionally gzip-compressed) of a root file system.
	KindTar Kind = "tar"
)

// Description says what a Source reads.
type Description struct {
	// Kind is the sort of input.
	Kind Kind `json:"kind"`
	// Path is the directory or archive file the Source was opened from.
	Path string `json:"path"`
	// ImageID is the image's config digest ("sha256:..."), for image archives.
	ImageID string `json:"image_id,omitempty"`
	// RepoTags are the image names recorded in a docker-archive.
	RepoTags []string `json:"repo_tags,omitempty"`
	// Layers are the digests or names of the layers applied, lowest first.
	Layers []string `json:"layers,omitempty"`
}

// Source is a read-only, resolved view of a root file system. Open, Stat and
// ReadFile follow symbolic links inside the root; ReadDir, Lstat and ReadLink
// describe links themselves, so fs.WalkDir never follows a link. Open refuses
// FIFOs, devices and sockets with ErrNotRegular. An opened regular file
// implements io.ReaderAt and io.Seeker. A Source is safe for concurrent use.
type Source interface {
	fs.ReadDirFS
	fs.StatFS
	fs.ReadLinkFS
	// Describe says what the Source reads.
	Describe() Description
	// Close releases the Source's resources (temporary files of an archive).
	Close() error
}

// backend is the minimal, non-following access a Source is built on: each
// name given to it is already resolved, with no symbolic link in its parents.
type backend interface {
	lstat(name string) (fs.FileInfo, error)
	readlink(name string) (string, error)
}

// resolve turns name into the path of the object it denotes inside the root,
// following every symbolic link on the way (the last one too if followLast).
func resolve(b backend, name string, followLast bool) (string, error) {
	if !fs.ValidPath(name) {
		return "", fs.ErrInvalid
	}
	if name == "." {
		return ".", nil
	}
	out := make([]string, 0, 8)
	rest := strings.Split(name, "/")
	links := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			continue
		}
		cand := joinParts(out, c)
		last := len(rest) == 0
		fi, err := b.lstat(cand)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 || (last && !followLast) {
			out = append(out, c)
			continue
		}
		links++
		if links > maxLinks {
			return "", ErrSymlinkLoop
		}
		target, err := b.readlink(cand)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			out = out[:0]
		}
		next := strings.Split(target, "/")
		rest = append(next, rest...)
	}
	if len(out) == 0 {
		return ".", nil
	}
	return strings.Join(out, "/"), nil
}

func joinParts(parts []string, last string) string {
	if len(parts) == 0 {
		return last
	}
	return strings.Join(parts, "/") + "/" + last
}

// pathError wraps err the way io/fs does, keeping the caller's name.
func pathError(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Walk walks the tree under root like fs.WalkDir (links are reported, never
// followed) and stops early with ctx's error once ctx is done.
func Walk(ctx context.Context, src Source, root string, fn fs.WalkDirFunc) error {
	return fs.WalkDir(src, root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return fn(p, d, err)
	})
}

// Clean turns an absolute or relative slash path ("/etc/os-release",
// "./etc/../etc/os-release") into the io/fs name used by a Source
// ("etc/os-release"); the root is ".".
func Clean(p string) string {
	parts := strings.Split(p, "/")
	out := make([]string, 0, len(parts))
	for _, c := range parts {
		switch c {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "."
	}
	return strings.Join(out, "/")
}
