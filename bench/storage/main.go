// Command storage measures what N recordings and N replays leave in Podman's
// storage and in the blob store (issue 15), with the defaults (images are a
// cache, removed once the output is packaged) and, for the comparison with the
// behaviour before issue 15 (every image kept), with keep_image=true on K of
// them, whose growth per process is extrapolated to N.
//
// It talks to a reehub server it starts itself (bench/storage/run.sh gives it
// a Podman service with storage of its own, so that other work on the machine
// does not show in `podman system df`). Every project is distinct (an apt
// install plus a file naming its number), as a day of ordinary use would be.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const adminPassword = "bench-storage-pw"

// config holds the flags.
type config struct {
	Bin, Work, Socket, PodmanRoot, Base string
	N, Keep, Parallel                   int
	Budget                              time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.Bin, "reehub", "bin/reehub", "reehub binary")
	flag.StringVar(&c.Work, "work", "", "work directory (required)")
	flag.StringVar(&c.Socket, "podman-socket", "unix:///run/podman/podman.sock", "Podman service the server uses")
	flag.StringVar(&c.PodmanRoot, "podman-root", "", "graph root of that Podman service, measured with du (optional)")
	flag.StringVar(&c.Base, "base", "debian_bookworm", "base image of the projects")
	flag.IntVar(&c.N, "n", 50, "recordings, and as many replays (one of each recording's defined REE), with the defaults")
	flag.IntVar(&c.Keep, "keep", 5, "recordings and replays with keep_image=true (the pre-issue-15 behaviour), extrapolated to -n")
	flag.IntVar(&c.Parallel, "parallel", 4, "record+replay pairs in flight at once")
	flag.DurationVar(&c.Budget, "budget", 35*time.Minute, "stop starting pairs of the defaults phase after this long")
	flag.Parse()
	if c.Work == "" {
		fmt.Fprintln(os.Stderr, "storage: -work is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintf(os.Stderr, "storage: %v\n", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Printf("[%s] "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
}

// snapshot is what the storage holds at one moment.
type snapshot struct {
	DFImages, DFSize string // `podman system df`: image count and size column
	DFBytes          int64  // the size column in bytes (approximate: podman prints 3 digits)
	RootBytes        int64  // du -sb of the Podman graph root (0 without -podman-root)
	BlobBytes        int64  // du -sb of the blob store
	Usage            json.RawMessage
}

func run(ctx context.Context, c config) error {
	srv, err := start(ctx, c)
	if err != nil {
		return err
	}
	defer srv.stop()
	logf("reehub at %s, Podman %s", srv.base, c.Socket)
	before, err := srv.measure(ctx, c)
	if err != nil {
		return err
	}
	logf("before: %s", before)

	t0 := time.Now()
	done, err := srv.pairs(ctx, c, 0, c.N, false, t0.Add(c.Budget))
	elapsed := time.Since(t0)
	if err != nil && done == 0 {
		return err
	}
	if err != nil {
		logf("defaults phase stopped after %d pairs: %v", done, err)
	}
	// Packaging removes the image at the end of the job; let the last ones finish.
	time.Sleep(5 * time.Second)
	after, err := srv.measure(ctx, c)
	if err != nil {
		return err
	}
	logf("after %d recordings + %d replays with the defaults (%s): %s", done, done, elapsed.Round(time.Second), after)

	var kept snapshot
	keptDone := 0
	if c.Keep > 0 {
		keptDone, err = srv.pairs(ctx, c, c.N, c.Keep, true, time.Now().Add(c.Budget))
		if err != nil && keptDone == 0 {
			return err
		}
		kept, err = srv.measure(ctx, c)
		if err != nil {
			return err
		}
		logf("after %d more recordings + replays with keep_image=true: %s", keptDone, kept)
	}

	fmt.Println("\n==== storage after N recordings and N replays ====")
	fmt.Printf("defaults: N=%d pairs in %s (%.1f s per pair)\n", done, elapsed.Round(time.Second), elapsed.Seconds()/float64(max(done, 1)))
	fmt.Printf("  podman system df images: %s -> %s (%s -> %s)\n", before.DFImages, after.DFImages, before.DFSize, after.DFSize)
	if c.PodmanRoot != "" {
		fmt.Printf("  podman graph root (du): %s -> %s (+%s)\n", human(before.RootBytes), human(after.RootBytes), human(after.RootBytes-before.RootBytes))
	}
	fmt.Printf("  blob store (du): %s -> %s (+%s, %s per pair)\n", human(before.BlobBytes), human(after.BlobBytes),
		human(after.BlobBytes-before.BlobBytes), human((after.BlobBytes-before.BlobBytes)/int64(max(done, 1))))
	fmt.Printf("  /api/system/usage: %s\n", after.Usage)
	if keptDone > 0 {
		perDF := float64(kept.DFBytes-after.DFBytes) / float64(keptDone)
		perRoot := float64(kept.RootBytes-after.RootBytes) / float64(keptDone)
		fmt.Printf("keep_image=true (pre-issue-15): %d pairs: system df %s -> %s, %s per pair\n", keptDone, after.DFSize, kept.DFSize, human(int64(perDF)))
		estDF := float64(before.DFBytes) + perDF*float64(done)
		fmt.Printf("  extrapolated to N=%d pairs: system df %s (defaults %s): %.1f times the defaults\n", done, human(int64(estDF)), after.DFSize, estDF/float64(max(after.DFBytes, 1)))
		if c.PodmanRoot != "" {
			estRoot := float64(before.RootBytes) + perRoot*float64(done)
			fmt.Printf("  graph root (du): %s per pair; extrapolated %s (defaults %s): %.1f times\n", human(int64(perRoot)), human(int64(estRoot)), human(after.RootBytes), estRoot/float64(max(after.RootBytes, 1)))
		}
		fmt.Printf("  blob store per pair with keep_image: %s (defaults %s)\n", human((kept.BlobBytes-after.BlobBytes)/int64(keptDone)), human((after.BlobBytes-before.BlobBytes)/int64(max(done, 1))))
	}
	return nil
}

func (s snapshot) String() string {
	return fmt.Sprintf("podman system df: %s images, %s; graph root %s; blobs %s", s.DFImages, s.DFSize, human(s.RootBytes), human(s.BlobBytes))
}

// pairs runs count record+replay pairs of the projects first..first+count-1,
// at most c.Parallel at once, starting none after deadline. It returns how
// many pairs completed.
func (r *server) pairs(ctx context.Context, c config, first, count int, keepImage bool, deadline time.Time) (int, error) {
	var (
		mu       sync.Mutex
		done     int
		errFirst error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, c.Parallel)
	for i := first; i < first+count; i++ {
		if time.Now().After(deadline) {
			logf("budget spent: not starting pair %d", i)
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return done, ctx.Err()
		}
		mu.Lock()
		failed := errFirst != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			start := time.Now()
			err := r.pair(ctx, c, i, keepImage)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if errFirst == nil {
					errFirst = err
				}
				logf("pair %d: %v", i, err)
				return
			}
			done++
			logf("pair %d done in %s (%d done)", i, time.Since(start).Round(time.Second), done)
		}(i)
	}
	wg.Wait()
	return done, errFirst
}

