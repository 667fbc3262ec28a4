// Command reana-bench measures the REANA family of a reehub binary, in one run:
//
//   - overhead per step: a one-step workflow of `true` (create to finished,
//     through the API) over `podman run --rm IMAGE true` on the same image;
//   - a 10-step workflow of `true` end to end (start to finished) over the sum
//     of its steps' own durations (as the workflow log records them);
//   - the server's RSS while a 2 GiB file is uploaded into a workspace and
//     downloaded again (both streamed).
//
// It starts its own server on SQLite in -work and stops it at the end.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("reehub", "bin/reehub", "the reehub binary")
	work := flag.String("work", "", "work directory (required)")
	runs := flag.Int("runs", 5, "runs of each timed measurement")
	image := flag.String("image", "python_3_11", "catalogue image the steps run in")
	uploadGiB := flag.Int64("upload-gib", 2, "size of the big upload in GiB (0 skips it)")
	podmanURL := flag.String("podman", "unix:///run/podman/podman.sock", "Podman service URL")
	flag.Parse()
	if *work == "" {
		fmt.Fprintln(os.Stderr, "reana-bench: -work is required")
		os.Exit(2)
	}
	if err := run(*bin, *work, *image, *podmanURL, *runs, *uploadGiB); err != nil {
		fmt.Fprintln(os.Stderr, "reana-bench:", err)
		os.Exit(1)
	}
}

type server struct {
	url, token string
	cmd        *exec.Cmd
}

