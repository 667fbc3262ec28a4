package apt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// ErrNotDeb means a file is not a Debian binary package.
var ErrNotDeb = errors.New("not a Debian binary package (.deb)")

// ReadDebControl returns the control paragraph of the .deb at path.
func ReadDebControl(file string) (Paragraph, error) {
	f, err := os.Open(file)
	if err != nil {
		return Paragraph{}, fmt.Errorf("open package: %w", err)
	}
	defer f.Close()
	magic := make([]byte, 8)
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != "!<arch>\n" {
		return Paragraph{}, ErrNotDeb
	}
	hdr := make([]byte, 60)
	first := true
	for {
		if _, err := io.ReadFull(f, hdr); err != nil {
			return Paragraph{}, fmt.Errorf("%w: no control member", ErrNotDeb)
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 || size > 64<<20 && strings.HasPrefix(name, "control") {
			return Paragraph{}, ErrNotDeb
		}
		if first && name != "debian-binary" {
			return Paragraph{}, ErrNotDeb
		}
		first = false
		if strings.HasPrefix(name, "control.tar") {
			body := io.LimitReader(f, size)
			var r io.Reader
			switch path.Ext(name) {
			case ".gz":
				if r, err = gzip.NewReader(body); err != nil {
					return Paragraph{}, fmt.Errorf("%w: %v", ErrNotDeb, err)
				}
			case ".xz":
				if r, err = xz.NewReader(body); err != nil {
					return Paragraph{}, fmt.Errorf("%w: %v", ErrNotDeb, err)
				}
			case ".zst":
				d, err := zstd.NewReader(body)
				if err != nil {
					return Paragraph{}, fmt.Errorf("%w: %v", ErrNotDeb, err)
				}
				defer d.Close()
				r = d
			case ".tar":
				r = body
			default:
				return Paragraph{}, fmt.Errorf("%w: unknown member %s", ErrNotDeb, name)
			}
			return controlFromTar(r)
		}
		skip := size + size%2
		if _, err := f.Seek(skip, io.SeekCurrent); err != nil {
			return Paragraph{}, ErrNotDeb
		}
	}
}

func controlFromTar(r io.Reader) (Paragraph, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err != nil {
			return Paragraph{}, fmt.Errorf("%w: no control file", ErrNotDeb)
		}
		if path.Clean(h.Name) != "control" && path.Clean(h.Name) != "./control" || h.Size > 1<<20 {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
		if err != nil {
			return Paragraph{}, fmt.Errorf("%w: %v", ErrNotDeb, err)
		}
		var out Paragraph
		err = ReadParagraphs(bytes.NewReader(b), func(p Paragraph) error {
			if out.Fields == nil {
				out = p
			}
			return nil
		})
		if err != nil || out.Get("Package") == "" || out.Get("Version") == "" {
			return Paragraph{}, fmt.Errorf("%w: the control file names no Package and Version", ErrNotDeb)
		}
		return out, nil
	}
}
