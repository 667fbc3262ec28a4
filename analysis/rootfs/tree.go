package rootfs

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// node is one entry of an archive's merged file system.
type node struct {
	name     string
	mode     fs.FileMode
	size     int64
	mtime    time.Time
	link     string
	layer    int
	children map[string]*node
	kept     bool
	data     []byte // content kept in memory
	file     string // content kept on disk (a temporary file)
}

func newDir(name string, mode fs.FileMode, layer int) *node {
	return &node{name: name, mode: fs.ModeDir | mode.Perm(), layer: layer, children: map[string]*node{}}
}

func (n *node) isDir() bool { return n.mode.IsDir() }

// nodeInfo is the fs.FileInfo of a node.
type nodeInfo struct{ n *node }

func (i nodeInfo) Name() string       { return i.n.name }
func (i nodeInfo) Size() int64        { return i.n.size }
func (i nodeInfo) Mode() fs.FileMode  { return i.n.mode }
func (i nodeInfo) ModTime() time.Time { return i.n.mtime }
func (i nodeInfo) IsDir() bool        { return i.n.isDir() }
func (i nodeInfo) Sys() any           { return nil }

// tree is the merged view of an archive's layers; it is read-only once built.
type tree struct {
	root *node
}

// lookup finds name literally: no link in it is followed.
func (t *tree) lookup(name string) (*node, error) {
	if name == "." {
		return t.root, nil
	}
	cur := t.root
	for _, c := range strings.Split(name, "/") {
		if !cur.isDir() {
			return nil, fs.ErrNotExist
		}
		next, ok := cur.children[c]
		if !ok {
			return nil, fs.ErrNotExist
		}
		cur = next
	}
	return cur, nil
}

func (t *tree) lstat(name string) (fs.FileInfo, error) {
	n, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	return nodeInfo{n}, nil
}

func (t *tree) readlink(name string) (string, error) {
	n, err := t.lookup(name)
	if err != nil {
		return "", err
	}
	if n.mode&fs.ModeSymlink == 0 {
		return "", fs.ErrInvalid
	}
	return n.link, nil
}

// ensureDir returns the directory dir, creating it (and replacing any
// non-directory in the way) as part of layer.
func (t *tree) ensureDir(dir string, layer int) *node {
	cur := t.root
	if dir == "." {
		return cur
	}
	for _, c := range strings.Split(dir, "/") {
		next, ok := cur.children[c]
		if !ok || !next.isDir() {
			next = newDir(c, 0o755, layer)
			cur.children[c] = next
		}
		cur = next
	}
	return cur
}

// entries lists a directory's children sorted by name.
func (n *node) entries() []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(n.children))
	for _, c := range n.children {
		out = append(out, fs.FileInfoToDirEntry(nodeInfo{c}))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// dirFile is an opened directory of a tree.
type dirFile struct {
	info    nodeInfo
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.Name(), Err: fs.ErrInvalid}
}
func (d *dirFile) Close() error { return nil }

// ReadDir returns the next n entries (all of them if n <= 0).
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}

// memFile is an opened regular file whose content is in memory.
type memFile struct {
	*bytes.Reader
	info nodeInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

// diskFile is an opened regular file whose content is in a temporary file.
type diskFile struct {
	*os.File
	info nodeInfo
}

func (d *diskFile) Stat() (fs.FileInfo, error) { return d.info, nil }
