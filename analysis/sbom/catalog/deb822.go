package catalog

import (
	"bufio"
	"bytes"
	"strings"
)

// Paragraph is one deb822 stanza (a dpkg status entry, a DEP-5 copyright
// paragraph, a METADATA header block): field names keep their case, values
// keep continuation lines joined with "\n".
type Paragraph struct {
	// Fields maps the canonical field name to its value.
	Fields map[string]string
	// Order lists field names as they appeared.
	Order []string
}

// Get returns the value of field (case-insensitive).
func (p Paragraph) Get(field string) string {
	if v, ok := p.Fields[field]; ok {
		return v
	}
	for k, v := range p.Fields {
		if strings.EqualFold(k, field) {
			return v
		}
	}
	return ""
}

// ParseDeb822 splits data into paragraphs separated by blank lines. Comment
// lines (starting with '#') are skipped. Malformed lines are ignored rather
// than failing the whole file.
func ParseDeb822(data []byte) []Paragraph {
	var out []Paragraph
	cur := Paragraph{Fields: map[string]string{}}
	last := ""
	flush := func() {
		if len(cur.Order) > 0 {
			out = append(out, cur)
		}
		cur = Paragraph{Fields: map[string]string{}}
		last = ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if line[0] == '#' {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" {
				cur.Fields[last] += "\n" + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, dup := cur.Fields[k]; !dup {
			cur.Order = append(cur.Order, k)
		}
		cur.Fields[k] = strings.TrimSpace(v)
		last = k
	}
	flush()
	return out
}
