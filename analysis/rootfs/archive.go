package rootfs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/reehub/reehub/fault"
)

// memLimit is the largest content an archive Source keeps in memory; larger
// kept files go to a temporary directory.
const memLimit = 1 << 20

// ArchiveOptions tunes OpenArchive. The zero value keeps every file.
type ArchiveOptions struct {
	// Keep decides whether the content of a regular file is kept; a file not
	// kept is still listed and described, but Open reports ErrContentSkipped.
	// Nil keeps every file. Keeping only what a reader needs makes opening a
	// large image much faster.
	Keep func(name string, mode fs.FileMode, size int64) bool
	// TempDir is where content over 1 MiB is stored. Defaults to os.TempDir().
	TempDir string
}

// outerEntry locates one member of the outer TAR.
type outerEntry struct {
	off, size int64
}

// archiveSource is a Source over an image archive's merged layers.
type archiveSource struct {
	tree
	desc Description
	tmp  string
}

// OpenArchive reads the archive at path and returns the file system it
// describes. It detects a docker-archive (manifest.json), an OCI archive
// (index.json) or else a plain root file system TAR, which may be
// gzip-compressed. Layers are applied lowest first with their whiteouts
// (".wh.NAME" deletes NAME, ".wh..wh..opq" empties a directory of lower
// layers). A truncated or corrupt archive is an ErrInvalid error.
func OpenArchive(ctx context.Context, path string, opts *ArchiveOptions) (Source, error) {
	var o ArchiveOptions
	if opts != nil {
		o = *opts
	}
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fault.NotFoundf("archive %s does not exist", path)
		}
		return nil, fmt.Errorf("open archive %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open archive %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fault.Invalidf("%s is a directory, not an archive", path)
	}
	abs, _ := filepath.Abs(path)
	s := &archiveSource{tree: tree{root: newDir(".", 0o755, 0)}, desc: Description{Path: abs}}
	b := &builder{src: s, opts: o}
	if err := b.build(ctx, f, fi.Size()); err != nil {
		_ = s.Close()
		if errors.Is(err, fault.ErrInvalid) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("open archive %s: %w", path, err)
	}
	return s, nil
}

// builder applies an archive's layers to a tree.
type builder struct {
	src  *archiveSource
	opts ArchiveOptions
}

func (b *builder) build(ctx context.Context, f *os.File, size int64) error {
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0)
	if n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		b.src.desc.Kind = KindTar
		return b.applyLayer(ctx, io.NewSectionReader(f, 0, size), 0, "rootfs")
	}
	outer, err := indexOuter(ctx, f, size)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fault.Invalidf("archive %s: %v", b.src.desc.Path, err)
	}
	var layers []string
	switch {
	case outer["manifest.json"] != (outerEntry{}):
		b.src.desc.Kind = KindDockerArchive
		layers, err = b.dockerLayers(f, outer)
	case outer["index.json"] != (outerEntry{}):
		b.src.desc.Kind = KindOCIArchive
		layers, err = b.ociLayers(f, outer)
	default:
		b.src.desc.Kind = KindTar
		return b.applyLayer(ctx, io.NewSectionReader(f, 0, size), 0, "rootfs")
	}
	if err != nil {
		return err
	}
	for i, name := range layers {
		e, ok := outer[Clean(name)]
		if !ok {
			return fault.Invalidf("archive %s: layer %s is missing", b.src.desc.Path, name)
		}
		b.src.desc.Layers = append(b.src.desc.Layers, layerName(name))
		if err := b.applyLayer(ctx, io.NewSectionReader(f, e.off, e.size), i+1, name); err != nil {
			return err
		}
	}
	return nil
}

// layerName turns a layer's member name into its digest where it has one.
func layerName(name string) string {
	name = Clean(name)
	if strings.HasPrefix(name, "blobs/") {
		parts := strings.Split(name, "/")
		if len(parts) == 3 {
			return parts[1] + ":" + parts[2]
		}
	}
	base := strings.TrimSuffix(filepath.Base(name), ".tar")
	if len(base) == 64 {
		return "sha256:" + base
	}
	if d := filepath.Base(filepath.Dir(name)); len(d) == 64 {
		return "sha256:" + d
	}
	return name
}

// posReader tracks the offset of a ReadSeeker so that the data offset of each
// TAR member is known.
type posReader struct {
	r   io.ReadSeeker
	pos int64
}

func (p *posReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.pos += int64(n)
	return n, err
}

func (p *posReader) Seek(off int64, whence int) (int64, error) {
	n, err := p.r.Seek(off, whence)
	if err == nil {
		p.pos = n
	}
	return n, err
}

// indexOuter lists the regular members of the outer TAR with their offsets.
func indexOuter(ctx context.Context, f *os.File, size int64) (map[string]outerEntry, error) {
	pr := &posReader{r: io.NewSectionReader(f, 0, size)}
	tr := tar.NewReader(pr)
	out := map[string]outerEntry{}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, describeTarError(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if pr.pos+hdr.Size > size {
			return nil, errors.New("it is truncated")
		}
		out[Clean(hdr.Name)] = outerEntry{off: pr.pos, size: hdr.Size}
	}
	return out, nil
}

