// Package scancmd implements "reehub scan PATH [--json]": it scans a file or
// directory tree for licenses and copyright statements and prints a summary
// table, or streams every file's findings as one JSON document. A progress
// line is drawn on stderr when stderr is a terminal.
package scancmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/reehub/reehub/analysis/scan"
	"github.com/reehub/reehub/fault"
)

// Run executes the scan command with args (without the "scan" word).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("scan", flag.ContinueOnError)
	fset.SetOutput(stderr)
	asJSON := fset.Bool("json", false, "print every file's findings as one JSON document")
	workers := fset.Int("workers", 0, "files scanned at once (default: number of CPUs)")
	maxBytes := fset.Int("max-bytes", 0, "bytes of each file scanned (default 1 MiB)")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: reehub scan PATH [--json] [--workers N] [--max-bytes N]")
		fset.PrintDefaults()
	}
	// Accept flags after the path too: "reehub scan PATH --json".
	var paths []string
	rest := args
	for len(rest) > 0 {
		if err := fset.Parse(rest); err != nil {
			return fault.Invalidf("scan: %v", err)
		}
		rest = fset.Args()
		if len(rest) > 0 {
			paths, rest = append(paths, rest[0]), rest[1:]
		}
	}
	if len(paths) != 1 {
		fset.Usage()
		return fault.Invalidf("scan: want exactly one PATH, got %d", len(paths))
	}
	root := paths[0]
	if _, err := os.Stat(root); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fault.NotFoundf("scan: %s does not exist", root)
		}
		return fmt.Errorf("scan %s: %w", root, err)
	}
	s, err := scan.New(&scan.Options{Workers: *workers, MaxBytes: *maxBytes})
	if err != nil {
		return err
	}
	sum := newSummary()
	prog := newProgress(ctx, stderr, root)
	defer prog.stop()
	start := time.Now()
	var emit func(scan.Result) error
	var enc *json.Encoder
	if *asJSON {
		rootJSON, _ := json.Marshal(root)
		if _, err := fmt.Fprintf(stdout, "{\"root\":%s,\"files\":[\n", rootJSON); err != nil {
			return err
		}
		enc = json.NewEncoder(stdout)
		first := true
		emit = func(r scan.Result) error {
			if !first {
				if _, err := io.WriteString(stdout, ","); err != nil {
					return err
				}
			}
			first = false
			return enc.Encode(r)
		}
	}
	err = s.Walk(ctx, root, func(r scan.Result) error {
		sum.add(r)
		prog.done.Add(1)
		if emit != nil {
			return emit(r)
		}
		return nil
	})
	prog.stop()
	if err != nil {
		return err
	}
	sum.Elapsed = time.Since(start).Round(time.Millisecond).String()
	if *asJSON {
		if _, err := io.WriteString(stdout, "],\"summary\":"); err != nil {
			return err
		}
		if err := enc.Encode(sum); err != nil {
			return err
		}
		_, err := io.WriteString(stdout, "}\n")
		return err
	}
	return sum.print(stdout)
}

// summary counts what a scan found.
type summary struct {
	Files    int            `json:"files"`
	Bytes    int64          `json:"bytes"`
	Licensed int            `json:"files_with_license"`
	Licenses map[string]int `json:"licenses"`
	Kinds    map[string]int `json:"kinds"`
	Holders  map[string]int `json:"holders"`
	Skipped  map[string]int `json:"skipped"`
	Notes    map[string]int `json:"notes"`
	Elapsed  string         `json:"elapsed"`
}

func newSummary() *summary {
	return &summary{Licenses: map[string]int{}, Kinds: map[string]int{}, Holders: map[string]int{},
		Skipped: map[string]int{}, Notes: map[string]int{}}
}

func (s *summary) add(r scan.Result) {
	s.Files++
	s.Bytes += r.Size
	if r.Skipped != "" {
		s.Skipped[string(r.Skipped)]++
	}
	for _, n := range r.Notes {
		s.Notes[string(n)]++
	}
	seen := map[string]bool{}
	for _, m := range r.Licenses {
		s.Kinds[string(m.Kind)]++
		if !seen[m.ID] {
			seen[m.ID] = true
			s.Licenses[m.ID]++
		}
	}
	if len(seen) > 0 {
		s.Licensed++
	}
	for _, c := range r.Copyrights {
		s.Holders[c.Holder]++
	}
}

