package apt

import (
	"bufio"
	"io"
	"strings"
)

// Paragraph is one stanza of a Debian control file: fields by name, in order.
type Paragraph struct {
	Fields map[string]string
	Order  []string
}

// Get returns a field's value ("" when absent).
func (p Paragraph) Get(name string) string { return p.Fields[name] }

// Text writes the paragraph back in control syntax.
func (p Paragraph) Text() string {
	var b strings.Builder
	for _, k := range p.Order {
		v := p.Fields[k]
		b.WriteString(k + ": " + strings.ReplaceAll(v, "\n", "\n ") + "\n")
	}
	return b.String()
}

// ReadParagraphs calls fn for every paragraph of a control-syntax stream.
func ReadParagraphs(r io.Reader, fn func(Paragraph) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	cur := Paragraph{Fields: map[string]string{}}
	last := ""
	flush := func() error {
		if len(cur.Order) == 0 {
			return nil
		}
		err := fn(cur)
		cur, last = Paragraph{Fields: map[string]string{}}, ""
		return err
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if err := flush(); err != nil {
				return err
			}
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur.Fields[last] += "\n" + strings.TrimPrefix(strings.TrimPrefix(line, " "), "\t")
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = k
			if _, seen := cur.Fields[k]; !seen {
				cur.Order = append(cur.Order, k)
			}
			cur.Fields[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return flush()
}
