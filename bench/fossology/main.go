// Command fossology-bench measures the FOSSology family on one archive (a
// Debian orig tarball): the scan through the API (upload to Completed,
// every agent) against the analysis engine alone on the same archive
// (unpack, then every agent on the unpacked tree), the engine's files per
// second against Debian's licensecheck on the same tree, and the server's
// RSS during the upload and the scan.
//
// The two sides run in rounds of alternating order (engine then API, API
// then engine, ...), and nothing is deleted until the end: creating files
// on ext4 right after many were deleted is slower (the allocator skips
// recently deleted inodes), and the disk's state drifts during a run, so a
// fixed order would favour one side. The figures of record are the ratios
// of the rounds' sums.
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
	rounds := flag.Int("rounds", 2, "rounds of engine and API runs, in alternating order")
	profile := flag.String("profile", "", "write a CPU profile of the server from the upload to Completed of the first API run to this file (from --admin-addr's /debug/pprof)")
	flag.Parse()
	if *archive == "" || *work == "" || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: fossology-bench -archive FILE -work DIR [-reehub bin/reehub] [-rounds N]")
		os.Exit(2)
	}
	if err := run(*bin, *archive, *work, *lc, *rounds, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "fossology-bench:", err)
		os.Exit(1)
	}
}

// engineRun is one run of the analysis engine alone.
type engineRun struct {
	unpack, scan, scanCPU time.Duration
	files, findings       int
	root                  string // the unpacked tree
}

// apiRun is one run through a fresh reehub serve.
type apiRun struct {
	uploadUnpack, scan, total, scanCPU time.Duration
	uploadRSS, scanRSS                 float64
}

func run(bin, src, work string, withLicensecheck bool, rounds int, profile string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	fmt.Printf("archive: %s, %.1f MB; %d rounds, alternating order\n", filepath.Base(src), float64(fi.Size())/1e6, rounds)
	runner, err := agent.New(nil)
	if err != nil {
		return err
	}
	warm := time.Now()
	runner.Text([]byte("Permission is hereby granted, free of charge"), "warm-up", "", map[agent.Agent]bool{agent.Nomos: true})
	fmt.Printf("engine setup (rules compiled once per process, not counted): %.2fs\n", time.Since(warm).Seconds())

	var engines []engineRun
	var apis []apiRun
	for r := range rounds {
		engineFirst := r%2 == 0
		for side := range 2 {
			if (side == 0) == engineFirst {
				e, err := engineOnce(runner, src, filepath.Join(work, fmt.Sprintf("tree-%d", r)))
				if err != nil {
					return err
				}
				fmt.Printf("round %d engine: %d files, unpack %.2fs, scan (all agents) %.2fs = %.0f files/s (CPU %.2fs), %d findings\n",
					r+1, e.files, e.unpack.Seconds(), e.scan.Seconds(), float64(e.files)/e.scan.Seconds(), e.scanCPU.Seconds(), e.findings)
				engines = append(engines, e)
				continue
			}
			prof := ""
			if r == 0 {
				prof = profile
			}
			a, err := apiOnce(bin, src, filepath.Join(work, fmt.Sprintf("data-%d", r)), prof)
			if err != nil {
				return err
			}
			fmt.Printf("round %d API: upload+unpack %.2fs, scan job %.2fs (CPU %.2fs), upload to Completed %.2fs\n",
				r+1, a.uploadUnpack.Seconds(), a.scan.Seconds(), a.scanCPU.Seconds(), a.total.Seconds())
			apis = append(apis, a)
		}
	}

	var eUnpack, eScan, eCPU, aTotal, aScan, aCPU time.Duration
	var upRSS, scanRSS float64
	for i := range rounds {
		eUnpack += engines[i].unpack
		eScan += engines[i].scan
		eCPU += engines[i].scanCPU
		aTotal += apis[i].total
		aScan += apis[i].scan
		aCPU += apis[i].scanCPU
		upRSS, scanRSS = max(upRSS, apis[i].uploadRSS), max(scanRSS, apis[i].scanRSS)
	}
	fmt.Printf("ratio upload to Completed / engine unpack+scan: %.2f (goal <= 1.2; %.2fs / %.2fs over %d rounds)\n",
		aTotal.Seconds()/(eUnpack+eScan).Seconds(), aTotal.Seconds(), (eUnpack + eScan).Seconds(), rounds)
	fmt.Printf("ratio scan job / engine scan: %.2f wall, %.2f CPU (server's CPU during the job / the engine's)\n",
		aScan.Seconds()/eScan.Seconds(), aCPU.Seconds()/eCPU.Seconds())
	fmt.Printf("engine: %.0f files/s\n", float64(engines[0].files*rounds)/eScan.Seconds())
	fmt.Printf("server RSS peak: %.0f MB during the upload, %.0f MB during unpack and scan\n", upRSS/1e6, scanRSS/1e6)
	if profile != "" {
		fmt.Printf("CPU profile of the server from the upload to Completed (round 1): %s (go tool pprof -top %s)\n", profile, profile)
	}
	if withLicensecheck {
		return licensecheck(engines[0].root, engines[0].files, eScan/time.Duration(rounds))
	}
	return nil
}

