// Package license finds the licenses of a file: SPDX-License-Identifier tags
// (parsed into normalised expressions), full license texts and long header
// notices (through github.com/google/licensecheck), and short notices and
// references from a table of patterns.
package license

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/licensecheck"
)

// Kind says how a license was found.
type Kind string

// The kinds of license match.
const (
	// KindSPDXTag is an SPDX-License-Identifier tag.
	KindSPDXTag Kind = "spdx-tag"
	// KindFullText is the full text of a license.
	KindFullText Kind = "full-text"
	// KindHeaderNotice is a license notice of the kind put at the top of a file.
	KindHeaderNotice Kind = "header-notice"
	// KindReference is a short reference: "GPL-2+", "Licensed under the Apache
	// License, Version 2.0", a license URL.
	KindReference Kind = "reference"
	// KindPublicDomain is a public-domain dedication.
	KindPublicDomain Kind = "public-domain"
)

// Kinds lists every match kind.
func Kinds() []Kind {
	return []Kind{KindSPDXTag, KindFullText, KindHeaderNotice, KindReference, KindPublicDomain}
}

// Match is one license found in a text.
type Match struct {
	// ID is the SPDX license id (or LicenseRef-public-domain).
	ID string `json:"id"`
	// Kind says how the license was found.
	Kind Kind `json:"kind"`
	// Expression is the whole normalised expression of an SPDX tag; empty for
	// other kinds.
	Expression string `json:"expression,omitempty"`
	// Rule names the pattern rule that matched, or "licensecheck" or "spdx-tag".
	Rule string `json:"rule"`
	// Start is the byte offset where the match starts.
	Start int `json:"start"`
	// End is the byte offset just after the match.
	End int `json:"end"`
	// StartLine is the 1-based line where the match starts.
	StartLine int `json:"start_line"`
	// EndLine is the 1-based line where the match ends.
	EndLine int `json:"end_line"`
	// Confidence is how sure the match is, from 0 to 1.
	Confidence float64 `json:"confidence"`
	// RefFile is set when the license text is in another file that the
	// match points to (a "see COPYING" pointer resolved by a tree scan, a
	// REUSE .reuse/dep5 paragraph): its slash-separated path relative to
	// the scan root. Start to EndLine are then the pointer in this file
	// (zero for .reuse/dep5), RefStartLine and RefEndLine the lines of the
	// license in RefFile.
	RefFile      string `json:"ref_file,omitempty"`
	RefStartLine int    `json:"ref_start_line,omitempty"`
	RefEndLine   int    `json:"ref_end_line,omitempty"`
}

// windowBefore and windowAfter bound the text around a keyword that a rule's
// pattern is run on; every pattern fits in them.
const (
	windowBefore = 300
	windowAfter  = 400
)

// compiledRule is a rule with its pattern compiled.
type compiledRule struct {
	rule
	re *regexp.Regexp
	// before and after bound the cleaned text around a keyword occurrence
	// that the pattern runs on: the pattern's longest match when it has one,
	// windowBefore and windowAfter otherwise.
	before, after int
	keyword       []byte
	all           [][]byte
	none          [][]byte
}

// Detector finds licenses in texts. It is safe for concurrent use.
type Detector struct {
	rules    []compiledRule
	fallback map[string]bool
	alone    map[string]bool
	hints    *hintMatcher
	// pool holds *scratch buffers reused across calls.
	pool sync.Pool
}

// scratch is the per-call working memory of Detect.
type scratch struct {
	hits   []hit
	lanes  [lanes][]hit
	regs   []region
	clean  []byte
	origin []int32
}

// NewDetector compiles the rule table and returns a Detector.
func NewDetector() (*Detector, error) {
	hints, err := newHintMatcher()
	if err != nil {
		return nil, err
	}
	d := &Detector{fallback: map[string]bool{}, alone: map[string]bool{}, hints: hints}
	d.pool.New = func() any { return &scratch{} }
	for _, r := range rules {
		c := compiledRule{rule: r, keyword: []byte(r.keyword)}
		for _, p := range r.all {
			c.all = append(c.all, []byte(p))
		}
		for _, p := range r.none {
			c.none = append(c.none, []byte(p))
		}
		if r.pattern != "" {
			re, err := regexp.Compile(r.pattern)
			if err != nil {
				return nil, fmt.Errorf("compile license rule %s: %w", r.name, err)
			}
			c.re = re
			c.before, c.after = windowBefore, windowAfter
			if n, ok := maxMatchLen(r.pattern); ok {
				c.before, c.after = n, n
			} else if r.span > 0 {
				c.before, c.after = r.span, r.span
			}
		} else if len(r.all) == 0 {
			return nil, fmt.Errorf("license rule %s has neither pattern nor phrases", r.name)
		}
		if r.fallback {
			d.fallback[r.name] = true
		}
		if r.alone {
			d.alone[r.name] = true
		}
		d.rules = append(d.rules, c)
	}
	return d, nil
}

