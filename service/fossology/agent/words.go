package agent

import (
	"bufio"
	"bytes"
	"slices"
	"sort"
	"strings"
)

// keyword is one entry of a keyword list: its words, lower-case.
type keyword struct {
	words [][]byte
	value string
}

// wordMatcher finds the entries of a keyword list in a text as whole words,
// ignoring ASCII case and taking any run of whitespace between the words of
// a phrase. It searches for each entry's first word with bytes.Index, which
// is far cheaper than one alternation regexp per line.
type wordMatcher struct {
	entries []keyword
}

// newWordMatcher parses a keyword data file: one entry per line, "#"
// comments and blank lines ignored.
func newWordMatcher(data string) *wordMatcher {
	m := &wordMatcher{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(strings.ToLower(line))
		k := keyword{value: strings.Join(fields, " ")}
		for _, f := range fields {
			k.words = append(k.words, []byte(f))
		}
		m.entries = append(m.entries, k)
	}
	// Longer phrases first, so that "export control" is reported rather
	// than "export" at the same place.
	slices.SortStableFunc(m.entries, func(a, b keyword) int { return len(b.value) - len(a.value) })
	return m
}

// span is one match: byte offsets and the entry's value.
type span struct {
	start, end int
	value      string
}

// find returns the matches in lower (the text lower-cased with asciiLower),
// sorted by position; a place matched by a longer phrase is not reported
// again for a shorter one.
func (m *wordMatcher) find(lower []byte) []span {
	var out []span
	taken := map[int]bool{}
	for _, k := range m.entries {
		first := k.words[0]
		for off := 0; ; {
			i := bytes.Index(lower[off:], first)
			if i < 0 {
				break
			}
			start := off + i
			off = start + 1
			if start > 0 && isWordByte(lower[start-1]) {
				continue
			}
			end, ok := matchRest(lower, start+len(first), k.words[1:])
			if !ok || end < len(lower) && isWordByte(lower[end]) || taken[start] {
				continue
			}
			taken[start] = true
			out = append(out, span{start, end, k.value})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// matchRest matches the further words of a phrase from pos, each after at
// least one whitespace byte.
func matchRest(text []byte, pos int, words [][]byte) (int, bool) {
	for _, w := range words {
		ws := pos
		for pos < len(text) && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r') {
			pos++
		}
		if pos == ws || !bytes.HasPrefix(text[pos:], w) {
			return 0, false
		}
		pos += len(w)
	}
	return pos, true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// asciiLower lower-cases ASCII letters only, so that offsets stay those of
// the original text.
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// lineIndex maps byte offsets of a text to 1-based line numbers.
type lineIndex []int

// newLineIndex records where each line of text starts.
func newLineIndex(text []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range text {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line returns the line of offset off.
func (l lineIndex) line(off int) int {
	return sort.SearchInts(l, off+1)
}

// lineAt returns the bounds of the line holding off.
func lineAt(text []byte, off int) (int, int) {
	s := bytes.LastIndexByte(text[:off], '\n') + 1
	e := bytes.IndexByte(text[off:], '\n')
	if e < 0 {
		return s, len(text)
	}
	return s, off + e
}
