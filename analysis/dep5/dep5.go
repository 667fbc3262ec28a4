// Package dep5 parses machine-readable debian/copyright files (DEP-5,
// https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/): their
// Files paragraphs with globs, copyright lines and license short names, the
// matching of a path to its paragraph (the last matching paragraph wins), and
// the translation of Debian license short names to SPDX expressions.
package dep5

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/reehub/reehub/fault"
)

// Paragraph is one Files paragraph of a debian/copyright file.
type Paragraph struct {
	// Files are the paragraph's glob patterns, relative to the source root.
	Files []string
	// Copyright are the lines of the Copyright field, one holder statement each.
	Copyright []string
	// License is the license short name expression, the first line of the
	// License field: "GPL-2+ or Artistic-1.0".
	License string
	// LicenseText is the rest of the License field, often empty.
	LicenseText string
	// Line is the 1-based line where the paragraph starts.
	Line int

	globs []*regexp.Regexp
}

// Copyright is a parsed debian/copyright file.
type Copyright struct {
	// Format is the Format field of the header paragraph.
	Format string
	// Files are the Files paragraphs in file order.
	Files []*Paragraph
	// Licenses maps the short name of each stand-alone License paragraph to
	// its text.
	Licenses map[string]string
}

// maxSize bounds the size of a debian/copyright file Parse accepts.
const maxSize = 16 << 20

// Parse reads a DEP-5 file. A file with no Files paragraph is a
// fault.ErrInvalid: it is not machine-readable.
func Parse(r io.Reader) (*Copyright, error) {
	stanzas, err := readStanzas(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, err
	}
	c := &Copyright{Licenses: map[string]string{}}
	for i, st := range stanzas {
		if i == 0 {
			c.Format = st.field("format")
		}
		files, hasFiles := st.fields["files"]
		lic, hasLic := st.fields["license"]
		switch {
		case hasFiles:
			p := &Paragraph{Files: strings.Fields(files), Line: st.line}
			for _, l := range strings.Split(st.fields["copyright"], "\n") {
				if l = strings.TrimSpace(l); l != "" {
					p.Copyright = append(p.Copyright, l)
				}
			}
			p.License, p.LicenseText, _ = strings.Cut(lic, "\n")
			p.License = strings.TrimSpace(p.License)
			for _, g := range p.Files {
				p.globs = append(p.globs, compileGlob(g))
			}
			c.Files = append(c.Files, p)
		case hasLic:
			name, text, _ := strings.Cut(lic, "\n")
			c.Licenses[strings.TrimSpace(name)] = text
		}
	}
	if len(c.Files) == 0 {
		return nil, fault.Invalidf("debian/copyright has no Files paragraph: not in DEP-5 format")
	}
	return c, nil
}

// Match returns the last Files paragraph one of whose globs matches path (a
// slash-separated path relative to the source root), or nil.
func (c *Copyright) Match(path string) *Paragraph {
	path = strings.TrimPrefix(path, "./")
	for i := len(c.Files) - 1; i >= 0; i-- {
		for _, g := range c.Files[i].globs {
			if g.MatchString(path) {
				return c.Files[i]
			}
		}
	}
	return nil
}

// MostSpecific returns the Files paragraph that governs path most
// specifically, and its globs that match it: the last matching paragraph,
// as DEP-5 says, unless one names path itself (no wildcard, not a
// directory above it), which then wins over every pattern (sed's "Files: *
// doc/local.mk" before "Files: doc/*": the file named is meant); the last
// of several that name it.
func (c *Copyright) MostSpecific(path string) (*Paragraph, []string) {
	path = strings.TrimPrefix(path, "./")
	var named *Paragraph
	for _, p := range c.Files {
		if slices.ContainsFunc(p.Files, func(g string) bool { return strings.TrimPrefix(g, "./") == path }) {
			named = p
		}
	}
	if named == nil {
		return c.MatchGlobs(path)
	}
	return named, named.Globs(path)
}

// Globs returns the globs of p that match path, in field order; none when
// p does not govern path.
func (p *Paragraph) Globs(path string) []string {
	path = strings.TrimPrefix(path, "./")
	var globs []string
	for i, g := range p.globs {
		if g.MatchString(path) {
			globs = append(globs, p.Files[i])
		}
	}
	return globs
}

// MatchGlobs is Match that also returns the globs of the paragraph that
// match path (a paragraph may name "*" and a file, "Files: * doc/local.mk").
func (c *Copyright) MatchGlobs(path string) (*Paragraph, []string) {
	p := c.Match(path)
	if p == nil {
		return nil, nil
	}
	return p, p.Globs(path)
}

// compileGlob turns a DEP-5 glob into an anchored regular expression: "*"
// matches any characters including "/", "?" one character, and a backslash
// escapes "*", "?" and itself. A glob without wildcards also matches every
// path below it, as many debian/copyright files name directories.
func compileGlob(g string) *regexp.Regexp {
	g = strings.TrimPrefix(g, "./")
	var b strings.Builder
	b.WriteString("^")
	wild := false
	for i := 0; i < len(g); i++ {
		switch c := g[i]; {
		case c == '\\' && i+1 < len(g):
			i++
			b.WriteString(regexp.QuoteMeta(string(g[i])))
		case c == '*':
			b.WriteString(".*")
			wild = true
		case c == '?':
			b.WriteString(".")
			wild = true
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if !wild {
		b.WriteString("(?:/.*)?")
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

type stanza struct {
	line   int
	fields map[string]string
}

func (s stanza) field(name string) string { return strings.TrimSpace(s.fields[name]) }

// readStanzas splits a control-format file into paragraphs of fields.
func readStanzas(r io.Reader) ([]stanza, error) {
	var out []stanza
	var cur *stanza
	last := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxSize)
	n, size := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		size += len(line) + 1
		if size > maxSize {
			return nil, fault.TooLargef("debian/copyright is over %d bytes", maxSize)
		}
		if strings.TrimSpace(line) == "" {
			cur, last = nil, ""
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur == nil || last == "" {
				return nil, fault.Invalidf("debian/copyright line %d: continuation line outside a field", n)
			}
			v := strings.TrimSpace(line)
			if v == "." {
				v = ""
			}
			cur.fields[last] += "\n" + v
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fault.Invalidf("debian/copyright line %d: %q is not a field", n, line)
		}
		if cur == nil {
			out = append(out, stanza{line: n, fields: map[string]string{}})
			cur = &out[len(out)-1]
		}
		last = strings.ToLower(strings.TrimSpace(name))
		cur.fields[last] = strings.TrimSpace(value)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read debian/copyright: %w", err)
	}
	return out, nil
}
