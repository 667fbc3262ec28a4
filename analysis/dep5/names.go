package dep5

import (
	_ "embed" // shortnames.tsv
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/reehub/reehub/analysis/license"
)

// shortNamesTSV is the table of Debian short names (shortnames.tsv: its
// header says the format).
//
//go:embed shortnames.tsv
var shortNamesTSV string

// nameTable is shortnames.tsv parsed: exact names and families ("cc-by-*")
// with their SPDX expressions.
type nameTable struct {
	exact    map[string]string
	families map[string]string // family prefix ("cc-by") → template ("CC-BY-{v}")
}

// names parses shortnames.tsv once; the embedded table is checked by the
// tests, so a malformed row is a programming error.
var names = sync.OnceValue(func() nameTable {
	t := nameTable{exact: map[string]string{}, families: map[string]string{}}
	for n, line := range strings.Split(shortNamesTSV, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			panic(fmt.Sprintf("dep5 shortnames.tsv line %d: %d columns, want 3", n+1, len(f)))
		}
		name := strings.ToLower(f[0])
		if fam, ok := strings.CutSuffix(name, "-*"); ok {
			t.families[fam] = f[1]
			continue
		}
		t.exact[name] = f[1]
	}
	return t
})

// versionSuffix splits "CC-BY-SA-4" into "cc-by-sa" and "4".
var versionSuffix = regexp.MustCompile(`^(.+?)-v?(\d+(?:\.\d+)*[a-z]?)$`)

// lookup returns the table's SPDX expression for a Debian short name.
func (t nameTable) lookup(name string) (string, bool) {
	name = strings.ToLower(name)
	if v, ok := t.exact[name]; ok {
		return v, true
	}
	m := versionSuffix.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	tmpl, ok := t.families[m[1]]
	if !ok {
		return "", false
	}
	ver := m[2]
	if !strings.ContainsAny(ver, ".abcdefghijklmnopqrstuvwxyz") {
		ver += ".0"
	}
	return strings.ReplaceAll(tmpl, "{v}", ver), true
}

// ShortNames returns a copy of the table of Debian short names (lower case)
// that differ from SPDX ids, with the SPDX expression of each; families
// ("cc-by-*", whose expression has "{v}" for the version) are included.
func ShortNames() map[string]string {
	t := names()
	m := make(map[string]string, len(t.exact)+len(t.families))
	for k, v := range t.exact {
		m[k] = v
	}
	for k, v := range t.families {
		m[k+"-*"] = v
	}
	return m
}

var (
	gnuName  = regexp.MustCompile(`(?i)^(a?gpl|lgpl|gfdl)(-niv|-nos)?(?:-?v?(\d(?:\.\d)?))?(\+)?$`)
	refChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)
)

// SPDXID translates one Debian short name ("GPL-2+", "Expat", "BSD-3-clause")
// to an SPDX expression. A name it does not know becomes "LicenseRef-<name>".
func SPDXID(name string) string {
	name = strings.TrimSpace(name)
	if v, ok := names().lookup(name); ok {
		return v
	}
	if m := gnuName.FindStringSubmatch(name); m != nil {
		fam, ver, plus := strings.ToUpper(m[1]), m[3], m[4] != ""
		if ver == "" {
			// No version: any version may be chosen.
			ver, plus = map[string]string{"GPL": "1", "LGPL": "2", "AGPL": "3", "GFDL": "1.1"}[fam], true
		}
		if !strings.Contains(ver, ".") {
			ver += ".0"
		}
		id := fam + "-" + ver
		if m[2] != "" && fam == "GFDL" {
			id += "-no-invariants"
			if plus {
				return id + "-or-later"
			}
			return id + "-only"
		}
		c, _ := license.CanonicalID(id, plus)
		return c
	}
	if license.Known(name) || license.Known(strings.TrimSuffix(name, "+")) {
		id := strings.TrimSuffix(name, "+")
		c, plus := license.CanonicalID(id, id != name)
		if plus {
			c += "+"
		}
		return c
	}
	return "LicenseRef-" + strings.Trim(refChars.ReplaceAllString(name, "-"), "-")
}

var (
	withException = regexp.MustCompile(`(?i)\s+with\s+(.+?)\s+exception\b`)
	debOperator   = regexp.MustCompile(`(?i)\s+(?:and/or|or|\|)\s+|\s*,\s*(?:or\s+)?|\s+and\s+`)
)

// SPDX translates a Debian License field expression ("GPL-2+ or Artistic",
// "GPL-3+ with Autoconf-data exception", "BSD-3-clause and Expat") to a
// normalised SPDX expression. "and/or", "|" and "," are read as OR.
func SPDX(expr string) (*license.Expr, error) {
	return translate(expr, SPDXID)
}

// commaOperator is DEP-5's low-precedence operator: "GPL-2+ or
// Artistic-2.0, and BSD-3-clause" is (GPL-2+ or Artistic-2.0) and
// BSD-3-clause.
var commaOperator = regexp.MustCompile(`(?i)\s*,\s*(and|or)\s+`)

// translate is SPDX with the translation of one short name given. The
// parts between ", and" and ", or" are translated first, each in
// parentheses.
func translate(expr string, spdxID func(string) string) (*license.Expr, error) {
	locs := commaOperator.FindAllStringSubmatchIndex(expr, -1)
	if len(locs) == 0 {
		return translateTerms(expr, spdxID)
	}
	var b strings.Builder
	prev := 0
	for i := 0; i <= len(locs); i++ {
		end := len(expr)
		if i < len(locs) {
			end = locs[i][0]
		}
		e, err := translateTerms(expr[prev:end], spdxID)
		if err != nil {
			return nil, err
		}
		b.WriteString("(" + e.String() + ")")
		if i < len(locs) {
			b.WriteString(" " + strings.ToUpper(expr[locs[i][2]:locs[i][3]]) + " ")
			prev = locs[i][1]
		}
	}
	return license.ParseExpression(b.String())
}

// translateTerms translates an expression without DEP-5's comma operators.
func translateTerms(expr string, spdxID func(string) string) (*license.Expr, error) {
	// Exceptions first: "X with Foo exception" → "X WITH Foo-exception".
	expr = withException.ReplaceAllStringFunc(expr, func(s string) string {
		m := withException.FindStringSubmatch(s)
		return " WITH " + refChars.ReplaceAllString(m[1], "-") + "-exception"
	})
	var b strings.Builder
	rest := expr
	for {
		loc := debOperator.FindStringIndex(rest)
		term := rest
		if loc != nil {
			term = rest[:loc[0]]
		}
		name, exc, _ := strings.Cut(term, " WITH ")
		id := spdxID(name)
		if strings.Contains(id, " ") {
			id = "(" + id + ")"
		}
		b.WriteString(id)
		if exc != "" {
			b.WriteString(" WITH " + exc)
		}
		if loc == nil {
			break
		}
		op := strings.ToLower(strings.TrimSpace(rest[loc[0]:loc[1]]))
		if op == "and" {
			b.WriteString(" AND ")
		} else {
			b.WriteString(" OR ")
		}
		rest = rest[loc[1]:]
	}
	return license.ParseExpression(b.String())
}
