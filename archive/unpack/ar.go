package unpack

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/reehub/reehub/fault"
)

// arMagic starts every ar archive (and so every .deb).
const arMagic = "!<arch>\n"

// arHeaderSize is the size of an ar member header.
const arHeaderSize = 60

// extractAr unpacks an ar archive: the common format, GNU long names
// ("//" table, "/123" references) and BSD long names ("#1/17"). A .deb is an
// ar archive whose first member is debian-binary; its control.tar.* and
// data.tar.* members are unpacked as nested archives.
func extractAr(ctx context.Context, u *unpacker, f *os.File, it Item, depth int) error {
	s := u.newSink(it, depth, it.Hash.Size, "ar member")
	if _, err := f.Seek(int64(len(arMagic)), io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", it.Path, err)
	}
	var longNames string
	first := true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var hdr [arHeaderSize]byte
		n, err := io.ReadFull(f, hdr[:])
		if err == io.EOF {
			return nil
		}
		if err != nil || hdr[58] != '`' || hdr[59] != '\n' {
			if n == 1 && hdr[0] == '\n' {
				return nil
			}
			return fault.Invalidf("%s is a corrupt or truncated ar archive (bad member header)", it.Path)
		}
		name := strings.TrimRight(string(hdr[0:16]), " ")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return fault.Invalidf("%s is a corrupt ar archive (member %q has a bad size)", it.Path, name)
		}
		body := io.LimitReader(f, size)
		switch {
		case name == "//":
			if size > 1<<20 {
				return fault.TooLargef("%s has an ar name table larger than 1 MiB", it.Path)
			}
			b, err := io.ReadAll(body)
			if err != nil || int64(len(b)) != size {
				return fault.Invalidf("%s is a truncated ar archive", it.Path)
			}
			longNames = string(b)
		case name == "/" || name == "/SYM64/":
			// Symbol tables are not content.
			if _, err := io.Copy(io.Discard, body); err != nil {
				return fault.Invalidf("%s is a truncated ar archive", it.Path)
			}
		default:
			if strings.HasPrefix(name, "#1/") {
				k, err := strconv.Atoi(name[3:])
				if err != nil || k < 0 || int64(k) > size || k > 4096 {
					return fault.Invalidf("%s is a corrupt ar archive (bad BSD name %q)", it.Path, name)
				}
				nb := make([]byte, k)
				if _, err := io.ReadFull(f, nb); err != nil {
					return fault.Invalidf("%s is a truncated ar archive", it.Path)
				}
				name = strings.TrimRight(string(nb), "\x00")
				body = io.LimitReader(f, size-int64(k))
			} else if strings.HasPrefix(name, "/") && len(name) > 1 {
				off, err := strconv.Atoi(name[1:])
				if err != nil || off < 0 || off >= len(longNames) {
					return fault.Invalidf("%s is a corrupt ar archive (bad long name %q)", it.Path, name)
				}
				rest := longNames[off:]
				if i := strings.Index(rest, "/\n"); i >= 0 {
					rest = rest[:i]
				}
				name = rest
			} else {
				name = strings.TrimSuffix(name, "/")
			}
			if first && name == "debian-binary" {
				s.parent.Format = "deb"
				u.setFormat(it.Path, "deb")
			}
			first = false
			if err := s.entry(ctx, name, 0, "", false, func() (io.ReadCloser, error) {
				return io.NopCloser(&exactReader{r: body, left: body.(*io.LimitedReader).N, name: name}), nil
			}); err != nil {
				return err
			}
			if _, err := io.Copy(io.Discard, body); err != nil {
				return fault.Invalidf("%s is a truncated ar archive", it.Path)
			}
		}
		if size%2 == 1 {
			if _, err := f.Seek(1, io.SeekCurrent); err != nil {
				return fmt.Errorf("read %s: %w", it.Path, err)
			}
		}
	}
}

// exactReader fails with io.ErrUnexpectedEOF when the member is shorter
// than its header says.
type exactReader struct {
	r    io.Reader
	left int64
	name string
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// setFormat changes the recorded format of the container at p.
func (u *unpacker) setFormat(p, f string) {
	for i := len(u.items) - 1; i >= 0; i-- {
		if u.items[i].Path == p && u.items[i].Kind == KindContainer {
			u.items[i].Format = f
			return
		}
	}
}
