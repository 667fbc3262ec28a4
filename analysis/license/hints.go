package license

import (
	"bytes"
	"fmt"
)

// A file is searched in full only for SPDX tags. Everything else (the
// licensecheck full texts and notices, the rule table) runs on regions: the
// lines around the places where a hint word occurs. A hint is a word that
// every license text, notice or rule match contains at least once, found
// case-insensitively in one pass over the raw bytes with an Aho-Corasick
// automaton. Files with no hint (most build scripts, data, tests) cost that
// one pass; a large source file costs its header region instead of its whole
// text.

// hintUse says which matcher a hint word serves.
type hintUse uint8

const (
	// forCheck: the word occurs in licensecheck's texts, notices and URLs.
	forCheck hintUse = 1 << iota
	// forRules: the word occurs in a rule's keyword or phrases.
	forRules
)

// hintWords are the hint words, lower case, none containing a space (a
// space in cleaned text may be a line break in the raw text). Every rule's
// keyword and every all/none phrase contains one of the forRules words
// (TestRuleHints checks it). The forCheck words were chosen so that every
// one of licensecheck v0.3.1's 673 test texts, for every license it knows,
// has a hint inside each match, at most checkLead bytes after the match
// starts, checkTail bytes before it ends and checkGap bytes from the next
// hint (measured: 303, 1611 and 3868 bytes; docs/analysis.md).
var hintWords = []struct {
	word string
	use  hintUse
}{
	{"copyright", forCheck | forRules},
	{"licen", forCheck | forRules},
	{"gpl", forCheck | forRules},
	{"domain", forCheck | forRules},
	{"redistribut", forCheck | forRules},
	{"advertising", forCheck | forRules},
	{"endorse", forCheck | forRules},
	{"lizenz", forCheck},
	{"permission", forCheck},
	{"permitted", forCheck},
	{"warrant", forCheck},
	{"distribut", forCheck},
	{"freely", forCheck},
	{"responsib", forCheck},
	{"perl", forRules},
	{"zlib.h", forRules},
	{"psf", forRules},
	{"unlimited", forRules},
	{"royalty", forRules},
	{"copying", forRules},
	{"readme", forRules},
}

// Region margins, in bytes of raw text. Regions are widened to whole lines.
const (
	// checkLead is the text kept before a licensecheck hint.
	checkLead = 2 << 10
	// checkTail is the text kept after a licensecheck hint.
	checkTail = 3 << 10
	// checkGap joins two hints into one region when fewer bytes separate
	// them: a license text must not be cut in two.
	checkGap = 8 << 10
	// rulesMargin is the text kept on each side of a rule hint: a rule
	// matches at most windowBefore+windowAfter bytes of cleaned text, which
	// is never longer than the raw text it came from.
	rulesMargin = 1 << 10
)

// hintMatcher is an Aho-Corasick automaton over ASCII-lower-cased bytes that
// finds every occurrence of the hint words.
type hintMatcher struct {
	// next is the transition table: next[state<<8|byte]. States fit in a
	// byte (newHintMatcher checks), which keeps the table small and lets
	// the compiler drop bounds checks (a byte pair always indexes it).
	next *[1 << 16]uint8
	// out is, per state, the index+1 of the longest word ending there (0 for
	// none) and use, the union of the uses of all words ending there.
	out []int32
	use []hintUse
	// words are the hint words, by index; maxLen is the longest one's length.
	words  []string
	maxLen int
}