func run(bin, work, image, podmanURL string, runs int, uploadGiB int64) error {
	s, err := start(bin, work)
	if err != nil {
		return err
	}
	defer s.stop()

	// Overhead per step.
	var plain, viaAPI []time.Duration
	for i := range runs {
		t0 := time.Now()
		if out, err := exec.Command("podman", "--url", podmanURL, "run", "--rm", "--network", "none", "localhost/"+image+":latest", "true").CombinedOutput(); err != nil {
			return fmt.Errorf("podman run: %v: %s", err, out)
		}
		plain = append(plain, time.Since(t0))
		d, _, err := s.workflow(fmt.Sprintf("one%d", i), image, 1)
		if err != nil {
			return err
		}
		viaAPI = append(viaAPI, d)
	}
	p, a := median(plain), median(viaAPI)
	fmt.Printf("step overhead: one-step workflow of `true` (start to finished through the API) %v / `podman run --rm %s true` %v = %.2f (median of %d)\n",
		a.Round(time.Millisecond), image, p.Round(time.Millisecond), a.Seconds()/p.Seconds(), runs)

	// Ten steps end to end over the sum of the steps.
	var ratios []float64
	var e2es, sums []time.Duration
	for i := range runs {
		d, sum, err := s.workflow(fmt.Sprintf("ten%d", i), image, 10)
		if err != nil {
			return err
		}
		e2es, sums = append(e2es, d), append(sums, sum)
		ratios = append(ratios, d.Seconds()/sum.Seconds())
	}
	sort.Float64s(ratios)
	fmt.Printf("10-step workflow of `true`: end to end %v / sum of its steps %v = %.2f (median ratio of %d runs)\n",
		median(e2es).Round(time.Millisecond), median(sums).Round(time.Millisecond), ratios[len(ratios)/2], runs)

	if uploadGiB > 0 {
		if err := s.bigFile(uploadGiB << 30); err != nil {
			return err
		}
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	c := append([]time.Duration(nil), ds...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[len(c)/2]
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func start(bin, work string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pw := "bench-password-1"
	cmd := exec.Command(bin, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", filepath.Join(work, "data"))
	cmd.Env = append(os.Environ(), "REEHUB_ADMIN_PASSWORD="+pw, "REEHUB_BUILD_BASE_IMAGES=false", "REEHUB_LOG_LEVEL=warn")
	logf, err := os.Create(filepath.Join(work, "reehub.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	_ = os.WriteFile(filepath.Join(work, "reehub.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	s := &server{url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(s.url + "/api/ping"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("reehub did not start (see %s)", logf.Name())
		}
	}
	req, _ := http.NewRequest("POST", s.url+"/api/users?email=bench%40example.org", nil)
	req.SetBasicAuth("admin", pw)
	var created struct {
		AccessToken string `json:"access_token"`
	}
	if err := do(req, 201, &created); err != nil {
		s.stop()
		return nil, err
	}
	s.token = created.AccessToken
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

func do(req *http.Request, want int, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d: %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (s *server) call(method, path string, q url.Values, body any, want int, out any) error {
	if q == nil {
		q = url.Values{}
	}
	q.Set("access_token", s.token)
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path+"?"+q.Encode(), rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(req, want, out)
}

var stepTime = regexp.MustCompile(`finished with exit code 0 after ([0-9.]+)s`)

// workflow runs a workflow of n steps of `true` and returns the time from
// start to finished (polled every 10 ms) and the sum of its steps' durations.
func (s *server) workflow(name, image string, n int) (time.Duration, time.Duration, error) {
	steps := make([]map[string]any, n)
	for i := range steps {
		steps[i] = map[string]any{"name": fmt.Sprintf("s%d", i), "environment": image, "commands": []string{"true"}}
	}
	spec := map[string]any{"inputs": map[string]any{"files": []string{}}, "workflow": map[string]any{"type": "serial", "specification": map[string]any{"steps": steps}}}
	var created struct {
		WorkflowName string `json:"workflow_name"`
	}
	if err := s.call("POST", "/api/workflows", url.Values{"workflow_name": {name}}, spec, 201, &created); err != nil {
		return 0, 0, err
	}
	wf := created.WorkflowName
	t0 := time.Now()
	if err := s.call("POST", "/api/workflows/"+wf+"/start", nil, map[string]any{"input_parameters": map[string]any{}, "operational_options": map[string]any{}}, 200, nil); err != nil {
		return 0, 0, err
	}
	for {
		var st struct {
			Status string `json:"status"`
			Logs   string `json:"logs"`
		}
		if err := s.call("GET", "/api/workflows/"+wf+"/status", nil, nil, 200, &st); err != nil {
			return 0, 0, err
		}
		if st.Status == "finished" {
			break
		}
		if st.Status == "failed" || st.Status == "stopped" || time.Since(t0) > 5*time.Minute {
			return 0, 0, fmt.Errorf("workflow %s: %s %s", wf, st.Status, st.Logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	e2e := time.Since(t0)
	var logs struct {
		Logs string `json:"logs"`
	}
	if err := s.call("GET", "/api/workflows/"+wf+"/logs", nil, nil, 200, &logs); err != nil {
		return 0, 0, err
	}
	var doc struct {
		WorkflowLogs string `json:"workflow_logs"`
	}
	if err := json.Unmarshal([]byte(logs.Logs), &doc); err != nil {
		return 0, 0, err
	}
	var sum time.Duration
	for _, m := range stepTime.FindAllStringSubmatch(doc.WorkflowLogs, -1) {
		f, _ := strconv.ParseFloat(m[1], 64)
		sum += time.Duration(f * float64(time.Second))
	}
	return e2e, sum, nil
}

// rss reads VmRSS (kB) of pid.
func rss(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// sampler records the peak RSS of pid until stopped.
func sampler(pid int) (stop func() int64) {
	ctx, cancel := context.WithCancel(context.Background())
	var peak int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rss(pid); r > peak {
				peak = r
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { cancel(); wg.Wait(); return peak }
}

// zeroReader yields n bytes of a repeating pattern.
type zeroReader struct{ left int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > z.left {
		n = z.left
	}
	for i := range p[:n] {
		p[i] = byte(i)
	}
	z.left -= n
	return int(n), nil
}

func (s *server) bigFile(size int64) error {
	spec := map[string]any{"inputs": map[string]any{"files": []string{}}, "workflow": map[string]any{"type": "serial", "specification": map[string]any{
		"steps": []map[string]any{{"name": "noop", "environment": "python_3_11", "commands": []string{"true"}}}}}}
	var created struct {
		WorkflowName string `json:"workflow_name"`
	}
	if err := s.call("POST", "/api/workflows", url.Values{"workflow_name": {"big"}}, spec, 201, &created); err != nil {
		return err
	}
	pid := s.cmd.Process.Pid
	idle := rss(pid)
	stop := sampler(pid)
	t0 := time.Now()
	q := url.Values{"file_name": {"/big.bin"}, "access_token": {s.token}}
	req, _ := http.NewRequest("POST", s.url+"/api/workflows/"+created.WorkflowName+"/workspace?"+q.Encode(), &zeroReader{left: size})
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	if err := do(req, 200, nil); err != nil {
		stop()
		return err
	}
	up := time.Since(t0)
	upPeak := stop()
	stop = sampler(pid)
	t0 = time.Now()
	resp, err := http.Get(s.url + "/api/workflows/" + created.WorkflowName + "/workspace/big.bin?access_token=" + url.QueryEscape(s.token))
	if err != nil {
		stop()
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	down := time.Since(t0)
	downPeak := stop()
	if err != nil || n != size {
		return fmt.Errorf("download: %d of %d bytes: %v", n, size, err)
	}
	mib := float64(size) / (1 << 20)
	fmt.Printf("workspace file of %d MiB: server RSS idle %d MiB; peak during upload %d MiB (%.0f MiB/s), during download %d MiB (%.0f MiB/s); peak/idle %.2f and %.2f\n",
		size>>20, idle>>10, upPeak>>10, mib/up.Seconds(), downPeak>>10, mib/down.Seconds(), float64(upPeak)/float64(idle), float64(downPeak)/float64(idle))
	return nil
}
