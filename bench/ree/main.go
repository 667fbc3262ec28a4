// Command ree is reehub's REE API benchmark (make bench). In one run it
// measures, each against a baseline taken in the same run:
//
//  1. recording time / plain `podman build --no-cache` of the same project,
//  2. replay time / recording time of the same REE,
//  3. the server's RSS during a streamed 2 GiB upload, above its idle RSS,
//  4. GET /api/process/status under concurrent keep-alive clients against a
//     bare Gin handler that returns the same JSON bytes,
//
// and prints a summary with one line per metric. It starts its own reehub
// servers on loopback ports, and removes every image it built. No timing is a
// pass/fail threshold: the goals are reported as met or not met.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/bench/internal/benchserver"
)

// config holds the bench's flags.
type config struct {
	Bin         string
	WorkDir     string
	Runs        int
	Replays     int
	Clients     int
	LoadFor     time.Duration
	UploadBytes int64
	SkipBuilds  bool
	SkipUpload  bool
	KeepLogs    string
}

func main() {
	var c config
	flag.StringVar(&c.Bin, "reehub", "bin/reehub", "reehub binary")
	flag.StringVar(&c.WorkDir, "work", "", "work directory (required; the bench writes data directories and zips there)")
	flag.IntVar(&c.Runs, "runs", 3, "recordings and plain builds each, alternating order")
	flag.IntVar(&c.Replays, "replays", 3, "replays of one recording")
	flag.IntVar(&c.Clients, "clients", 64, "concurrent clients of the status load test")
	flag.DurationVar(&c.LoadFor, "load-for", 12*time.Second, "duration of each status load run, split into alternating rounds")
	flag.Int64Var(&c.UploadBytes, "upload-bytes", 2<<30, "size of the big stored zip entry of the RSS test")
	flag.BoolVar(&c.SkipBuilds, "skip-builds", false, "skip the build and replay ratios (quick check of the rest)")
	flag.BoolVar(&c.SkipUpload, "skip-upload", false, "skip the upload RSS test")
	flag.StringVar(&c.KeepLogs, "keep-logs", "", "directory to copy the servers' logs into at the end")
	flag.Parse()
	if c.WorkDir == "" {
		fmt.Fprintln(os.Stderr, "ree: -work is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{cfg: c, out: os.Stdout}
	err := b.run(ctx)
	b.cleanup()
	b.summary()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ree: %v\n", err)
		os.Exit(1)
	}
}

// bench holds the measurements and what has to be cleaned up.
type bench struct {
	cfg     config
	out     io.Writer
	images  []string // podman image names to remove at the end
	servers []*reehub

	plain, record, recordRun, recordBuild, replay, replayRun, replayBuild []time.Duration
	recLoad, bareLoad, tokenLoad, pingLoad                                loadResult
	rss                                                                   rssResult
}

// addImage notes an image to remove at the end, also in images.txt for run.sh's backstop.
func (b *bench) addImage(name string) {
	b.images = append(b.images, name)
	f, err := os.OpenFile(filepath.Join(b.cfg.WorkDir, "images.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ree: note image %s: %v\n", name, err)
		return
	}
	defer f.Close()
	fmt.Fprintln(f, name)
}

// summaryLine is one metric of the final summary.
type summaryLine struct {
	Name, Value, Goal, Verdict string
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *bench) run(ctx context.Context) error {
	if err := b.apiBench(ctx); err != nil {
		return err
	}
	if !b.cfg.SkipUpload {
		if err := b.uploadBench(ctx); err != nil {
			return err
		}
	}
	return nil
}

// apiBench runs the build, replay and status-load measurements on one server.
func (b *bench) apiBench(ctx context.Context) error {
	srv, err := startServer(ctx, serverOpts{Bin: b.cfg.Bin, DataDir: filepath.Join(b.cfg.WorkDir, "data-api")})
	if err != nil {
		return err
	}
	b.servers = append(b.servers, srv)
	defer srv.Stop()
	b.logf("reehub started at %s (pid %d)", srv.Base, srv.PID())
	ctxDir, zipPath, err := writeProject(b.cfg.WorkDir)
	if err != nil {
		return err
	}
	var last processTiming
	if b.cfg.SkipBuilds {
		// The status load test still needs a process: start one and cancel it.
		body, ct, err := benchserver.MultipartFile(zipPath, "bench-status")
		if err != nil {
			return err
		}
		id, err := srv.SubmitRecording(ctx, ct, body)
		if err != nil {
			return err
		}
		b.addImage("localhost/reehub/" + id.String())
		if err := srv.cancel(ctx, id); err != nil {
			return err
		}
		last.UUID = id
	} else {
		last, err = b.builds(ctx, srv, ctxDir, zipPath)
		if err != nil {
			return err
		}
		if err := b.replays(ctx, srv, last.UUID); err != nil {
			return err
		}
	}
	return b.statusLoad(ctx, srv, last.UUID)
}

// builds alternates plain builds and recordings, cfg.Runs of each.
func (b *bench) builds(ctx context.Context, srv *reehub, ctxDir, zipPath string) (processTiming, error) {
	var last processTiming
	for i := range b.cfg.Runs {
		plainFirst := i%2 == 0
		for _, plain := range []bool{plainFirst, !plainFirst} {
			if plain {
				tag := fmt.Sprintf("localhost/reehub-bench/plain-%d-%d", os.Getpid(), i)
				b.addImage(tag)
				d, err := plainBuild(ctx, ctxDir, tag)
				if err != nil {
					return last, err
				}
				b.plain = append(b.plain, d)
				b.logf("run %d: plain podman build %.2fs", i+1, d.Seconds())
				continue
			}
			t, err := srv.runProcess(ctx, srv.SubmitRecording, zipPath, fmt.Sprintf("bench-record-%d", i), 15*time.Minute)
			if t.UUID != uuid.Nil {
				b.addImage("localhost/reehub/" + t.UUID.String())
			}
			if err != nil {
				return last, err
			}
			b.record = append(b.record, t.Total)
			b.recordRun = append(b.recordRun, t.Run)
			b.recordBuild = append(b.recordBuild, t.Build)
			b.logf("run %d: recording %.2fs (server run %.2fs, podman build part %.2fs)", i+1, t.Total.Seconds(), t.Run.Seconds(), t.Build.Seconds())
			b.marks(t)
			last = t
		}
	}
	return last, nil
}

// replays downloads the defined REE of the recording id and replays it cfg.Replays times.
func (b *bench) replays(ctx context.Context, srv *reehub, id uuid.UUID) error {
	ree := filepath.Join(b.cfg.WorkDir, "defined-ree.zip")
	if err := srv.Download(ctx, id, ree); err != nil {
		return err
	}
	if fi, err := os.Stat(ree); err == nil {
		b.logf("defined REE of %s: %.1f MiB", id, float64(fi.Size())/(1<<20))
	}
	for i := range b.cfg.Replays {
		t, err := srv.runProcess(ctx, srv.SubmitReplay, ree, fmt.Sprintf("bench-replay-%d", i), 15*time.Minute)
		if t.UUID != uuid.Nil {
			b.addImage("localhost/reehub/" + t.UUID.String())
		}
		if err != nil {
			return err
		}
		b.replay = append(b.replay, t.Total)
		b.replayRun = append(b.replayRun, t.Run)
		b.replayBuild = append(b.replayBuild, t.Build)
		b.logf("replay %d: %.2fs (server run %.2fs, podman build part %.2fs)", i+1, t.Total.Seconds(), t.Run.Seconds(), t.Build.Seconds())
		b.marks(t)
	}
	return nil
}

// marks prints the timeline of reehub's own log lines of a process.
func (b *bench) marks(t processTiming) {
	for _, m := range t.Marks {
		line := m.Line
		if len(line) > 110 {
			line = line[:110] + "..."
		}
		fmt.Fprintf(b.out, "           +%6.2fs  %s\n", m.At.Seconds(), line)
	}
}

// statusLoad measures GET /api/process/status/{id} on reehub and the same bytes on a bare Gin handler.
func (b *bench) statusLoad(ctx context.Context, srv *reehub, id uuid.UUID) error {
	path := "/api/process/status/" + id.String()
	basic := http.Header{"Authorization": {srv.Auth}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.Base+path, nil)
	if err != nil {
		return err
	}
	req.Header = basic
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	want, err := readAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status: HTTP %d: %s", res.StatusCode, want)
	}
	bare, err := startBare(path, res.Header.Get("Content-Type"), want)
	if err != nil {
		return err
	}
	defer bare.close()
	token, err := srv.CreateToken(ctx)
	if err != nil {
		return err
	}
	bearer := http.Header{"Authorization": {"Bearer " + token}}
	pingRes, err := http.Get(srv.Base + "/api/ping")
	if err != nil {
		return err
	}
	pingBody, err := readAll(pingRes.Body)
	if err != nil {
		return err
	}
	warm := min(time.Second, b.cfg.LoadFor)
	runs := []struct {
		name   string
		url    string
		header http.Header
		dst    *loadResult
	}{
		{"bare gin", bare.url, basic, &b.bareLoad},
		{"reehub (Basic, cached)", srv.Base + path, basic, &b.recLoad},
		{"reehub (Bearer personal token)", srv.Base + path, bearer, &b.tokenLoad},
		{"reehub GET /api/ping (no auth, no database)", srv.Base + "/api/ping", http.Header{}, &b.pingLoad},
	}
	// The runs alternate in loadRounds rounds, each in another order, so that a
	// change of the machine's load (other work on a shared VM) does not fall on
	// one side of a ratio only.
	per := b.cfg.LoadFor / loadRounds
	rounds := make([][]loadResult, len(runs))
	for round := range loadRounds {
		for k := range runs {
			i := (k + round) % len(runs)
			r := runs[i]
			body := want
			if r.dst == &b.pingLoad {
				body = pingBody
			}
			if _, err := load(ctx, r.url, r.header, body, b.cfg.Clients, warm); err != nil {
				return fmt.Errorf("%s warm-up: %w", r.name, err)
			}
			l, err := load(ctx, r.url, r.header, body, b.cfg.Clients, per)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			rounds[i] = append(rounds[i], l)
			b.logf("status load round %d, %s: %d requests in %.1fs = %.0f req/s, p50 %s, p99 %s", round+1, r.name, l.Requests, l.Elapsed.Seconds(), l.RPS(), l.P50, l.P99)
		}
	}
	for i, r := range runs {
		*r.dst = combine(rounds[i])
		b.logf("status load %s: %.0f req/s over %d rounds, p50 %s, p99 %s (medians of the rounds)", r.name, r.dst.RPS(), loadRounds, r.dst.P50, r.dst.P99)
	}
	return nil
}

