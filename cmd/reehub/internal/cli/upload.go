package cli

import (
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
)

// multipartFile streams a multipart/form-data body: the text fields, then the
// file at path under field, with a progress bar while it is read. It returns
// the content type and the body; a read error ends the body with that error.
func (c *app) multipartFile(fields [][2]string, field, path string) (string, io.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, Usage(err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return "", nil, err
	}
	bar := c.progress(info.Size(), "upload")
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		defer f.Close()
		err := func() error {
			for _, kv := range fields {
				if err := mw.WriteField(kv[0], kv[1]); err != nil {
					return err
				}
			}
			w, err := mw.CreateFormFile(field, filepath.Base(path))
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, counting(f, bar)); err != nil {
				return err
			}
			finish(bar)
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return mw.FormDataContentType(), pr, nil
}
