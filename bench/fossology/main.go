// Command fossology-bench measures the FOSSology family on one archive (a
// Debian orig tarball): the scan through the API (upload to Completed,
// every agent) against the analysis engine alone on the unpacked tree, the
// engine's files per second against Debian's licensecheck on the same tree,
// and the server's RSS during the upload and the scan.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/service/fossology/agent"
)

func main() {
	bin := flag.String("reehub", "bin/reehub", "the reehub binary")
	archive := flag.String("archive", "", "the archive to scan (a Debian orig tarball of at least 50 MB)")
	work := flag.String("work", "", "a scratch directory")
	lc := flag.Bool("licensecheck", true, "also time Debian's licensecheck on the tree (minutes)")
	profile := flag.String("profile", "", "write a CPU profile of the server during the scan job to this file (from --admin-addr's /debug/pprof)")
	flag.Parse()
	if *archive == "" || *work == "" {
		fmt.Fprintln(os.Stderr, "usage: fossology-bench -archive FILE -work DIR [-reehub bin/reehub]")
		os.Exit(2)
	}
	if err := run(*bin, *archive, *work, *lc, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "fossology-bench:", err)
		os.Exit(1)
	}
}

func run(bin, src, work string, withLicensecheck bool, profile string) error {
	ctx := context.Background()
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	fmt.Printf("archive: %s, %.1f MB\n", filepath.Base(src), float64(fi.Size())/1e6)

	// The engine alone: unpack, then every agent on the unpacked tree.
	runner, err := agent.New(nil)
	if err != nil {
		return err
	}
	warm := time.Now()
	runner.Text([]byte("Permission is hereby granted, free of charge"), "warm-up", "", map[agent.Agent]bool{agent.Nomos: true})
	fmt.Printf("engine setup (rules compiled once per process, not counted): %.2fs\n", time.Since(warm).Seconds())
	t0 := time.Now()
	tree, err := unpack.Unpack(ctx, src, filepath.Base(src), filepath.Join(work, "tree"), unpack.Limits{Limits: archive.Limits{MaxEntries: 500000}})
	if err != nil {
		return fmt.Errorf("unpack: %w", err)
	}
	unpackTime := time.Since(t0)
	files := len(tree.Files())
	t1, c1 := time.Now(), selfCPU()
	findings := 0
	if err := runner.Run(ctx, tree, agent.Agents(), func(_ string, _ int, fs []agent.Finding) error { findings += len(fs); return nil }); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	engineScan, engineCPU := time.Since(t1), selfCPU()-c1
	fmt.Printf("engine alone: %d files, unpack %.2fs, scan (all agents) %.2fs = %.0f files/s (CPU %.2fs), %d findings\n",
		files, unpackTime.Seconds(), engineScan.Seconds(), float64(files)/engineScan.Seconds(), engineCPU.Seconds(), findings)

	// licensecheck on the same tree.
	if withLicensecheck {
		if err := licensecheck(tree.Root, files, engineScan); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(tree.Root); err != nil {
		return err
	}
	return viaAPI(bin, src, work, profile, unpackTime, engineScan, engineCPU)
}

// licensecheck times Debian's licensecheck on the unpacked tree.
func licensecheck(root string, files int, engineScan time.Duration) error {
	t2 := time.Now()
	lc := exec.Command("licensecheck", "--recursive", "--machine", "--lines", "0", root)
	lc.Stdout = io.Discard
	if err := lc.Run(); err != nil {
		return fmt.Errorf("licensecheck: %w", err)
	}
	lcTime := time.Since(t2)
	fmt.Printf("licensecheck: %.2fs = %.0f files/s; engine is %.1fx faster\n", lcTime.Seconds(), float64(files)/lcTime.Seconds(), lcTime.Seconds()/engineScan.Seconds())
	return nil
}

// viaAPI scans src through a fresh reehub serve: upload, unpack, scan job.
func viaAPI(bin, src, work, profile string, unpackTime, engineScan, engineCPU time.Duration) error {
	srv, err := startServer(bin, filepath.Join(work, "data"), profile != "")
	if err != nil {
		return err
	}
	defer srv.stop()
	tok, err := srv.token()
	if err != nil {
		return err
	}
	rss := &sampler{pid: srv.cmd.Process.Pid}
	rss.start()
	t3 := time.Now()
	id, err := srv.upload(tok, src)
	if err != nil {
		return err
	}
	uploadRSS := rss.peak()
	if err := srv.waitUpload(tok, id); err != nil {
		return err
	}
	unpacked := time.Now()
	var prof chan error
	if profile != "" {
		// Long enough for the job (twice the engine's scan); the idle tail adds no samples.
		prof = srv.cpuProfile(profile, 2*engineScan+5*time.Second)
	}
	t4, s4 := time.Now(), procCPU(srv.cmd.Process.Pid)
	job, err := srv.schedule(tok, id)
	if err != nil {
		return err
	}
	if err := srv.waitJob(tok, job); err != nil {
		return err
	}
	done, scanCPU := time.Now(), procCPU(srv.cmd.Process.Pid)-s4
	scanRSS := rss.stop()
	total, scan := done.Sub(t3), done.Sub(t4)
	fmt.Printf("API: upload+unpack %.2fs, scan job %.2fs, upload to Completed %.2fs\n", unpacked.Sub(t3).Seconds(), scan.Seconds(), total.Seconds())
	fmt.Printf("ratio scan job / engine scan: %.2f (goal <= 1.2)\n", scan.Seconds()/engineScan.Seconds())
	fmt.Printf("CPU of the scan job (server) / CPU of the engine scan: %.2fs / %.2fs = %.2f\n", scanCPU.Seconds(), engineCPU.Seconds(), scanCPU.Seconds()/engineCPU.Seconds())
	fmt.Printf("ratio upload to Completed / engine unpack+scan: %.2f\n", total.Seconds()/(unpackTime+engineScan).Seconds())
	fmt.Printf("server RSS peak: %.0f MB during the upload, %.0f MB during unpack and scan\n", uploadRSS/1e6, scanRSS/1e6)
	if prof != nil {
		if err := <-prof; err != nil {
			return err
		}
		fmt.Printf("CPU profile of the server during the scan job: %s (go tool pprof -top %s)\n", profile, profile)
	}
	return nil
}

type server struct {
	cmd   *exec.Cmd
	url   string
	admin string // the admin listener's URL, when started with one
	pw    string
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startServer(bin, dataDir string, admin bool) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + addr, pw: "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	args := []string{"serve", "--addr", addr, "--data-dir", dataDir}
	if admin {
		a, err := freeAddr()
		if err != nil {
			return nil, err
		}
		s.admin = "http://" + a
		args = append(args, "--admin-addr", a)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(os.Environ(), "REEHUB_ADMIN_PASSWORD="+s.pw, "REEHUB_BUILD_BASE_IMAGES=false", "REEHUB_LOG_LEVEL=warn")
	s.cmd.Stderr = os.Stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r, err := http.Get(s.url + "/api/ping"); err == nil {
			r.Body.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("reehub did not start")
}

// cpuProfile fetches a CPU profile of length d from the admin listener
// into file; the channel gets the outcome.
func (s *server) cpuProfile(file string, d time.Duration) chan error {
	out := make(chan error, 1)
	go func() {
		out <- func() error {
			r, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.admin, int(d.Seconds())+1))
			if err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
			defer r.Body.Close()
			if r.StatusCode != 200 {
				return fmt.Errorf("cpu profile: %s", r.Status)
			}
			f, err := os.Create(file)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, r.Body); err != nil {
				f.Close()
				return fmt.Errorf("cpu profile: %w", err)
			}
			return f.Close()
		}()
	}()
	return out
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

func (s *server) do(method, path string, h map[string]string, body io.Reader, v any) (int, error) {
	req, err := http.NewRequest(method, s.url+"/repo/api/v1"+path, body)
	if err != nil {
		return 0, err
	}
	for k, x := range h {
		req.Header.Set(k, x)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, err
	}
	if v != nil && r.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			return r.StatusCode, fmt.Errorf("%s %s: %w: %s", method, path, err, b)
		}
	}
	if r.StatusCode >= 400 && r.StatusCode != 503 {
		return r.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, r.StatusCode, b)
	}
	return r.StatusCode, nil
}

