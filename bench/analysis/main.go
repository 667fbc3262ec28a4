// Command analysis is the license and copyright bench (make bench-analysis):
// it scans Debian source trees with reehub's scanner and with Debian's
// licensecheck, compares both with each package's debian/copyright and
// prints a table and one summary line. run.sh fetches the trees and calls it
// with PACKAGE=DIR arguments.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/reehub/reehub/analysis/dep5"
	"github.com/reehub/reehub/analysis/license"
	"github.com/reehub/reehub/analysis/scan"
	"github.com/reehub/reehub/fault"
)

func main() {
	out := flag.String("out", "bench/out/analysis", "directory for per-file reports")
	runs := flag.Int("runs", 3, "timed runs of each tool per package; the median is reported")
	flag.Parse()
	if err := run(context.Background(), *out, *runs, flag.Args(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench-analysis:", err)
		os.Exit(1)
	}
}

// skipDirs are not part of a source package's own files: quilt's .pc backup
// copies and version-control data.
var skipDirs = []string{".pc", ".git", ".svn", ".hg"}

// tool is what one scanner reported for a package.
type tool struct {
	licenses map[string][]string // path → sorted SPDX ids
	holders  map[string][]string // path → holder keys
	elapsed  time.Duration
}

// stats are the measured figures of one package.
type stats struct {
	name                 string
	files                int
	bytes                int64
	evaluated            int
	oursAgree, lcAgree   int
	holders              int
	oursRecall, lcRecall int
	ours, lc             time.Duration
	skipped              string
}

func run(ctx context.Context, out string, runs int, pkgs []string, w io.Writer) error {
	runs = max(1, runs)
	if len(pkgs) == 0 {
		return fmt.Errorf("no packages: pass PACKAGE=DIR arguments")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// Setup: reehub's rules compile in scan.New, and licensecheck compiles
	// its built-in patterns on first use (about a second, once per process);
	// the timings below exclude both, the summary shows them.
	warm := time.Now()
	sc, err := scan.New(&scan.Options{SkipDirs: skipDirs})
	if err != nil {
		return err
	}
	var r scan.Result
	sc.Text([]byte("Permission is hereby granted. MIT License"), &r)
	initTime := time.Since(warm)

	var all []stats
	var skipped []string
	for _, arg := range pkgs {
		name, dir, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("argument %q is not PACKAGE=DIR", arg)
		}
		st, err := benchPackage(ctx, sc, name, dir, out, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if st.skipped != "" {
			fmt.Fprintf(os.Stderr, "bench-analysis: %s skipped: %s\n", name, st.skipped)
			skipped = append(skipped, name)
			continue
		}
		all = append(all, st)
	}
	total := stats{name: "all"}
	for _, s := range all {
		total.files += s.files
		total.bytes += s.bytes
		total.evaluated += s.evaluated
		total.oursAgree += s.oursAgree
		total.lcAgree += s.lcAgree
		total.holders += s.holders
		total.oursRecall += s.oursRecall
		total.lcRecall += s.lcRecall
		total.ours += s.ours
		total.lc += s.lc
	}
	fmt.Fprintf(w, "| package | files | MB | evaluated | agreement reehub | agreement licensecheck | holder recall reehub | holder recall licensecheck | reehub s | files/s | MB/s | licensecheck s | speed-up |\n")
	fmt.Fprintf(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range append(all, total) {
		fmt.Fprintf(w, "| %s | %d | %.1f | %d | %s | %s | %s | %s | %.2f | %.0f | %.1f | %.2f | %.1fx |\n",
			s.name, s.files, mb(s.bytes), s.evaluated, pct(s.oursAgree, s.evaluated), pct(s.lcAgree, s.evaluated),
			pct(s.oursRecall, s.holders), pct(s.lcRecall, s.holders), s.ours.Seconds(),
			float64(s.files)/s.ours.Seconds(), mb(s.bytes)/s.ours.Seconds(), s.lc.Seconds(), s.lc.Seconds()/s.ours.Seconds())
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "\nSkipped (debian/copyright not in DEP-5 format): %s\n", strings.Join(skipped, ", "))
	}
	fmt.Fprintf(w, "\nTimes are medians of %d runs per package, the two tools alternating (reehub first on odd runs, licensecheck first on even ones).\n", runs)
	fmt.Fprintf(w, "reehub's one-time setup (rule and licensecheck pattern compilation, excluded above): %.2fs; with it counted once, the speed-up is %.1fx.\n",
		initTime.Seconds(), total.lc.Seconds()/(total.ours+initTime).Seconds())
	fmt.Fprintf(w, "Workers: all %d cores (load average at the end: %s); licensecheck has no parallel mode.\n\n", countCPU(), loadAvg())
	fmt.Fprintf(w, "agreement: %s (licensecheck %s), copyright recall: %s, speed: %.1fx licensecheck\n",
		pct(total.oursAgree, total.evaluated), pct(total.lcAgree, total.evaluated), pct(total.oursRecall, total.holders),
		total.lc.Seconds()/total.ours.Seconds())
	return nil
}

func countCPU() int {
	n := 0
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		n = bytes.Count(b, []byte("\nprocessor"))
		if bytes.HasPrefix(b, []byte("processor")) {
			n++
		}
	}
	return n
}

// loadAvg returns the 1-minute load average, or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// median returns the median of ds (the lower middle one for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func pct(a, b int) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

func benchPackage(ctx context.Context, sc *scan.Scanner, name, dir, out string, runs int) (stats, error) {
	st := stats{name: name}
	f, err := os.Open(filepath.Join(dir, "debian", "copyright"))
	if err != nil {
		return st, err
	}
	cp, err := dep5.Parse(f)
	f.Close()
	if errors.Is(err, fault.ErrInvalid) {
		// Not machine-readable: there is no per-file ground truth.
		st.skipped = err.Error()
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("debian/copyright: %w", err)
	}

	// Both tools on the same tree, alternating, runs times each.
	var ours, lc tool
	var sizes map[string]int64
	var oursTimes, lcTimes []time.Duration
	for i := range runs {
		first, second := "reehub", "licensecheck"
		if i%2 == 1 {
			first, second = second, first
		}
		for _, which := range []string{first, second} {
			if which == "reehub" {
				t, sz, err := runReehub(ctx, sc, dir)
				if err != nil {
					return st, err
				}
				ours, sizes = t, sz
				oursTimes = append(oursTimes, t.elapsed)
				continue
			}
			t, err := runLicensecheck(ctx, dir)
			if err != nil {
				return st, err
			}
			lc = t
			lcTimes = append(lcTimes, t.elapsed)
		}
	}

	// Compare.
	diff, err := os.Create(filepath.Join(out, name+".diff.tsv"))
	if err != nil {
		return st, err
	}
	defer diff.Close()
	dw := bufio.NewWriter(diff)
	defer dw.Flush()
	fmt.Fprintln(dw, "path\tdebian/copyright\treehub\tlicensecheck")
	paths := make([]string, 0, len(sizes))
	for p := range sizes {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	found := map[*dep5.Paragraph][][]string{} // paragraph → holder keys of [reehub, licensecheck]
	for _, p := range paths {
		st.files++
		st.bytes += sizes[p]
		para := cp.Match(p)
		if para == nil {
			continue
		}
		hs := found[para]
		if hs == nil {
			hs = make([][]string, 2)
		}
		hs[0] = append(hs[0], ours.holders[p]...)
		hs[1] = append(hs[1], lc.holders[p]...)
		found[para] = hs
		truth := truthIDs(para.License)
		o, l := ours.licenses[p], lc.licenses[p]
		if len(o) == 0 && len(l) == 0 {
			continue
		}
		st.evaluated++
		okO, okL := slices.Equal(o, truth), slices.Equal(l, truth)
		if okO {
			st.oursAgree++
		}
		if okL {
			st.lcAgree++
		}
		if !okO || !okL {
			fmt.Fprintf(dw, "%s\t%s\t%s\t%s\n", p, strings.Join(truth, ","), strings.Join(o, ","), strings.Join(l, ","))
		}
	}
	for _, para := range cp.Files {
		hs, ok := found[para]
		if !ok {
			continue
		}
		for _, line := range para.Copyright {
			k := holderKey(stripYears(line))
			if len(k) < 3 {
				continue
			}
			st.holders++
			okO, okL := recalled(k, hs[0]), recalled(k, hs[1])
			if okO {
				st.oursRecall++
			}
			if okL {
				st.lcRecall++
			}
			switch {
			case !okO && !okL:
				fmt.Fprintf(dw, "#holder-missed\t%s\t%s\n", strings.Join(para.Files, " "), line)
			case !okO:
				fmt.Fprintf(dw, "#holder-missed-by-reehub\t%s\t%s\n", strings.Join(para.Files, " "), line)
			}
		}
	}
	st.ours, st.lc = median(oursTimes), median(lcTimes)
	return st, nil
}

// runReehub scans dir with reehub's scanner (all cores) and returns what it
// found and the size of every file it reported.
func runReehub(ctx context.Context, sc *scan.Scanner, dir string) (tool, map[string]int64, error) {
	ours := tool{licenses: map[string][]string{}, holders: map[string][]string{}}
	sizes := map[string]int64{}
	start := time.Now()
	err := sc.Walk(ctx, dir, func(r scan.Result) error {
		if r.Skipped == scan.ReasonSymlink || r.Skipped == scan.ReasonDanglingSymlink ||
			r.Skipped == scan.ReasonSymlinkOutside || r.Skipped == scan.ReasonSymlinkLoop || r.Skipped == scan.ReasonSpecial {
			return nil
		}
		sizes[r.Path] = r.Size
		ours.licenses[r.Path] = license.IDs(r.Licenses)
		for _, c := range r.Copyrights {
			ours.holders[r.Path] = append(ours.holders[r.Path], holderKey(c.Holder))
		}
		return nil
	})
	ours.elapsed = time.Since(start)
	return ours, sizes, err
}

// truthIDs returns the license ids of a DEP-5 License field.
func truthIDs(field string) []string {
	e, err := dep5.SPDX(field)
	if err != nil {
		return []string{"LicenseRef-unparsed"}
	}
	return e.Licenses()
}

// runLicensecheck runs Debian's licensecheck over every file of dir (not only
// its default "common source files") and reads its tab-separated output.
func runLicensecheck(ctx context.Context, dir string) (tool, error) {
	t := tool{licenses: map[string][]string{}, holders: map[string][]string{}}
	cmd := exec.CommandContext(ctx, "licensecheck", "--recursive", "--copyright", "--machine",
		"--shortname-scheme=debian,spdx", "--check", ".", "--ignore", `(^|/)(\.pc|\.git|\.svn|\.hg)/`, ".")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return t, fmt.Errorf("licensecheck: %w: %s", err, lastLine(stderr.String()))
	}
	t.elapsed = time.Since(start)
	for _, line := range strings.Split(stdout.String(), "\n") {
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) < 2 {
			continue
		}
		p := strings.TrimPrefix(parts[0], "./")
		if parts[1] != "UNKNOWN" {
			t.licenses[p] = lcIDs(parts[1])
		}
		if len(parts) == 3 && parts[2] != "*No copyright*" {
			for _, c := range strings.Split(parts[2], " / ") {
				t.holders[p] = append(t.holders[p], holderKey(stripYears(c)))
			}
		}
	}
	return t, nil
}

