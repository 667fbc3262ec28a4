package rootfs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reehub/reehub/fault"
)

// dirSource is a Source over a directory on disk. Every name is resolved by
// resolve and then opened through an os.Root, which refuses anything that
// would still escape (a link swapped in between the two steps).
type dirSource struct {
	root *os.Root
	desc Description
}

// OpenDir returns a Source over the directory at path.
func OpenDir(path string) (Source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open rootfs %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fault.NotFoundf("directory %s does not exist", path)
		}
		return nil, fmt.Errorf("open rootfs %s: %w", path, err)
	}
	if !fi.IsDir() {
		return nil, fault.Invalidf("%s is not a directory", path)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open rootfs %s: %w", path, err)
	}
	return &dirSource{root: r, desc: Description{Kind: KindDir, Path: abs}}, nil
}

func (d *dirSource) lstat(name string) (fs.FileInfo, error) { return d.root.Lstat(name) }

func (d *dirSource) readlink(name string) (string, error) { return d.root.Readlink(name) }

// Open opens name, following links inside the root.
func (d *dirSource) Open(name string) (fs.File, error) {
	p, err := resolve(d, name, true)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	fi, err := d.root.Lstat(p)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, pathError("open", name, ErrNotRegular)
	}
	f, err := d.root.Open(p)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	return f, nil
}

// ReadDir lists the directory name (following links to it), sorted by name.
func (d *dirSource) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := resolve(d, name, true)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	f, err := d.root.Open(p)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ents, nil
}

// Stat describes what name denotes after following links.
func (d *dirSource) Stat(name string) (fs.FileInfo, error) {
	p, err := resolve(d, name, true)
	if err != nil {
		return nil, pathError("stat", name, err)
	}
	fi, err := d.root.Lstat(p)
	if err != nil {
		return nil, pathError("stat", name, err)
	}
	return fi, nil
}

// Lstat describes name itself; a link is not followed.
func (d *dirSource) Lstat(name string) (fs.FileInfo, error) {
	p, err := resolve(d, name, false)
	if err != nil {
		return nil, pathError("lstat", name, err)
	}
	fi, err := d.root.Lstat(p)
	if err != nil {
		return nil, pathError("lstat", name, err)
	}
	return fi, nil
}

// ReadLink returns the target of the link name, as written.
func (d *dirSource) ReadLink(name string) (string, error) {
	p, err := resolve(d, name, false)
	if err != nil {
		return "", pathError("readlink", name, err)
	}
	t, err := d.root.Readlink(p)
	if err != nil {
		return "", pathError("readlink", name, err)
	}
	return t, nil
}

// Describe says which directory the Source reads.
func (d *dirSource) Describe() Description { return d.desc }

// Close releases the directory handle.
func (d *dirSource) Close() error { return d.root.Close() }
