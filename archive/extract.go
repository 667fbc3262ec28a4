// Package archive reads untrusted zip archives safely and writes
// deterministic ones.
//
// ExtractZip unpacks a user's zip into a directory and refuses everything
// that could write outside it or exhaust the machine: absolute and ".."
// names, symlinks that point outside, writes through symlinks, devices and
// fifos, duplicate entries, too many entries, too many bytes and zip bombs.
// Every refusal wraps fault.ErrInvalid or fault.ErrTooLarge with a message
// written for the user that names the entry. WriteZip and DirEntries produce
// byte-for-byte reproducible archives; OpenZip and ReadFile read single
// entries with a bound.
package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/reehub/reehub/fault"
)

const (
	// ratioFloor is the number of bytes an entry may always expand to,
	// whatever its compression ratio: small, very compressible files (a
	// text file of spaces) are not bombs.
	ratioFloor = 1 << 20
	// maxLinkTarget is the longest symlink target accepted, in bytes.
	maxLinkTarget = 4096
	// copyChunk is the size of one read while extracting; ctx is checked
	// between reads.
	copyChunk = 32 << 10
)

// Limits bounds what ExtractZip accepts. The zero value of a field means its
// default.
type Limits struct {
	// MaxEntries is the largest number of entries (files, directories and
	// symlinks) an archive may hold. Defaults to 10000.
	MaxEntries int
	// MaxTotalBytes is the largest number of bytes all entries may expand
	// to together. Defaults to 4 GiB.
	MaxTotalBytes int64
	// MaxEntryBytes is the largest number of bytes one entry may expand to.
	// Defaults to MaxTotalBytes.
	MaxEntryBytes int64
	// MaxRatio is the largest ratio of uncompressed to compressed size of
	// one entry, measured on the bytes actually decompressed. An entry may
	// always expand to 1 MiB whatever its ratio. Defaults to 200.
	MaxRatio int
}

// WithDefaults returns a copy of l with every zero or negative field set to
// its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = 10000
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = 4 << 30
	}
	if l.MaxEntryBytes <= 0 {
		l.MaxEntryBytes = l.MaxTotalBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = 200
	}
	return l
}

// Stats describes what ExtractZip wrote.
type Stats struct {
	// Entries is the number of archive entries extracted, directories and
	// symlinks included.
	Entries int
	// Bytes is the number of bytes written: file contents and symlink
	// targets.
	Bytes int64
}

// errTooManyEntries stops zip.NewReader from parsing an absurd central
// directory into memory.
var errTooManyEntries = errors.New("too many zip entries")

// nodeKind is what an extracted path is.
type nodeKind int

const (
	kindFile nodeKind = iota + 1
	kindDir
	kindImplicitDir
	kindSymlink
)

// extractor holds the state of one ExtractZip call.
type extractor struct {
	lim      Limits
	root     *os.Root
	fileSize int64
	nodes    map[string]nodeKind
	stats    Stats
	buf      []byte
}

// ExtractZip unpacks the zip archive at path into dest, which must not exist
// or be an empty directory. It never writes outside dest and never follows a
// symlink while writing: symlinks whose target stays inside dest are created
// as symlinks, and any entry that would be written through one is refused.
// Regular files get mode 0755 if the archive marks them executable and 0644
// otherwise; directories get 0755. Sizes are measured while decompressing;
// header sizes are never trusted. On any error, including cancellation of
// ctx, everything written is removed again (and dest too if ExtractZip
// created it). User-facing problems wrap fault.ErrInvalid or
// fault.ErrTooLarge and name the entry.
func ExtractZip(ctx context.Context, path string, dest string, lim Limits) (stats Stats, err error) {
	lim = lim.WithDefaults()
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, fmt.Errorf("open zip %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Stats{}, fmt.Errorf("stat zip %s: %w", path, err)
	}
	zr, err := newReader(f, fi.Size(), lim.MaxEntries)
	if err != nil {
		return Stats{}, err
	}
	if err := precheck(zr, lim); err != nil {
		return Stats{}, err
	}

	created, err := prepareDest(dest)
	if err != nil {
		return Stats{}, err
	}
	defer func() {
		if err != nil {
			if cerr := cleanDest(dest, created); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
	}()
	root, err := os.OpenRoot(dest)
	if err != nil {
		return Stats{}, fmt.Errorf("open extraction root %s: %w", dest, err)
	}
	defer root.Close()

	x := &extractor{
		lim:      lim,
		root:     root,
		fileSize: fi.Size(),
		nodes:    make(map[string]nodeKind, len(zr.File)),
		buf:      make([]byte, copyChunk),
	}
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return Stats{}, err
		}
		if err := x.extract(ctx, zf); err != nil {
			return Stats{}, err
		}
	}
	return x.stats, nil
}

