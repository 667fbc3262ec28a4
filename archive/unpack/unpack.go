// Package unpack unpacks an upload recursively into an upload tree, as
// FOSSology's ununpack and adj2nest agents do: zip, tar, tar.gz, tar.bz2,
// tar.xz, tar.zst, single gzip/bzip2/xz/zstd files, ar archives, Debian
// packages (.deb, an ar archive of control.tar.* and data.tar.*), rpm
// packages (the cpio payload; the header becomes Item.Package), and
// archives nested inside archives, each archive becoming a container whose
// entries sit below its path.
//
// Formats are read with github.com/mholt/archives (ar is read here: it is
// a 60-byte header per member and no maintained Go library is on the module
// proxy). Every entry goes through reehub's hostile-archive checks of
// package archive (names, symlink targets), and the limits of
// archive.Limits apply to the whole upload, nested archives included:
// entries, total bytes, bytes per entry and the expansion ratio of each
// archive. Nothing is written outside the destination, symlinks and hard
// links are recorded in the tree but never created, and devices and fifos
// are refused. Refusals wrap fault.ErrInvalid or fault.ErrTooLarge with a
// message for the user naming the entry.
//
// Each file's sha1, md5, sha256, size and content type are computed while
// it is written, so no file is read twice.
package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gabriel-vasile/mimetype"
	"github.com/mholt/archives"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/ctxio"
	"github.com/reehub/reehub/fault"
)

// Kind is what an item of the upload tree is.
type Kind string

// The kinds of item.
const (
	// KindFile is a regular file, on disk under Tree.Root at its Path.
	KindFile Kind = "file"
	// KindDir is a directory of an archive (explicit or implied by a name).
	KindDir Kind = "dir"
	// KindContainer is an archive that was unpacked: its entries sit below
	// its Path, and on disk its Path is a directory.
	KindContainer Kind = "container"
	// KindSymlink is a symbolic link; recorded, never created.
	KindSymlink Kind = "symlink"
	// KindHardlink is a hard link to an earlier entry; recorded, never created.
	KindHardlink Kind = "hardlink"
)