// fullTextMin is the length from which a licensecheck match without an
// -only/-or-later id counts as a full text rather than a notice.
const fullTextMin = 600

// fullTextMax is how much of a text is matched against full license texts:
// the longest common texts (GPL-3.0, about 35 KB) fit well, and license texts
// sit at the top of a file or in a file of their own.
const fullTextMax = 64 << 10

// Detect returns the licenses found in text, ordered by position. text should
// be UTF-8; the caller caps its size. SPDX tags are looked for in the whole
// text; full license texts and notices in the first 64 KiB, and notice and
// reference rules in the whole text, each only around hint words (see
// hints.go).
func (d *Detector) Detect(text []byte) []Match {
	ms, _ := d.DetectRefs(text)
	return ms
}

// DetectRefs is Detect that also returns the text's pointers to other
// files that hold its license ("see the file COPYING"), ordered by
// position; a tree scan resolves them.
func (d *Detector) DetectRefs(text []byte) ([]Match, []FileRef) {
	w := d.pool.Get().(*scratch)
	defer d.pool.Put(w)
	var refs []FileRef
	out := spdxTags(text)
	w.hits = d.hints.find(text, w.hits[:0], &w.lanes)
	if len(w.hits) > 0 {
		w.regs = regions(text, w.hits, forCheck, checkLead, checkTail, checkGap, fullTextMax, w.regs[:0])
		for _, r := range w.regs {
			for _, m := range licensecheck.Scan(text[r.start:r.end]).Match {
				id, _ := CanonicalID(m.ID, false)
				k, conf := KindHeaderNotice, 0.9
				switch {
				case m.IsURL:
					k, conf = KindReference, 0.8
				case m.End-m.Start >= fullTextMin && !strings.HasSuffix(m.ID, "-only") && !strings.HasSuffix(m.ID, "-or-later"):
					k, conf = KindFullText, 0.95
				}
				out = append(out, Match{ID: id, Kind: k, Rule: "licensecheck", Start: r.start + m.Start, End: r.start + m.End, Confidence: conf})
			}
		}
		w.regs = regions(text, w.hits, forRules, rulesMargin, rulesMargin, 2*rulesMargin, len(text), w.regs[:0])
		w.clean, w.origin = w.clean[:0], w.origin[:0]
		for i, r := range w.regs {
			if i > 0 {
				// No pattern or phrase matches a newline: matches never
				// join two regions.
				w.clean, w.origin = append(w.clean, '\n'), append(w.origin, int32(r.start))
			}
			w.clean, w.origin = cleanText(text[r.start:r.end], r.start, w.clean, w.origin)
		}
		out = append(out, d.ruleMatches(w.clean, w.origin)...)
		refs = findPointers(w.clean, w.origin, nil)
	}
	if len(refs) > 0 {
		setRefLines(text, refs)
	}
	if len(out) == 0 {
		return nil, refs
	}
	out = d.dropFallbacks(out)
	out = d.dropInferred(out)
	out = d.dropSuperseded(out)
	out = dropWeakOnly(out)
	out = dropInsideTexts(out)
	out = dropTextOfNotice(out)
	setLines(text, out)
	slices.SortStableFunc(out, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return strings.Compare(a.ID, b.ID)
	})
	return dedupe(out), refs
}