// newReader parses the central directory of a zip of the given size and maps
// parse failures to user-facing errors. It refuses archives with more than
// maxEntries entries before their directory is held in memory.
func newReader(r io.ReaderAt, size int64, maxEntries int) (*zip.Reader, error) {
	if size == 0 {
		return nil, fault.Invalidf("file is not a zip archive (it is empty)")
	}
	cr := &countingReaderAt{r: r, limit: 2*maxEntries + 65536}
	zr, err := zip.NewReader(cr, size)
	switch {
	case errors.Is(err, errTooManyEntries):
		return nil, fault.TooLargef("zip archive has more than %d entries", maxEntries)
	case errors.Is(err, zip.ErrInsecurePath):
		// Only with GODEBUG=zipinsecurepath=0; names are checked below anyway.
	case err != nil:
		if hasLocalHeader(r) {
			return nil, fault.Invalidf("zip archive is corrupt or truncated (%v)", err)
		}
		return nil, fault.Invalidf("file is not a zip archive")
	}
	if len(zr.File) == 0 {
		return nil, fault.Invalidf("zip archive is empty")
	}
	if len(zr.File) > maxEntries {
		return nil, fault.TooLargef("zip archive has more than %d entries", maxEntries)
	}
	return zr, nil
}

// hasLocalHeader reports whether r starts like a zip archive, to tell a
// truncated archive from a file that is not a zip at all.
func hasLocalHeader(r io.ReaderAt) bool {
	var sig [4]byte
	if _, err := r.ReadAt(sig[:], 0); err != nil {
		return false
	}
	return bytes.Equal(sig[:], []byte("PK\x03\x04"))
}

// countingReaderAt counts central directory signatures in everything read
// through it and fails once there are more than limit. Every directory
// record zip.NewReader keeps starts with one, so this bounds the memory an
// archive can make the parser allocate. Signatures split across reads are
// missed, which the caller's slack in limit covers.
type countingReaderAt struct {
	r     io.ReaderAt
	limit int
	seen  int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.seen += bytes.Count(p[:n], []byte("PK\x01\x02"))
	if c.seen > c.limit {
		return n, errTooManyEntries
	}
	return n, err
}

// precheck refuses an archive from its central directory alone, before
// anything is written: bad names, unsupported entries and declared sizes over
// the limits. Declared sizes are only used to refuse early; the extraction
// measures real sizes.
func precheck(zr *zip.Reader, lim Limits) error {
	var total uint64
	for _, zf := range zr.File {
		if _, _, err := cleanName(zf.Name); err != nil {
			return err
		}
		if zf.Flags&0x1 != 0 {
			return fault.Invalidf("zip entry %q is encrypted; encrypted archives are not supported", zf.Name)
		}
		if zf.UncompressedSize64 > uint64(lim.MaxEntryBytes) {
			return entryTooLarge(zf.Name, lim)
		}
		total += zf.UncompressedSize64
		if total > uint64(lim.MaxTotalBytes) {
			return totalTooLarge(lim)
		}
	}
	return nil
}

