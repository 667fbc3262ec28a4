// Package agent runs FOSSology's scan agents over an unpacked upload tree,
// each as a pure function of the tree onto reehub's analysis library:
//
//   - nomos: license notices, references and texts found by the rule table
//     and licensecheck (every license match but SPDX tags);
//   - monk: full license texts and long notices matched by licensecheck;
//   - ojo: SPDX-License-Identifier tags;
//   - copyright_email_author: copyright statements (analysis/copyright),
//     e-mail addresses and author lines;
//   - ecc: export-control keywords from data/ecc.txt;
//   - keyword: the keyword list of data/keyword.txt;
//   - mimetype (alias mime): the content type of every file;
//   - package: packages found by the SBOM catalogers on the tree and the
//     control files of Debian packages in it.
//
// bucket is declined (ErrBucketDeclined): reehub has no bucket rules.
// Every finding carries the file's path in the tree and its line range.
package agent

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/reehub/reehub/analysis/copyright"
	"github.com/reehub/reehub/analysis/license"
	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
)

// Agent names a FOSSology scan agent as the jobs API spells it.
type Agent string

// The agents.
const (
	Nomos     Agent = "nomos"
	Monk      Agent = "monk"
	Ojo       Agent = "ojo"
	Copyright Agent = "copyright_email_author"
	Ecc       Agent = "ecc"
	Keyword   Agent = "keyword"
	Mimetype  Agent = "mimetype"
	Package   Agent = "package"
	Bucket    Agent = "bucket"
)

// Agents lists the agents this package runs, in the order a job runs them.
func Agents() []Agent {
	return []Agent{Mimetype, Nomos, Monk, Ojo, Copyright, Ecc, Keyword, Package}
}

// ErrBucketDeclined is returned for the bucket agent. FOSSology's buckets
// are site-defined rule sets (bucketpools) that reehub does not have; a job
// asking for it is refused rather than silently run without it.
var ErrBucketDeclined = fault.Invalidf("agent \"bucket\" is not supported by this server: reehub has no bucket pools; schedule the job without it")

// Parse returns the agent of a name from the jobs API; "mime" is an alias of
// mimetype. Unknown names and bucket are fault.ErrInvalid.
func Parse(name string) (Agent, error) {
	a := Agent(name)
	switch {
	case name == "mime":
		return Mimetype, nil
	case a == Bucket:
		return "", ErrBucketDeclined
	case slices.Contains(Agents(), a):
		return a, nil
	}
	return "", fault.Invalidf("unknown agent %q; known agents are nomos, monk, ojo, copyright_email_author, ecc, keyword, mime, mimetype, package", name)
}

// Type is what a finding is.
type Type string

// The finding types.
const (
	TypeLicense   Type = "license"
	TypeCopyright Type = "copyright"
	TypeEmail     Type = "email"
	TypeAuthor    Type = "author"
	TypeEcc       Type = "ecc"
	TypeKeyword   Type = "keyword"
	TypeMimetype  Type = "mimetype"
	TypePackage   Type = "package"
)

// Finding is one result of one agent in one file.
type Finding struct {
	// Agent found it.
	Agent Agent `json:"agent"`
	// Path is the file's path in the upload tree ("up.zip/src/a.c").
	Path string `json:"path"`
	// SHA1 is the file's sha1, for reuse across uploads.
	SHA1 string `json:"sha1"`
	// Type is what was found.
	Type Type `json:"type"`
	// Value is the license id, statement, address, keyword, content type or
	// package URL.
	Value string `json:"value"`
	// Expression is the whole SPDX expression of an ojo finding.
	Expression string `json:"expression,omitempty"`
	// Rule names how it was found.
	Rule string `json:"rule,omitempty"`
	// StartLine and EndLine are the 1-based line range; zero for findings
	// about the whole file (content type, package).
	StartLine int `json:"start_line,omitempty"`
	EndLine   int `json:"end_line,omitempty"`
}

//go:embed data/ecc.txt
var eccData string

//go:embed data/keyword.txt
var keywordData string

// Runner runs agents. It is safe for concurrent use.
type Runner struct {
	det         *license.Detector
	ecc         *wordMatcher
	keyword     *wordMatcher
	authorWords *wordMatcher
	maxBytes    int
	workers     int
}