// lowerASCII folds A-Z to a-z and leaves other bytes as they are.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// newHintMatcher builds the automaton for hintWords.
func newHintMatcher() (*hintMatcher, error) {
	m := &hintMatcher{}
	// Trie.
	children := []map[byte]int32{{}}
	m.out = []int32{0}
	m.use = []hintUse{0}
	for i, hw := range hintWords {
		m.words = append(m.words, hw.word)
		m.maxLen = max(m.maxLen, len(hw.word))
		s := int32(0)
		for j := 0; j < len(hw.word); j++ {
			c := hw.word[j]
			n, ok := children[s][c]
			if !ok {
				n = int32(len(children))
				children = append(children, map[byte]int32{})
				m.out = append(m.out, 0)
				m.use = append(m.use, 0)
				children[s][c] = n
			}
			s = n
		}
		if m.out[s] == 0 || len(hw.word) > len(m.words[m.out[s]-1]) {
			m.out[s] = int32(i + 1)
		}
		m.use[s] |= hw.use
	}
	// Breadth-first: failure links folded into a full transition table.
	n := len(children)
	if n > 256 {
		return nil, fmt.Errorf("hint automaton has %d states, more than fit in a byte", n)
	}
	next := make([]int32, n<<8)
	fail := make([]int32, n)
	queue := []int32{}
	for c := 0; c < 256; c++ {
		if t, ok := children[0][byte(c)]; ok {
			next[c] = t
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		if m.out[s] == 0 {
			m.out[s] = m.out[f]
		}
		m.use[s] |= m.use[f]
		for c := 0; c < 256; c++ {
			if t, ok := children[s][byte(c)]; ok {
				fail[t] = next[int(f)<<8|c]
				next[int(s)<<8|c] = t
				queue = append(queue, t)
			} else {
				next[int(s)<<8|c] = next[int(f)<<8|c]
			}
		}
	}
	// Upper-case bytes move like their lower-case forms.
	for s := 0; s < n; s++ {
		for c := 'A'; c <= 'Z'; c++ {
			next[s<<8|int(c)] = next[s<<8|int(lowerASCII[c])]
		}
	}
	m.next = new([1 << 16]uint8)
	for i, t := range next {
		m.next[i] = uint8(t)
	}
	return m, nil
}

// hit is one occurrence of a hint word: [start, end) in the text.
type hit struct {
	start, end int
	use        hintUse
}

// lanes is how many parts of a text find walks at once: the automaton's
// steps are a chain of dependent loads, and walking four independent chains
// interleaved lets the CPU overlap them. find's main loop is written out for
// exactly four.
const lanes = 4

// find appends to hits every occurrence of a hint word in text, in order of
// end offset; lane is scratch space.
func (m *hintMatcher) find(text []byte, hits []hit, lane *[lanes][]hit) []hit {
	n := len(text)
	q := n / lanes
	ov := m.maxLen - 1
	if q < 4*ov {
		return m.walk(text, 0, n, 0, hits)
	}
	// Lane k reports the words ending in (k*q, (k+1)*q] (lane 0 from 0, the
	// last lane up to n); it starts ov bytes early to see a word that
	// straddles k*q whole. The main loop takes q steps in every lane.
	var state [lanes]uint8
	var base [lanes]int
	for k := range lanes {
		lane[k] = lane[k][:0]
		base[k] = max(0, k*q-ov)
	}
	next, out := m.next, m.out
	// Four explicit chains, so that the states stay in registers.
	t0, t1, t2, t3 := text[base[0]:base[0]+q], text[base[1]:base[1]+q], text[base[2]:base[2]+q], text[base[3]:base[3]+q]
	s0, s1, s2, s3 := uint8(0), uint8(0), uint8(0), uint8(0)
	for i := range q {
		s0 = next[int(s0)<<8|int(t0[i])]
		s1 = next[int(s1)<<8|int(t1[i])]
		s2 = next[int(s2)<<8|int(t2[i])]
		s3 = next[int(s3)<<8|int(t3[i])]
		if out[s0]|out[s1]|out[s2]|out[s3] != 0 {
			for k, st := range [lanes]uint8{s0, s1, s2, s3} {
				if w := out[st]; w != 0 && base[k]+i+1 > k*q {
					p := base[k] + i
					lane[k] = append(lane[k], hit{start: p + 1 - len(m.words[w-1]), end: p + 1, use: m.use[st]})
				}
			}
		}
	}
	state = [lanes]uint8{s0, s1, s2, s3}
	for k := range lanes {
		end := (k + 1) * q
		if k == lanes-1 {
			end = n
		}
		lane[k] = m.walk(text, base[k]+q, end, state[k], lane[k])
		hits = append(hits, lane[k]...)
	}
	return hits
}

// walk runs the automaton from state s over text[from:to].
func (m *hintMatcher) walk(text []byte, from, to int, s uint8, hits []hit) []hit {
	next, out := m.next, m.out
	for p := from; p < to; p++ {
		s = next[int(s)<<8|int(text[p])]
		if w := out[s]; w != 0 {
			hits = append(hits, hit{start: p + 1 - len(m.words[w-1]), end: p + 1, use: m.use[s]})
		}
	}
	return hits
}

// region is a span [start, end) of a text, widened to whole lines unless a
// line is longer than maxWiden.
type region struct{ start, end int }

// maxWiden bounds how far a region is widened to a line boundary, so that a
// text of one huge line (minified code) is not walked once per region.
const maxWiden = 1 << 10

// regions appends to out the line-aligned, merged spans around the hits that
// have use: lead bytes before a hit, tail bytes after it, and the whole text
// between two hits less than gap bytes apart. Spans end at limit at most.
func regions(text []byte, hits []hit, use hintUse, lead, tail, gap, limit int, out []region) []region {
	limit = min(limit, len(text))
	first := len(out)
	lastEnd := -1
	for _, h := range hits {
		if h.use&use == 0 || h.start >= limit {
			continue
		}
		lo, hi := max(0, h.start-lead), min(limit, h.end+tail)
		if n := len(out); n > first && (h.start-lastEnd < gap || lo <= out[n-1].end) {
			out[n-1].end = max(out[n-1].end, hi)
		} else {
			out = append(out, region{lo, hi})
		}
		lastEnd = h.end
	}
	// Widen to whole lines and merge regions that now touch.
	merged := out[:first]
	for _, r := range out[first:] {
		r.start = lineStart(text, r.start)
		r.end = min(limit, lineEnd(text, r.end))
		if n := len(merged); n > first && r.start <= merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, r.end)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// lineStart returns the start of the line holding off, or off-maxWiden if
// that line starts further back.
func lineStart(text []byte, off int) int {
	lo := max(0, off-maxWiden)
	if i := bytes.LastIndexByte(text[lo:off], '\n'); i >= 0 {
		return lo + i + 1
	}
	return lo
}

// lineEnd returns the offset just after the newline that ends the line
// holding off-1 (off itself when it is a line start), or off+maxWiden if that
// line ends further on.
func lineEnd(text []byte, off int) int {
	if off == 0 || off >= len(text) || text[off-1] == '\n' {
		return min(off, len(text))
	}
	hi := min(len(text), off+maxWiden)
	if i := bytes.IndexByte(text[off:hi], '\n'); i >= 0 {
		return off + i + 1
	}
	return hi
}