func entryTooLarge(name string, lim Limits) error {
	return fault.TooLargef("zip entry %q is larger than the limit of %d bytes", name, lim.MaxEntryBytes)
}

func totalTooLarge(lim Limits) error {
	return fault.TooLargef("zip archive expands to more than the limit of %d bytes", lim.MaxTotalBytes)
}

// prepareDest makes sure dest is an empty directory and reports whether it
// created it.
func prepareDest(dest string) (bool, error) {
	entries, err := os.ReadDir(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return false, fmt.Errorf("create extraction directory: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read extraction directory: %w", err)
	case len(entries) > 0:
		return false, fmt.Errorf("extraction directory %s is not empty", dest)
	}
	return false, nil
}

// cleanDest removes everything an extraction wrote into dest.
func cleanDest(dest string, created bool) error {
	if created {
		if err := os.RemoveAll(dest); err != nil {
			return fmt.Errorf("remove partial extraction: %w", err)
		}
		return nil
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return fmt.Errorf("remove partial extraction: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(dest + string(os.PathSeparator) + e.Name()); err != nil {
			return fmt.Errorf("remove partial extraction: %w", err)
		}
	}
	return nil
}

// extract writes one entry.
func (x *extractor) extract(ctx context.Context, zf *zip.File) error {
	name, _, err := cleanName(zf.Name)
	if err != nil {
		return err
	}
	mode := zf.Mode()
	var kind nodeKind
	switch {
	case mode.IsDir():
		// zip.File.Mode adds fs.ModeDir to every name ending in "/".
		kind = kindDir
	case mode.Type() == fs.ModeSymlink:
		kind = kindSymlink
	case mode.Type() == 0:
		kind = kindFile
	default:
		return fault.Invalidf("zip entry %q is a %s; only files, directories and symlinks are allowed", zf.Name, typeName(mode))
	}
	if err := x.claim(zf.Name, name, kind); err != nil {
		return err
	}
	x.stats.Entries++

	if kind == kindDir {
		if err := x.root.MkdirAll(name, 0o755); err != nil {
			return writeErr(zf.Name, err)
		}
		return nil
	}
	if dir := path.Dir(name); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return writeErr(zf.Name, err)
		}
	}
	if kind == kindSymlink {
		return x.symlink(zf, name)
	}
	return x.file(ctx, zf, name, mode)
}

// claim records name as kind, refusing duplicates, entries under files and
// entries under symlinks. Missing parents are recorded as implicit
// directories.
func (x *extractor) claim(raw, name string, kind nodeKind) error {
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		parent := name[:i]
		switch x.nodes[parent] {
		case kindFile:
			return fault.Invalidf("zip entry %q is inside %q, which is a file", raw, parent)
		case kindSymlink:
			return fault.Invalidf("zip entry %q would be written through the symlink %q", raw, parent)
		case 0:
			x.nodes[parent] = kindImplicitDir
		}
	}
	switch prev := x.nodes[name]; {
	case prev == 0:
		x.nodes[name] = kind
	case prev == kindImplicitDir && kind == kindDir:
		x.nodes[name] = kindDir
	case prev == kindImplicitDir:
		return fault.Invalidf("zip entry %q conflicts with the directory of an earlier entry", raw)
	default:
		return fault.Invalidf("zip archive has a duplicate entry %q", raw)
	}
	return nil
}

// file writes a regular file, measuring its size and ratio as it goes.
func (x *extractor) file(ctx context.Context, zf *zip.File, name string, mode fs.FileMode) error {
	perm := fs.FileMode(0o644)
	if mode.Perm()&0o111 != 0 {
		perm = 0o755
	}
	rc, err := zf.Open()
	if err != nil {
		return readErr(zf.Name, err)
	}
	defer rc.Close()
	out, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return writeErr(zf.Name, err)
	}
	if err := x.copy(ctx, zf, out, rc); err != nil {
		out.Close()
		return err
	}
	// The umask may have narrowed perm; Chmod on the descriptor follows
	// nothing.
	if err := out.Chmod(perm); err != nil {
		out.Close()
		return writeErr(zf.Name, err)
	}
	if err := out.Close(); err != nil {
		return writeErr(zf.Name, err)
	}
	return nil
}