// Options tunes a Runner. The zero value means the defaults.
type Options struct {
	// MaxBytes is how much of a file is read. Defaults to 1 MiB.
	MaxBytes int
	// Workers is how many files are scanned at once. Defaults to the number
	// of CPUs.
	Workers int
}

// New returns a Runner with the embedded keyword lists; opts may be nil.
func New(opts *Options) (*Runner, error) {
	det, err := license.NewDetector()
	if err != nil {
		return nil, fmt.Errorf("license detector: %w", err)
	}
	r := &Runner{det: det, maxBytes: 1 << 20, workers: runtime.NumCPU()}
	if opts != nil && opts.MaxBytes > 0 {
		r.maxBytes = opts.MaxBytes
	}
	if opts != nil && opts.Workers > 0 {
		r.workers = opts.Workers
	}
	r.ecc, r.keyword = newWordMatcher(eccData), newWordMatcher(keywordData)
	r.authorWords = newWordMatcher(authorWords)
	return r, nil
}

// authorWords are the words that start an author line.
const authorWords = "author\nauthors\nwritten by\ncontributed by\nmaintainer\nmaintainers\ncontributor\ncontributors\n"

var (
	email  = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	author = regexp.MustCompile(`(?i)(?:^|[^a-z])(?:authors?|written by|contributed by|maintainers?|contributors?)\s*[:=]?\s+(\S.{1,200})`)
)

