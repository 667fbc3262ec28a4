package license

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/google/licensecheck"
	"github.com/stretchr/testify/require"
)

// TestRuleHints checks the invariant that lets rules run only around hints:
// every keyword and every all/none phrase contains a forRules hint word, and
// no hint word contains a space.
func TestRuleHints(t *testing.T) {
	t.Parallel()
	has := func(s string) bool {
		return slices.ContainsFunc(hintWords, func(h struct {
			word string
			use  hintUse
		}) bool {
			return h.use&forRules != 0 && strings.Contains(s, h.word)
		})
	}
	for _, h := range hintWords {
		require.NotContains(t, h.word, " ", h.word)
		require.Equal(t, strings.ToLower(h.word), h.word)
	}
	for _, r := range rules {
		if !has(r.keyword) {
			// Then every match of the pattern must contain a hint word.
			re, err := syntax.Parse(r.pattern, syntax.Perl)
			require.NoError(t, err)
			re = re.Simplify()
			require.True(t, slices.ContainsFunc(hintWords, func(h struct {
				word string
				use  hintUse
			}) bool {
				return h.use&forRules != 0 && alwaysContains(re, h.word)
			}), "rule %s: neither keyword %q nor every match has a hint word", r.name, r.keyword)
		}
		for _, p := range append(slices.Clone(r.all), r.none...) {
			require.True(t, has(p), "rule %s: phrase %q has no hint word", r.name, p)
		}
	}
}

// alwaysContains reports whether every text re matches contains word
// (conservatively: false when unsure).
func alwaysContains(re *syntax.Regexp, word string) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return strings.Contains(string(re.Rune), word)
	case syntax.OpCapture, syntax.OpPlus:
		return alwaysContains(re.Sub[0], word)
	case syntax.OpRepeat:
		return re.Min > 0 && alwaysContains(re.Sub[0], word)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !alwaysContains(sub, word) {
				return false
			}
		}
		return true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if alwaysContains(sub, word) {
				return true
			}
		}
	}
	return false
}

func TestHintMatcher(t *testing.T) {
	t.Parallel()
	m, err := newHintMatcher()
	require.NoError(t, err)
	// Compare with a naive search on random texts made of hint words,
	// their prefixes and noise, in mixed case.
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{" ", "\n", "x", "LICENSE", "copy", "Copyright", "gp", "GPL", "licenLizenz", "redistribution", "distribut", "zlib.h", "zlib", "©", "permitted"}
	for n := range 200 {
		var b strings.Builder
		for range rng.IntN(40 + 20*n) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := []byte(b.String())
		var want []hit
		low := bytes.ToLower(text)
		for end := 1; end <= len(low); end++ {
			best, use := "", hintUse(0)
			for _, h := range hintWords {
				if bytes.HasSuffix(low[:end], []byte(h.word)) {
					use |= h.use
					if len(h.word) > len(best) {
						best = h.word
					}
				}
			}
			if best != "" {
				want = append(want, hit{start: end - len(best), end: end, use: use})
			}
		}
		var lane [lanes][]hit
		require.Equal(t, want, m.find(text, nil, &lane), "text %d: %q", n, text)
	}
}

func TestRegions(t *testing.T) {
	t.Parallel()
	line := strings.Repeat("x", 99) + "\n" // 100 bytes a line
	text := []byte(strings.Repeat(line, 100))
	at := func(off int) hit { return hit{start: off, end: off + 5, use: forRules} }
	tests := []struct {
		name            string
		hits            []hit
		lead, tail, gap int
		limit           int
		want            []region
	}{
		{name: "none", want: nil, lead: 100, tail: 100, gap: 200, limit: len(text)},
		{name: "one, widened to lines", hits: []hit{at(1050)}, lead: 100, tail: 100, gap: 200, limit: len(text), want: []region{{900, 1200}}},
		{name: "two apart", hits: []hit{at(1050), at(5050)}, lead: 100, tail: 100, gap: 200, limit: len(text), want: []region{{900, 1200}, {4900, 5200}}},
		{name: "joined by gap", hits: []hit{at(1050), at(5050)}, lead: 100, tail: 100, gap: 5000, limit: len(text), want: []region{{900, 5200}}},
		{name: "clamped at both ends", hits: []hit{at(10), at(9990)}, lead: 500, tail: 500, gap: 200, limit: len(text), want: []region{{0, 600}, {9400, 10000}}},
		{name: "limit", hits: []hit{at(1050), at(5050)}, lead: 100, tail: 100, gap: 200, limit: 2000, want: []region{{900, 1200}}},
		{name: "other use ignored", hits: []hit{{start: 1050, end: 1055, use: forCheck}}, lead: 100, tail: 100, gap: 200, limit: len(text), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := regions(text, tt.hits, forRules, tt.lead, tt.tail, tt.gap, tt.limit, nil)
			require.Equal(t, tt.want, got)
		})
	}
	// One huge line: regions are not widened past maxWiden.
	long := []byte(strings.Repeat("y", 100_000))
	got := regions(long, []hit{at(50_000)}, forRules, 10, 10, 20, len(long), nil)
	require.Equal(t, []region{{50_000 - 10 - maxWiden, 50_005 + 10 + maxWiden}}, got)
}