// copy streams one entry's data to out, enforcing the entry, total and ratio
// limits on the bytes actually decompressed.
func (x *extractor) copy(ctx context.Context, zf *zip.File, out io.Writer, in io.Reader) error {
	compressed := min(zf.CompressedSize64, uint64(x.fileSize))
	ratioLimit := satMul(max(compressed, 1), uint64(x.lim.MaxRatio))
	var written uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := in.Read(x.buf)
		if n > 0 {
			written += uint64(n)
			x.stats.Bytes += int64(n)
			switch {
			case written > uint64(x.lim.MaxEntryBytes):
				return entryTooLarge(zf.Name, x.lim)
			case x.stats.Bytes > x.lim.MaxTotalBytes:
				return totalTooLarge(x.lim)
			case written > ratioFloor && written > ratioLimit:
				return fault.TooLargef("zip entry %q expands more than %d times its compressed size (a zip bomb?)", zf.Name, x.lim.MaxRatio)
			}
			if _, err := out.Write(x.buf[:n]); err != nil {
				return writeErr(zf.Name, err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return readErr(zf.Name, rerr)
		}
	}
}

// symlink creates a symlink entry after checking its target stays inside
// the extraction directory.
func (x *extractor) symlink(zf *zip.File, name string) error {
	rc, err := zf.Open()
	if err != nil {
		return readErr(zf.Name, err)
	}
	defer rc.Close()
	// Reading to EOF makes the zip reader check the CRC.
	target, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
	if err != nil {
		return readErr(zf.Name, err)
	}
	if len(target) > maxLinkTarget {
		return fault.Invalidf("zip entry %q is a symlink with a target longer than %d bytes", zf.Name, maxLinkTarget)
	}
	x.stats.Bytes += int64(len(target))
	if x.stats.Bytes > x.lim.MaxTotalBytes {
		return totalTooLarge(x.lim)
	}
	if err := checkLinkTarget(zf.Name, name, string(target)); err != nil {
		return err
	}
	if err := x.root.Symlink(string(target), name); err != nil {
		return writeErr(zf.Name, err)
	}
	return nil
}

// readErr maps a failure to read an entry's data to a user-facing error.
func readErr(name string, err error) error {
	switch {
	case errors.Is(err, zip.ErrChecksum):
		return fault.Invalidf("zip entry %q is corrupt (checksum mismatch)", name)
	case errors.Is(err, zip.ErrAlgorithm):
		return fault.Invalidf("zip entry %q uses an unsupported compression method", name)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	default:
		// Deflate errors, ErrFormat and unexpected EOFs all mean the
		// archive's bytes are damaged or cut short.
		return fault.Invalidf("zip entry %q is corrupt or truncated (%v)", name, err)
	}
}

// writeErr maps a failure to create an entry: a clash with an existing path
// is the archive's fault, anything else is the machine's.
func writeErr(name string, err error) error {
	if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTDIR) {
		return fault.Invalidf("zip entry %q conflicts with an earlier entry", name)
	}
	if strings.Contains(err.Error(), "path escapes from parent") {
		return fault.Invalidf("zip entry %q escapes the archive", name)
	}
	return fmt.Errorf("extract zip entry %q: %w", name, err)
}

// satMul multiplies without overflowing.
func satMul(a, b uint64) uint64 {
	if a != 0 && b > ^uint64(0)/a {
		return ^uint64(0)
	}
	return a * b
}

// typeName names a file type for an error message.
func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	default:
		return "special file"
	}
}