func describeTarError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("it is truncated")
	}
	return fmt.Errorf("it is not a valid TAR: %v", err)
}

func readMember(f *os.File, e outerEntry, limit int64) ([]byte, error) {
	if e.size > limit {
		return nil, fmt.Errorf("member of %d bytes is over the %d byte limit", e.size, limit)
	}
	buf := make([]byte, e.size)
	if _, err := f.ReadAt(buf, e.off); err != nil {
		return nil, err
	}
	return buf, nil
}

// dockerLayers reads manifest.json of a docker-archive.
func (b *builder) dockerLayers(f *os.File, outer map[string]outerEntry) ([]string, error) {
	raw, err := readMember(f, outer["manifest.json"], 16<<20)
	if err != nil {
		return nil, fault.Invalidf("archive %s: manifest.json: %v", b.src.desc.Path, err)
	}
	var m []struct {
		Config   string   `json:"Config"`
		RepoTags []string `json:"RepoTags"`
		Layers   []string `json:"Layers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil, fault.Invalidf("archive %s: manifest.json lists no image", b.src.desc.Path)
	}
	b.src.desc.RepoTags = m[0].RepoTags
	b.src.desc.ImageID = configDigest(m[0].Config)
	return m[0].Layers, nil
}

func configDigest(name string) string {
	name = Clean(name)
	if strings.HasPrefix(name, "blobs/") {
		return layerName(name)
	}
	base := strings.TrimSuffix(filepath.Base(name), ".json")
	if len(base) == 64 {
		return "sha256:" + base
	}
	return ""
}

type ociDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Platform  *struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	} `json:"platform,omitempty"`
}

type ociManifest struct {
	MediaType string          `json:"mediaType"`
	Config    ociDescriptor   `json:"config"`
	Layers    []ociDescriptor `json:"layers"`
	Manifests []ociDescriptor `json:"manifests"`
}

func blobPath(digest string) string {
	alg, hex, _ := strings.Cut(digest, ":")
	return "blobs/" + alg + "/" + hex
}

// ociLayers follows index.json to one image manifest (the first for this
// machine's architecture, or the first) and lists its layers.
func (b *builder) ociLayers(f *os.File, outer map[string]outerEntry) ([]string, error) {
	raw, err := readMember(f, outer["index.json"], 16<<20)
	if err != nil {
		return nil, fault.Invalidf("archive %s: index.json: %v", b.src.desc.Path, err)
	}
	for depth := 0; depth < 4; depth++ {
		var m ociManifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fault.Invalidf("archive %s: bad OCI manifest: %v", b.src.desc.Path, err)
		}
		if len(m.Manifests) == 0 {
			if m.Config.Digest == "" {
				return nil, fault.Invalidf("archive %s: OCI manifest has no config", b.src.desc.Path)
			}
			b.src.desc.ImageID = m.Config.Digest
			layers := make([]string, 0, len(m.Layers))
			for _, l := range m.Layers {
				if strings.Contains(l.MediaType, "zstd") {
					return nil, fault.Invalidf("archive %s: zstd-compressed layers are not supported", b.src.desc.Path)
				}
				layers = append(layers, blobPath(l.Digest))
			}
			return layers, nil
		}
		pick := m.Manifests[0]
		for _, d := range m.Manifests {
			if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH {
				pick = d
				break
			}
		}
		e, ok := outer[blobPath(pick.Digest)]
		if !ok {
			return nil, fault.Invalidf("archive %s: manifest %s is missing", b.src.desc.Path, pick.Digest)
		}
		if raw, err = readMember(f, e, 16<<20); err != nil {
			return nil, fault.Invalidf("archive %s: manifest %s: %v", b.src.desc.Path, pick.Digest, err)
		}
	}
	return nil, fault.Invalidf("archive %s: OCI indexes nest too deeply", b.src.desc.Path)
}

// applyLayer reads one layer (a TAR, possibly gzip-compressed) onto the tree.
func (b *builder) applyLayer(ctx context.Context, sr *io.SectionReader, layer int, name string) error {
	var magic [4]byte
	n, _ := sr.ReadAt(magic[:], 0)
	var r io.Reader = sr
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(sr)
		if err != nil {
			return fault.Invalidf("archive %s: layer %s: %v", b.src.desc.Path, name, err)
		}
		defer zr.Close()
		r = zr
	case n == 4 && bytes.Equal(magic[:], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return fault.Invalidf("archive %s: layer %s is zstd-compressed, which is not supported", b.src.desc.Path, name)
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fault.Invalidf("archive %s: layer %s: %v", b.src.desc.Path, name, describeTarError(err))
		}
		if err := b.apply(tr, hdr, layer); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return fault.Invalidf("archive %s: layer %s: it is truncated", b.src.desc.Path, name)
			}
			return err
		}
	}
}

// apply adds one TAR member to the tree.
func (b *builder) apply(tr *tar.Reader, hdr *tar.Header, layer int) error {
	t := &b.src.tree
	name := Clean(hdr.Name)
	if name == "." {
		return nil
	}
	dir, base := splitName(name)
	if base == ".wh..wh..opq" {
		d := t.ensureDir(dir, layer)
		for k, c := range d.children {
			if c.layer < layer {
				delete(d.children, k)
			}
		}
		return nil
	}
	if strings.HasPrefix(base, ".wh.") {
		if d, err := t.lookup(dir); err == nil && d.isDir() {
			delete(d.children, strings.TrimPrefix(base, ".wh."))
		}
		return nil
	}
	parent := t.ensureDir(dir, layer)
	mode := hdr.FileInfo().Mode()
	n := &node{name: base, mode: mode, mtime: hdr.ModTime, layer: layer}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if old, ok := parent.children[base]; ok && old.isDir() {
			old.mode, old.mtime, old.layer = fs.ModeDir|mode.Perm(), hdr.ModTime, layer
			return nil
		}
		n.children = map[string]*node{}
	case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old archives still use TypeRegA
		n.mode = mode.Perm() | mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
		n.size = hdr.Size
		if b.opts.Keep == nil || b.opts.Keep(name, n.mode, hdr.Size) {
			if err := b.keep(tr, n); err != nil {
				return err
			}
		}
	case tar.TypeSymlink:
		n.link = hdr.Linkname
	case tar.TypeLink:
		target, err := t.lookup(Clean(hdr.Linkname))
		if err != nil || !target.mode.IsRegular() {
			return nil
		}
		n.mode, n.size, n.kept, n.data, n.file = target.mode, target.size, target.kept, target.data, target.file
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return nil
	}
	parent.children[base] = n
	return nil
}

func splitName(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ".", name
	}
	return name[:i], name[i+1:]
}

// keep stores a regular file's content in memory or in the temporary directory.
func (b *builder) keep(tr *tar.Reader, n *node) error {
	if n.size <= memLimit {
		n.data = make([]byte, n.size)
		if _, err := io.ReadFull(tr, n.data); err != nil {
			return err
		}
		n.kept = true
		return nil
	}
	if b.src.tmp == "" {
		dir, err := os.MkdirTemp(b.opts.TempDir, "reehub-rootfs-")
		if err != nil {
			return fmt.Errorf("keep archive content: %w", err)
		}
		b.src.tmp = dir
	}
	f, err := os.CreateTemp(b.src.tmp, "c-")
	if err != nil {
		return fmt.Errorf("keep archive content: %w", err)
	}
	defer f.Close()
	w, err := io.Copy(f, tr)
	if err != nil {
		return err
	}
	if w != n.size {
		return io.ErrUnexpectedEOF
	}
	n.file, n.kept = f.Name(), true
	return nil
}

// Open opens name, following links inside the root.
func (s *archiveSource) Open(name string) (fs.File, error) {
	p, err := resolve(&s.tree, name, true)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	n, err := s.lookup(p)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	switch {
	case n.isDir():
		return &dirFile{info: nodeInfo{n}, entries: n.entries()}, nil
	case !n.mode.IsRegular():
		return nil, pathError("open", name, ErrNotRegular)
	case !n.kept:
		return nil, pathError("open", name, ErrContentSkipped)
	case n.file != "":
		f, err := os.Open(n.file)
		if err != nil {
			return nil, pathError("open", name, err)
		}
		return &diskFile{File: f, info: nodeInfo{n}}, nil
	default:
		return &memFile{Reader: bytes.NewReader(n.data), info: nodeInfo{n}}, nil
	}
}

// ReadDir lists the directory name (following links to it), sorted by name.
func (s *archiveSource) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := resolve(&s.tree, name, true)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	n, err := s.lookup(p)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	if !n.isDir() {
		return nil, pathError("readdir", name, errors.New("not a directory"))
	}
	return n.entries(), nil
}

// Stat describes what name denotes after following links.
func (s *archiveSource) Stat(name string) (fs.FileInfo, error) {
	p, err := resolve(&s.tree, name, true)
	if err != nil {
		return nil, pathError("stat", name, err)
	}
	fi, err := s.lstat(p)
	if err != nil {
		return nil, pathError("stat", name, err)
	}
	return fi, nil
}

// Lstat describes name itself; a link is not followed.
func (s *archiveSource) Lstat(name string) (fs.FileInfo, error) {
	p, err := resolve(&s.tree, name, false)
	if err != nil {
		return nil, pathError("lstat", name, err)
	}
	fi, err := s.lstat(p)
	if err != nil {
		return nil, pathError("lstat", name, err)
	}
	return fi, nil
}

// ReadLink returns the target of the link name, as written.
func (s *archiveSource) ReadLink(name string) (string, error) {
	p, err := resolve(&s.tree, name, false)
	if err != nil {
		return "", pathError("readlink", name, err)
	}
	t, err := s.readlink(p)
	if err != nil {
		return "", pathError("readlink", name, err)
	}
	return t, nil
}

// Describe says which archive the Source reads.
func (s *archiveSource) Describe() Description { return s.desc }

// Close removes the temporary copies of kept content.
func (s *archiveSource) Close() error {
	if s.tmp == "" {
		return nil
	}
	return os.RemoveAll(s.tmp)
}
