// Command repro is reehub's reproducibility bench (make bench-repro). For
// every project of a corpus directory (a Dockerfile FROM a catalogue base
// image and an "expect" file whose first word is identical or different) it
//
//  1. records the project on reehub server A (the host's Podman service),
//  2. replays the defined REE on server A,
//  3. replays it on server B, whose Podman service started with empty
//     storage (it loads the base image from the defined REE),
//
// and prints one line per project: whether each replay gave the recorded
// image ID, the files the replay report names as differing, the replay /
// recording time ratios and the defined-REE size / image size. The closing
// line is
//
//	reproducible: N/M identical (expected K), differences explained: D/E
//
// N counts the projects identical in both replays, K those expected to be,
// E the projects not identical in some replay and D those of them whose
// report names at least one differing file. No figure is a pass/fail
// threshold; the exit status is non-zero only when a process fails.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

type config struct {
	Bin        string
	WorkDir    string
	Projects   string
	FreshSock  string
	Only       string
	ResultJSON string
	Jobs       int
}

func main() {
	var c config
	flag.StringVar(&c.Bin, "reehub", "bin/reehub", "reehub binary")
	flag.StringVar(&c.WorkDir, "work", "", "work directory (required)")
	flag.StringVar(&c.Projects, "projects", "bench/repro/projects", "corpus directory: one project per subdirectory")
	flag.StringVar(&c.FreshSock, "fresh-podman", "", "URL of the second Podman service with empty storage (required)")
	flag.StringVar(&c.Only, "only", "", "regular expression: only the projects whose name matches")
	flag.StringVar(&c.ResultJSON, "json", "", "also write the results as JSON to this file")
	flag.IntVar(&c.Jobs, "jobs", 3, "projects benched at once (each records, then replays on A and B at once)")
	flag.Parse()
	if c.WorkDir == "" || c.FreshSock == "" {
		fmt.Fprintln(os.Stderr, "repro: -work and -fresh-podman are required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintf(os.Stderr, "repro: %v\n", err)
		os.Exit(1)
	}
}

// project is one directory of the corpus.
type project struct {
	Name   string
	Dir    string
	Expect string // "identical" or "different"
	Why    string
}

// result is what the bench measured for one project.
type result struct {
	Name        string        `json:"name"`
	Expect      string        `json:"expect"`
	Why         string        `json:"why"`
	Error       string        `json:"error,omitempty"`
	Record      time.Duration `json:"record_ns"`
	Replays     []replayRes   `json:"replays"`
	REEBytes    int64         `json:"defined_ree_bytes"`
	ImageBytes  int64         `json:"image_archive_bytes"`
	RecordedID  string        `json:"recorded_image_id"`
	ProxyMisses int           `json:"proxy_misses"`
}

// replayRes is one replay of a project.
type replayRes struct {
	Where     string        `json:"where"`
	Time      time.Duration `json:"time_ns"`
	Identical bool          `json:"identical"`
	Report    report        `json:"report"`
	// imageBytes is the size of the replay's OCI archive.
	imageBytes int64
}

// report is the part of report.json the bench reads.
type report struct {
	RecordedImageID string            `json:"recorded_image_id"`
	RebuiltImageID  string            `json:"rebuilt_image_id"`
	Identical       bool              `json:"identical"`
	SameFiles       bool              `json:"same_files"`
	DifferingFiles  []string          `json:"differing_files"`
	Differences     []json.RawMessage `json:"differences"`
	ProxyMisses     int               `json:"proxy_misses"`
	Explanation     string            `json:"explanation"`
}

func (r result) identical() bool {
	if r.Error != "" || len(r.Replays) < 2 {
		return false
	}
	for _, rp := range r.Replays {
		if !rp.Identical {
			return false
		}
	}
	return true
}

// explained: some replay differs and every differing replay names its files.
func (r result) explained() bool {
	if r.Error != "" {
		return false
	}
	for _, rp := range r.Replays {
		if !rp.Identical && len(rp.Report.DifferingFiles) == 0 {
			return false
		}
	}
	return true
}

func loadProjects(dir, only string) ([]project, error) {
	var re *regexp.Regexp
	if only != "" {
		var err error
		if re, err = regexp.Compile(only); err != nil {
			return nil, fmt.Errorf("-only: %w", err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []project
	for _, e := range entries {
		if !e.IsDir() || (re != nil && !re.MatchString(e.Name())) {
			continue
		}
		p := project{Name: e.Name(), Dir: filepath.Join(dir, e.Name())}
		b, err := os.ReadFile(filepath.Join(p.Dir, "expect"))
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", p.Name, err)
		}
		word, why, _ := strings.Cut(strings.TrimSpace(string(b)), ":")
		p.Expect, p.Why = strings.TrimSpace(word), strings.TrimSpace(why)
		if p.Expect != "identical" && p.Expect != "different" {
			return nil, fmt.Errorf("project %s: expect must start with identical or different, not %q", p.Name, p.Expect)
		}
		out = append(out, p)
	}
	return out, nil
}

func run(ctx context.Context, c config) error {
	projects, err := loadProjects(c.Projects, c.Only)
	if err != nil {
		return err
	}
	if len(projects) == 0 {
		return fmt.Errorf("no project in %s", c.Projects)
	}
	// The image registry's export, SBOM scan and ingest of every produced
	// image (15-100 s a process at load 30) is not what the bench measures.
	env := []string{"REEHUB_BUILD_BASE_IMAGES=false", fmt.Sprintf("REEHUB_WORKERS=%d", 2*max(c.Jobs, 1)), "REEHUB_GC_INTERVAL=0",
		"REEHUB_REGISTER_PRODUCED=false"}
	a, err := startServer(ctx, serverOpts{Bin: c.Bin, DataDir: filepath.Join(c.WorkDir, "data-a"), Env: env})
	if err != nil {
		return err
	}
	defer a.Stop()
	b, err := startServer(ctx, serverOpts{Bin: c.Bin, DataDir: filepath.Join(c.WorkDir, "data-b"),
		Env: append(env, "REEHUB_PODMAN_SOCKET="+c.FreshSock)})
	if err != nil {
		return err
	}
	defer b.Stop()
	logf("server A %s (host Podman), server B %s (empty Podman %s); %d projects", a.Base, b.Base, c.FreshSock, len(projects))
	// Projects run c.Jobs at a time; lines are printed as projects end and the
	// summary covers them all.
	var (
		mu       sync.Mutex
		results  []result
		wg       sync.WaitGroup
		writeErr error
	)
	sem := make(chan struct{}, max(c.Jobs, 1))
	for _, p := range projects {
		sem <- struct{}{}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(p project) {
			defer wg.Done()
			defer func() { <-sem }()
			r := benchProject(ctx, c, a, b, p)
			mu.Lock()
			defer mu.Unlock()
			results = append(results, r)
			fmt.Println(line(r))
			if c.ResultJSON != "" {
				if err := writeResults(c.ResultJSON, results); err != nil {
					writeErr = err
				}
			}
		}(p)
	}
	wg.Wait()
	if writeErr != nil {
		return writeErr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Name < results[j].Name })
	summary(results)
	return nil
}

func writeResults(path string, rs []result) error {
	b, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o640)
}

func benchProject(ctx context.Context, c config, a, b *reehub, p project) result {
	r := result{Name: p.Name, Expect: p.Expect, Why: p.Why}
	dir := filepath.Join(c.WorkDir, "p", p.Name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		r.Error = err.Error()
		return r
	}
	zipPath := filepath.Join(dir, "project.zip")
	if err := zipDir(p.Dir, zipPath); err != nil {
		r.Error = err.Error()
		return r
	}
	rec, err := a.runProcess(ctx, a.SubmitRecording, zipPath, "repro-"+p.Name, 30*time.Minute)
	if err != nil {
		r.Error = "recording: " + err.Error()
		return r
	}
	r.Record = rec.Total
	ree := filepath.Join(dir, "defined-ree.zip")
	if err := a.Download(ctx, rec.UUID, ree); err != nil {
		r.Error = err.Error()
		return r
	}
	if fi, err := os.Stat(ree); err == nil {
		r.REEBytes = fi.Size()
	}
	// The two replays run at once, on their own servers and Podman services.
	replays := make([]replayRes, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, srv := range []*reehub{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replays[i], errs[i] = replayOnce(ctx, srv, ree, dir, p.Name, i)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			r.Error = err.Error()
			return r
		}
		rep := replays[i].Report
		r.RecordedID = rep.RecordedImageID
		r.ProxyMisses += rep.ProxyMisses
		r.ImageBytes = replays[i].imageBytes
	}
	r.Replays = replays
	return r
}

// replayOnce replays the defined REE ree on srv (number i: 0 is A, 1 is B).
func replayOnce(ctx context.Context, srv *reehub, ree, dir, name string, i int) (replayRes, error) {
	where := []string{"A (same Podman)", "B (empty Podman)"}[i]
	t, err := srv.runProcess(ctx, srv.SubmitReplay, ree, fmt.Sprintf("repro-%s-replay-%d", name, i), 30*time.Minute)
	if err != nil {
		return replayRes{}, fmt.Errorf("replay on %s: %w", where, err)
	}
	out := filepath.Join(dir, fmt.Sprintf("replay-%d.zip", i))
	if err := srv.Download(ctx, t.UUID, out); err != nil {
		return replayRes{}, err
	}
	var rep report
	raw, size, err := zipEntry(out, "report.json", "image.oci.tar")
	if err == nil {
		err = json.Unmarshal(raw, &rep)
	}
	if err != nil {
		return replayRes{}, fmt.Errorf("replay on %s: report: %w", where, err)
	}
	return replayRes{Where: where, Time: t.Total, Identical: rep.Identical, Report: rep, imageBytes: size}, nil
}

// zipEntry returns the content of entry name of a zip and the size of entry sizeOf.
func zipEntry(path, name, sizeOf string) ([]byte, int64, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, 0, err
	}
	defer zr.Close()
	var body []byte
	var size int64
	found := false
	for _, f := range zr.File {
		if f.Name == sizeOf {
			size = int64(f.UncompressedSize64)
		}
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, 0, err
		}
		body, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, 0, err
		}
		found = true
	}
	if !found {
		return nil, 0, fmt.Errorf("%s has no %s", path, name)
	}
	return body, size, nil
}

