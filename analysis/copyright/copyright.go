// Package copyright extracts copyright statements from text: "Copyright (c)
// 2004-2019 Jane Roe <jane@example.org>", "(C)", "©" and
// "SPDX-FileCopyrightText:" forms, holders that continue on the next lines,
// blocks of further "YEARS NAME" lines under a statement, and the Copyright:
// field of a debian/copyright file with its continuation lines. Author lines
// ("Author:", "Written by") are not statements. Statements are normalised
// and deduplicated, each with its line numbers.
package copyright

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Statement is one copyright statement.
type Statement struct {
	// Text is the normalised statement: "Copyright (c) 2004-2019 Jane Roe <jane@example.org>".
	Text string `json:"text"`
	// Holder is the statement without the copyright marker and years: "Jane Roe <jane@example.org>".
	Holder string `json:"holder"`
	// Years is the year list or range of the statement, if any: "2004-2019".
	Years string `json:"years,omitempty"`
	// StartLine is the 1-based line where the statement starts.
	StartLine int `json:"start_line"`
	// EndLine is the 1-based line where the statement ends.
	EndLine int `json:"end_line"`
}

var (
	// marker finds the start of a statement in a cleaned line.
	marker = regexp.MustCompile(`(?i)(?:\bspdx-filecopyrighttext:|\bcopyright\b|\(c\)|©)`)
	// lead is the run of markers at the start of a statement.
	lead = regexp.MustCompile(`(?i)^(?:\s*(?:spdx-filecopyrighttext:|copyright\b:?|copr\.|\(c\)|©|&copy;|by\b))+\s*`)
	// yearLine is a line that continues a block of statements with another
	// holder: "              2002-2005 John Doe" under "Copyright (C) 2001 Jane Roe".
	yearLine = regexp.MustCompile(`^(?:19|20)\d\d(?:\s*(?:[-–]|,)\s*(?:19|20)\d\d)*,?\s+\p{Lu}`)
	// years is a year list or range at the start of the rest of a statement.
	years = regexp.MustCompile(`^(?:(?:19|20)\d\d(?:\s*[-–]\s*(?:(?:19|20)?\d\d|present|now))?(?:\s*,\s*|\s+|$)+)+`)
	// notStatement is what follows "copyright" in prose that is not a statement.
	notStatement = regexp.MustCompile(`(?i)^(?:notices?|holders?|owners?|laws?|act\b|and\b|or\b|statements?|information|` +
		`permission|protection|assignments?|status|disclaimer|licen[cs]e|file|header|section|is\b|are\b|to\b|of\b|in\b|on\b|` +
		`for\b|the\b|this\b|that\b|line|text|message|year|date|string|info|interests?|claims?|infringement|terms|policy|` +
		`\$|\(c\) <year>|<year>|\[year\]|\{year\}|yyyy|%s|\(c\)\s*$|,|\.|;|\)|"|')`)
	// trailer is text removed from the end of a statement.
	trailer = regexp.MustCompile(`(?i)(?:[\s.,;:]|all rights reserved\.?|\*/|-->|\\n|"\)*)*$`)
	// spaces collapses runs of whitespace.
	spaces = regexp.MustCompile(`\s+`)
	// cmark normalises the copyright sign.
	cmark = regexp.MustCompile(`(?i)\(c\)|©|&copy;`)
)

// maxContinuation is how many further lines a holder may continue on;
// maxYearLines is how many lines of years alone a statement may start with
// (perl's "Copyright (C) 1993, 1994, ..." over three lines, then "by Larry
// Wall and others").
const (
	maxContinuation = 2
	maxYearLines    = 6
)

