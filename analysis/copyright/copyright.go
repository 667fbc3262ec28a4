// Package copyright extracts copyright statements from text: "Copyright (c)
// 2004-2019 Jane Roe <jane@example.org>", "(C)" and "©" forms, holders that
// continue on the next lines, and the Copyright: field of a debian/copyright
// file with its continuation lines. Statements are normalised and
// deduplicated, each with its line numbers.
package copyright

import (
	"bytes"
	"regexp"
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
	marker = regexp.MustCompile(`(?i)(?:\bcopyright\b|\(c\)|©)`)
	// lead is the run of markers at the start of a statement.
	lead = regexp.MustCompile(`(?i)^(?:\s*(?:copyright\b:?|copr\.|\(c\)|©|&copy;|by\b))+\s*`)
	// years is a year list or range at the start of the rest of a statement.
	years = regexp.MustCompile(`^(?:(?:19|20)\d\d(?:\s*[-–]\s*(?:(?:19|20)?\d\d|present|now))?(?:\s*,\s*|\s+|$)+)+`)
	// notStatement is what follows "copyright" in prose that is not a statement.
	notStatement = regexp.MustCompile(`(?i)^(?:notices?|holders?|owners?|laws?|act\b|and\b|or\b|statements?|information|` +
		`permission|protection|assignments?|status|disclaimer|licen[cs]e|file|header|section|is\b|are\b|to\b|of\b|in\b|on\b|` +
		`for\b|the\b|this\b|that\b|line|text|message|year|date|string|info|interests?|claims?|infringement|terms|policy|` +
		`\$|\(c\) <year>|<year>|\[year\]|\{year\}|yyyy|%s|\(c\)\s*$|,|\.|;|\)|"|')`)
	// trailer is text removed from the end of a statement.
	trailer = regexp.MustCompile(`(?i)[\s.,;:]*(?:all rights reserved\.?|\*/|-->|\\n|")?[\s.,;:]*$`)
	// spaces collapses runs of whitespace.
	spaces = regexp.MustCompile(`\s+`)
	// cmark normalises the copyright sign.
	cmark = regexp.MustCompile(`(?i)\(c\)|©|&copy;`)
	// dep5Field is the Copyright field of a debian/copyright paragraph.
	dep5Field = regexp.MustCompile(`^Copyright:`)
)

// maxContinuation is how many further lines a holder may continue on.
const maxContinuation = 2

// Extract returns the copyright statements of text, in order of first
// appearance, deduplicated by their normalised text.
func Extract(text []byte) []Statement {
	if !hasMarker(text) {
		return nil
	}
	lines := bytes.Split(text, []byte("\n"))
	var out []Statement
	seen := map[string]bool{}
	add := func(s Statement, ok bool) {
		if !ok {
			return
		}
		key := strings.ToLower(s.Text)
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, s)
	}
	inField := false
	for i := 0; i < len(lines); i++ {
		raw := string(lines[i])
		// debian/copyright: "Copyright: 2004 Jane" and indented continuation lines.
		if dep5Field.MatchString(raw) {
			inField = true
			add(build(strings.TrimPrefix(raw, "Copyright:"), i+1, i+1, true))
			continue
		}
		if inField {
			if len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') && strings.TrimSpace(raw) != "." {
				add(build(raw, i+1, i+1, true))
				continue
			}
			inField = false
		}
		if !hasMarker(lines[i]) {
			continue
		}
		line := stripComment(raw)
		loc := marker.FindStringIndex(line)
		if loc == nil {
			continue
		}
		stmt := line[loc[0]:]
		end := i
		// A holder continues on the next lines while the statement so far
		// has no holder or ends with a comma or "and".
		for n := 0; n < maxContinuation && end+1 < len(lines) && needsMore(stmt); n++ {
			next := stripComment(string(lines[end+1]))
			if next == "" || marker.MatchString(next) {
				break
			}
			stmt += " " + next
			end++
		}
		s, ok := build(stmt, i+1, end+1, false)
		add(s, ok)
		if ok {
			i = end
		}
	}
	return out
}

// hasMarker reports whether text may hold a statement at all.
func hasMarker(text []byte) bool {
	return bytes.Contains(text, []byte("opyright")) || bytes.Contains(text, []byte("OPYRIGHT")) ||
		bytes.Contains(text, []byte("(c)")) || bytes.Contains(text, []byte("(C)")) || bytes.Contains(text, []byte("©"))
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

// commentMarks are stripped from both ends of a line.
const commentMarks = " \t\r*/#;%!\"'-<>{}|@"

// stripComment removes comment markers and whitespace from a line's ends.
func stripComment(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range []string{`.\"`, "dnl ", "rem ", "@c ", "//", "/*", "<!--"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimLeft(s, commentMarks)
	s = strings.TrimSuffix(strings.TrimRight(s, " \t\r"), "*/")
	s = strings.TrimSuffix(s, "-->")
	return strings.TrimSpace(s)
}