// topN is how many holders the table lists.
const topN = 15

func (s *summary) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Scanned %d files (%.1f MB) in %s; %d with a license.\n\n", s.Files, float64(s.Bytes)/(1<<20), s.Elapsed, s.Licensed)
	fmt.Fprintln(tw, "LICENSE\tFILES")
	for _, kv := range sorted(s.Licenses) {
		fmt.Fprintf(tw, "%s\t%d\n", kv.k, kv.v)
	}
	if len(s.Licenses) == 0 {
		fmt.Fprintln(tw, "(none)\t")
	}
	fmt.Fprintln(tw, "\nMATCH KIND\tMATCHES")
	for _, kv := range sorted(s.Kinds) {
		fmt.Fprintf(tw, "%s\t%d\n", kv.k, kv.v)
	}
	fmt.Fprintf(tw, "\nCOPYRIGHT HOLDER (top %d of %d)\tSTATEMENTS\n", min(topN, len(s.Holders)), len(s.Holders))
	for i, kv := range sorted(s.Holders) {
		if i == topN {
			break
		}
		fmt.Fprintf(tw, "%s\t%d\n", truncate(kv.k, 60), kv.v)
	}
	if len(s.Skipped)+len(s.Notes) > 0 {
		fmt.Fprintln(tw, "\nSKIPPED OR CAPPED\tFILES")
		for _, kv := range sorted(s.Skipped) {
			fmt.Fprintf(tw, "%s (skipped)\t%d\n", kv.k, kv.v)
		}
		for _, kv := range sorted(s.Notes) {
			fmt.Fprintf(tw, "%s\t%d\n", kv.k, kv.v)
		}
	}
	return tw.Flush()
}

type kv struct {
	k string
	v int
}

// sorted returns m's entries by count, then key.
func sorted(m map[string]int) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].v != out[j].v {
			return out[i].v > out[j].v
		}
		return out[i].k < out[j].k
	})
	return out
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// progress draws "scanned N/M files" on a terminal stderr, once a scan has
// run for a second.
type progress struct {
	done    atomic.Int64
	total   atomic.Int64
	counted atomic.Bool
	quit    chan struct{}
	exited  chan struct{}
	stopped atomic.Bool
}

func newProgress(ctx context.Context, stderr io.Writer, root string) *progress {
	p := &progress{quit: make(chan struct{}), exited: make(chan struct{})}
	f, ok := stderr.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		close(p.exited)
		return p
	}
	// Count the files in the background, so the bar can show a total.
	go func() {
		var n int64
		_ = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil || p.stopped.Load() {
				return filepath.SkipAll
			}
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		p.total.Store(n)
		p.counted.Store(true)
	}()
	go func() {
		defer close(p.exited)
		start := time.Now()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		drawn := false
		for {
			select {
			case <-p.quit:
				if drawn {
					fmt.Fprint(f, "\r\033[K")
				}
				return
			case <-tick.C:
				if time.Since(start) < time.Second {
					continue
				}
				drawn = true
				fmt.Fprint(f, "\r\033[K"+p.line())
			}
		}
	}()
	return p
}

// line renders the progress line.
func (p *progress) line() string {
	done := p.done.Load()
	if !p.counted.Load() || p.total.Load() == 0 {
		return fmt.Sprintf("scanning… %d files", done)
	}
	total := p.total.Load()
	frac := min(1, float64(done)/float64(total))
	const width = 30
	bar := strings.Repeat("█", int(frac*width)) + strings.Repeat("░", width-int(frac*width))
	return fmt.Sprintf("%s %3.0f%% %d/%d files", bar, frac*100, done, total)
}

// stop removes the progress line; it may be called more than once.
func (p *progress) stop() {
	if p.stopped.CompareAndSwap(false, true) {
		close(p.quit)
	}
	<-p.exited
}
