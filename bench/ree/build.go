package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/bench/internal/benchserver"
	"github.com/reehub/reehub/gen/client"
)

// benchDockerfile is the project both sides build: an apt install from the
// Debian mirror on top of a catalogue base image.
const benchDockerfile = "FROM python_3_11\nRUN apt-get update && apt-get install -y --no-install-recommends jq curl\n"

// Log lines of reehub's process log that bracket the Podman build itself.
const (
	markBuildStart = "reehub: building on network"
	markBuildEnd   = "reehub: proxy served"
)

// writeProject writes the project as a directory (for plain podman build) and as a zip (for reehub).
func writeProject(dir string) (ctxDir, zipPath string, err error) {
	ctxDir = filepath.Join(dir, "project")
	if err := os.MkdirAll(ctxDir, 0o750); err != nil {
		return "", "", err
	}
	files := map[string]string{
		"Dockerfile": benchDockerfile,
		"README":     "reehub bench project: apt-get install jq curl\n",
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"Dockerfile", "README"} {
		if err := os.WriteFile(filepath.Join(ctxDir, name), []byte(files[name]), 0o640); err != nil {
			return "", "", err
		}
		w, err := zw.Create(name)
		if err != nil {
			return "", "", err
		}
		if _, err := io.WriteString(w, files[name]); err != nil {
			return "", "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", "", err
	}
	zipPath = filepath.Join(dir, "project.zip")
	return ctxDir, zipPath, os.WriteFile(zipPath, buf.Bytes(), 0o640)
}

// plainBuild runs `podman build --no-cache` of the project with the local CLI,
// removes the image again and returns the wall time of the build.
func plainBuild(ctx context.Context, ctxDir, tag string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, "podman", "build", "--no-cache", "--pull=never", "-q", "-t", tag, "-f", filepath.Join(ctxDir, "Dockerfile"), ctxDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("podman build: %w\n%s", err, out.String())
	}
	if out, err := exec.CommandContext(ctx, "podman", "rmi", tag).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("podman rmi %s: %w\n%s", tag, err, out)
	}
	return d, nil
}

// processTiming is what the bench measured for one reehub process.
type processTiming struct {
	UUID uuid.UUID
	// Total is from the start of the POST to the first poll that saw "processed".
	Total time.Duration
	// Run is the server's started_at..finished_at.
	Run time.Duration
	// Build is the time between the log lines that bracket the Podman build (0 if not seen).
	Build time.Duration
	// Marks are reehub's own log lines ("reehub: ...") with the time since the
	// POST at which a poll first saw them (50 ms resolution).
	Marks []mark
}

// mark is a log line of reehub and when the bench first saw it.
type mark struct {
	At   time.Duration
	Line string
}

// runProcess uploads zipPath with submit, polls status and log every 50 ms
// until the process ends (at most limit), and returns its timings.
func (r *reehub) runProcess(ctx context.Context, submit benchserver.SubmitFunc, zipPath, tag string, limit time.Duration) (processTiming, error) {
	var t processTiming
	body, contentType, err := benchserver.MultipartFile(zipPath, tag)
	if err != nil {
		return t, err
	}
	start := time.Now()
	id, err := submit(ctx, contentType, body)
	if err != nil {
		return t, err
	}
	t.UUID = id
	var seenStart, seenEnd time.Time
	seenLog := 0
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
		log, err := r.API.ReeProcessLogWithResponse(ctx, id)
		if err == nil && log.StatusCode() == http.StatusOK && len(log.Body) > seenLog {
			// Only complete lines count; a partial last line is seen again next time.
			end := bytes.LastIndexByte(log.Body, '\n') + 1
			for _, line := range strings.Split(string(log.Body[min(seenLog, end):end]), "\n") {
				if strings.HasPrefix(line, "reehub:") {
					t.Marks = append(t.Marks, mark{At: now.Sub(start), Line: line})
				}
				if seenStart.IsZero() && strings.HasPrefix(line, markBuildStart) {
					seenStart = now
				}
				if seenEnd.IsZero() && strings.HasPrefix(line, markBuildEnd) {
					seenEnd = now
				}
			}
			seenLog = max(seenLog, end)
		}
		s := st.JSON200
		switch s.Status {
		case client.ReeProcessStateProcessed:
			t.Total = now.Sub(start)
			if s.StartedAt != nil && s.FinishedAt != nil {
				t.Run = s.FinishedAt.Sub(*s.StartedAt)
			}
			if !seenStart.IsZero() && !seenEnd.IsZero() {
				t.Build = seenEnd.Sub(seenStart)
			}
			return t, nil
		case client.ReeProcessStateFailed, client.ReeProcessStateCancelled:
			reason := ""
			if s.Reason != nil {
				reason = *s.Reason
			}
			log, _ := r.API.ReeProcessLogWithResponse(ctx, id)
			logText := ""
			if log != nil {
				logText = benchserver.LastLines(string(log.Body), 30)
			}
			return t, fmt.Errorf("process %s %s: %s\n%s", id, s.Status, reason, logText)
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return t, fmt.Errorf("process %s did not end within %s", id, limit)
}