// pair records project i, downloads its defined REE and replays it.
func (r *server) pair(ctx context.Context, c config, i int, keepImage bool) error {
	zipBytes, err := project(c.Base, i)
	if err != nil {
		return err
	}
	rec, err := r.submit(ctx, "/api/recording/create", zipBytes, fmt.Sprintf("storage-%d", i), keepImage)
	if err != nil {
		return err
	}
	if err := r.wait(ctx, rec); err != nil {
		return err
	}
	ree := filepath.Join(c.Work, fmt.Sprintf("ree-%d.zip", i))
	defer os.Remove(ree)
	if err := r.download(ctx, rec, ree); err != nil {
		return err
	}
	reeBytes, err := os.ReadFile(ree)
	if err != nil {
		return err
	}
	rep, err := r.submit(ctx, "/api/replay/create", reeBytes, fmt.Sprintf("storage-replay-%d", i), keepImage)
	if err != nil {
		return err
	}
	return r.wait(ctx, rep)
}

// project is a zip of a distinct small project: an apt install from the Debian
// mirror (recorded through the proxy) and a file with its number.
func project(base string, i int) ([]byte, error) {
	dockerfile := fmt.Sprintf("FROM %s\nRUN apt-get update && apt-get install -y --no-install-recommends hello && echo %d > /which\n", base, i)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("Dockerfile")
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, dockerfile); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// server is the reehub process the bench started.
type server struct {
	cmd     *exec.Cmd
	done    chan struct{}
	base    string
	auth    string
	dataDir string
	socket  string
	http    *http.Client
}