func (s *server) token() (string, error) {
	form := url.Values{"username": {"admin"}, "password": {s.pw}, "token_name": {"bench"}, "token_scope": {"write"},
		"token_expire": {time.Now().AddDate(0, 0, 2).Format("2006-01-02")}}
	var t struct{ Authorization string }
	_, err := s.do("POST", "/tokens", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader(form.Encode()), &t)
	return t.Authorization, err
}

// upload streams the archive as fileInput.
func (s *server) upload(tok, archive string) (int, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			w, err := mw.CreateFormFile("fileInput", filepath.Base(archive))
			if err != nil {
				return err
			}
			f, err := os.Open(archive)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(w, f); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	var c struct{ Message int }
	_, err := s.do("POST", "/uploads", map[string]string{"Authorization": tok, "folderId": "1", "uploadType": "file", "Content-Type": mw.FormDataContentType()}, pr, &c)
	return c.Message, err
}

func (s *server) waitUpload(tok string, id int) error {
	for deadline := time.Now().Add(30 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		st, err := s.do("GET", fmt.Sprintf("/uploads/%d", id), map[string]string{"Authorization": tok}, nil, nil)
		if err != nil {
			return err
		}
		if st == 200 {
			return nil
		}
	}
	return fmt.Errorf("upload %d not unpacked in time", id)
}

func (s *server) schedule(tok string, id int) (int, error) {
	body := `{"analysis":{"copyright_email_author":true,"ecc":true,"keyword":true,"mimetype":true,"monk":true,"nomos":true,"ojo":true,"package":true},"decider":{"nomos_monk":true,"ojo_decider":true}}`
	var c struct{ Message int }
	_, err := s.do("POST", "/jobs", map[string]string{"Authorization": tok, "Content-Type": "application/json", "folderId": "1", "uploadId": strconv.Itoa(id)}, strings.NewReader(body), &c)
	return c.Message, err
}

func (s *server) waitJob(tok string, id int) error {
	for deadline := time.Now().Add(60 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var j struct{ Status string }
		if _, err := s.do("GET", fmt.Sprintf("/jobs/%d", id), map[string]string{"Authorization": tok}, nil, &j); err != nil {
			return err
		}
		switch j.Status {
		case "Completed":
			return nil
		case "Failed":
			return fmt.Errorf("job %d failed", id)
		}
	}
	return fmt.Errorf("job %d not done in time", id)
}

// sampler records the peak RSS of a process (VmRSS every 50 ms).
type sampler struct {
	pid  int
	mu   sync.Mutex
	max  float64
	quit chan struct{}
	done chan struct{}
}

func (s *sampler) start() {
	s.quit, s.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v := rssOf(s.pid); v > 0 {
				s.mu.Lock()
				s.max = max(s.max, v)
				s.mu.Unlock()
			}
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
}

// peak returns the peak so far and starts a new one.
func (s *sampler) peak() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.max
	s.max = 0
	return p
}

func (s *sampler) stop() float64 {
	close(s.quit)
	<-s.done
	return s.peak()
}

func rssOf(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// selfCPU is the CPU time (user and system) this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the CPU time (utime + stime of /proc/pid/stat, in clock ticks
// of 10 ms) process pid used so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}
