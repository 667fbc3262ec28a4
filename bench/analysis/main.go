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
	"unicode"

	"github.com/reehub/reehub/analysis/dep5"
	"github.com/reehub/reehub/analysis/license"
	"github.com/reehub/reehub/analysis/scan"
	"github.com/reehub/reehub/fault"
)

func main() {
	out := flag.String("out", "bench/out/analysis", "directory for per-file reports")
	runs := flag.Int("runs", 3, "timed runs of each tool per package; the median is reported")
	set := flag.String("set", "named", "the name of the package set, for the report")
	excluded := flag.String("excluded", "", "packages of the set left out because their debian/copyright is not DEP-5")
	unavailable := flag.String("unavailable", "", "packages of the set the mirror could not serve")
	lcCache := flag.String("lc-cache", "", "development only: keep licensecheck's output per package in this directory and reuse it (its time too)")
	lcSave := flag.String("lc-save", "", "write licensecheck's output and time per package into this directory (never read: every run is measured), for later -lc-cache runs")
	classify := flag.Bool("classifier", false, "also run github.com/google/licenseclassifier/v2 on every file (once, not timed against licensecheck)")
	flag.Parse()
	cfg := config{out: *out, runs: *runs, set: *set, excluded: strings.Fields(*excluded),
		unavailable: strings.Fields(*unavailable), classifier: *classify, lcCache: *lcCache, lcSave: *lcSave}
	if err := run(context.Background(), cfg, flag.Args(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench-analysis:", err)
		os.Exit(1)
	}
}

// skipDirs are not part of a source package's own files: quilt's .pc backup
// copies and version-control data.
var skipDirs = []string{".pc", ".git", ".svn", ".hg"}

// config is the bench's command line.
type config struct {
	out                   string
	runs                  int
	set                   string
	excluded, unavailable []string
	classifier            bool
	lcCache               string
	lcSave                string
}

// tool is what one scanner reported for a package.
type tool struct {
	licenses map[string][]string // path → sorted SPDX ids
	holders  map[string][]string // path → holder keys
	elapsed  time.Duration
}

// The ground-truth classes of a file.
const (
	// classStated: the file's own text states a license (either tool
	// finds one in it) and a Files paragraph more specific than the
	// catch-all governs it: that paragraph is the truth.
	classStated = iota
	// classCatchAll: the file states a license but only a catch-all
	// paragraph (Files: *) governs it; the catch-all is the only evidence
	// of the truth.
	classCatchAll
	// classNone: neither tool finds a license in the file's text.
	classNone
	nClasses
)

var classNames = [nClasses]string{"stated", "catch-all", "no-evidence"}

// tally counts the files of one class and the agreement of each tool.
type tally struct {
	files              int
	oursAgree, lcAgree int
	clAgree, combAgree int // licenseclassifier, reehub+licenseclassifier
	mentions           int // classNone: files whose text has the word "licen[cs]e"
	// oursEquiv, lcEquiv: agreements that hold only through the classes
	// of dep5.Equivalent (an "Artistic" reference under Artistic-dist).
	oursEquiv, lcEquiv int
}

func (t *tally) add(o tally) {
	t.files += o.files
	t.oursAgree += o.oursAgree
	t.lcAgree += o.lcAgree
	t.clAgree += o.clAgree
	t.combAgree += o.combAgree
	t.mentions += o.mentions
	t.oursEquiv += o.oursEquiv
	t.lcEquiv += o.lcEquiv
}

// recall counts holders of debian/copyright and how many each tool found.
type recall struct{ holders, ours, lc int }

func (r *recall) add(o recall) { r.holders += o.holders; r.ours += o.ours; r.lc += o.lc }

// stats are the measured figures of one package.
type stats struct {
	name         string
	files        int
	bytes        int64
	class        [nClasses]tally
	stated, all  recall // holders of the paragraphs of stated files; of all files
	findable     recall // the stated holders whose words occur in a stated file of their paragraph
	absent       int    // stated holders whose words occur in none of the stated files
	statedAny    int    // stated holders reehub finds in any file of their paragraph
	ours, lc, cl time.Duration
	mapped       map[dep5.Source]int // short names by how they were translated
	skipped      string
}

func run(ctx context.Context, cfg config, pkgs []string, w io.Writer) error {
	cfg.runs = max(1, cfg.runs)
	if len(pkgs) == 0 {
		return fmt.Errorf("no packages: pass PACKAGE=DIR arguments")
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
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
	det, err := license.NewDetector()
	if err != nil {
		return err
	}
	var cl *classifierTool
	if cfg.classifier {
		if cl, err = newClassifierTool(); err != nil {
			return err
		}
	}

	var all []stats
	var skipped []string
	for _, arg := range pkgs {
		name, dir, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("argument %q is not PACKAGE=DIR", arg)
		}
		st, err := benchPackage(ctx, sc, det, cl, name, dir, cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if st.skipped == "" {
			// Progress, so that a run stopped early still says what it measured.
			fmt.Fprintf(os.Stderr, "bench-analysis: %s: %d files, stated %d (reehub %d, licensecheck %d agree), reehub %.2fs, licensecheck %.2fs\n",
				name, st.files, st.class[classStated].files, st.class[classStated].oursAgree, st.class[classStated].lcAgree, st.ours.Seconds(), st.lc.Seconds())
		}
		if st.skipped != "" {
			fmt.Fprintf(os.Stderr, "bench-analysis: %s skipped: %s\n", name, st.skipped)
			skipped = append(skipped, name)
			continue
		}
		all = append(all, st)
	}
	total := stats{name: "all", mapped: map[dep5.Source]int{}}
	for _, s := range all {
		total.files += s.files
		total.bytes += s.bytes
		for c := range s.class {
			total.class[c].add(s.class[c])
		}
		total.stated.add(s.stated)
		total.findable.add(s.findable)
		total.absent += s.absent
		total.statedAny += s.statedAny
		total.all.add(s.all)
		total.ours += s.ours
		total.lc += s.lc
		total.cl += s.cl
		for k, v := range s.mapped {
			total.mapped[k] += v
		}
	}
	fmt.Fprintf(w, "Set %s: %d packages.\n", cfg.set, len(all))
	if cfg.set == "python_3_11" {
		fmt.Fprintf(w, "Rule: every Debian source package behind the python_3_11 base image (dpkg's Source fields) whose debian/copyright is machine-readable (DEP-5).\n")
	}
	if len(cfg.excluded) > 0 {
		fmt.Fprintf(w, "Left out by the rule (debian/copyright not DEP-5): %s\n", strings.Join(cfg.excluded, ", "))
	}
	if len(cfg.unavailable) > 0 {
		fmt.Fprintf(w, "Not fetchable from the mirror: %s\n", strings.Join(cfg.unavailable, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| package | files | MB | stated | agreement reehub | agreement licensecheck | catch-all | reehub | licensecheck | no evidence | holder recall reehub (findable) | holder recall licensecheck (findable) | reehub s | licensecheck s | speed-up |\n")
	fmt.Fprintf(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var below []string
	for _, s := range append(all, total) {
		st, ca := s.class[classStated], s.class[classCatchAll]
		fmt.Fprintf(w, "| %s | %d | %.1f | %d | %s | %s | %d | %s | %s | %d | %s | %s | %.2f | %.2f | %.1fx |\n",
			s.name, s.files, mb(s.bytes), st.files, pct(st.oursAgree, st.files), pct(st.lcAgree, st.files),
			ca.files, pct(ca.oursAgree, ca.files), pct(ca.lcAgree, ca.files), s.class[classNone].files,
			pct(s.findable.ours, s.findable.holders), pct(s.findable.lc, s.findable.holders), s.ours.Seconds(), s.lc.Seconds(),
			s.lc.Seconds()/s.ours.Seconds())
		if s.name != "all" && st.oursAgree < st.lcAgree {
			below = append(below, fmt.Sprintf("%s (%s vs %s)", s.name, pct(st.oursAgree, st.files), pct(st.lcAgree, st.files)))
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "\nSkipped (debian/copyright not in DEP-5 format): %s\n", strings.Join(skipped, ", "))
	}
	fmt.Fprintf(w, "\nClasses: stated = either tool finds a license in the file and the Files paragraph that governs it names it by a file or directory glob; catch-all = it states one but it is governed only through catch-all globs (globs that start with * and have no /: Files: *, Files: *.c *.h, the * of Files: * doc/local.mk); no evidence = neither tool finds a license (%d of them contain the word licen[cs]e).\n",
		total.class[classNone].mentions)
	fmt.Fprintf(w, "Packages where reehub agrees less than licensecheck on stated files: %s\n", orNone(below))
	fmt.Fprintf(w, "Agreements on stated files that hold only through the equivalent ids of analysis/dep5/equivalents.tsv: reehub %d, licensecheck %d.\n",
		total.class[classStated].oursEquiv, total.class[classStated].lcEquiv)
	fmt.Fprintf(w, "Holder recall: over the paragraphs of stated files (%d holder lines: reehub %d, licensecheck %d); over all files (%d): reehub %s, licensecheck %s.\n",
		total.stated.holders, total.stated.ours, total.stated.lc,
		total.all.holders, pct(total.all.ours, total.all.holders), pct(total.all.lc, total.all.holders))
	fmt.Fprintf(w, "Holder lines of stated paragraphs whose words occur in none of the paragraph's stated files (packagers of debian/*, removed or moved names; no tool can find them there): %d. Over all %d holder lines of stated paragraphs: reehub %s, licensecheck %s. Over the %d that occur in the files (the closing line's recall): reehub %s, licensecheck %s.\n",
		total.absent, total.stated.holders, pct(total.stated.ours, total.stated.holders), pct(total.stated.lc, total.stated.holders),
		total.findable.holders, pct(total.findable.ours, total.findable.holders), pct(total.findable.lc, total.findable.holders))
	fmt.Fprintf(w, "The same holder lines found by reehub in any file of their paragraph (stated or not: debian/rules has a packager's statement and no license): %d, %s.\n",
		total.statedAny, pct(total.statedAny, total.stated.holders))
	fmt.Fprintf(w, "DEP-5 short names translated: %d by the table, %d by their License text, %d left as LicenseRef-.\n",
		total.mapped[dep5.SourceTable], total.mapped[dep5.SourceText], total.mapped[dep5.SourceUnknown])
	if cl != nil {
		st, ca := total.class[classStated], total.class[classCatchAll]
		fmt.Fprintf(w, "licenseclassifier v2 (one run, %d workers, %.2fs, setup %.2fs): stated %s, catch-all %s; reehub with licenseclassifier for files reehub finds nothing in: stated %s, catch-all %s.\n",
			countCPU(), total.cl.Seconds(), cl.setup.Seconds(), pct(st.clAgree, st.files), pct(ca.clAgree, ca.files),
			pct(st.combAgree, st.files), pct(ca.combAgree, ca.files))
	}
	fmt.Fprintf(w, "\nTimes are medians of %d runs per package, the two tools alternating (reehub first on odd runs, licensecheck first on even ones).\n", cfg.runs)
	fmt.Fprintf(w, "reehub's one-time setup (rule and licensecheck pattern compilation): %.2fs, counted once in the speed-up below; without it, %.1fx.\n",
		initTime.Seconds(), total.lc.Seconds()/total.ours.Seconds())
	fmt.Fprintf(w, "Workers: all %d cores (load average at the end: %s); licensecheck has no parallel mode.\n\n", countCPU(), loadAvg())
	st := total.class[classStated]
	fmt.Fprintf(w, "agreement: %s (licensecheck %s), copyright recall: %s, speed: %.1fx licensecheck\n",
		pct(st.oursAgree, st.files), pct(st.lcAgree, st.files), pct(total.findable.ours, total.findable.holders),
		total.lc.Seconds()/(total.ours+initTime).Seconds())
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
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

// isCatchAll reports whether globs (those of a paragraph that match a
// file) are catch-alls: they name no file or directory, only "*" or
// patterns that match anywhere in the tree by a name ("*.c *.h"): every one
// starts with "*" and has no "/".
func isCatchAll(globs []string) bool {
	for _, g := range globs {
		if !strings.HasPrefix(g, "*") || strings.Contains(g, "/") {
			return false
		}
	}
	return len(globs) > 0
}

var licenseWord = regexp.MustCompile(`(?i)licen[cs]e`)

func benchPackage(ctx context.Context, sc *scan.Scanner, det *license.Detector, cl *classifierTool, name, dir string, cfg config) (stats, error) {
	st := stats{name: name, mapped: map[dep5.Source]int{}}
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
	res := dep5.NewResolver(cp, det)

	// Both tools on the same tree, alternating, runs times each.
	var ours, lc, clt tool
	var sizes map[string]int64
	var oursTimes, lcTimes []time.Duration
	for i := range cfg.runs {
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
			t, err := runLicensecheck(ctx, dir, cachePath(cfg.lcCache, name), cachePath(cfg.lcSave, name))
			if err != nil {
				return st, err
			}
			lc = t
			lcTimes = append(lcTimes, t.elapsed)
		}
	}
	if cl != nil {
		if clt, err = cl.run(ctx, dir, sizes); err != nil {
			return st, err
		}
		st.cl = clt.elapsed
	}

	// Compare.
	diff, err := os.Create(filepath.Join(cfg.out, name+".diff.tsv"))
	if err != nil {
		return st, err
	}
	defer diff.Close()
	dw := bufio.NewWriter(diff)
	defer dw.Flush()
	fmt.Fprintln(dw, "class\tpath\tdebian/copyright\treehub\tlicensecheck")
	paths := make([]string, 0, len(sizes))
	for p := range sizes {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	type found struct {
		stated, all [2][]string // holder keys of [reehub, licensecheck]
		nStated     int         // stated files the paragraph governs
		statedPaths []string    // those files
	}
	holders := map[*dep5.Paragraph]*found{}
	truths := map[*dep5.Paragraph][]string{}
	for _, p := range paths {
		st.files++
		st.bytes += sizes[p]
		para, globs := cp.MostSpecific(p)
		if para == nil || p == "debian/copyright" {
			// debian/copyright is the ground truth itself (it quotes every
			// license of the package): not a file to judge against it.
			continue
		}
		o, l := ours.licenses[p], lc.licenses[p]
		class := classNone
		switch {
		case len(o) == 0 && len(l) == 0:
		case isCatchAll(globs):
			class = classCatchAll
		default:
			class = classStated
		}
		hs := holders[para]
		if hs == nil {
			hs = &found{}
			holders[para] = hs
		}
		hs.all[0] = append(hs.all[0], ours.holders[p]...)
		hs.all[1] = append(hs.all[1], lc.holders[p]...)
		if class == classStated {
			hs.nStated++
			hs.statedPaths = append(hs.statedPaths, p)
			hs.stated[0] = append(hs.stated[0], ours.holders[p]...)
			hs.stated[1] = append(hs.stated[1], lc.holders[p]...)
		}
		t := &st.class[class]
		t.files++
		if class == classNone {
			if b, err := os.ReadFile(filepath.Join(dir, p)); err == nil && licenseWord.Match(b) {
				t.mentions++
			}
			continue
		}
		truth, ok := truths[para]
		if !ok {
			truth = truthIDs(res, para, st.mapped)
			truths[para] = truth
		}
		okO, okL := dep5.SameLicenses(o, truth), dep5.SameLicenses(l, truth)
		if okO {
			t.oursAgree++
			t.oursEquiv += b2i(!slices.Equal(o, truth))
		}
		if okL {
			t.lcAgree++
			t.lcEquiv += b2i(!slices.Equal(l, truth))
		}
		if cl != nil {
			c := clt.licenses[p]
			if dep5.SameLicenses(c, truth) {
				t.clAgree++
			}
			if len(o) == 0 {
				o = c
			}
			if dep5.SameLicenses(o, truth) {
				t.combAgree++
			}
		}
		if !okO || !okL {
			fmt.Fprintf(dw, "%s\t%s\t%s\t%s\t%s\n", classNames[class], p, strings.Join(truth, ","), strings.Join(ours.licenses[p], ","), strings.Join(l, ","))
		}
	}
	for _, para := range cp.Files {
		hs, ok := holders[para]
		if !ok {
			continue
		}
		for _, line := range para.Copyright {
			if !holderLine(line) {
				continue
			}
			k := holderKey(stripYears(line))
			if len(k) < 3 {
				continue
			}
			okO, okL := recalled(k, hs.all[0]), recalled(k, hs.all[1])
			st.all.holders++
			st.all.ours += b2i(okO)
			st.all.lc += b2i(okL)
			// The missed lines of a paragraph with stated files are those
			// the headline recall misses (over its stated files), marked
			// "stated"; the others' over all of its files, marked "other".
			scope := "other"
			if hs.nStated > 0 {
				st.statedAny += b2i(okO)
				okO, okL = recalled(k, hs.stated[0]), recalled(k, hs.stated[1])
				st.stated.holders++
				st.stated.ours += b2i(okO)
				st.stated.lc += b2i(okL)
				scope = "stated"
				// A holder line no stated file of the paragraph has the words
				// of (a packager of debian/*, a removed or moved name) is in
				// the ground truth of no tool: reported, not counted in the
				// headline (the DEP-5 paragraph is not the files' text).
				if okO || okL || nameOccurs(dir, hs.statedPaths, k) {
					st.findable.holders++
					st.findable.ours += b2i(okO)
					st.findable.lc += b2i(okL)
				} else {
					st.absent++
					scope = "stated-absent"
				}
			}
			switch {
			case !okO && !okL:
				fmt.Fprintf(dw, "#holder-missed\t%s\t%s\t%s\n", strings.Join(para.Files, " "), line, scope)
			case !okO:
				fmt.Fprintf(dw, "#holder-missed-by-reehub\t%s\t%s\t%s\n", strings.Join(para.Files, " "), line, scope)
			}
		}
	}
	st.ours, st.lc = median(oursTimes), median(lcTimes)
	return st, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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

// truthIDs returns the license ids of a DEP-5 License field, each short
// name translated by the package's Resolver, and counts how each was.
func truthIDs(res *dep5.Resolver, para *dep5.Paragraph, mapped map[dep5.Source]int) []string {
	e, src, err := res.ParagraphSources(para)
	if err != nil {
		return []string{"LicenseRef-unparsed"}
	}
	for _, s := range src {
		mapped[s]++
	}
	return e.Licenses()
}

// runLicensecheck runs Debian's licensecheck over every file of dir (not only
// its default "common source files") and reads its tab-separated output.
// With cache, an output saved there before is reused; the output is saved
// to cache, or to save when that is set.
func runLicensecheck(ctx context.Context, dir, cache, save string) (tool, error) {
	t := tool{licenses: map[string][]string{}, holders: map[string][]string{}}
	if cache != "" {
		if b, err := os.ReadFile(cache); err == nil {
			first, rest, _ := strings.Cut(string(b), "\n")
			if d, err := time.ParseDuration(first); err == nil {
				t.elapsed = d
				parseLicensecheck(rest, &t)
				return t, nil
			}
		}
	}
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
	if save == "" {
		save = cache
	}
	if save != "" {
		if err := os.MkdirAll(filepath.Dir(save), 0o755); err != nil {
			return t, err
		}
		if err := os.WriteFile(save, []byte(t.elapsed.String()+"\n"+stdout.String()), 0o644); err != nil {
			return t, err
		}
	}
	parseLicensecheck(stdout.String(), &t)
	return t, nil
}

func cachePath(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name+".licensecheck")
}

// parseLicensecheck reads licensecheck's tab-separated output into t.
func parseLicensecheck(out string, t *tool) {
	for _, line := range strings.Split(out, "\n") {
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
	markerRe = regexp.MustCompile(`(?i)^(?:copyright\b:?|\(c\)|©|\s)*`)
	// yearListRe is a list of years anywhere in a line: "2001-2005",
	// "1991, 92, 93", "2016-present", "2013 - 2022", "2018—2021", "2016,2018".
	yearListRe = regexp.MustCompile(`(?i)\b(?:19|20)\d\d(?:\s*[-–—]\s*(?:(?:(?:19|20)?\d\d)\b|present\b)?)?(?:\s*[,/]\s*(?:(?:19|20)\d\d|\d\d)\b(?:\s*[-–—]\s*(?:(?:19|20)?\d\d\b|present\b))?)*[\s,]*`)
	emailRe    = regexp.MustCompile(`<[^>]*>|\S+@\S+|https?://\S+|\([^)]*@[^)]*\)`)
	signRe     = regexp.MustCompile(`(?i)\(c\)|©`)
	nonWordRe  = regexp.MustCompile(`[^\p{L}\p{N}]+`)
	noiseRe    = regexp.MustCompile(`\b(?:copyright|all rights reserved|and others|et al|the|by)\b`)
)

// stripYears removes a leading copyright marker, the prose before a marker
// inside the line ("OS/2 port Copyright (c) 1990, 1991, Raymond Chen",
// "This software is copyright (c) 2010 by David Golden": the holder is what
// follows the marker and the years) and the years wherever they are
// ("Name 2001-2005", "Name, 2003", "2005-2013 A and B").
func stripYears(s string) string {
	s = strings.TrimSpace(s)
	if loc := innerMarker.FindStringIndex(s); loc != nil && loc[0] > 0 {
		s = s[loc[0]:]
	}
	s = markerRe.ReplaceAllString(s, "")
	return strings.TrimSpace(yearListRe.ReplaceAllString(s, " "))
}

// innerMarker finds a copyright marker inside a Copyright field line.
// "copyright (C) Charles Bailey" has no year but its sign.
var innerMarker = regexp.MustCompile(`(?i)\bcopyright\b(?:(?:\s*(?:\(c\)|©))?\s*(?:19|20)\d\d|\s*(?:\(c\)|©))`)

// holderLine reports whether a line of a Copyright field can name a
// holder: it has a capital letter. The lines that continue a sentence of
// prose ("permission.", "rights reserved.", "are based on other people's
// work.") and "unknown" or "none" name nobody, for either tool.
func holderLine(s string) bool {
	return strings.IndexFunc(s, unicode.IsUpper) >= 0
}

// holderKey reduces a holder to lower-case words without years, copyright
// signs, e-mail addresses, URLs and punctuation, for matching holders across
// tools ("Yves Orton and 2007 Ævar Arnfjörð Bjarmason").
func holderKey(s string) string {
	s = signRe.ReplaceAllString(yearListRe.ReplaceAllString(s, " "), " ")
	s = emailRe.ReplaceAllString(strings.ToLower(s), " ")
	s = noiseRe.ReplaceAllString(s, " ")
	return strings.TrimSpace(nonWordRe.ReplaceAllString(s, " "))
}

// nameOccurs reports whether every word of three letters or more of the
// holder key k occurs (lower-cased) in one of the files paths under dir.
func nameOccurs(dir string, paths []string, k string) bool {
	var words []string
	for _, w := range strings.Fields(k) {
		if len([]rune(w)) >= 3 {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return true
	}
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			continue
		}
		text := strings.ToLower(string(b))
		all := true
		for _, w := range words {
			if !strings.Contains(text, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
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