func start(ctx context.Context, c config) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	dataDir := filepath.Join(c.Work, "data")
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(c.Work, "reehub.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(c.Bin, "serve", "--data-dir", dataDir, "--addr", addr)
	cmd.Env = append(os.Environ(), "REEHUB_ADMIN_PASSWORD="+adminPassword, "REEHUB_PODMAN_SOCKET="+c.Socket,
		"REEHUB_BUILD_BASE_IMAGES=false")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start reehub: %w", err)
	}
	if err := os.WriteFile(filepath.Join(c.Work, "reehub.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o640); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan struct{}), base: "http://" + addr, dataDir: dataDir, socket: c.Socket,
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+adminPassword)), http: &http.Client{Timeout: 10 * time.Minute}}
	go func() { _ = cmd.Wait(); close(s.done) }()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); {
		if res, err := http.Get(s.base + "/api/ping"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, errors.New("reehub exited at start; see reehub.log")
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	s.stop()
	return nil, errors.New("reehub did not answer /api/ping in 3 minutes")
}

func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) do(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", s.auth)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return s.http.Do(req)
}

// submit posts a zip to a multipart create endpoint and returns the process uuid.
func (s *server) submit(ctx context.Context, path string, zipBytes []byte, tag string, keepImage bool) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("tag", tag)
	_ = mw.WriteField("keep_image", strconv.FormatBool(keepImage))
	part, err := mw.CreateFormFile("file", "project.zip")
	if err != nil {
		return "", err
	}
	if _, err := part.Write(zipBytes); err != nil {
		return "", err
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	res, err := s.do(ctx, http.MethodPost, path, mw.FormDataContentType(), &buf)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: HTTP %d: %s", path, res.StatusCode, b)
	}
	var out struct {
		UUID string `json:"uuid"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return out.UUID, nil
}

// wait polls the status of a process every second until it ends.
func (s *server) wait(ctx context.Context, id string) error {
	for deadline := time.Now().Add(30 * time.Minute); time.Now().Before(deadline); {
		res, err := s.do(ctx, http.MethodGet, "/api/process/status/"+id, "", nil)
		if err != nil {
			return err
		}
		var st struct {
			Status string  `json:"status"`
			Reason *string `json:"reason"`
		}
		err = json.NewDecoder(res.Body).Decode(&st)
		_ = res.Body.Close()
		if err != nil {
			return fmt.Errorf("status %s: %w", id, err)
		}
		switch st.Status {
		case "processed":
			return nil
		case "failed", "cancelled":
			reason := ""
			if st.Reason != nil {
				reason = *st.Reason
			}
			return fmt.Errorf("process %s %s: %s", id, st.Status, reason)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("process %s did not end in 30 minutes", id)
}

func (s *server) download(ctx context.Context, id, dst string) error {
	res, err := s.do(ctx, http.MethodGet, "/api/process/download/"+id, "", nil)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: HTTP %d", id, res.StatusCode)
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// measure takes a snapshot: podman system df of the server's Podman, du of its
// graph root and of the blob store, and /api/system/usage.
func (s *server) measure(ctx context.Context, c config) (snapshot, error) {
	var snap snapshot
	out, err := exec.CommandContext(ctx, "podman", "--remote", "--url", s.socket, "system", "df").CombinedOutput()
	if err != nil {
		return snap, fmt.Errorf("podman system df: %w: %s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == "Images" {
			snap.DFImages, snap.DFSize = f[1], f[3]
			snap.DFBytes = parseSize(f[3])
		}
	}
	if c.PodmanRoot != "" {
		snap.RootBytes = du(ctx, c.PodmanRoot)
	}
	snap.BlobBytes = du(ctx, filepath.Join(s.dataDir, "blobs"))
	res, err := s.do(ctx, http.MethodGet, "/api/system/usage", "", nil)
	if err != nil {
		return snap, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	snap.Usage = json.RawMessage(bytes.TrimSpace(b))
	return snap, nil
}

func du(ctx context.Context, dir string) int64 {
	out, err := exec.CommandContext(ctx, "du", "-sb", dir).Output()
	if err != nil {
		return -1
	}
	n, _ := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	return n
}

// parseSize reads podman's human sizes (decimal units: 1.2GB, 512.3MB, 0B).
func parseSize(s string) int64 {
	units := []struct {
		suffix string
		mult   float64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"KB", 1e3}, {"B", 1}}
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0
			}
			return int64(f * u.mult)
		}
	}
	return 0
}

func human(n int64) string {
	switch {
	case n >= 1e9 || n <= -1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6 || n <= -1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
}