// Hash is the digests and size of a file's content. Digests are lower-case
// hex.
type Hash struct {
	SHA1   string `json:"sha1"`
	MD5    string `json:"md5"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Item is one node of the upload tree.
type Item struct {
	// Path is the slash-separated path starting with the upload name:
	// "project.tar.gz/src/main.c".
	Path string `json:"path"`
	// Kind is what the item is.
	Kind Kind `json:"kind"`
	// Hash is set for files and containers (the archive's own bytes).
	Hash Hash `json:"hash"`
	// MimeType is the content type of files and containers
	// ("application/zip", "text/x-c").
	MimeType string `json:"mime_type,omitempty"`
	// Format names a container's format: "zip", "tar", "tar.gz", "gz",
	// "deb", "ar", "rpm".
	Format string `json:"format,omitempty"`
	// Archive is the Path of the innermost container the item came from; empty
	// for the upload itself.
	Archive string `json:"archive,omitempty"`
	// LinkTarget is the target of a symlink (as written) or hard link.
	LinkTarget string `json:"link_target,omitempty"`
	// Package is the metadata of a package container whose header is not
	// among its entries (an .rpm); nil otherwise.
	Package *Package `json:"package,omitempty"`
}

// Tree is an unpacked upload.
type Tree struct {
	// Name is the upload name, the first component of every Path.
	Name string `json:"name"`
	// Root is the directory holding the files: a file's content is at
	// filepath.Join(Root, filepath.FromSlash(Path)).
	Root string `json:"root"`
	// Items are sorted by Path; the upload itself comes first.
	Items []Item `json:"items"`
}

// Files returns the items of kind KindFile, in path order.
func (t *Tree) Files() []Item {
	var out []Item
	for _, it := range t.Items {
		if it.Kind == KindFile {
			out = append(out, it)
		}
	}
	return out
}

// FilePath returns where an item's content is on disk.
func (t *Tree) FilePath(it Item) string {
	return filepath.Join(t.Root, filepath.FromSlash(it.Path))
}

// Limits bounds an unpack. The zero value of a field means its default.
type Limits struct {
	archive.Limits
	// MaxDepth is how deeply archives may nest (the upload is depth 1).
	// Defaults to 8; a deeper archive is kept as a plain file.
	MaxDepth int
}

// WithDefaults returns a copy of l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	l.Limits = l.Limits.WithDefaults()
	if l.MaxDepth <= 0 {
		l.MaxDepth = 8
	}
	return l
}

const (
	// ratioFloor is the number of bytes an archive may always expand to,
	// whatever its ratio (as in package archive).
	ratioFloor = 1 << 20
	// sniffBytes is how much of a file is kept for content-type detection.
	sniffBytes = 3072
	// tmpDir holds entries while they are written and identified.
	tmpDir = ".unpack-tmp"
)

// unpacker is the state of one Unpack call.
type unpacker struct {
	lim     Limits
	root    *os.Root
	dest    string
	items   []Item
	entries int
	bytes   int64
	tmpSeq  int
	buf     []byte
}

// Source is the file Unpack reads.
type Source struct {
	// Path is where the file is; Unpack only reads it.
	Path string
	// Name is the upload name; its base is the first component of every
	// item's path.
	Name string
	// Hash is the file's hash if the caller has it already (computed while
	// the upload was stored), so that an archive is read once, to unpack
	// it; nil makes Unpack hash the file first.
	Hash *Hash
}

// Unpack unpacks src into dest, which must not exist or be empty. An
// archive is read in place; a file that is not an archive is copied in as a
// one-file tree. On error everything written is removed.
func Unpack(ctx context.Context, src Source, dest string, lim Limits) (tree *Tree, err error) {
	lim = lim.WithDefaults()
	name := path.Base(filepath.ToSlash(src.Name))
	if name == "." || name == "/" || name == ".." || name == "" {
		return nil, fault.Invalidf("upload name %q is not a file name", src.Name)
	}
	if _, _, err := archive.CheckEntryName("upload name", name); err != nil {
		return nil, err
	}
	if err := prepareDest(dest); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			if rerr := cleanDir(dest); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, fmt.Errorf("open unpack root %s: %w", dest, err)
	}
	defer root.Close()
	if err := root.Mkdir(tmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("create unpack scratch directory: %w", err)
	}
	u := &unpacker{lim: lim, root: root, dest: dest, buf: make([]byte, 32<<10)}

	in, err := os.Open(src.Path)
	if err != nil {
		return nil, fmt.Errorf("open upload %s: %w", src.Path, err)
	}
	defer in.Close()
	format, err := u.identify(ctx, in)
	if err != nil {
		return nil, err
	}
	if format != nil {
		// An archive is read in place. Its own bytes do not count against
		// the limits; its entries do.
		top, err := u.topItem(ctx, in, name, src.Hash)
		if err != nil {
			return nil, err
		}
		if err := u.extractAs(ctx, in, top, format, 1); err != nil {
			return nil, err
		}
	} else {
		// A plain file is copied in, hashed on the way.
		tmp, it, err := u.spool(ctx, in, name, "", -1)
		if err != nil {
			return nil, err
		}
		if err := u.keep(tmp, it); err != nil {
			return nil, err
		}
	}
	if err := root.RemoveAll(tmpDir); err != nil {
		return nil, fmt.Errorf("remove unpack scratch directory: %w", err)
	}
	slices.SortStableFunc(u.items, func(a, b Item) int { return strings.Compare(a.Path, b.Path) })
	return &Tree{Name: name, Root: dest, Items: u.items}, nil
}

// topItem describes an archive upload itself: its hash (known, or computed
// by one read of in) and its content type. in is left at its start.
func (u *unpacker) topItem(ctx context.Context, in *os.File, name string, known *Hash) (Item, error) {
	it := Item{Path: name, Kind: KindFile}
	head := make([]byte, sniffBytes)
	n, err := in.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return Item{}, fmt.Errorf("read upload: %w", err)
	}
	it.MimeType = MimeType(name, head[:n])
	if known != nil {
		it.Hash = *known
		return it, nil
	}
	h := newHasher()
	if _, err := ctxio.Copy(ctx, h, in); err != nil {
		return Item{}, fmt.Errorf("hash upload: %w", err)
	}
	it.Hash = h.sum()
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return Item{}, fmt.Errorf("rewind upload: %w", err)
	}
	return it, nil
}

// hasher computes the three digests of a Hash in one pass.
type hasher struct {
	io.Writer
	sha1, md5, sha256 hash.Hash
	n                 int64
}

func newHasher() *hasher {
	h := &hasher{sha1: sha1.New(), md5: md5.New(), sha256: sha256.New()}
	h.Writer = io.MultiWriter(h.sha1, h.md5, h.sha256)
	return h
}

// Write hashes p.
func (h *hasher) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	return h.Writer.Write(p)
}

func (h *hasher) sum() Hash {
	return Hash{SHA1: hex.EncodeToString(h.sha1.Sum(nil)), MD5: hex.EncodeToString(h.md5.Sum(nil)),
		SHA256: hex.EncodeToString(h.sha256.Sum(nil)), Size: h.n}
}

// spool copies r into a new scratch file, hashing and sniffing it, and
// counting its bytes against the total limit and against budget (the bytes
// the enclosing archive may still expand to; negative: no budget). It
// returns the scratch name and an Item with Path, Hash, MimeType and Archive
// set.
func (u *unpacker) spool(ctx context.Context, r io.Reader, p, from string, budget int64) (string, Item, error) {
	u.tmpSeq++
	tmp := path.Join(tmpDir, fmt.Sprintf("%d", u.tmpSeq))
	out, err := u.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", Item{}, fmt.Errorf("create scratch file: %w", err)
	}
	defer out.Close()
	h := newHasher()
	hw := io.MultiWriter(out, h)
	var head []byte
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return "", Item{}, err
		}
		k, rerr := r.Read(u.buf)
		if k > 0 {
			n += int64(k)
			if budget >= 0 {
				u.bytes += int64(k)
				switch {
				case n > u.lim.MaxEntryBytes:
					return "", Item{}, fault.TooLargef("archive entry %q is larger than the limit of %d bytes", p, u.lim.MaxEntryBytes)
				case u.bytes > u.lim.MaxTotalBytes:
					return "", Item{}, fault.TooLargef("upload expands to more than the limit of %d bytes", u.lim.MaxTotalBytes)
				case n > budget:
					return "", Item{}, fault.TooLargef("archive %q expands more than %d times its size (a zip bomb?)", from, u.lim.MaxRatio)
				}
			}
			if len(head) < sniffBytes {
				head = append(head, u.buf[:min(k, sniffBytes-len(head))]...)
			}
			if _, err := hw.Write(u.buf[:k]); err != nil {
				return "", Item{}, fmt.Errorf("write %s: %w", p, err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if errors.Is(rerr, context.Canceled) || errors.Is(rerr, context.DeadlineExceeded) {
				return "", Item{}, rerr
			}
			return "", Item{}, fault.Invalidf("archive %q is corrupt or truncated at entry %q (%v)", from, p, rerr)
		}
	}
	if err := out.Close(); err != nil {
		return "", Item{}, fmt.Errorf("write %s: %w", p, err)
	}
	it := Item{Path: p, Kind: KindFile, Archive: from, Hash: h.sum(), MimeType: MimeType(path.Base(p), head)}
	return tmp, it, nil
}

// place turns a spooled file into its final form: an unpacked container if
// it is an archive of a supported format (and not too deep), a file
// otherwise (a nested file that only looks like an archive is kept as a
// file).
func (u *unpacker) place(ctx context.Context, tmp string, it Item, depth int) error {
	if depth <= u.lim.MaxDepth {
		f, err := u.root.Open(tmp)
		if err != nil {
			return fmt.Errorf("open scratch file: %w", err)
		}
		container, err := u.expand(ctx, f, it, depth)
		f.Close()
		if err != nil {
			return err
		}
		if container {
			return u.root.Remove(tmp)
		}
	}
	return u.keep(tmp, it)
}

// expand unpacks f as container it if it is an archive of a supported
// format, and reports whether it was.
func (u *unpacker) expand(ctx context.Context, f *os.File, it Item, depth int) (bool, error) {
	format, err := u.identify(ctx, f)
	if err != nil || format == nil {
		return false, err
	}
	return true, u.extractAs(ctx, f, it, format, depth)
}

// extractAs unpacks f, an archive of format, as container it.
func (u *unpacker) extractAs(ctx context.Context, f *os.File, it Item, format *format, depth int) error {
	it.Kind = KindContainer
	it.Format = format.name
	if err := u.root.MkdirAll(it.Path, 0o755); err != nil {
		return u.writeErr(it.Path, err)
	}
	u.items = append(u.items, it)
	return format.extract(ctx, u, f, it, depth)
}

// keep moves a spooled file to its place in the tree as file it.
func (u *unpacker) keep(tmp string, it Item) error {
	if dir := path.Dir(it.Path); dir != "." {
		if err := u.root.MkdirAll(dir, 0o755); err != nil {
			return u.writeErr(it.Path, err)
		}
	}
	if err := u.root.Rename(tmp, it.Path); err != nil {
		return u.writeErr(it.Path, err)
	}
	u.items = append(u.items, it)
	return nil
}

// writeErr maps a failure to create an item: a clash is the archive's fault.
func (u *unpacker) writeErr(p string, err error) error {
	if errors.Is(err, fs.ErrExist) || strings.Contains(err.Error(), "not a directory") {
		return fault.Invalidf("archive entry %q conflicts with an earlier entry", p)
	}
	if strings.Contains(err.Error(), "path escapes from parent") {
		return fault.Invalidf("archive entry %q escapes the archive", p)
	}
	return fmt.Errorf("unpack %q: %w", p, err)
}

// MimeType returns the content type of a file from its first bytes, refined
// by its name for the text formats content sniffing cannot tell apart.
func MimeType(name string, head []byte) string {
	m := mimetype.Detect(head)
	t := m.String()
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	if t == "text/plain" || t == "application/octet-stream" && len(head) > 0 && !bytes.ContainsRune(head, 0) {
		if byExt, ok := textTypes[strings.ToLower(path.Ext(name))]; ok {
			return byExt
		}
	}
	return t
}

// textTypes maps the extensions of source files to the types FOSSology's
// mimetype agent reports for them.
var textTypes = map[string]string{
	".c": "text/x-c", ".h": "text/x-c", ".cc": "text/x-c++", ".cpp": "text/x-c++", ".hpp": "text/x-c++",
	".go": "text/x-go", ".py": "text/x-python", ".java": "text/x-java", ".js": "text/javascript",
	".sh": "text/x-shellscript", ".pl": "text/x-perl", ".rb": "text/x-ruby", ".rs": "text/x-rust",
	".md": "text/markdown", ".rst": "text/x-rst", ".toml": "application/toml", ".yaml": "application/yaml",
	".yml": "application/yaml", ".json": "application/json", ".xml": "text/xml", ".html": "text/html",
	".css": "text/css", ".txt": "text/plain",
}

// prepareDest makes sure dest is an empty directory.
func prepareDest(dest string) error {
	entries, err := os.ReadDir(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return fmt.Errorf("create unpack directory: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read unpack directory: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("unpack directory %s is not empty", dest)
	}
	return nil
}

// cleanDir removes everything below dir.
func cleanDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("remove partial unpack: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("remove partial unpack: %w", err)
		}
	}
	return nil
}

// entrySink receives the entries of one archive and enforces the per-archive
// checks: names, duplicates, conflicts, entry count and ratio.
type entrySink struct {
	u      *unpacker
	parent Item
	depth  int
	budget int64
	nodes  map[string]Kind
	what   string
}

func (u *unpacker) newSink(parent Item, depth int, size int64, what string) *entrySink {
	return &entrySink{
		u: u, parent: parent, depth: depth, what: what,
		budget: max(ratioFloor, satMul(max(size, 1), int64(u.lim.MaxRatio))),
		nodes:  map[string]Kind{},
	}
}

func satMul(a, b int64) int64 {
	if a != 0 && b > (1<<63-1)/a {
		return 1<<63 - 1
	}
	return a * b
}

// claim checks and records an entry name, returning its cleaned form.
func (s *entrySink) claim(raw string, kind Kind) (string, error) {
	s.u.entries++
	if s.u.entries > s.u.lim.MaxEntries {
		return "", fault.TooLargef("upload has more than %d archive entries", s.u.lim.MaxEntries)
	}
	name, isDir, err := archive.CheckEntryName(s.what, raw)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.parent.Path, err)
	}
	if isDir && kind != KindDir {
		return "", fault.Invalidf("%s: %s %q ends in a slash but is not a directory", s.parent.Path, s.what, raw)
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		parent := name[:i]
		switch s.nodes[parent] {
		case "":
			s.nodes[parent] = KindDir
			s.addDir(parent)
		case KindDir:
		default:
			return "", fault.Invalidf("%s: %s %q is inside %q, which is not a directory", s.parent.Path, s.what, raw, parent)
		}
	}
	switch prev := s.nodes[name]; {
	case prev == "":
		s.nodes[name] = kind
	case prev == KindDir && kind == KindDir:
		return "", errDupDir
	default:
		return "", fault.Invalidf("%s: %s archive has a duplicate or conflicting entry %q", s.parent.Path, s.what, raw)
	}
	return name, nil
}

// errDupDir marks a directory entry seen before (implied by an earlier
// name); it is not an error.
var errDupDir = errors.New("directory seen before")

func (s *entrySink) addDir(name string) {
	s.u.items = append(s.u.items, Item{Path: s.parent.Path + "/" + name, Kind: KindDir, Archive: s.parent.Path})
}

// entry handles one archive entry of the given mode. open returns its
// content for regular files; link is the target of links.
func (s *entrySink) entry(ctx context.Context, raw string, mode fs.FileMode, link string, hardlink bool, open func() (io.ReadCloser, error)) error {
	// "./usr/bin" is how dpkg-deb and many tarballs spell "usr/bin"; the
	// root itself ("./") is no entry.
	for strings.HasPrefix(raw, "./") {
		raw = raw[2:]
	}
	if raw == "" || raw == "." {
		return nil
	}
	kind := KindFile
	switch {
	case hardlink:
		kind = KindHardlink
	case mode.IsDir():
		kind = KindDir
	case mode.Type() == fs.ModeSymlink:
		kind = KindSymlink
	case mode.Type() != 0:
		return fault.Invalidf("%s: %s %q is a device, fifo or socket; only files, directories and links are allowed", s.parent.Path, s.what, raw)
	}
	name, err := s.claim(raw, kind)
	if errors.Is(err, errDupDir) {
		return nil
	}
	if err != nil {
		return err
	}
	p := s.parent.Path + "/" + name
	switch kind {
	case KindDir:
		if err := s.u.root.MkdirAll(p, 0o755); err != nil {
			return s.u.writeErr(p, err)
		}
		s.addDir(name)
		return nil
	case KindSymlink:
		if err := archive.CheckLinkTarget(s.what, raw, name, link); err != nil {
			return fmt.Errorf("%s: %w", s.parent.Path, err)
		}
		s.u.items = append(s.u.items, Item{Path: p, Kind: KindSymlink, Archive: s.parent.Path, LinkTarget: link})
		return nil
	case KindHardlink:
		target, _, err := archive.CheckEntryName(s.what+" link target", strings.TrimPrefix(link, "./"))
		if err != nil {
			return fmt.Errorf("%s: %w", s.parent.Path, err)
		}
		if s.nodes[target] != KindFile {
			return fault.Invalidf("%s: %s %q is a hard link to %q, which is not an earlier file of the archive", s.parent.Path, s.what, raw, link)
		}
		s.u.items = append(s.u.items, Item{Path: p, Kind: KindHardlink, Archive: s.parent.Path, LinkTarget: link})
		return nil
	}
	rc, err := open()
	if err != nil {
		return fault.Invalidf("%s: %s %q cannot be read (%v)", s.parent.Path, s.what, raw, err)
	}
	defer rc.Close()
	tmp, it, err := s.u.spool(ctx, rc, p, s.parent.Path, s.budget)
	if err != nil {
		return err
	}
	s.budget -= it.Hash.Size
	return s.u.place(ctx, tmp, it, s.depth+1)
}

// format is one supported archive format.
type format struct {
	name    string
	extract func(ctx context.Context, u *unpacker, f *os.File, it Item, depth int) error
}

// identify returns the format of the file f by its magic bytes, or nil if
// it is not an archive this package unpacks. Magic bytes, rather than
// archives.Identify, keep the cost at one small read per file and avoid
// guessing formats without a signature (brotli).
func (u *unpacker) identify(ctx context.Context, f *os.File) (*format, error) {
	var head [512 + 8]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind scratch file: %w", err)
	}
	b := head[:n]
	switch {
	case bytes.HasPrefix(b, []byte(arMagic)):
		return &format{name: "ar", extract: extractAr}, nil
	case bytes.HasPrefix(b, rpmMagic):
		return &format{name: "rpm", extract: extractRPM}, nil
	case bytes.HasPrefix(b, []byte("PK\x03\x04")), bytes.HasPrefix(b, []byte("PK\x05\x06")):
		return &format{name: "zip", extract: extractWith(archives.Zip{}, "zip entry")}, nil
	case isTar(b):
		return &format{name: "tar", extract: extractWith(archives.Tar{}, "tar entry")}, nil
	}
	var c interface {
		archives.Compression
		archives.Decompressor
	}
	var cname string
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		c, cname = archives.Gz{}, "gz"
	case bytes.HasPrefix(b, []byte("BZh")):
		c, cname = archives.Bz2{}, "bz2"
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		c, cname = archives.Xz{}, "xz"
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		c, cname = archives.Zstd{}, "zst"
	default:
		return nil, nil
	}
	// A compressed tar or a compressed single file: look at the start of
	// the decompressed stream.
	rc, err := c.OpenReader(f)
	if err != nil {
		if _, serr := f.Seek(0, io.SeekStart); serr != nil {
			return nil, fmt.Errorf("rewind scratch file: %w", serr)
		}
		return &format{name: cname, extract: extractSingle(c, cname)}, nil
	}
	inner := make([]byte, 512)
	k, _ := io.ReadFull(rc, inner)
	rc.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind scratch file: %w", err)
	}
	if isTar(inner[:k]) {
		return &format{name: "tar." + cname, extract: extractWith(archives.CompressedArchive{
			Compression: c, Extraction: archives.Tar{},
		}, "tar entry")}, nil
	}
	return &format{name: cname, extract: extractSingle(c, cname)}, nil
}

// isTar reports whether b starts with a POSIX or GNU tar header.
func isTar(b []byte) bool {
	return len(b) >= 262 && bytes.Equal(b[257:262], []byte("ustar"))
}

// extractWith unpacks with one of mholt/archives' extractors.
func extractWith(ex archives.Extractor, what string) func(context.Context, *unpacker, *os.File, Item, int) error {
	return func(ctx context.Context, u *unpacker, f *os.File, it Item, depth int) error {
		s := u.newSink(it, depth, it.Hash.Size, what)
		src := &boundedFile{f: f, limit: 2*u.lim.MaxEntries + 65536}
		var sinkErr error
		err := ex.Extract(ctx, src, func(ctx context.Context, fi archives.FileInfo) error {
			mode := fi.Mode()
			hard := false
			if h, ok := fi.Header.(*tar.Header); ok {
				hard = h.Typeflag == tar.TypeLink
			}
			if hard {
				mode = 0
			}
			sinkErr = s.entry(ctx, fi.NameInArchive, mode, fi.LinkTarget, hard, func() (io.ReadCloser, error) {
				return fi.Open()
			})
			return sinkErr
		})
		if sinkErr != nil {
			return sinkErr
		}
		return archiveErr(it, err, src.tooMany, u.lim.MaxEntries)
	}
}

// extractSingle unpacks a compressed single file into one entry named like
// the file without its compression extension.
func extractSingle(c archives.Decompressor, ext string) func(context.Context, *unpacker, *os.File, Item, int) error {
	return func(ctx context.Context, u *unpacker, f *os.File, it Item, depth int) error {
		s := u.newSink(it, depth, it.Hash.Size, ext+" member")
		rc, err := c.OpenReader(f)
		if err != nil {
			return fault.Invalidf("%s is corrupt (%v)", it.Path, err)
		}
		defer rc.Close()
		base := path.Base(it.Path)
		name := strings.TrimSuffix(base, "."+ext)
		switch {
		case strings.HasSuffix(strings.ToLower(base), ".tgz"):
			name = strings.TrimSuffix(base, path.Ext(base)) + ".tar"
		case name == base:
			name = base + ".out"
		}
		return s.entry(ctx, name, 0, "", false, func() (io.ReadCloser, error) { return io.NopCloser(rc), nil })
	}
}

// archiveErr maps an extractor's failure to a user-facing error; errors
// already user-facing (from the sink) pass through.
func archiveErr(it Item, err error, tooMany bool, maxEntries int) error {
	switch {
	case err == nil:
		return nil
	case tooMany:
		return fault.TooLargef("%s has more than %d entries", it.Path, maxEntries)
	case errors.Is(err, fault.ErrInvalid), errors.Is(err, fault.ErrTooLarge):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("unpack %s: %w", it.Path, err)
	}
	var pe *os.PathError
	if errors.As(err, &pe) && !strings.Contains(pe.Op, "read") {
		return fmt.Errorf("unpack %s: %w", it.Path, err)
	}
	return fault.Invalidf("%s is a corrupt or truncated %s archive (%v)", it.Path, it.Format, err)
}

// boundedFile is the archive file given to the extractors: a ReaderAt and
// Seeker (zip needs both) that counts zip central directory signatures in
// what is read, so that an absurd directory cannot be parsed into memory.
type boundedFile struct {
	f       *os.File
	limit   int
	seen    int
	tooMany bool
}

var errTooManyEntries = errors.New("too many archive entries")

func (b *boundedFile) count(p []byte) error {
	b.seen += bytes.Count(p, []byte("PK\x01\x02"))
	if b.seen > b.limit {
		b.tooMany = true
		return errTooManyEntries
	}
	return nil
}

func (b *boundedFile) Read(p []byte) (int, error) {
	return b.f.Read(p)
}

func (b *boundedFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := b.f.ReadAt(p, off)
	if cerr := b.count(p[:n]); cerr != nil {
		return n, cerr
	}
	return n, err
}

func (b *boundedFile) Seek(off int64, whence int) (int64, error) {
	return b.f.Seek(off, whence)
}