func TestMaxMatchLen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		want    int
		ok      bool
	}{
		{`\babc\b`, 3, true},
		{`ab(?:cd|e)?`, 4, true},
		{`a[bc]{2,3}`, 1 + 3*4, true},
		{`a\w+`, 0, false},
		{`a.*`, 0, false},
		{`©`, 2, true},
	}
	for _, tt := range tests {
		n, ok := maxMatchLen(tt.pattern)
		require.Equal(t, tt.ok, ok, tt.pattern)
		require.Equal(t, tt.want, n, tt.pattern)
	}
}

// TestDetectFarApart checks that notices far into a long file, and a full
// text followed by a long body, are found as in a short one.
func TestDetectFarApart(t *testing.T) {
	t.Parallel()
	d, err := NewDetector()
	require.NoError(t, err)
	body := strings.Repeat("int f(int x) { return x * 2; } /* nothing to see here */\n", 2000)
	text := gpl2Header + body + "/* Licensed under the Apache License 2.0 */\n" + body +
		"# This file is placed in the public domain.\n"
	ms := d.Detect([]byte(text))
	require.Equal(t, []string{"Apache-2.0", "GPL-2.0-or-later", PublicDomain}, IDs(ms))
	for _, m := range ms {
		require.Contains(t, text[m.Start:m.End], map[string]string{"Apache-2.0": "Apache", "GPL-2.0-or-later": "General Public", PublicDomain: "public domain"}[m.ID])
		require.Equal(t, strings.Count(text[:m.Start], "\n")+1, m.StartLine)
	}
}

const gpl2Header = `/*
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or
 * (at your option) any later version.
 */
`

// TestDetectFullTextsAsWhole checks that running licensecheck on regions
// finds the same full texts as running it on the whole text, for long
// license texts (GPL-3.0 has 3.8 KB between two hint words), alone and
// inside a long file.
func TestDetectFullTextsAsWhole(t *testing.T) {
	t.Parallel()
	d, err := NewDetector()
	require.NoError(t, err)
	filler := strings.Repeat("static int g(int y) { return y + 1; }\n", 300)
	for _, name := range []string{"GPL-3.0", "Apache-2.0", "LGPL-2.1"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name+".txt"))
		require.NoError(t, err)
		for _, text := range []string{string(raw), filler + string(raw) + filler} {
			whole := licensecheck.Scan([]byte(text))
			require.NotEmpty(t, whole.Match, name)
			var want, got []string
			for _, m := range whole.Match {
				id, _ := CanonicalID(m.ID, false)
				want = append(want, fmt.Sprintf("%s %d-%d", id, m.Start, m.End))
			}
			for _, m := range d.Detect([]byte(text)) {
				if m.Rule == "licensecheck" {
					got = append(got, fmt.Sprintf("%s %d-%d", m.ID, m.Start, m.End))
				}
			}
			require.Equal(t, want, got, name)
		}
	}
}

// TestRuleSpans checks the span of rules whose patterns are unbounded.
func TestRuleSpans(t *testing.T) {
	t.Parallel()
	longest := 0
	for _, id := range knownIDs() {
		longest = max(longest, len(id))
	}
	for _, r := range rules {
		if r.pattern == "" {
			continue
		}
		if _, ok := maxMatchLen(r.pattern); ok {
			require.Zero(t, r.span, "rule %s is bounded: span is not used", r.name)
			continue
		}
		require.Positive(t, r.span, "rule %s is unbounded and has no span", r.name)
		if r.name == "spdx-short-field" {
			require.GreaterOrEqual(t, r.span, len(`licence = "`)+longest+len(`";`), "an id the rule accepts fits in span")
		}
	}
}