// engineOnce unpacks src into dest and runs every agent on the tree.
func engineOnce(runner *agent.Runner, src, dest string) (engineRun, error) {
	ctx := context.Background()
	t0 := time.Now()
	tree, err := unpack.Unpack(ctx, unpack.Source{Path: src, Name: filepath.Base(src)}, dest, unpack.Limits{Limits: archive.Limits{MaxEntries: 500000}})
	if err != nil {
		return engineRun{}, fmt.Errorf("unpack: %w", err)
	}
	e := engineRun{unpack: time.Since(t0), files: len(tree.Files()), root: tree.Root}
	t1, c1 := time.Now(), selfCPU()
	if err := runner.Run(ctx, tree, agent.Agents(), func(_ string, _ int, fs []agent.Finding) error { e.findings += len(fs); return nil }); err != nil {
		return engineRun{}, fmt.Errorf("scan: %w", err)
	}
	e.scan, e.scanCPU = time.Since(t1), selfCPU()-c1
	return e, nil
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

// apiOnce scans src through a fresh reehub serve on dataDir: upload,
// unpack, scan job.
func apiOnce(bin, src, dataDir, profile string) (apiRun, error) {
	srv, err := startServer(bin, dataDir, profile != "")
	if err != nil {
		return apiRun{}, err
	}
	defer srv.stop()
	tok, err := srv.token()
	if err != nil {
		return apiRun{}, err
	}
	srv.settle()
	var a apiRun
	rss := &sampler{pid: srv.cmd.Process.Pid}
	rss.start()
	var prof chan error
	if profile != "" {
		// Long enough for the upload, unpack and scan (the server waits
		// out the duration; the idle tail adds no samples).
		prof = srv.cpuProfile(profile, 90*time.Second)
	}
	t3 := time.Now()
	id, err := srv.upload(tok, src)
	if err != nil {
		return apiRun{}, err
	}
	a.uploadRSS = rss.peak()
	if err := srv.waitUpload(tok, id); err != nil {
		return apiRun{}, err
	}
	unpacked := time.Now()
	t4, s4 := time.Now(), procCPU(srv.cmd.Process.Pid)
	job, err := srv.schedule(tok, id)
	if err != nil {
		return apiRun{}, err
	}
	if err := srv.waitJob(tok, job); err != nil {
		return apiRun{}, err
	}
	done, scanCPU := time.Now(), procCPU(srv.cmd.Process.Pid)-s4
	a.scanRSS = rss.stop()
	a.uploadUnpack, a.scan, a.total, a.scanCPU = unpacked.Sub(t3), done.Sub(t4), done.Sub(t3), scanCPU
	if prof != nil {
		if err := <-prof; err != nil {
			return apiRun{}, err
		}
	}
	return a, nil
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

// settle waits until the server has finished starting: it compiles its
// license rules in the background at start (about a second of one core),
// as the engine run does before its timing, and a server that users reach
// has long done so. Settled is two 250 ms spans with less than 10% of a
// core used; it gives up after 30 s.
func (s *server) settle() {
	const span = 250 * time.Millisecond
	quiet := 0
	for deadline := time.Now().Add(30 * time.Second); quiet < 2 && time.Now().Before(deadline); {
		before := procCPU(s.cmd.Process.Pid)
		time.Sleep(span)
		if procCPU(s.cmd.Process.Pid)-before < span/10 {
			quiet++
		} else {
			quiet = 0
		}
	}
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
