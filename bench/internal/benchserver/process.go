package benchserver

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/reehub/reehub/gen/client"
)

// SubmitRecording starts a recording of the uploaded zip and returns its id.
func (r *Server) SubmitRecording(ctx context.Context, contentType string, body io.Reader, eds ...client.RequestEditorFn) (uuid.UUID, error) {
	res, err := r.API.ReeRecordingCreateWithBodyWithResponse(ctx, contentType, body, eds...)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("recording/create: %w", err)
	}
	if res.JSON200 == nil {
		return uuid.UUID{}, fmt.Errorf("recording/create: HTTP %d: %s", res.StatusCode(), res.Body)
	}
	return res.JSON200.Uuid, nil
}

// SubmitReplay starts a replay of the uploaded defined REE and returns its id.
func (r *Server) SubmitReplay(ctx context.Context, contentType string, body io.Reader, eds ...client.RequestEditorFn) (uuid.UUID, error) {
	res, err := r.API.ReeReplayCreateWithBodyWithResponse(ctx, contentType, body, eds...)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("replay/create: %w", err)
	}
	if res.JSON200 == nil {
		return uuid.UUID{}, fmt.Errorf("replay/create: HTTP %d: %s", res.StatusCode(), res.Body)
	}
	return res.JSON200.Uuid, nil
}

// Download saves the output zip of a processed process.
func (r *Server) Download(ctx context.Context, id uuid.UUID, dst string) error {
	res, err := r.API.ReeProcessDownload(ctx, id)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("download: HTTP %d: %s", res.StatusCode, b)
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("download: %w", err)
	}
	return f.Close()
}

// MultipartFile streams a form with the file at path and a tag, without reading the file into memory.
func MultipartFile(path, tag string) (io.Reader, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		defer f.Close()
		err := func() error {
			if err := mw.WriteField("tag", tag); err != nil {
				return err
			}
			part, err := mw.CreateFormFile("file", filepath.Base(path))
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, f); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType(), nil
}

// LastLines returns the last n lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// SubmitFunc uploads a zip to a multipart endpoint (recording/create or replay/create).
type SubmitFunc func(ctx context.Context, contentType string, body io.Reader, reqEditors ...client.RequestEditorFn) (uuid.UUID, error)
