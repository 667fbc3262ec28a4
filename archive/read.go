package archive

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/reehub/reehub/fault"
)

// OpenZip opens the zip archive at path for reading, for archives reehub
// wrote or a user uploads again. A file that is not a zip archive gives a
// fault.ErrInvalid error ("file is not a zip archive"); a truncated one says
// so. Entry names are not checked: use ReadFile to read single entries, and
// ExtractZip to unpack.
func OpenZip(path string) (*zip.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open zip %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat zip %s: %w", path, err)
	}
	var head [4]byte
	_, herr := f.ReadAt(head[:], 0)
	f.Close()
	if fi.Size() == 0 || herr != nil && !errors.Is(herr, io.EOF) {
		return nil, fault.Invalidf("file is not a zip archive")
	}
	zr, err := zip.OpenReader(path)
	switch {
	case err == nil, errors.Is(err, zip.ErrInsecurePath):
		return zr, nil
	case errors.Is(err, zip.ErrFormat), errors.Is(err, io.ErrUnexpectedEOF):
		if string(head[:]) == "PK\x03\x04" {
			return nil, fault.Invalidf("zip archive is corrupt or truncated (%v)", err)
		}
		return nil, fault.Invalidf("file is not a zip archive")
	default:
		return nil, fmt.Errorf("open zip %s: %w", path, err)
	}
}

// ReadFile returns the content of the entry called name (the exact name,
// without a leading slash), reading at most max bytes. A missing entry is
// fault.ErrNotFound, a larger one fault.ErrTooLarge, a damaged one
// fault.ErrInvalid; the size is measured, not taken from the header.
func ReadFile(z *zip.Reader, name string, max int64) ([]byte, error) {
	var zf *zip.File
	for _, f := range z.File {
		if f.Name == name {
			zf = f
			break
		}
	}
	if zf == nil {
		return nil, fault.NotFoundf("zip archive has no entry %q", name)
	}
	if zf.Mode().IsDir() {
		return nil, fault.Invalidf("zip entry %q is a directory", name)
	}
	if zf.UncompressedSize64 > uint64(max) {
		return nil, fault.TooLargef("zip entry %q is larger than the limit of %d bytes", name, max)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, readErr(name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, readErr(name, err)
	}
	if int64(len(data)) > max {
		return nil, fault.TooLargef("zip entry %q is larger than the limit of %d bytes", name, max)
	}
	return data, nil
}
