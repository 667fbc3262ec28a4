package main

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/gen/client"
)

// processTiming is what the bench measured for one reehub process.
type processTiming struct {
	UUID uuid.UUID
	// Total is from the start of the POST to the first poll that saw "processed".
	Total time.Duration
}

// submit uploads a zip to a multipart endpoint (recording/create or replay/create).
type submitFunc func(ctx context.Context, contentType string, body io.Reader, reqEditors ...client.RequestEditorFn) (uuid.UUID, error)

func (r *reehub) submitRecording(ctx context.Context, contentType string, body io.Reader, eds ...client.RequestEditorFn) (uuid.UUID, error) {
	res, err := r.API.ReeRecordingCreateWithBodyWithResponse(ctx, contentType, body, eds...)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("recording/create: %w", err)
	}
	if res.JSON200 == nil {
		return uuid.UUID{}, fmt.Errorf("recording/create: HTTP %d: %s", res.StatusCode(), res.Body)
	}
	return res.JSON200.Uuid, nil
}

func (r *reehub) submitReplay(ctx context.Context, contentType string, body io.Reader, eds ...client.RequestEditorFn) (uuid.UUID, error) {
	res, err := r.API.ReeReplayCreateWithBodyWithResponse(ctx, contentType, body, eds...)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("replay/create: %w", err)
	}
	if res.JSON200 == nil {
		return uuid.UUID{}, fmt.Errorf("replay/create: HTTP %d: %s", res.StatusCode(), res.Body)
	}
	return res.JSON200.Uuid, nil
}

// runProcess uploads zipPath with submit, polls its status every 200 ms
// until the process ends (at most limit), and returns its timings.
func (r *reehub) runProcess(ctx context.Context, submit submitFunc, zipPath, tag string, limit time.Duration) (processTiming, error) {
	var t processTiming
	body, contentType, err := multipartFile(zipPath, tag)
	if err != nil {
		return t, err
	}
	start := time.Now()
	id, err := submit(ctx, contentType, body)
	if err != nil {
		return t, err
	}
	t.UUID = id
	deadline := start.Add(limit)
	for time.Now().Before(deadline) {
		if err := r.Alive(); err != nil {
			return t, err
		}
		st, err := r.API.ReeProcessStatusWithResponse(ctx, id)
		if err != nil {
			return t, fmt.Errorf("status: %w", err)
		}
		if st.JSON200 == nil {
			return t, fmt.Errorf("status: HTTP %d: %s", st.StatusCode(), st.Body)
		}
		now := time.Now()
		s := st.JSON200
		switch s.Status {
		case client.ReeProcessStateProcessed:
			t.Total = now.Sub(start)
			return t, nil
		case client.ReeProcessStateFailed, client.ReeProcessStateCancelled:
			reason := ""
			if s.Reason != nil {
				reason = *s.Reason
			}
			log, _ := r.API.ReeProcessLogWithResponse(ctx, id)
			logText := ""
			if log != nil {
				logText = lastLines(string(log.Body), 30)
			}
			return t, fmt.Errorf("process %s %s: %s\n%s", id, s.Status, reason, logText)
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return t, fmt.Errorf("process %s did not end within %s", id, limit)
}

// download saves the output zip of a processed process.
func (r *reehub) download(ctx context.Context, id uuid.UUID, dst string) error {
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

// multipartFile streams a form with the file at path and a tag, without reading the file into memory.
func multipartFile(path, tag string) (io.Reader, string, error) {
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

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