// IDs returns the sorted, distinct license ids of matches.
func IDs(matches []Match) []string {
	ids := make([]string, 0, len(matches))
	for _, m := range matches {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

var spdxTag = []byte("SPDX-License-Identifier:")

// spdxTags finds SPDX-License-Identifier tags and parses their expressions.
// A tag whose expression does not parse is ignored.
func spdxTags(text []byte) []Match {
	var out []Match
	for off := 0; ; {
		i := bytes.Index(text[off:], spdxTag)
		if i < 0 {
			return out
		}
		start := off + i
		valStart := start + len(spdxTag)
		end := valStart
		for end < len(text) && text[end] != '\n' && text[end] != '\r' {
			end++
		}
		off = end
		val := string(text[valStart:end])
		// Cut comment closers and anything after the expression.
		if j := strings.IndexFunc(val, func(r rune) bool {
			return !(r == ' ' || r == '\t' || r == '(' || r == ')' || r == '+' || r == '.' || r == '-' || r == ':' ||
				r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}); j >= 0 {
			val = val[:j]
		}
		e, err := ParseExpression(strings.TrimSpace(val))
		if err != nil {
			continue
		}
		expr := e.String()
		for _, id := range e.Licenses() {
			out = append(out, Match{ID: id, Kind: KindSPDXTag, Expression: expr, Rule: "spdx-tag",
				Start: start, End: valStart + len(strings.TrimRight(val, " \t")), Confidence: 1})
		}
	}
}

// ruleMatches runs the rule table over cleaned text; origin maps each byte
// of clean to the offset of the byte of the original text it came from.
func (d *Detector) ruleMatches(clean []byte, origin []int32) []Match {
	var out []Match
	var seen []int
	for i := range d.rules {
		r := &d.rules[i]
		if !bytes.Contains(clean, r.keyword) || slices.ContainsFunc(r.none, func(p []byte) bool { return bytes.Contains(clean, p) }) {
			continue
		}
		if r.re == nil {
			if loc, ok := allPhrases(clean, r.all); ok {
				for _, id := range r.ids {
					out = append(out, Match{ID: id, Kind: r.kind, Rule: r.name, Start: int(origin[loc[0]]), End: int(origin[loc[1]-1]) + 1, Confidence: r.confidence})
				}
			}
			continue
		}
		// Run the pattern only on windows around the keyword: every pattern
		// contains its keyword, and this keeps large files fast.
		kw := r.keyword
		seen = seen[:0]
		for off := 0; off < len(clean); {
			i := bytes.Index(clean[off:], kw)
			if i < 0 {
				break
			}
			i += off
			lo, hi := max(0, i-r.before), min(len(clean), i+len(kw)+r.after)
			// Extend the window over further keyword occurrences that
			// start inside it, also one that runs past its end: a match
			// around that one may end up to r.after bytes after it.
			for {
				from, to := i+len(kw), min(len(clean), hi+len(kw)-1)
				if from >= to {
					break
				}
				j := bytes.Index(clean[from:to], kw)
				if j < 0 {
					break
				}
				i = from + j
				hi = min(len(clean), i+len(kw)+r.after)
			}
			off = hi
			// Start and end the window between words, so that \b at its
			// edges means what it means in the whole text.
			lo, hi = wordStart(clean, lo), wordEnd(clean, hi)
			for _, loc := range r.re.FindAllSubmatchIndex(clean[lo:hi], -1) {
				for k := range loc {
					if loc[k] >= 0 {
						loc[k] += lo
					}
				}
				if slices.Contains(seen, loc[0]) || negated(clean, loc[0]) {
					continue
				}
				seen = append(seen, loc[0])
				start, end := int(origin[loc[0]]), int(origin[loc[1]-1])+1
				for _, id := range ruleIDs(r, clean, loc) {
					out = append(out, Match{ID: id, Kind: r.kind, Rule: r.name, Start: start, End: end, Confidence: r.confidence})
				}
			}
		}
	}
	return out
}

// negated reports whether the match at off is negated by the word before
// it: gettext's m4 files say they "can be used in projects which are not
// available under the GNU General Public License".
func negated(clean []byte, off int) bool {
	return off >= 4 && string(clean[off-4:off]) == "not "
}

// wordStart moves off back to the start of the word it is in (at most 64
// bytes).
func wordStart(clean []byte, off int) int {
	for n := 0; off > 0 && n < 64 && clean[off-1] != ' ' && clean[off-1] != '\n'; n++ {
		off--
	}
	return off
}

// wordEnd moves off on to the end of the word it is in (at most 64 bytes).
func wordEnd(clean []byte, off int) int {
	for n := 0; off < len(clean) && n < 64 && clean[off] != ' ' && clean[off] != '\n'; n++ {
		off++
	}
	return off
}

// maxMatchLen returns the length in bytes of the longest text pattern can
// match, and false when that is unbounded.
func maxMatchLen(pattern string) (int, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, false
	}
	return syntaxMaxLen(re.Simplify())
}

// syntaxMaxLen is maxMatchLen over a parsed expression.
func syntaxMaxLen(re *syntax.Regexp) (int, bool) {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, true
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		return n, true
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax, true
	case syntax.OpCapture, syntax.OpQuest:
		return syntaxMaxLen(re.Sub[0])
	case syntax.OpConcat, syntax.OpAlternate:
		total := 0
		for _, sub := range re.Sub {
			n, ok := syntaxMaxLen(sub)
			if !ok {
				return 0, false
			}
			if re.Op == syntax.OpConcat {
				total += n
			} else {
				total = max(total, n)
			}
		}
		return total, true
	case syntax.OpRepeat:
		n, ok := syntaxMaxLen(re.Sub[0])
		if !ok || re.Max < 0 {
			return 0, false
		}
		return n * re.Max, true
	}
	return 0, false // OpStar, OpPlus
}

// ruleIDs returns the licenses one match of r names.
func ruleIDs(r *compiledRule, clean []byte, loc []int) []string {
	group := func(name string) (string, bool) {
		i := r.re.SubexpIndex(name)
		if i < 0 || loc[2*i] < 0 {
			return "", false
		}
		return string(clean[loc[2*i]:loc[2*i+1]]), true
	}
	if raw, ok := group("id"); ok {
		id := strings.TrimSuffix(raw, "+")
		if !Known(id) {
			return nil
		}
		c, plus := CanonicalID(id, id != raw)
		if plus {
			c += "+"
		}
		return []string{c}
	}
	if ver, ok := group("gfdl"); ok {
		if _, title := group("title"); title {
			return nil
		}
		id := "GFDL-" + ver
		if _, niv := group("niv"); niv {
			id += "-no-invariants"
		}
		if _, later := group("later"); later {
			return []string{id + "-or-later"}
		}
		return []string{id + "-only"}
	}
	if raw, ok := group("name"); ok {
		if id, ok := namedID(raw); ok {
			return []string{id}
		}
		return nil
	}
	if r.re.SubexpIndex("fam") >= 0 {
		fam, _ := group("fam")
		ver, hasVer := group("ver")
		later, _ := group("later")
		family := gnuFamily[fam]
		if !hasVer {
			// No version: any version may be chosen.
			v := map[string]string{"": "1.0", "lesser ": "2.1", "library ": "2.0", "affero ": "3.0", "l": "2.0", "a": "3.0"}[fam]
			id, _ := CanonicalID(family+"-"+v, true)
			return []string{id}
		}
		id, _ := CanonicalID(family+"-"+gnuVersion[ver], later != "")
		return []string{id}
	}
	return r.ids
}

// allPhrases reports whether every phrase occurs in clean and returns the
// span from the first occurrence of the first to the end of the last.
func allPhrases(clean []byte, phrases [][]byte) ([2]int, bool) {
	span := [2]int{len(clean), 0}
	for _, p := range phrases {
		i := bytes.Index(clean, p)
		if i < 0 {
			return span, false
		}
		span[0], span[1] = min(span[0], i), max(span[1], i+len(p))
	}
	return span, true
}

// family returns the license family of an id: "GPL" for "GPL-2.0-or-later".
func family(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}

// dropFallbacks removes matches of fallback rules when a match of the same
// family comes from elsewhere.
func (d *Detector) dropFallbacks(ms []Match) []Match {
	if !slices.ContainsFunc(ms, func(m Match) bool { return d.fallback[m.Rule] }) {
		return ms
	}
	specific := map[string]bool{}
	for _, m := range ms {
		if !d.fallback[m.Rule] {
			specific[family(m.ID)] = true
		}
	}
	return slices.DeleteFunc(ms, func(m Match) bool { return d.fallback[m.Rule] && specific[family(m.ID)] })
}

// dropInferred removes the matches of alone rules when the file states
// another license.
func (d *Detector) dropInferred(ms []Match) []Match {
	alone := func(m Match) bool { return d.alone[m.Rule] }
	if !slices.ContainsFunc(ms, alone) || !slices.ContainsFunc(ms, func(m Match) bool { return !alone(m) }) {
		return ms
	}
	return slices.DeleteFunc(ms, alone)
}

// dropSuperseded removes the ids a matching rule supersedes.
func (d *Detector) dropSuperseded(ms []Match) []Match {
	var gone []string
	for _, m := range ms {
		for i := range d.rules {
			if d.rules[i].name == m.Rule {
				gone = append(gone, d.rules[i].supersedes...)
			}
		}
	}
	if len(gone) == 0 {
		return ms
	}
	return slices.DeleteFunc(ms, func(m Match) bool { return slices.Contains(gone, m.ID) })
}

// dropWeakOnly removes a reference to "X-only" when the file's notice, full
// text or tag says "X-or-later" of the same version: a text that quotes
// "section 7 of the GNU General Public License, version 3" under a
// version-3-or-later notice is not also version 3 only.
func dropWeakOnly(ms []Match) []Match {
	later := map[string]bool{}
	for _, m := range ms {
		if m.Kind != KindReference && strings.HasSuffix(m.ID, "-or-later") {
			later[strings.TrimSuffix(m.ID, "-or-later")] = true
		}
	}
	if len(later) == 0 {
		return ms
	}
	return slices.DeleteFunc(ms, func(m Match) bool {
		return m.Kind == KindReference && strings.HasSuffix(m.ID, "-only") && later[strings.TrimSuffix(m.ID, "-only")]
	})
}

// dropInsideTexts removes the matches that lie inside the span of a full
// license text of another id: they are part of that text, not licenses of
// the file (the GPL-3.0's "How to Apply These Terms" example notice, its
// section 13 on the GNU Affero General Public License, version 3; the
// GFDL's own notice example). SPDX tags are kept.
func dropInsideTexts(ms []Match) []Match {
	var texts []Match
	for _, m := range ms {
		if m.Kind == KindFullText && m.End-m.Start >= fullTextMin {
			texts = append(texts, m)
		}
	}
	if len(texts) == 0 {
		return ms
	}
	return slices.DeleteFunc(ms, func(m Match) bool {
		return m.Kind != KindSPDXTag && slices.ContainsFunc(texts, func(t Match) bool {
			return t.Start <= m.Start && m.End <= t.End && t.End-t.Start > m.End-m.Start
		})
	})
}

// gnuBase is the license and version of a GNU id without its -only,
// -or-later and -no-invariants parts: "GFDL-1.3" of
// "GFDL-1.3-no-invariants-or-later"; "" for other ids.
func gnuBase(id string) string {
	m := gnuBaseRe.FindStringSubmatch(id)
	if m == nil {
		return ""
	}
	return m[1]
}

var gnuBaseRe = regexp.MustCompile(`^((?:A|L)?GPL-\d\.\d|GFDL-\d\.\d)(?:-invariants|-no-invariants)?(?:-only|-or-later)$`)

// dropTextOfNotice removes the full text of a GNU license (which reads as
// -only: a text says nothing about later versions) when the file's notice
// names that license and version outside it: the notice says on which
// terms ("version 1.3 or any later version, with no Invariant Sections"),
// the text is the license it refers to (an info manual with the GFDL as
// its appendix). Only a notice before the text counts: the example notice
// after the GPL's text ("How to Apply These Terms") is no notice of the
// file.
func dropTextOfNotice(ms []Match) []Match {
	notices := map[string]int{} // base → end of its first notice
	for _, m := range ms {
		if m.Kind == KindHeaderNotice || m.Kind == KindSPDXTag {
			if b := gnuBase(m.ID); b != "" {
				if e, ok := notices[b]; !ok || m.End < e {
					notices[b] = m.End
				}
			}
		}
	}
	if len(notices) == 0 {
		return ms
	}
	return slices.DeleteFunc(ms, func(m Match) bool {
		e, ok := notices[gnuBase(m.ID)]
		return ok && m.Kind == KindFullText && strings.HasSuffix(m.ID, "-only") && e <= m.Start
	})
}

// dedupe drops a match whose id is already reported by an earlier match that
// overlaps it, keeping the one with the higher confidence first in order.
func dedupe(ms []Match) []Match {
	out := ms[:0]
	for _, m := range ms {
		dup := false
		for j := range out {
			o := &out[j]
			if o.ID == m.ID && m.Start < o.End && o.Start < m.End {
				if m.Confidence > o.Confidence {
					*o = m
				}
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, m)
		}
	}
	return out
}