// Run runs the agents on every file of tree and calls fn with each file's
// findings (possibly none) from the calling goroutine, in no particular
// order; done counts the files finished so far, for progress. The package
// agent runs once over the whole tree after the files. Run stops at the
// first error of fn or when ctx ends.
func (r *Runner) Run(ctx context.Context, tree *unpack.Tree, agents []Agent, fn func(path string, done int, fs []Finding) error) error {
	want := map[Agent]bool{}
	for _, a := range agents {
		if a == Bucket {
			return ErrBucketDeclined
		}
		want[a] = true
	}
	files := tree.Files()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		path string
		fs   []Finding
		err  error
	}
	jobs := make(chan unpack.Item)
	results := make(chan result)
	var wg sync.WaitGroup
	for range max(1, min(r.workers, len(files))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, r.maxBytes)
			for it := range jobs {
				fs, err := r.file(tree, it, want, buf)
				select {
				case results <- result{it.Path, fs, err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, it := range files {
			select {
			case jobs <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	done := 0
	var firstErr error
	for res := range results {
		if firstErr != nil {
			continue
		}
		if res.err == nil {
			done++
			res.err = fn(res.path, done, res.fs)
		}
		if res.err != nil {
			firstErr = res.err
			cancel()
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if want[Package] {
		pkgs, err := Packages(ctx, tree)
		if err != nil {
			return err
		}
		byPath := map[string][]Finding{}
		var order []string
		for _, f := range pkgs {
			if _, ok := byPath[f.Path]; !ok {
				order = append(order, f.Path)
			}
			byPath[f.Path] = append(byPath[f.Path], f)
		}
		for _, p := range order {
			if err := fn(p, done, byPath[p]); err != nil {
				return err
			}
		}
	}
	return nil
}

// needsText reports whether an agent reads file contents.
func needsText(want map[Agent]bool) bool {
	return want[Nomos] || want[Monk] || want[Ojo] || want[Copyright] || want[Ecc] || want[Keyword]
}

// file runs the agents on one file.
func (r *Runner) file(tree *unpack.Tree, it unpack.Item, want map[Agent]bool, buf []byte) ([]Finding, error) {
	var out []Finding
	if want[Mimetype] {
		out = append(out, Finding{Agent: Mimetype, Path: it.Path, SHA1: it.Hash.SHA1, Type: TypeMimetype, Value: it.MimeType})
	}
	if !needsText(want) {
		return out, nil
	}
	text, err := readText(tree.FilePath(it), buf)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", it.Path, err)
	}
	if text == nil {
		return out, nil
	}
	return append(out, r.Text(text, it.Path, it.Hash.SHA1, want)...), nil
}

// Text runs the text agents of want on one file's decoded text.
func (r *Runner) Text(text []byte, path, sha1 string, want map[Agent]bool) []Finding {
	var out []Finding
	add := func(a Agent, t Type, value, expr, rule string, start, end int) {
		out = append(out, Finding{Agent: a, Path: path, SHA1: sha1, Type: t, Value: value, Expression: expr, Rule: rule, StartLine: start, EndLine: end})
	}
	if want[Nomos] || want[Monk] || want[Ojo] {
		for _, m := range r.det.Detect(text) {
			switch {
			case m.Kind == license.KindSPDXTag:
				if want[Ojo] {
					add(Ojo, TypeLicense, m.ID, m.Expression, m.Rule, m.StartLine, m.EndLine)
				}
				continue
			case want[Monk] && m.Rule == "licensecheck" && (m.Kind == license.KindFullText || m.Kind == license.KindHeaderNotice):
				add(Monk, TypeLicense, m.ID, "", m.Rule, m.StartLine, m.EndLine)
			}
			if want[Nomos] {
				add(Nomos, TypeLicense, m.ID, "", m.Rule, m.StartLine, m.EndLine)
			}
		}
	}
	var lower []byte
	var lines lineIndex
	prepare := func() {
		if lower == nil {
			lower, lines = asciiLower(text), newLineIndex(text)
		}
	}
	if want[Copyright] {
		for _, s := range copyright.Extract(text) {
			add(Copyright, TypeCopyright, s.Text, "", "statement", s.StartLine, s.EndLine)
		}
		prepare()
		seen := map[string]bool{}
		// Only the lines with an "@" can hold an address, and only those
		// with an author word an author line.
		lastLine := -1
		for off := 0; ; {
			i := bytes.IndexByte(text[off:], '@')
			if i < 0 {
				break
			}
			ls, le := lineAt(text, off+i)
			off = le
			if ls == lastLine {
				continue
			}
			lastLine = ls
			n := lines.line(ls)
			for _, m := range email.FindAll(text[ls:le], -1) {
				if v := string(m); !seen[v] {
					seen[v] = true
					add(Copyright, TypeEmail, v, "", "email", n, n)
				}
			}
		}
		lastLine = -1
		for _, sp := range r.authorWords.find(lower) {
			ls, le := lineAt(text, sp.start)
			if ls == lastLine {
				continue
			}
			lastLine = ls
			if m := author.FindSubmatch(text[ls:le]); m != nil {
				v := strings.TrimSpace(strings.TrimRight(string(m[1]), " */#;-"))
				if v != "" && !seen["author\x00"+v] {
					seen["author\x00"+v] = true
					n := lines.line(ls)
					add(Copyright, TypeAuthor, v, "", "author", n, n)
				}
			}
		}
	}
	if want[Ecc] || want[Keyword] {
		prepare()
		for _, k := range []struct {
			on    bool
			m     *wordMatcher
			agent Agent
			typ   Type
		}{{want[Ecc], r.ecc, Ecc, TypeEcc}, {want[Keyword], r.keyword, Keyword, TypeKeyword}} {
			if !k.on {
				continue
			}
			for _, sp := range k.m.find(lower) {
				add(k.agent, k.typ, sp.value, "", string(k.agent), lines.line(sp.start), lines.line(max(sp.start, sp.end-1)))
			}
		}
	}
	return out
}

// ReadText reads the start of the file at p (up to maxBytes) as text:
// nil for a binary file (NUL bytes in its first 8 KiB), Latin-1 decoded to
// UTF-8 if it is not UTF-8.
func ReadText(p string, maxBytes int) ([]byte, error) {
	return readText(p, make([]byte, maxBytes))
}

func readText(p string, buf []byte) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	text := buf[:n]
	if bytes.IndexByte(text[:min(len(text), 8<<10)], 0) >= 0 {
		return nil, nil
	}
	if !utf8.Valid(text) {
		trimmed := text
		// A capped file may end inside a rune.
		for i := 1; i <= utf8.UTFMax && i <= len(text); i++ {
			if utf8.RuneStart(text[len(text)-i]) {
				if !utf8.FullRune(text[len(text)-i:]) {
					trimmed = text[:len(text)-i]
				}
				break
			}
		}
		if !utf8.Valid(trimmed) {
			out := make([]byte, 0, len(text)+len(text)/8)
			for _, c := range text {
				out = utf8.AppendRune(out, rune(c))
			}
			return out, nil
		}
		text = trimmed
	}
	return text, nil
}
