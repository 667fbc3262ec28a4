package server

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"unicode/utf8"

	"github.com/reehub/reehub/fault"
)

// maxFieldBytes bounds a text field of a multipart form.
const maxFieldBytes = 4096

// upload is a multipart form whose file part was streamed to disk.
type upload struct {
	// Name is the file name the client gave the file part ("" when none).
	Name   string
	Path   string
	Size   int64
	Fields map[string]string
}

// remove deletes the staged file if it is still there (a service moves it on success).
func (u *upload) remove() {
	if u != nil && u.Path != "" {
		_ = os.Remove(u.Path)
	}
}

// readUpload streams the parts of a multipart form: the part named "file" goes
// to a temporary file (never into memory), text fields of the allowed names are
// kept. Memory use does not depend on the size of the file.
func (s *Server) readUpload(mr *multipart.Reader, allowed ...string) (*upload, error) {
	u := &upload{Fields: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			u.remove()
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, uploadError(err)
		}
		name := part.FormName()
		switch {
		case name == "file":
			if u.Path != "" {
				return nil, fault.Invalidf("file: only one file may be uploaded")
			}
			u.Name = part.FileName()
			if err := s.stageFile(u, part); err != nil {
				return nil, err
			}
		case contains(allowed, name):
			if _, dup := u.Fields[name]; dup {
				return nil, fault.Invalidf("%s: given more than once", name)
			}
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				return nil, uploadError(err)
			}
			if len(b) > maxFieldBytes {
				return nil, fault.Invalidf("%s: longer than %d bytes", name, maxFieldBytes)
			}
			if !utf8.Valid(b) {
				return nil, fault.Invalidf("%s: not valid UTF-8", name)
			}
			u.Fields[name] = string(b)
		default:
			return nil, fault.Invalidf("unknown form field %q; expected file and %v", name, allowed)
		}
		_ = part.Close()
	}
	if u.Path == "" {
		return nil, fault.Invalidf("file: a zip file is required (form field \"file\")")
	}
	if u.Size == 0 {
		return nil, fault.Invalidf("file: the uploaded file is empty")
	}
	ok = true
	return u, nil
}

func (s *Server) stageFile(u *upload, part *multipart.Part) error {
	f, err := os.CreateTemp(s.cfg.UploadDir, "upload-*.zip")
	if err != nil {
		return fmt.Errorf("stage upload: %w", err)
	}
	u.Path = f.Name()
	n, err := io.Copy(f, io.LimitReader(part, s.cfg.MaxUploadBytes+1))
	u.Size = n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return uploadError(err)
	}
	if n > s.cfg.MaxUploadBytes {
		return fault.TooLargef("upload is larger than the limit of %d bytes", s.cfg.MaxUploadBytes)
	}
	return nil
}

// uploadError classifies a failure while reading the request body.
func uploadError(err error) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return fault.TooLargef("upload is larger than the limit of %d bytes", maxBytes.Limit)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fault.Invalidf("the upload was cut off before its end")
	}
	// The multipart reader's own text names Go internals; say what is wrong.
	return fault.Invalidf("malformed multipart body (check the boundary and the part headers)")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