// lcIDs translates licensecheck's short-name output ("GPL-2+ and/or LGPL-2.1+")
// to SPDX ids with the same DEP-5 table as the ground truth.
func lcIDs(s string) []string {
	e, err := dep5.SPDX(s)
	if err != nil {
		return []string{"LicenseRef-unparsed"}
	}
	return e.Licenses()
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

var (
	yearsRe   = regexp.MustCompile(`(?i)^(?:copyright\b:?|\(c\)|©|\s)*(?:(?:19|20)\d\d(?:\s*[-–]\s*(?:(?:19|20)?\d\d|present))?[\s,]*)*`)
	emailRe   = regexp.MustCompile(`<[^>]*>|\S+@\S+|https?://\S+|\([^)]*@[^)]*\)`)
	nonWordRe = regexp.MustCompile(`[^\p{L}\p{N}]+`)
	noiseRe   = regexp.MustCompile(`\b(?:copyright|all rights reserved|and others|et al|the|by)\b`)
)

// stripYears removes a leading copyright marker and year list.
func stripYears(s string) string { return yearsRe.ReplaceAllString(strings.TrimSpace(s), "") }

// holderKey reduces a holder to lower-case words without e-mail addresses,
// URLs and punctuation, for matching holders across tools.
func holderKey(s string) string {
	s = emailRe.ReplaceAllString(strings.ToLower(s), " ")
	s = noiseRe.ReplaceAllString(s, " ")
	return strings.TrimSpace(nonWordRe.ReplaceAllString(s, " "))
}

// recalled reports whether a debian/copyright holder key appears in one of the
// keys a tool found: one contains the other.
func recalled(k string, found []string) bool {
	for _, f := range found {
		if f == "" {
			continue
		}
		if strings.Contains(f, k) || len(f) >= 5 && strings.Contains(k, f) {
			return true
		}
	}
	return false
}
