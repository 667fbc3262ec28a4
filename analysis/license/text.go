package license

import (
	"bytes"
	"sort"
)

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int

// newLineIndex records the offset at which each line of text starts.
func newLineIndex(text []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range text {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line returns the 1-based line holding byte offset off.
func (l lineIndex) line(off int) int {
	return sort.Search(len(l), func(i int) bool { return l[i] > off })
}

// commentPrefixes are stripped from the start of each line, longest first.
var commentPrefixes = [][]byte{
	[]byte(`.\"`), []byte("dnl "), []byte("rem "), []byte("@c "), []byte("/**"), []byte("/*"), []byte("*/"),
	[]byte("//"), []byte("--"), []byte(";;"), []byte("(*"), []byte("{-"), []byte("<!--"),
	[]byte("*"), []byte("#"), []byte(";"), []byte("%"), []byte("!"), []byte(`"`), []byte("'"),
}

// cleanText returns text lower-cased (ASCII only), with comment markers at
// the start and end of lines removed and runs of whitespace collapsed to one
// space, plus for each byte of the result the offset of the byte it came from.
func cleanText(text []byte) ([]byte, []int32) {
	clean := make([]byte, 0, len(text))
	origin := make([]int32, 0, len(text))
	space := true
	for off := 0; off < len(text); {
		end := bytes.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		line, base := text[off:end], off
		off = end + 1
		for {
			trimmed := bytes.TrimLeft(line, " \t\r\f\v")
			base += len(line) - len(trimmed)
			line = trimmed
			stripped := false
			for _, p := range commentPrefixes {
				if len(line) >= len(p) && bytes.EqualFold(line[:len(p)], p) {
					line, base, stripped = line[len(p):], base+len(p), true
					break
				}
			}
			if !stripped {
				break
			}
		}
		line = bytes.TrimRight(line, " \t\r\\")
		line = bytes.TrimSuffix(line, []byte("*/"))
		line = bytes.TrimSuffix(line, []byte("-->"))
		for i, c := range line {
			switch {
			case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
				if !space {
					clean, origin, space = append(clean, ' '), append(origin, int32(base+i)), true
				}
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
			clean, origin, space = append(clean, c), append(origin, int32(base+i)), false
		}
		if !space {
			clean, origin, space = append(clean, ' '), append(origin, int32(base+len(line)-1)), true
		}
	}
	return clean, origin
}
