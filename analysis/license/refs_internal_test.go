package license

import (
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