// zipDir zips the project directory without its expect file.
func zipDir(dir, dst string) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." || rel == "expect" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		// Fixed times: the corpus is checked out at any time, and COPY keeps mtimes.
		hdr.Modified = time.Unix(1700000000, 0).UTC()
		if d.IsDir() {
			hdr.Name += "/"
			_, err := zw.CreateHeader(hdr)
			return err
		}
		hdr.Method = zip.Deflate
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(body)
		return err
	})
	if err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o640)
}

func line(r result) string {
	if r.Error != "" {
		return fmt.Sprintf("%-26s expect %-9s FAILED: %s", r.Name, r.Expect, firstLine(r.Error))
	}
	var marks, ratios []string
	var files []string
	for _, rp := range r.Replays {
		if rp.Identical {
			marks = append(marks, "identical")
		} else {
			marks = append(marks, "DIFFERENT")
			for _, f := range rp.Report.DifferingFiles {
				if !slices.Contains(files, f) {
					files = append(files, f)
				}
			}
		}
		ratios = append(ratios, fmt.Sprintf("%.2f", rp.Time.Seconds()/r.Record.Seconds()))
	}
	verdict := "as expected"
	if r.identical() != (r.Expect == "identical") {
		verdict = "UNEXPECTED"
	}
	s := fmt.Sprintf("%-26s expect %-9s A %-9s B %-9s %-11s record %5.1fs replay/record %s ree/image %.2f",
		r.Name, r.Expect, marks[0], marks[1], verdict, r.Record.Seconds(), strings.Join(ratios, "/"), float64(r.REEBytes)/float64(max(r.ImageBytes, 1)))
	if len(files) > 0 {
		shown := files
		if len(shown) > 6 {
			shown = append(slices.Clone(shown[:6]), fmt.Sprintf("... (%d files)", len(files)))
		}
		s += " differs: " + strings.Join(shown, " ")
	}
	return s
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func summary(rs []result) {
	var n, k, kOK, d, e int
	var ratios []float64
	var sizes []float64
	for _, r := range rs {
		if r.Expect == "identical" {
			k++
			if r.identical() {
				kOK++
			}
		}
		if r.identical() {
			n++
		} else {
			e++
			if r.explained() && len(r.Replays) == 2 {
				d++
			}
		}
		if r.Error == "" && r.Record > 0 {
			for _, rp := range r.Replays {
				ratios = append(ratios, rp.Time.Seconds()/r.Record.Seconds())
			}
			if r.ImageBytes > 0 {
				sizes = append(sizes, float64(r.REEBytes)/float64(r.ImageBytes))
			}
		}
	}
	fmt.Println()
	if len(ratios) > 0 {
		sort.Float64s(ratios)
		fmt.Printf("replay / recording time: median %.2f, worst %.2f (%d replays)\n", ratios[len(ratios)/2], ratios[len(ratios)-1], len(ratios))
	}
	if len(sizes) > 0 {
		sort.Float64s(sizes)
		fmt.Printf("defined-REE size / image OCI archive size: median %.2f, worst %.2f\n", sizes[len(sizes)/2], sizes[len(sizes)-1])
	}
	if k > 0 {
		fmt.Printf("expected identical and identical in both replays: %d/%d (%.1f%%)\n", kOK, k, 100*float64(kOK)/float64(k))
	}
	fmt.Printf("reproducible: %d/%d identical (expected %d), differences explained: %d/%d\n", n, len(rs), k, d, e)
}

func logf(format string, args ...any) {
	fmt.Printf("[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
