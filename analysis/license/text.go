package license

import (
	"bytes"
	"slices"
)

// setLines fills in the 1-based StartLine and EndLine of each match,
// counting newlines once through text in order of offset.
func setLines(text []byte, ms []Match) {
	offs := make([]int, 0, 2*len(ms))
	for _, m := range ms {
		offs = append(offs, m.Start, max(m.Start, m.End-1))
	}
	slices.Sort(offs)
	offs = slices.Compact(offs)
	lines := make(map[int]int, len(offs))
	pos, line := 0, 1
	for _, off := range offs {
		off = min(off, len(text))
		line += bytes.Count(text[pos:off], []byte{'\n'})
		pos = off
		lines[off] = line
	}
	for i := range ms {
		ms[i].StartLine = lines[min(ms[i].Start, len(text))]
		ms[i].EndLine = lines[min(max(ms[i].Start, ms[i].End-1), len(text))]
	}
}

// commentPrefixes are stripped from the start of each line, longest first.
// "?RCS:" and "?X:" open the comment lines of metaconfig's units (perl's
// regen-configure).
var commentPrefixes = [][]byte{
	[]byte("?rcs:"), []byte("?x:"), []byte(`.\"`), []byte("dnl "), []byte("rem "), []byte("@c "), []byte("/**"), []byte("/*"), []byte("*/"),
	[]byte("//"), []byte("--"), []byte(";;"), []byte("(*"), []byte("{-"), []byte("<!--"),
	[]byte("*"), []byte("#"), []byte(";"), []byte("%"), []byte("!"), []byte(`"`), []byte("'"),
}

// cleanText appends to clean the text lower-cased (ASCII only), with comment
// markers at the start and end of lines removed and runs of whitespace
// collapsed to one space, and to origin, for each byte appended, base plus the
// offset of the byte it came from.
func cleanText(text []byte, base0 int, clean []byte, origin []int32) ([]byte, []int32) {
	space := true
	for off := 0; off < len(text); {
		end := bytes.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		line, base := text[off:end], base0+off
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

// setRefLines fills in the lines of pointers, as setLines does for matches.
func setRefLines(text []byte, refs []FileRef) {
	ms := make([]Match, len(refs))
	for i, r := range refs {
		ms[i] = Match{Start: r.Start, End: r.End}
	}
	setLines(text, ms)
	for i := range refs {
		refs[i].StartLine, refs[i].EndLine = ms[i].StartLine, ms[i].EndLine
	}
	slices.SortStableFunc(refs, func(a, b FileRef) int { return a.Start - b.Start })
}
