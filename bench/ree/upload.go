package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/gen/client"
)

// rssSampleEvery is how often the server's VmRSS is read.
const rssSampleEvery = 50 * time.Millisecond

// rssResult is the server's memory while the big upload ran.
type rssResult struct {
	IdleKB, PeakKB int64
	Samples        int
	// HWMBeforeKB and HWMAfterKB are VmHWM (the kernel's peak RSS) before and after the upload.
	HWMBeforeKB, HWMAfterKB int64
	Upload                  time.Duration
	Bytes                   int64
}

// procStatus reads VmRSS and VmHWM (kB) of a process.
func procStatus(pid int) (rss, hwm int64, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for _, k := range []string{"VmRSS:", "VmHWM:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					return 0, 0, fmt.Errorf("parse %s %q: %w", k, v, err)
				}
				if k == "VmRSS:" {
					rss = n
				} else {
					hwm = n
				}
			}
		}
	}
	return rss, hwm, sc.Err()
}

// sampler reads a process's VmRSS every rssSampleEvery until stopped.
type sampler struct {
	mu      sync.Mutex
	peak    int64
	samples int
	err     error
	stop    chan struct{}
	done    chan struct{}
}

func startSampler(pid int) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(rssSampleEvery)
		defer t.Stop()
		for {
			rss, _, err := procStatus(pid)
			s.mu.Lock()
			if err != nil && s.err == nil {
				s.err = err
			}
			s.peak = max(s.peak, rss)
			s.samples++
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) finish() (peak int64, samples int, err error) {
	close(s.stop)
	<-s.done
	return s.peak, s.samples, s.err
}

// bigUpload streams a recording upload of a zip holding a Dockerfile and one
// stored (not deflated) entry of size pseudo-random bytes, generated on the
// fly, and samples the server's RSS before and during it. The process it
// starts is cancelled at once.
func (r *reehub) bigUpload(ctx context.Context, size int64, idleFor time.Duration) (rssResult, error) {
	var res rssResult
	_, hwm, err := procStatus(r.PID())
	if err != nil {
		return res, err
	}
	res.HWMBeforeKB = hwm
	idle := startSampler(r.PID())
	select {
	case <-ctx.Done():
	case <-time.After(idleFor):
	}
	res.IdleKB, _, err = idle.finish()
	if err != nil {
		return res, err
	}

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	var written int64
	go func() { pw.CloseWithError(writeBigForm(mw, size, &written)) }()
	s := startSampler(r.PID())
	start := time.Now()
	id, err := r.SubmitRecording(ctx, mw.FormDataContentType(), pr)
	res.Upload = time.Since(start)
	peak, samples, serr := s.finish()
	_ = pr.Close()
	res.PeakKB, res.Samples, res.Bytes = peak, samples, written
	if err != nil {
		return res, fmt.Errorf("upload of %d bytes: %w", size, err)
	}
	if serr != nil {
		return res, serr
	}
	if _, hwm, err := procStatus(r.PID()); err == nil {
		res.HWMAfterKB = hwm
	}
	return res, r.cancel(ctx, id)
}

// writeBigForm writes the multipart form: a tag and a zip with a Dockerfile and a big stored entry.
func writeBigForm(mw *multipart.Writer, size int64, written *int64) error {
	if err := mw.WriteField("tag", "bench-rss"); err != nil {
		return err
	}
	part, err := mw.CreateFormFile("file", "big.zip")
	if err != nil {
		return err
	}
	cw := &countWriter{w: part, n: written}
	zw := zip.NewWriter(cw)
	df, err := zw.Create("Dockerfile")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(df, "FROM debian_bookworm\nCOPY big.bin /big.bin\n"); err != nil {
		return err
	}
	big, err := zw.CreateHeader(&zip.FileHeader{Name: "big.bin", Method: zip.Store})
	if err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{'r', 'e', 'e', 'h', 'u', 'b'})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		_, _ = rng.Read(buf[:n])
		if _, err := big.Write(buf[:n]); err != nil {
			return err
		}
		left -= n
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return mw.Close()
}

type countWriter struct {
	w io.Writer
	n *int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// cancel cancels a process and waits (at most 2 minutes) until it has ended.
func (r *reehub) cancel(ctx context.Context, id uuid.UUID) error {
	res, err := r.API.ReeProcessCancelWithResponse(ctx, id)
	if err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	if res.StatusCode() != http.StatusOK && res.StatusCode() != http.StatusConflict && res.StatusCode() != http.StatusAccepted {
		return fmt.Errorf("cancel: HTTP %d: %s", res.StatusCode(), bytes.TrimSpace(res.Body))
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := r.API.ReeProcessStatusWithResponse(ctx, id)
		if err != nil {
			return err
		}
		if st.JSON200 != nil {
			switch st.JSON200.Status {
			case client.ReeProcessStateCancelled, client.ReeProcessStateFailed, client.ReeProcessStateProcessed:
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("process %s did not end within 2 minutes of cancel", id)
}
