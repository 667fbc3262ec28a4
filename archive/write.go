package archive

import (
	"archive/zip"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reehub/reehub/ctxio"
)

// dosEpoch is 1980-01-01 00:00:00 in MS-DOS date and time format, the
// earliest time a zip header can hold.
const (
	dosEpochDate = 1<<5 | 1
	dosEpochTime = 0
)

// Entry is one member of a zip archive written by WriteZip.
type Entry struct {
	// Name is the path inside the archive, with forward slashes and no
	// leading slash, "." or ".." components.
	Name string
	// Mode is the entry's type and permissions. A regular file is written
	// with 0755 if any execute bit is set and 0644 otherwise; fs.ModeSymlink
	// makes a symlink whose target is the content; fs.ModeDir makes a
	// directory entry, whose Open is not called. Other types are refused.
	Mode fs.FileMode
	// Open returns the entry's content: the file's bytes or the symlink's
	// target.
	Open func() (io.ReadCloser, error)
	// Size is the content length in bytes. WriteZip fails if Open yields a
	// different number of bytes, which catches files changed while being
	// archived. A negative Size means unknown and is not checked.
	Size int64
	// Store writes a regular file uncompressed, for content that is already
	// compressed (packages, compressed archives), where deflating again costs
	// time and saves nothing.
	Store bool
	// Raw copies Open's bytes into the archive as they are, with
	// zip.Writer.CreateRaw: the entry is stored (not deflated) with CRC32 as its
	// checksum and Size as its length, both required. It is for content whose
	// checksum is known in advance, such as a blob that is already compressed
	// and is copied into many archives. A wrong CRC32 makes a corrupt archive,
	// which readers refuse.
	Raw   bool
	CRC32 uint32
}

// WriteZip writes entries to w as a deterministic zip archive: sorted by
// name, every timestamp 1980-01-01 00:00, no extra fields, regular files
// deflated at BestSpeed unless Entry.Store, modes normalised as documented on Entry. The same entries with
// the same contents always give the same bytes (for one Go version). Content
// is streamed; w is never seeked. Duplicate or unclean names are refused.
func WriteZip(ctx context.Context, w io.Writer, entries []Entry) error {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	for i, e := range sorted {
		if _, _, err := cleanName(e.Name); err != nil {
			return fmt.Errorf("write zip: %w", err)
		}
		if i > 0 && sorted[i-1].Name == e.Name {
			return fmt.Errorf("write zip: duplicate entry %q", e.Name)
		}
	}
	zw := zip.NewWriter(w)
	// BestSpeed deflates several times faster than the default level for a
	// few percent more bytes; archives here are mostly packages and images.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	for _, e := range sorted {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeEntry(ctx, zw, e); err != nil {
			return fmt.Errorf("write zip entry %q: %w", e.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	return nil
}

// writeEntry writes one entry's header and content.
func writeEntry(ctx context.Context, zw *zip.Writer, e Entry) error {
	fh := &zip.FileHeader{
		Name:   e.Name,
		Method: zip.Deflate,
		// The deprecated MS-DOS fields are set on purpose: Modified would add an
		// extended-timestamp extra field, and the output must be byte-stable.
		ModifiedDate: dosEpochDate, //nolint:staticcheck // see above
		ModifiedTime: dosEpochTime, //nolint:staticcheck // see above
	}
	switch e.Mode.Type() {
	case 0:
		if e.Mode.Perm()&0o111 != 0 {
			fh.SetMode(0o755)
		} else {
			fh.SetMode(0o644)
		}
		if e.Store || e.Raw {
			fh.Method = zip.Store
		}
		if e.Raw {
			return writeRaw(ctx, zw, fh, e)
		}
	case fs.ModeSymlink:
		fh.SetMode(fs.ModeSymlink | 0o777)
	case fs.ModeDir:
		fh.Name += "/"
		fh.Method = zip.Store
		fh.SetMode(fs.ModeDir | 0o755)
		_, err := zw.CreateHeader(fh)
		return err
	default:
		return fmt.Errorf("unsupported file type %s", e.Mode.Type())
	}
	dst, err := zw.CreateHeader(fh)
	if err != nil {
		return err
	}
	rc, err := e.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	n, err := ctxio.Copy(ctx, dst, rc)
	if err != nil {
		return err
	}
	if e.Size >= 0 && n != e.Size {
		return fmt.Errorf("read %d bytes, expected %d (changed while archiving?)", n, e.Size)
	}
	return nil
}

// writeRaw writes a regular file's bytes as they are, under its known CRC32.
func writeRaw(ctx context.Context, zw *zip.Writer, fh *zip.FileHeader, e Entry) error {
	if e.Size < 0 {
		return fmt.Errorf("raw entry needs its size")
	}
	fh.CRC32 = e.CRC32
	fh.CompressedSize64 = uint64(e.Size)
	fh.UncompressedSize64 = uint64(e.Size)
	dst, err := zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	rc, err := e.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	n, err := ctxio.Copy(ctx, dst, rc)
	if err != nil {
		return err
	}
	if n != e.Size {
		return fmt.Errorf("read %d bytes, expected %d (changed while archiving?)", n, e.Size)
	}
	return nil
}

// DirEntries lists the regular files and symlinks under root as entries for
// WriteZip, named prefix + the path relative to root with forward slashes
// (prefix is used as given: pass "project/" for a top-level folder).
// Symlinks become symlink entries holding their target; they are never
// followed. Directories are not listed, so empty directories are lost. A
// device, fifo or socket under root is an error.
func DirEntries(root string, prefix string) ([]Entry, error) {
	var entries []Entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := prefix + filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch info.Mode().Type() {
		case 0:
			entries = append(entries, Entry{
				Name: name,
				Mode: info.Mode(),
				Size: info.Size(),
				Open: func() (io.ReadCloser, error) { return os.Open(p) },
			})
		case fs.ModeSymlink:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			entries = append(entries, Entry{
				Name: name,
				Mode: fs.ModeSymlink | 0o777,
				Size: int64(len(target)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(target)), nil },
			})
		default:
			return fmt.Errorf("%s: unsupported file type %s", p, info.Mode().Type())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return entries, nil
}