// uploadBench measures the RSS of a fresh server during a big streamed upload.
func (b *bench) uploadBench(ctx context.Context) error {
	limit := fmt.Sprint(b.cfg.UploadBytes + 2<<30)
	srv, err := startServer(ctx, serverOpts{
		Bin: b.cfg.Bin, DataDir: filepath.Join(b.cfg.WorkDir, "data-upload"),
		Env: []string{"REEHUB_MAX_UPLOAD_BYTES=" + limit, "REEHUB_ARCHIVE_MAX_BYTES=" + limit},
	})
	if err != nil {
		return err
	}
	b.servers = append(b.servers, srv)
	defer srv.Stop()
	b.logf("reehub (upload test) started at %s (pid %d)", srv.Base, srv.PID())
	// Warm up the paths the upload uses (auth, router, validator) so that idle is steady state.
	for range 20 {
		if _, err := srv.API.ReeImageListWithResponse(ctx); err != nil {
			return err
		}
	}
	r, err := srv.bigUpload(ctx, b.cfg.UploadBytes, 2*time.Second)
	b.rss = r
	if err != nil {
		return err
	}
	b.logf("upload of %.2f GiB in %.1fs: idle RSS %.1f MiB, peak RSS %.1f MiB (%d samples), VmHWM %.1f -> %.1f MiB",
		float64(r.Bytes)/(1<<30), r.Upload.Seconds(), mb(r.IdleKB), mb(r.PeakKB), r.Samples, mb(r.HWMBeforeKB), mb(r.HWMAfterKB))
	return nil
}

