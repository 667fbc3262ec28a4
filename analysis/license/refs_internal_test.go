package license

import (
	"bytes"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPointerWindows checks that running each pointer pattern on the
// windows around its anchors finds exactly what it finds on the whole
// cleaned text: the pointers of the tests, alone, at the edges of a text,
// next to each other and inside license texts and random prose.
func TestPointerWindows(t *testing.T) {
	t.Parallel()
	phrases := []string{
		"See the file COPYING for copying permission.",
		"that can be found in the LICENSE file.",
		"see LICENSE.txt for details",
		"For conditions of distribution and use, see the disclaimer\n and license in png.h",
		"For licensing information, see the copyright notice at the beginning of the file foo_bar-baz.c.",
		"The terms are described in the accompanying file \"COPYING.LIB\".",
		"are set forth in the top-level file README.md",
		"see the accompanying files `LICENSE-MIT' and COPYRIGHT",
		"for the full license text, see license in LICENSE",
		"see the manual for details; copy the file to /tmp",
		"is reproduced in copyright",
	}
	var texts []string
	texts = append(texts, phrases...)
	for _, f := range []string{"testdata/GPL-3.0.txt", "testdata/LGPL-2.1.txt", "testdata/Apache-2.0.txt", "testdata/Artistic-dist.txt"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		texts = append(texts, string(b))
	}
	words := strings.Fields("see the file in license copying for conditions of distribution and use readme copyright x.h " +
		"found described notice at top of licenses accompanying details text , .")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		var b strings.Builder
		for range 40 + rng.IntN(200) {
			if rng.IntN(12) == 0 {
				b.WriteString(phrases[rng.IntN(len(phrases))])
			} else {
				b.WriteString(words[rng.IntN(len(words))])
			}
			b.WriteString([]string{" ", " ", "\n", "\n * "}[rng.IntN(4)])
		}
		texts = append(texts, b.String())
	}
	texts = append(texts, strings.Join(phrases, " "), strings.Join(phrases, "\n"))
	found := 0
	for _, text := range texts {
		clean, origin := cleanText([]byte(text), 0, nil, nil)
		got := findPointers(clean, origin, nil)
		var want []FileRef
		for _, p := range pointers {
			i := p.re.SubexpIndex("file")
			for _, loc := range p.re.FindAllSubmatchIndex(clean, -1) {
				name := strings.TrimRight(string(clean[loc[2*i]:loc[2*i+1]]), ".")
				want = append(want, FileRef{Name: name, Rule: p.name, Start: int(origin[loc[0]]), End: int(origin[loc[1]-1]) + 1})
			}
		}
		cmp := func(a, b FileRef) int {
			if a.Start != b.Start {
				return a.Start - b.Start
			}
			return strings.Compare(a.Rule, b.Rule)
		}
		slices.SortFunc(got, cmp)
		slices.SortFunc(want, cmp)
		require.Equal(t, want, got, "%q", text)
		found += len(want)
	}
	require.Greater(t, found, 300)
}

// TestRuleWindows checks that running each rule pattern on the windows
// around its keyword finds the matches it finds on the whole cleaned text:
// notices alone, repeated, next to a second occurrence of their keyword
// (dist's "modified Artistic License:" a line before Perl's notice) and
// inside license texts and random prose.
func TestRuleWindows(t *testing.T) {
	t.Parallel()
	d, err := NewDetector()
	require.NoError(t, err)
	phrases := []string{
		"In accordance with clause 7 of dist's modified Artistic License:",
		"You may distribute under the terms of either the GNU General Public License or the Artistic License, as specified in the README file.",
		"under the terms of either: the GNU General Public License as published by the Free Software Foundation; or the Artistic License.",
		"Licensed under the GPLv2 or later.",
		"the Artistic License", "GNU General Public License", "GPL", "license",
		"under the terms of the GNU Lesser General Public License as published by the Free Software Foundation; either version 2.1 of the License, or (at your option) any later version.",
		"released under the libpng license", "Licensed under the MIT license.", "placed in the public domain",
		"under the same terms as Perl itself",
	}
	var texts []string
	texts = append(texts, phrases...)
	for _, f := range []string{"testdata/GPL-3.0.txt", "testdata/LGPL-2.1.txt", "testdata/Artistic-dist.txt"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		texts = append(texts, string(b))
	}
	words := strings.Fields("the under of terms either or license licensed gnu general public artistic as published by free software foundation perl itself , . ;")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		var b strings.Builder
		for range 40 + rng.IntN(200) {
			if rng.IntN(8) == 0 {
				b.WriteString(phrases[rng.IntN(len(phrases))])
			} else {
				b.WriteString(words[rng.IntN(len(words))])
			}
			b.WriteString([]string{" ", " ", "\n", "\n * "}[rng.IntN(4)])
		}
		texts = append(texts, b.String())
	}
	type hit struct {
		rule  string
		start int
	}
	found := 0
	for _, text := range texts {
		clean, origin := cleanText([]byte(text), 0, nil, nil)
		var got, want []hit
		for _, m := range d.ruleMatches(clean, origin) {
			if !slices.ContainsFunc(d.rules, func(r compiledRule) bool { return r.name == m.Rule && r.re == nil }) {
				got = append(got, hit{m.Rule, m.Start})
			}
		}
		for i := range d.rules {
			r := &d.rules[i]
			if r.re == nil || !bytes.Contains(clean, r.keyword) ||
				slices.ContainsFunc(r.none, func(p []byte) bool { return bytes.Contains(clean, p) }) {
				continue
			}
			for _, loc := range r.re.FindAllSubmatchIndex(clean, -1) {
				if negated(clean, loc[0]) {
					continue
				}
				for range ruleIDs(r, clean, loc) {
					want = append(want, hit{r.name, int(origin[loc[0]])})
				}
			}
		}
		cmp := func(a, b hit) int {
			if a.start != b.start {
				return a.start - b.start
			}
			return strings.Compare(a.rule, b.rule)
		}
		slices.SortFunc(got, cmp)
		slices.SortFunc(want, cmp)
		require.Equal(t, want, got, "%q", text)
		found += len(want)
	}
	require.Greater(t, found, 300)
}
