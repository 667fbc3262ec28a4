// Package copyright extracts copyright statements from text: "Copyright (c)
// 2004-2019 Jane Roe <jane@example.org>", "(C)", "©", "&copy;", groff's
// "\(co", texinfo's "@copyright{}" and "SPDX-FileCopyrightText:" forms,
// holders that continue on the next lines (after a comma or "and", a name cut
// at the end of a line, lines written under the holder), blocks of further
// "YEARS NAME" lines under a statement, a holder written before its marker
// ("Moshe Zadka (c) 2002") or with its years after it, and the Copyright:
// field of a debian/copyright file with its continuation lines. POD escapes,
// HTML entities and tags are decoded. Author lines ("Author:", "Written by")
// are not statements. Statements are normalised and deduplicated, each with
// its line numbers.
package copyright

import (
	"bytes"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Statement is one copyright statement.
type Statement struct {
	// Text is the normalised statement: "Copyright (c) 2004-2019 Jane Roe <jane@example.org>".
	Text string `json:"text"`
	// Holder is the statement without the copyright marker and years: "Jane
	// Roe <jane@example.org>". For an MPL 1.1 "Copyright (C) 1998 the
	// Initial Developer" it is the name the header gives the Initial
	// Developer, when it gives one.
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
	marker = regexp.MustCompile(`(?i)(?:\bspdx-filecopyrighttext:|\bcopyright\b|\(c\)|©|&copy;|\\\(co\b)`)
	// lead is the run of markers at the start of a statement.
	lead = regexp.MustCompile(`(?i)^(?:\s*(?:spdx-filecopyrighttext:|copyright\b(?:\s*:|>)?|copr\.|\(c\)|©|&copy;|\\\(co\b|@copyright\{\}|by\b))+\s*`)
	// yearLine is a line that continues a block of statements with another
	// holder: "              2002-2005 John Doe" under "Copyright (C) 2001 Jane Roe".
	yearLine = regexp.MustCompile(`^(?:19|20)\d\d(?:\s*(?:--?|[–—]|,)\s*(?:19|20)\d\d)*(?:-|,)?\s+\p{Lu}`)
	// years is a year list or range at the start of the rest of a statement.
	years = regexp.MustCompile(`^(?:(?:19|20)\d\d(?:\s*(?:--?|[–—])\s*(?:(?:19|20)?\d\d|present|now)?)?(?:\s*,\s*|\s+|$)+)+`)
	// notStatement is what follows "copyright" in prose that is not a statement.
	notStatement = regexp.MustCompile(`(?i)^(?:notices?|holders?|owners?|laws?|act\b|and\b|or\b|statements?|information|` +
		`permission|protection|assignments?|status|disclaimer|licen[cs]e|file|header|section|is\b|are\b|to\b|of\b|in\b|on\b|` +
		`for\b|the\b|this\b|that\b|line|text|message|year|date|string|info|interests?|claims?|infringement|terms|policy|` +
		`release\b|\$|/|:|\(c\) <year>|<year>|\[year\]|\{year\}|yyyy|%s|\(c\)\s*$|,|\.|;|\)|"|'|-|”|’|\||\\)`)
	// sentenceTail is a sentence after the holder's that starts as license
	// prose does.
	sentenceTail = regexp.MustCompile(`\.\s+(?:This|These|It|You|See|Permission|Licensed|Released|Distributed|Redistribution|Use|Please|Portions|Unlimited)\b.*$`)
	// trailer is text removed from the end of a statement.
	trailer = regexp.MustCompile(`(?i)(?:[\s.,;:]|all rights(?: reserved\.?)?|\*/|-->|\\n|"\)*|</?[a-z]+\s*/?>|</?|\s\*+|\s#+|\s\|+|\s--+)*$`)
	// spaces collapses runs of whitespace.
	spaces = regexp.MustCompile(`\s+`)
	// authorLabel labels a holder on the line under its marker and years.
	authorLabel = regexp.MustCompile(`^(?i:authors?|written by):\s*`)
	// placeholder is a template's holder: the GPL's "Copyright (C) 19yy
	// <name of author>", gettext's "THE PACKAGE'S COPYRIGHT HOLDER".
	placeholder = regexp.MustCompile(`(?i)name of (?:the )?author|package's copyright holder|^19[xy][xy]\b`)
	// tag is an XML or HTML tag (an e-mail address in angle brackets is not).
	tag = regexp.MustCompile(`</?(?:[A-Za-z][\w:-]*(?:\s[^<>@]*)?)?/?>`)
	// theHolder is a holder without years that starts with "The": "Copyright
	// The GNU Toolchain Authors".
	theHolder = regexp.MustCompile(`^The\s+\p{Lu}`)
	// yearsAfter is a year list or range after a holder that had none
	// before it: "Stefan Metzmacher 2012", "Paul Evans, 2010-2020 -- leonerd@leonerd.org.uk".
	yearsAfter = regexp.MustCompile(`[\s,]((?:19|20)\d\d(?:\s*(?:--?|[–—,])\s*(?:(?:19|20)?\d\d|present))*)\b(?:\s*--?\s*\S+@\S+|\.)?$`)
	// cmark normalises the copyright sign.
	cmark = regexp.MustCompile(`(?i)\(c\)|©|&copy;|\\\(co\b|@copyright\{\}`)
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
		ss, peek := statementAt(text, string(rawb), i, lines)
		if ss == nil {
			continue
		}
		for _, s := range ss {
			if developer.MatchString(s.Holder) {
				// MPL 1.1: "Portions created by the Initial Developer are
				// Copyright (C) 1998 the Initial Developer", named earlier.
				if name := initialDeveloper(text[:lines.pos]); name != "" {
					s.Holder = name
				}
			}
			add(s, true)
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

// statementAt parses the statement on raw, line i of text, whose next
// lines lines reads. It returns the statement (and the statements of
// further holders written under it), and the reader past the lines they
// took; nil if there is none. Each marker of the line is tried in turn:
// "copyright notice, Copyright 2001 Jane Roe" is the second's.
func statementAt(text []byte, raw string, i int, lines lineReader) ([]Statement, lineReader) {
	line := stripComment(raw)
	for k, off := 0, 0; off < len(line); k++ {
		if k > 0 && !hasMarker([]byte(line[off:])) {
			break
		}
		loc := marker.FindStringIndex(line[off:])
		if loc == nil {
			break
		}
		at := off + loc[0]
		off += loc[1]
		if at > 0 && strings.IndexByte("/_.-$", line[at-1]) >= 0 {
			// A file or variable name: "debian/copyright", "$copyright".
			continue
		}
		if k > 0 && needsMore(line[at:]) {
			// Only the first marker of a line may have its holder on the
			// next lines: "(©️) copyright" ends a line of Unicode data.
			continue
		}
		if ss, peek := statementFrom(text, raw, line, at, i, lines); ss != nil {
			return ss, peek
		}
	}
	return nil, lines
}

// statementFrom parses the statement that starts at offset at of line (raw
// without its comment marks).
func statementFrom(text []byte, raw, line string, at, i int, lines lineReader) ([]Statement, lineReader) {
	stmt := line[at:]
	end := i
	peek := lines
	// A holder before its marker, with nothing but years after it: "Moshe
	// Zadka (c) 2002", "Written by Ben Collins <ben@example.org>, Copyright (c) 2000".
	if strings.TrimSpace(line[:at]) != "" {
		m := lead.FindString(stmt)
		y := years.FindString(stmt[len(m):])
		after := strings.TrimSpace(stmt[len(m)+len(y):])
		if y != "" && (after == "" || parenthetical.MatchString(after)) {
			if name := holderBefore(line[:at]); name != "" {
				if s, ok := build(m+y+" "+name+" "+after, i, i, false); ok {
					return []Statement{s}, peek
				}
				return nil, lines
			}
		}
	}
	// A holder continues on the next lines while the statement so far
	// has no holder or ends with a comma or "and".
	holderRaw, holderLine, start := raw, line[at:], i
	for n, yearsOnly := 0, 0; n < maxContinuation && yearsOnly < maxYearLines && peek.pos < len(text) && needsMore(stmt); {
		save := peek
		nraw := string(peek.next())
		next := stripComment(nraw)
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
			holderRaw, holderLine = nraw, next
		}
	}
	s, ok := build(stmt, i, end, false)
	if !ok {
		return nil, lines
	}
	// The holder's name goes on over the next lines: written under it
	// ("Remy Card <card@masi.ibp.fr>" over "Laboratoire MASI, Institut Blaise
	// Pascal"), cut inside it ("Free" / "Software Foundation, Inc."), or a
	// parenthesis ("NTT" / "(Nippon Telegraph and Telephone Corporation).").
	// A line under the holder with an e-mail address of its own, under a
	// holder with one, is a further holder with the same years ("Juergen
	// Weigert (jnweiger@example.org)" over "Michael Schroeder (mls@example.org)").
	col := holderColumn(holderRaw, holderLine, s.Holder)
	out := []Statement{s}
	for n := 0; n < maxUnder && peek.pos < len(text); n++ {
		save := peek
		nraw := string(peek.next())
		next := stripComment(nraw)
		if next == "" || marker.MatchString(next) || !nameLike(next) {
			peek = save
			break
		}
		c := column(nraw, next)
		if (col < 0 || c != col) && (n > 0 || !midName(stmt) || endsInYears.MatchString(next)) && (n > 0 || !parenthetical.MatchString(next)) {
			peek = save
			break
		}
		if c == col && strings.Contains(next, "@") && strings.Contains(s.Holder, "@") {
			m := lead.FindString(stmt)
			t, ok := build(m+s.Years+" "+next, end+1, end+1, false)
			if !ok {
				peek = save
				break
			}
			end++
			stmt, start, s = m+s.Years+" "+next, end, t
			out = append(out, t)
			continue
		}
		t, ok := build(stmt+" "+next, start, end+1, false)
		if !ok {
			peek = save
			break
		}
		stmt += " " + next
		end++
		s, col = t, c
		out[len(out)-1] = s
	}
	return out, peek
}

// endsInYears is a line that ends with years, a holder of its own: "Peter
// Krefting <peter@example.org>, 1999-2023." under "Copyright (C) 2007
// Software in the Public Interest".
var endsInYears = regexp.MustCompile(`(?:19|20)\d\d\.?$`)

// maxUnder is how many lines under a statement may continue its holder's name.
const maxUnder = 3

// parenthetical is text in parentheses alone: "(Nippon Telegraph and Telephone Corporation).".
var parenthetical = regexp.MustCompile(`^\([^()]*\)[.,]?$`)

// byPrefix is what comes before a holder written before the marker.
var byPrefix = regexp.MustCompile(`(?i)^(?:(?:written|created|developed|maintained|coded)\s+)?by\s+`)

// holderBefore returns the name in the text before a marker ("Moshe
// Zadka", "Written by Ben Collins <ben@example.org>,"), or "" if it is not
// one.
func holderBefore(prefix string) string {
	p := byPrefix.ReplaceAllString(unescape(strings.TrimSpace(prefix)), "")
	p = strings.TrimRight(p, " ,;:-")
	if p == "" || !nameLike(p) {
		return ""
	}
	return p
}

// holderColumn is the column where holder starts in raw (line is raw
// without comment marks), or -1.
func holderColumn(raw, line, holder string) int {
	w, _, _ := strings.Cut(holder, " ")
	if w == "" || !strings.Contains(line, w) {
		return -1
	}
	return strings.Index(expandTabs(raw), w)
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
// "&copy;" and groff's "\(co" stand alone too: "版權所有 \(co 1999 Free Software
// Foundation, Inc.".
var markers = [][]byte{[]byte("opyright"), []byte("OPYRIGHT"), []byte("(c)"), []byte("(C)"), []byte("©"), []byte("&copy;"), []byte(`\(co`)}

// markerFinder finds the next marker, remembering where each one occurs next
// so that a text is searched about once per marker.
type markerFinder struct {
	at   [7]int
	done [7]bool
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
	if strings.Contains(stmt, "</") {
		// Markup: "<copyright><year>1998</year><holder>Jason Gunthorpe</holder></copyright>".
		stmt = tag.ReplaceAllString(stmt, " ")
	}
	stmt = strings.TrimSpace(stmt)
	if strings.Contains(stmt, "  ") || strings.ContainsAny(stmt, "\t\r\n\v\f") {
		stmt = spaces.ReplaceAllString(stmt, " ")
	}
	stmt = unescape(stmt)
	m := lead.FindString(stmt)
	rest := stmt[len(m):]
	hadMarker := strings.TrimSpace(m) != ""
	if hadMarker && notStatement.MatchString(rest) && !years.MatchString(rest) && !theHolder.MatchString(rest) {
		return Statement{}, false
	}
	y := years.FindString(rest)
	holder := strings.TrimSpace(rest[len(y):])
	holder = strings.TrimLeft(holder, ",;:-–— ")
	holder = strings.TrimPrefix(holder, "by ")
	// "(C) 2021" over "Author: Anton Gladky <gladk@example.org>".
	holder = authorLabel.ReplaceAllString(holder, "")
	if strings.Contains(holder, ". ") {
		// "(C) 2014 Oracle.  This file may be redistributed under ...":
		// the next sentence is not the holder's name.
		holder = sentenceTail.ReplaceAllString(holder, ".")
	}
	holder = trimTrailer(holder)
	y = strings.TrimRight(strings.TrimSpace(y), ",")
	if holder == "" || !hasLetter(holder) || len(holder) > 200 || !holderStart(holder) || placeholder.MatchString(holder) {
		return Statement{}, false
	}
	lm := strings.ToLower(m)
	// "(C) by Tels" is as plain a statement as "Copyright Tels".
	word := strings.Contains(lm, "copyright") || strings.Contains(lm, "copr") || strings.HasSuffix(strings.TrimSpace(lm), " by")
	sign := cmark.MatchString(m)
	if !field && !sign && y == "" && prose(holder) {
		// "copyright treaty adopted on 20 December 1996", "copyright if you do".
		return Statement{}, false
	}
	if y == "" {
		// Years after the holder: "(C) Paul Evans, 2010-2020".
		if loc := yearsAfter.FindStringSubmatchIndex(holder); loc != nil {
			holder, y = strings.TrimRight(holder[:loc[2]], " ,"), holder[loc[2]:loc[3]]
		}
	}
	switch {
	case !field && !word && y == "":
		// A bare "(c)" or "©" counts only with a year: "(c) 1995 Jane".
		return Statement{}, false
	case !field && !word && !years.MatchString(rest) && !nameLike(holder):
		// "(c) Name, 2010", not code: "if (c) x = 2010;".
		return Statement{}, false
	}
	text := "Copyright"
	if sign {
		text += " (c)"
	}
	if y != "" {
		text += " " + y
	}
	text += " " + holder
	return Statement{Text: text, Holder: holder, Years: y, StartLine: start, EndLine: end}, true
}

// prose reports whether a holder without years reads as a sentence rather
// than a name: it starts with a lower-case word (not "the" or a particle)
// and has another lower-case word or no capital letter and no e-mail address.
func prose(holder string) bool {
	words := strings.Fields(holder)
	if len(words) == 0 || strings.Contains(holder, "@") {
		return false
	}
	first, _ := utf8.DecodeRuneInString(words[0])
	if !unicode.IsLower(first) || particles[words[0]] {
		return false
	}
	lower := 0
	for _, w := range words {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLower(r) && !particles[w] {
			lower++
		}
	}
	return lower >= 2 || strings.IndexFunc(holder, unicode.IsUpper) < 0
}

// particles are the lower-case words a name may hold: "Laboratoire MASI et
// Universite Pierre et Marie Curie", "Ludwig van Beethoven".
var particles = map[string]bool{
	"of": true, "and": true, "the": true, "de": true, "du": true, "des": true, "van": true, "von": true, "der": true,
	"den": true, "la": true, "le": true, "et": true, "y": true, "da": true, "di": true, "del": true, "und": true,
	"for": true, "at": true, "&": true, "in": true,
}

// notFirst are capitalised words that start sentences, not names, on a
// line under a statement or before a marker.
var notFirst = map[string]bool{
	"All": true, "See": true, "This": true, "Portions": true, "Parts": true, "Written": true, "Modified": true,
	"Based": true, "Derived": true, "Contributed": true, "Originally": true, "Changes": true, "Updated": true,
	"Maintained": true, "Author": true, "Authors": true, "Licensed": true, "Released": true, "Distributed": true,
	"Redistribution": true, "Permission": true, "Use": true, "You": true, "Please": true, "For": true, "If": true,
	"In": true, "It": true, "Any": true, "No": true, "Last": true, "Version": true, "Copying": true, "Some": true,
	"Thanks": true, "Send": true, "Report": true, "Note": true, "NOTE": true, "Also": true, "And": true, "Or": true,
	"Copyright": true, "COPYRIGHT": true, "Public": true, "Placed": true, "Made": true, "Program": true,
}

// notName are words that do not occur in a holder's name.
var notName = regexp.MustCompile(`(?i)licen[cs]e|rights|reserved|permission|warrant|version|copying|distribut|[:=;{}]|\bsee\b|\bthis\b|\bhttps?://`)

// nameLike reports whether s, a line under a statement or the text before
// its marker, reads as (part of) a name: at most ten words, each
// capitalised, a particle, a parenthesis or an e-mail address, the first
// capitalised and not one that starts sentences, and not a line of capitals
// ("SUCH DAMAGE.").
func nameLike(s string) bool {
	s = strings.TrimRight(s, " .,")
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 10 || notName.MatchString(s) || notFirst[strings.TrimLeft(words[0], "(")] {
		return false
	}
	if strings.IndexFunc(s, unicode.IsLower) < 0 {
		// A line of capitals: "SUCH DAMAGE.", "EOF".
		return false
	}
	for i, w := range words {
		if strings.Contains(w, "@") || strings.HasPrefix(w, "<") {
			continue
		}
		w = strings.Trim(w, ",.()[]\"'")
		if w == "" {
			continue
		}
		r, _ := utf8.DecodeRuneInString(w)
		switch {
		case unicode.IsUpper(r):
		case i > 0 && (particles[w] || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}

// midName reports whether a statement ends inside a name, so that its next
// line continues it: "Free" over "Software Foundation, Inc.", "Russ" over
// "Allbery <rra@cpan.org>" (and not "Inc." or an e-mail address).
func midName(stmt string) bool {
	stmt = strings.TrimSpace(stmt)
	i := strings.LastIndexByte(stmt, ' ')
	last := stmt[i+1:]
	if strings.ContainsAny(last, "@<>") {
		return false
	}
	r, _ := utf8.DecodeRuneInString(last)
	l, _ := utf8.DecodeLastRuneInString(last)
	return unicode.IsUpper(r) && unicode.IsLetter(l)
}

// column is where content, a line stripped of its comment marks, starts in
// raw, with tabs expanded to eight columns; -1 if not found.
func column(raw, content string) int {
	w, _, _ := strings.Cut(content, " ")
	if w == "" {
		return -1
	}
	return strings.Index(expandTabs(raw), w)
}

// expandTabs replaces each tab with the spaces up to the next multiple of eight.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// podEscape is a POD escape: E<lt>, E<ouml>, E<0x263A>.
var podEscape = regexp.MustCompile(`E<(?:[A-Za-z]+\d*|0[xX][0-9A-Fa-f]+|\d+)>`)

// unescape decodes the POD escapes ("E<AElig>var ArnfjE<ouml>rE<eth>
// Bjarmason", "E<lt>kane@cpan.orgE<gt>") and HTML entities of a statement.
func unescape(s string) string {
	if strings.Contains(s, "E<") {
		s = podEscape.ReplaceAllStringFunc(s, func(e string) string {
			name := e[2 : len(e)-1]
			switch {
			case name == "lt":
				return "<"
			case name == "gt":
				return ">"
			case name == "sol":
				return "/"
			case name == "verbar":
				return "|"
			case name[0] >= '0' && name[0] <= '9':
				if n, err := strconv.ParseInt(name, 0, 32); err == nil && utf8.ValidRune(rune(n)) {
					return string(rune(n))
				}
				return e
			}
			if d := html.UnescapeString("&" + name + ";"); d != "&"+name+";" {
				return d
			}
			return e
		})
	}
	if strings.Contains(s, "&") {
		s = html.UnescapeString(s)
	}
	return s
}

// developer is the holder of an MPL 1.1 notice's "Portions created by the
// Initial Developer are Copyright (C) 1998 the Initial Developer".
var developer = regexp.MustCompile(`(?i)^the initial developer\b`)

// developerIs introduces the Initial Developer's name in an MPL 1.1 header.
var developerIs = regexp.MustCompile(`(?i)initial developer of the original code is\b`)

// initialDeveloper returns the name an MPL 1.1 header gives its Initial
// Developer ("The Initial Developer of the Original Code is\n# Netscape
// Communications Corporation."), in before, the text up to a statement; ""
// if there is none.
func initialDeveloper(before []byte) string {
	locs := developerIs.FindAllIndex(before, -1)
	if locs == nil {
		return ""
	}
	after := before[locs[len(locs)-1][1]:]
	after = after[:min(len(after), 400)]
	var parts []string
	ls := strings.SplitN(string(after), "\n", 4)
	for _, l := range ls[:min(len(ls), 3)] {
		if p := stripComment(l); p != "" {
			parts = append(parts, p)
		}
		if strings.HasSuffix(strings.TrimSpace(l), ".") {
			break
		}
	}
	name := strings.TrimSpace(strings.Join(parts, " "))
	if i := strings.Index(name, ". "); i >= 0 {
		name = name[:i]
	}
	name = strings.TrimRight(name, ". ")
	if !nameLike(name) {
		return ""
	}
	return name
}

// trimTrailer removes the trailer from the end of a holder. Only the end is
// searched: the pattern would be tried at every offset of a long holder.
func trimTrailer(holder string) string {
	k := max(0, len(holder)-maxTrailer)
	for k > 0 && !utf8.RuneStart(holder[k]) {
		k--
	}
	return holder[:k] + trailer.ReplaceAllString(holder[k:], "")
}

// maxTrailer bounds the length of a trailer.
const maxTrailer = 96

// holderStart reports whether a holder starts as a name does: with a
// letter, a digit, a quote, a parenthesis or an angle bracket (not "→
// hirely.html", "%28c%29 2008").
func holderStart(holder string) bool {
	r, _ := utf8.DecodeRuneInString(holder)
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("\"'(<[", r)
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
var escapes = strings.NewReplacer(`\n`, " ", `\t`, " ", `\r`, " ", `\-`, "-")

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
	t := strings.TrimLeft(s, commentMarks)
	if k := len(s) - len(t); k > 0 && s[k-1] == '<' && strings.Contains(t, "@") && strings.Contains(t, ">") {
		// An e-mail address: "<a.gruenbacher@computer.org>".
		t = "<" + t
	}
	s = strings.TrimSuffix(strings.TrimRight(t, " \t\r"), "*/")
	s = strings.TrimSuffix(s, "-->")
	return strings.TrimSpace(s)
}