// Extract returns the copyright statements of text, in order of first
// appearance, deduplicated by their normalised text. Only the lines that hold
// a marker ("copyright", "(c)", "©"), and the lines that continue them, are
// looked at: the rest of a text costs one search per marker.
func Extract(text []byte) []Statement {
	if !hasMarker(text) {
		return nil
	}
	var out []Statement
	var seen map[string]bool
	add := func(s Statement, ok bool) {
		if !ok {
			return
		}
		key := strings.ToLower(s.Text)
		if seen[key] {
			return
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[key] = true
		out = append(out, s)
	}
	lines := lineReader{text: text, line: 1}
	var finder markerFinder
	inField := false
	for lines.pos < len(text) {
		if !inField {
			// Skip to the line of the next marker.
			m := finder.find(text, lines.pos)
			if m < 0 {
				break
			}
			lines.seek(bytes.LastIndexByte(text[:m], '\n') + 1)
		}
		i := lines.line
		rawb := lines.next()
		// debian/copyright: "Copyright: 2004 Jane" and indented continuation lines.
		if bytes.HasPrefix(rawb, []byte("Copyright:")) {
			inField = true
			add(build(string(rawb[len("Copyright:"):]), i, i, true))
			continue
		}
		if inField {
			if len(rawb) > 0 && (rawb[0] == ' ' || rawb[0] == '\t') && string(bytes.TrimSpace(rawb)) != "." {
				add(build(string(rawb), i, i, true))
				continue
			}
			inField = false
		}
		if !hasMarker(rawb) {
			continue
		}
		line := stripComment(string(rawb))
		loc := marker.FindStringIndex(line)
		if loc == nil {
			continue
		}
		stmt := line[loc[0]:]
		end := i
		// A holder continues on the next lines while the statement so far
		// has no holder or ends with a comma or "and".
		peek := lines
		for n, yearsOnly := 0, 0; n < maxContinuation && yearsOnly < maxYearLines && peek.pos < len(text) && needsMore(stmt); {
			save := peek
			next := stripComment(string(peek.next()))
			if next == "" || marker.MatchString(next) {
				peek = save
				break
			}
			stmt += " " + next
			end++
			// A line of years alone does not count as a holder line.
			if strings.TrimSpace(years.ReplaceAllString(next, "")) == "" {
				yearsOnly++
			} else {
				n++
			}
		}
		s, ok := build(stmt, i, end, false)
		add(s, ok)
		if !ok {
			continue
		}
		lines = peek
		// A block of statements: further holders, one a line, each with its
		// own years and no marker.
		for lines.pos < len(text) {
			save := lines
			n := lines.line
			next := stripComment(string(lines.next()))
			if !yearLine.MatchString(next) {
				lines = save
				break
			}
			s, ok := build(next, n, n, true)
			if !ok {
				lines = save
				break
			}
			add(s, ok)
		}
	}
	return out
}

// lineReader walks the lines of a text.
type lineReader struct {
	text []byte
	// pos is the offset of the start of the current line; line is its
	// 1-based number.
	pos, line int
}

// next returns the current line without its newline and moves to the next.
func (l *lineReader) next() []byte {
	rest := l.text[l.pos:]
	i := bytes.IndexByte(rest, '\n')
	l.line++
	if i < 0 {
		l.pos = len(l.text)
		return rest
	}
	l.pos += i + 1
	return rest[:i]
}

// seek moves forward to the line starting at off.
func (l *lineReader) seek(off int) {
	if off <= l.pos {
		return
	}
	l.line += bytes.Count(l.text[l.pos:off], []byte{'\n'})
	l.pos = off
}

// markers are the byte strings whose presence makes a line worth parsing.
var markers = [][]byte{[]byte("opyright"), []byte("OPYRIGHT"), []byte("(c)"), []byte("(C)"), []byte("©")}

// markerFinder finds the next marker, remembering where each one occurs next
// so that a text is searched about once per marker.
type markerFinder struct {
	at   [5]int
	done [5]bool
	init bool
}

// find returns the offset of the first marker at or after pos, or -1.
func (f *markerFinder) find(text []byte, pos int) int {
	best := -1
	for k, m := range markers {
		if f.done[k] {
			continue
		}
		if !f.init || f.at[k] < pos {
			i := bytes.Index(text[pos:], m)
			if i < 0 {
				f.done[k] = true
				continue
			}
			f.at[k] = pos + i
		}
		if best < 0 || f.at[k] < best {
			best = f.at[k]
		}
	}
	f.init = true
	return best
}

// hasMarker reports whether text may hold a statement at all.
func hasMarker(text []byte) bool {
	return slices.ContainsFunc(markers, func(m []byte) bool { return bytes.Contains(text, m) })
}

// needsMore reports whether a statement's holder probably continues on the
// next line.
func needsMore(stmt string) bool {
	rest := strings.TrimSpace(years.ReplaceAllString(lead.ReplaceAllString(stmt, ""), ""))
	rest = strings.TrimRight(rest, " \t")
	return rest == "" || strings.HasSuffix(rest, ",") || strings.HasSuffix(strings.ToLower(rest), " and")
}

// build normalises a statement and splits it into years and holder. field
// marks the value of a debian/copyright Copyright field, which needs no
// marker. ok is false when the text is not a statement.
func build(stmt string, start, end int, field bool) (Statement, bool) {
	stmt = spaces.ReplaceAllString(strings.TrimSpace(stmt), " ")
	m := lead.FindString(stmt)
	rest := stmt[len(m):]
	hadMarker := strings.TrimSpace(m) != ""
	if hadMarker && notStatement.MatchString(rest) && !years.MatchString(rest) {
		return Statement{}, false
	}
	y := years.FindString(rest)
	holder := strings.TrimSpace(rest[len(y):])
	holder = strings.TrimLeft(holder, ",;: ")
	holder = strings.TrimPrefix(holder, "by ")
	holder = trailer.ReplaceAllString(holder, "")
	y = strings.TrimRight(strings.TrimSpace(y), ",")
	if holder == "" || !hasLetter(holder) || len(holder) > 200 {
		return Statement{}, false
	}
	word := strings.Contains(strings.ToLower(m), "copyright") || strings.Contains(strings.ToLower(m), "copr")
	if !field && !word && y == "" {
		// A bare "(c)" or "©" counts only before a year: "(c) 1995 Jane".
		return Statement{}, false
	}
	text := "Copyright"
	if cmark.MatchString(m) {
		text += " (c)"
	}
	if y != "" {
		text += " " + y
	}
	text += " " + holder
	return Statement{Text: text, Holder: holder, Years: y, StartLine: start, EndLine: end}, true
}

// hasLetter reports whether s has at least two letters.
func hasLetter(s string) bool {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
			if n >= 2 {
				return true
			}
		}
	}
	return false
}

// escapes are the string escapes stripComment reads as spaces.
var escapes = strings.NewReplacer(`\n`, " ", `\t`, " ", `\r`, " ")

// commentMarks are stripped from both ends of a line.
const commentMarks = " \t\r*/#;%!\"'-<>{}|@"

// stripComment removes comment markers and whitespace from a line's ends.
func stripComment(s string) string {
	// Escapes of a C or shell string ("\n\nCopyright 1987-2022, Larry
	// Wall\n"), so that the marker starts a word.
	if strings.Contains(s, `\`) {
		s = escapes.Replace(s)
	}
	s = strings.TrimSpace(s)
	for _, p := range []string{`.\"`, "dnl ", "rem ", "@c ", "//", "/*", "<!--"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimLeft(s, commentMarks)
	s = strings.TrimSuffix(strings.TrimRight(s, " \t\r"), "*/")
	s = strings.TrimSuffix(s, "-->")
	return strings.TrimSpace(s)
}