// cleanup stops servers and removes the images the bench built (by name, so
// images of others that share an ID only lose the bench's tag).
func (b *bench) cleanup() {
	for _, s := range b.servers {
		s.Stop()
		if b.cfg.KeepLogs != "" {
			if log, err := os.ReadFile(s.LogPath); err == nil && os.MkdirAll(b.cfg.KeepLogs, 0o750) == nil {
				_ = os.WriteFile(filepath.Join(b.cfg.KeepLogs, filepath.Base(s.LogPath)), log, 0o640)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, img := range b.images {
		if err := exec.CommandContext(ctx, "podman", "image", "exists", img).Run(); err != nil {
			continue // already gone (plain builds remove their own image)
		}
		if out, err := exec.CommandContext(ctx, "podman", "rmi", img).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "ree: podman rmi %s: %v: %s\n", img, err, strings.TrimSpace(string(out)))
		}
	}
}

// summary prints one line per metric.
func (b *bench) summary() {
	var lines []summaryLine
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT MET"
	}
	if len(b.plain) > 0 && len(b.record) > 0 {
		r := ratio(median(b.record), median(b.plain))
		lines = append(lines, summaryLine{"recording / plain podman build (POST to processed)",
			fmt.Sprintf("%.2f (%.2fs / %.2fs)", r, median(b.record).Seconds(), median(b.plain).Seconds()), "<= 1.10", verdict(r <= 1.10)})
		if bm := median(b.recordBuild); bm > 0 {
			r := ratio(bm, median(b.plain))
			lines = append(lines, summaryLine{"recording build part / plain podman build",
				fmt.Sprintf("%.2f (%.2fs / %.2fs)", r, bm.Seconds(), median(b.plain).Seconds()), "<= 1.10", verdict(r <= 1.10)})
		}
	}
	if len(b.replay) > 0 && len(b.record) > 0 {
		r := ratio(median(b.replay), median(b.record))
		lines = append(lines, summaryLine{"replay / recording (POST to processed)",
			fmt.Sprintf("%.2f (%.2fs / %.2fs)", r, median(b.replay).Seconds(), median(b.record).Seconds()), "< 1.0", verdict(r < 1.0)})
		// Only the first replay of an image ID exports the OCI archive; later
		// ones reuse it, so the first is reported on its own.
		r1 := ratio(b.replay[0], median(b.record))
		lines = append(lines, summaryLine{"first replay (exports the image) / recording",
			fmt.Sprintf("%.2f (%.2fs / %.2fs)", r1, b.replay[0].Seconds(), median(b.record).Seconds()), "none (reported)", "-"})
		if rb, bb := median(b.replayBuild), median(b.recordBuild); rb > 0 && bb > 0 {
			r := ratio(rb, bb)
			lines = append(lines, summaryLine{"replay build part / recording build part",
				fmt.Sprintf("%.2f (%.2fs / %.2fs)", r, rb.Seconds(), bb.Seconds()), "< 1.0", verdict(r < 1.0)})
		}
	}
	if b.rss.PeakKB > 0 {
		d := mb(b.rss.PeakKB - b.rss.IdleKB)
		lines = append(lines, summaryLine{fmt.Sprintf("RSS during a %.2f GiB upload, above idle", float64(b.rss.Bytes)/(1<<30)),
			fmt.Sprintf("%.1f MiB (idle %.1f MiB, peak %.1f MiB)", d, mb(b.rss.IdleKB), mb(b.rss.PeakKB)), "< 64 MiB", verdict(d < 64)})
	}
	if b.recLoad.Requests > 0 && b.bareLoad.Requests > 0 {
		r := b.recLoad.RPS() / b.bareLoad.RPS()
		lines = append(lines, summaryLine{fmt.Sprintf("status req/s, %d clients, reehub / bare gin", b.cfg.Clients),
			fmt.Sprintf("%.3f (%.0f / %.0f)", r, b.recLoad.RPS(), b.bareLoad.RPS()), ">= 0.8", verdict(r >= 0.8)})
		lines = append(lines, summaryLine{"status p99, reehub / bare gin",
			fmt.Sprintf("%.2f (%s / %s)", ratio(b.recLoad.P99, b.bareLoad.P99), b.recLoad.P99.Round(10*time.Microsecond), b.bareLoad.P99.Round(10*time.Microsecond)), "none (reported)", "-"})
	}
	if b.tokenLoad.Requests > 0 && b.bareLoad.Requests > 0 {
		lines = append(lines, summaryLine{"status req/s with a Bearer token, reehub / bare gin",
			fmt.Sprintf("%.3f (%.0f / %.0f), p99 %s", b.tokenLoad.RPS()/b.bareLoad.RPS(), b.tokenLoad.RPS(), b.bareLoad.RPS(), b.tokenLoad.P99.Round(10*time.Microsecond)), "none (reported)", "-"})
	}
	if b.pingLoad.Requests > 0 && b.bareLoad.Requests > 0 {
		lines = append(lines, summaryLine{"GET /api/ping req/s (no auth, no DB), reehub / bare gin",
			fmt.Sprintf("%.3f (%.0f / %.0f), p99 %s", b.pingLoad.RPS()/b.bareLoad.RPS(), b.pingLoad.RPS(), b.bareLoad.RPS(), b.pingLoad.P99.Round(10*time.Microsecond)), "none (reported)", "-"})
	}
	fmt.Fprintln(b.out, "\n==== reehub bench summary ====")
	for _, l := range lines {
		fmt.Fprintf(b.out, "%-58s %-44s goal %-16s %s\n", l.Name, l.Value, l.Goal, l.Verdict)
	}
	if len(lines) == 0 {
		fmt.Fprintln(b.out, "(no metric completed)")
	}
}

// loadRounds is how many alternating rounds the status load test runs.
const loadRounds = 3

// combine sums the requests and time of several load runs; p50 and p99 are
// the medians of the runs' values.
func combine(ls []loadResult) loadResult {
	var out loadResult
	var p50, p99 []time.Duration
	for _, l := range ls {
		out.Requests += l.Requests
		out.Errors += l.Errors
		out.Elapsed += l.Elapsed
		p50 = append(p50, l.P50)
		p99 = append(p99, l.P99)
	}
	out.P50, out.P99 = median(p50), median(p99)
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

func mb(kb int64) float64 { return float64(kb) / 1024 }
