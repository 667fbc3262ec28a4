// Package license finds the licenses of a file: SPDX-License-Identifier tags
// (parsed into normalised expressions), full license texts and long header
// notices (through github.com/google/licensecheck), and short notices and
// references from a table of patterns.
package license

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

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
}

// Detector finds licenses in texts. It is safe for concurrent use.
type Detector struct {
	rules []compiledRule
}

// NewDetector compiles the rule table and returns a Detector.
func NewDetector() (*Detector, error) {
	d := &Detector{}
	for _, r := range rules {
		c := compiledRule{rule: r}
		if r.pattern != "" {
			re, err := regexp.Compile(r.pattern)
			if err != nil {
				return nil, fmt.Errorf("compile license rule %s: %w", r.name, err)
			}
			c.re = re
		} else if len(r.all) == 0 {
			return nil, fmt.Errorf("license rule %s has neither pattern nor phrases", r.name)
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
// be UTF-8; the caller caps its size. Full license texts are looked for in the
// first 64 KiB; tags, notices and references in the whole text.
func (d *Detector) Detect(text []byte) []Match {
	lines := newLineIndex(text)
	var out []Match
	out = append(out, spdxTags(text, lines)...)
	for _, m := range licensecheck.Scan(text[:min(len(text), fullTextMax)]).Match {
		id, _ := CanonicalID(m.ID, false)
		k, conf := KindHeaderNotice, 0.9
		switch {
		case m.IsURL:
			k, conf = KindReference, 0.8
		case m.End-m.Start >= fullTextMin && !strings.HasSuffix(m.ID, "-only") && !strings.HasSuffix(m.ID, "-or-later"):
			k, conf = KindFullText, 0.95
		}
		out = append(out, Match{ID: id, Kind: k, Rule: "licensecheck", Start: m.Start, End: m.End, Confidence: conf})
	}
	out = append(out, d.ruleMatches(text)...)
	out = dropFallbacks(out)
	for i := range out {
		out[i].StartLine = lines.line(out[i].Start)
		out[i].EndLine = lines.line(max(out[i].Start, out[i].End-1))
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return strings.Compare(a.ID, b.ID)
	})
	return dedupe(out)
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
func spdxTags(text []byte, lines lineIndex) []Match {
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

// ruleMatches runs the rule table over the cleaned text.
func (d *Detector) ruleMatches(text []byte) []Match {
	clean, origin := cleanText(text)
	var out []Match
	for _, r := range d.rules {
		if !bytes.Contains(clean, []byte(r.keyword)) || slices.ContainsFunc(r.none, func(p string) bool { return bytes.Contains(clean, []byte(p)) }) {
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
		kw := []byte(r.keyword)
		seen := map[int]bool{}
		for off := 0; off < len(clean); {
			i := bytes.Index(clean[off:], kw)
			if i < 0 {
				break
			}
			i += off
			lo, hi := max(0, i-windowBefore), min(len(clean), i+len(kw)+windowAfter)
			// Extend the window over further keyword occurrences inside it.
			for {
				j := bytes.Index(clean[min(hi, i+len(kw)):hi], kw)
				if j < 0 {
					break
				}
				i = min(hi, i+len(kw)) + j
				hi = min(len(clean), i+len(kw)+windowAfter)
			}
			off = hi
			for _, loc := range r.re.FindAllSubmatchIndex(clean[lo:hi], -1) {
				for k := range loc {
					if loc[k] >= 0 {
						loc[k] += lo
					}
				}
				if seen[loc[0]] {
					continue
				}
				seen[loc[0]] = true
				start, end := int(origin[loc[0]]), int(origin[loc[1]-1])+1
				for _, id := range ruleIDs(r, clean, loc) {
					out = append(out, Match{ID: id, Kind: r.kind, Rule: r.name, Start: start, End: end, Confidence: r.confidence})
				}
			}
		}
	}
	return out
}

// ruleIDs returns the licenses one match of r names.
func ruleIDs(r compiledRule, clean []byte, loc []int) []string {
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
	if r.re.SubexpIndex("fam") >= 0 {
		fam, _ := group("fam")
		ver, hasVer := group("ver")
		later, _ := group("later")
		family := gnuFamily[fam]
		if !hasVer {
			// No version: any version may be chosen.
			v := map[string]string{"": "1.0", "lesser ": "2.1", "library ": "2.0", "affero ": "3.0"}[fam]
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
func allPhrases(clean []byte, phrases []string) ([2]int, bool) {
	span := [2]int{len(clean), 0}
	for _, p := range phrases {
		i := bytes.Index(clean, []byte(p))
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
func dropFallbacks(ms []Match) []Match {
	fallback := map[string]bool{}
	for _, r := range rules {
		if r.fallback {
			fallback[r.name] = true
		}
	}
	specific := map[string]bool{}
	for _, m := range ms {
		if !fallback[m.Rule] {
			specific[family(m.ID)] = true
		}
	}
	return slices.DeleteFunc(ms, func(m Match) bool { return fallback[m.Rule] && specific[family(m.ID)] })
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
