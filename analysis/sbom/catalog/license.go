package catalog

import (
	"regexp"
	"sort"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp/spdxlicenses"
)

// aliases maps license names that are not SPDX ids (Debian's DEP-5 short
// names, PyPI trove classifier names, common free text), lower-cased, to
// SPDX expressions.
var aliases = map[string]string{
	"expat":                                 "MIT",
	"mit license":                           "MIT",
	"the mit license":                       "MIT",
	"mit/expat":                             "MIT",
	"public-domain":                         "LicenseRef-public-domain",
	"public domain":                         "LicenseRef-public-domain",
	"publicdomain":                          "LicenseRef-public-domain",
	"pd":                                    "LicenseRef-public-domain",
	"artistic":                              "Artistic-1.0-Perl",
	"artistic-1":                            "Artistic-1.0-Perl",
	"artistic-2":                            "Artistic-2.0",
	"apache-2":                              "Apache-2.0",
	"apache 2":                              "Apache-2.0",
	"apache 2.0":                            "Apache-2.0",
	"apache-2.0 license":                    "Apache-2.0",
	"apache license 2.0":                    "Apache-2.0",
	"apache license, version 2.0":           "Apache-2.0",
	"apache license version 2.0":            "Apache-2.0",
	"apache software license":               "Apache-2.0",
	"apache software license 2.0":           "Apache-2.0",
	"apache 2.0 license":                    "Apache-2.0",
	"asl 2.0":                               "Apache-2.0",
	"bsd":                                   "LicenseRef-BSD",
	"bsd license":                           "LicenseRef-BSD",
	"new bsd":                               "BSD-3-Clause",
	"new bsd license":                       "BSD-3-Clause",
	"modified bsd":                          "BSD-3-Clause",
	"3-clause bsd":                          "BSD-3-Clause",
	"bsd 3-clause":                          "BSD-3-Clause",
	"bsd-3":                                 "BSD-3-Clause",
	"simplified bsd":                        "BSD-2-Clause",
	"2-clause bsd":                          "BSD-2-Clause",
	"bsd 2-clause":                          "BSD-2-Clause",
	"isc license":                           "ISC",
	"isc license (iscl)":                    "ISC",
	"python software foundation license":    "PSF-2.0",
	"psf":                                   "PSF-2.0",
	"psf license":                           "PSF-2.0",
	"psf-2":                                 "PSF-2.0",
	"python-2.0":                            "Python-2.0",
	"mozilla public license 2.0 (mpl 2.0)":  "MPL-2.0",
	"mpl 2.0":                               "MPL-2.0",
	"gnu general public license v2 (gplv2)": "GPL-2.0-only",
	"gnu general public license v2 or later (gplv2+)":         "GPL-2.0-or-later",
	"gnu general public license v3 (gplv3)":                   "GPL-3.0-only",
	"gnu general public license v3 or later (gplv3+)":         "GPL-3.0-or-later",
	"gnu lesser general public license v2 (lgplv2)":           "LGPL-2.0-only",
	"gnu lesser general public license v2 or later (lgplv2+)": "LGPL-2.0-or-later",
	"gnu lesser general public license v3 (lgplv3)":           "LGPL-3.0-only",
	"gnu lesser general public license v3 or later (lgplv3+)": "LGPL-3.0-or-later",
	"gnu library or lesser general public license (lgpl)":     "LicenseRef-LGPL",
	"gnu affero general public license v3":                    "AGPL-3.0-only",
	"gnu affero general public license v3 or later (agplv3+)": "AGPL-3.0-or-later",
	"zlib/libpng license":                                     "Zlib",
	"zlib/libpng":                                             "Zlib",
	"cc0":                                                     "CC0-1.0",
	"cc0 1.0 universal (cc0 1.0) public domain dedication":    "CC0-1.0",
	"the unlicense (unlicense)":                               "Unlicense",
	"boost software license 1.0 (bsl-1.0)":                    "BSL-1.0",
	"historical permission notice and disclaimer (hpnd)":      "HPND",
	"eclipse public license 2.0 (epl-2.0)":                    "EPL-2.0",
	"european union public licence 1.2 (eupl 1.2)":            "EUPL-1.2",
	"academic free license (afl)":                             "LicenseRef-AFL",
	"mit-0":                                                   "MIT-0",
	"gpl":                                                     "LicenseRef-GPL",
	"lgpl":                                                    "LicenseRef-LGPL",
}

// exceptionAliases maps the words before "exception" in a DEP-5 "with ...
// exception" clause to SPDX exception ids.
var exceptionAliases = map[string]string{
	"autoconf":       "Autoconf-exception-generic",
	"autoconf-3":     "Autoconf-exception-3.0",
	"bison":          "Bison-exception-2.2",
	"bison-2.2":      "Bison-exception-2.2",
	"classpath":      "Classpath-exception-2.0",
	"font":           "Font-exception-2.0",
	"gcc":            "GCC-exception-3.1",
	"gcc-3.1":        "GCC-exception-3.1",
	"gcc-2.0":        "GCC-exception-2.0",
	"libtool":        "Libtool-exception",
	"linux-syscall":  "Linux-syscall-note",
	"openssl":        "LicenseRef-openssl-exception",
	"texinfo":        "Texinfo-exception",
	"u-boot":         "u-boot-exception-2.0",
	"389":            "389-exception",
	"llvm":           "LLVM-exception",
	"qt-gpl":         "Qt-GPL-exception-1.0",
	"universal-foss": "Universal-FOSS-exception-1.0",
}

// gnuVersioned matches Debian's GNU short names: GPL-2, GPL-2+, LGPL-2.1+, GFDL-1.3.
var gnuVersioned = regexp.MustCompile(`^(?i)(A?GPL|LGPL|GFDL)[-v ]?(\d(?:\.\d)?)(\+|\.0\+| or later|-or-later|-only)?$`)

var refSanitizer = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// NormalizeLicenseID maps one license name (an SPDX id in any case, a Debian
// short name, a classifier name, "public domain") to an SPDX expression; a
// name it cannot place becomes "LicenseRef-<name>".
func NormalizeLicenseID(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	key := strings.ToLower(name)
	if v, ok := aliases[key]; ok {
		return v
	}
	if strings.HasPrefix(key, "licenseref-") {
		return "LicenseRef-" + refSanitizer.ReplaceAllString(name[len("licenseref-"):], "-")
	}
	if m := gnuVersioned.FindStringSubmatch(name); m != nil {
		fam := strings.ToUpper(m[1])
		ver := m[2]
		if !strings.Contains(ver, ".") {
			ver += ".0"
		}
		switch strings.ToLower(m[3]) {
		case "+", ".0+", " or later", "-or-later":
			return fam + "-" + ver + "-or-later"
		default:
			return fam + "-" + ver + "-only"
		}
	}
	if ok, id := spdxlicenses.IsActiveLicense(name); ok {
		return id
	}
	if ok, id := spdxlicenses.IsDeprecatedLicense(name); ok {
		return id
	}
	// Debian spells some ids differently: "BSD-3-clause", "MPL-2", "Zope-2.1".
	if !strings.Contains(name, ".") {
		if ok, id := spdxlicenses.IsActiveLicense(name + ".0"); ok {
			return id
		}
	}
	ref := strings.Trim(refSanitizer.ReplaceAllString(name, "-"), "-")
	if ref == "" {
		return ""
	}
	return "LicenseRef-" + ref
}

// node is a parsed license expression.
type node struct {
	op          string // "AND", "OR", or "" for a leaf
	left, right *node
	id          string // leaf: license id, possibly "X WITH Y"
}

func (n *node) String() string { return n.format("") }

func (n *node) format(parent string) string {
	if n.op == "" {
		return n.id
	}
	s := n.left.format(n.op) + " " + n.op + " " + n.right.format(n.op)
	if parent != "" && parent != n.op {
		return "(" + s + ")"
	}
	return s
}

type parser struct {
	toks []string
	pos  int
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func isOp(t, op string) bool { return strings.EqualFold(t, op) }

func (p *parser) parseOr() *node {
	left := p.parseAnd()
	for isOp(p.peek(), "or") || p.peek() == "|" || p.peek() == "/" {
		p.next()
		right := p.parseAnd()
		left = combine("OR", left, right)
	}
	return left
}

func (p *parser) parseAnd() *node {
	left := p.parseWith()
	for isOp(p.peek(), "and") || p.peek() == "&" {
		p.next()
		right := p.parseWith()
		left = combine("AND", left, right)
	}
	return left
}

func combine(op string, l, r *node) *node {
	switch {
	case l == nil:
		return r
	case r == nil:
		return l
	}
	return &node{op: op, left: l, right: r}
}

func (p *parser) parseWith() *node {
	n := p.parseAtom()
	if n == nil || !isOp(p.peek(), "with") {
		return n
	}
	p.next()
	var words []string
	for t := p.peek(); t != "" && t != ")" && !isOp(t, "and") && !isOp(t, "or"); t = p.peek() {
		p.next()
		if strings.EqualFold(t, "exception") {
			break
		}
		words = append(words, t)
	}
	exc := exceptionID(strings.Join(words, " "), n.id)
	if n.op != "" || exc == "" {
		return n
	}
	if strings.HasPrefix(exc, "LicenseRef-") {
		// SPDX 2.3 has no custom exceptions: keep the pairing in one reference.
		return &node{id: "LicenseRef-" + strings.TrimPrefix(n.id, "LicenseRef-") + "-with-" + strings.TrimPrefix(exc, "LicenseRef-")}
	}
	return &node{id: n.id + " WITH " + exc}
}

func exceptionID(words, license string) string {
	if words == "" {
		return ""
	}
	if ok, id := spdxlicenses.IsException(words); ok {
		return id
	}
	key := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(words, "-exception"), " exception"))
	if key == "autoconf" && strings.HasPrefix(license, "GPL-3") {
		key = "autoconf-3"
	}
	if id, ok := exceptionAliases[key]; ok {
		return id
	}
	if ok, id := spdxlicenses.IsException(key + "-exception"); ok {
		return id
	}
	return "LicenseRef-" + strings.Trim(refSanitizer.ReplaceAllString(words, "-"), "-") + "-exception"
}

func (p *parser) parseAtom() *node {
	t := p.next()
	switch {
	case t == "":
		return nil
	case t == "(":
		n := p.parseOr()
		if p.peek() == ")" {
			p.next()
		}
		return n
	case t == ")" || isOp(t, "and") || isOp(t, "or") || isOp(t, "with"):
		return p.parseAtom()
	}
	// A name may span words ("MIT License", "Apache 2.0"): take words until an
	// operator.
	words := []string{t}
	for nt := p.peek(); nt != "" && nt != "(" && nt != ")" && nt != "|" && nt != "/" && nt != "&" &&
		!isOp(nt, "and") && !isOp(nt, "or") && !isOp(nt, "with"); nt = p.peek() {
		words = append(words, p.next())
	}
	id := NormalizeLicenseID(strings.Join(words, " "))
	if id == "" {
		return nil
	}
	if strings.ContainsAny(id, " ()") {
		// An alias that is itself an expression.
		sub := &parser{toks: tokenize(id)}
		return sub.parseOr()
	}
	return &node{id: id}
}

func tokenize(s string) []string {
	var toks []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\r':
			flush()
		case '(', ')', '|', '&':
			flush()
			toks = append(toks, string(r))
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}

// NormalizeExpression turns a license declaration ("GPL-2+ or Artistic",
// "LGPL-2.1+ with GCC exception", "MIT OR Apache-2.0", "(MIT)") into an SPDX
// license expression; it returns "" for an empty declaration. A DEP-5 comma
// ("GPL-2+ or Artistic, and BSD-3-clause") binds loosest.
func NormalizeExpression(decl string) string {
	decl = strings.TrimSpace(decl)
	if decl == "" {
		return ""
	}
	var result *node
	op := ""
	for i, part := range strings.Split(decl, ",") {
		toks := tokenize(part)
		if i > 0 && len(toks) > 0 && (isOp(toks[0], "and") || isOp(toks[0], "or")) {
			op = strings.ToUpper(toks[0])
			toks = toks[1:]
		} else if i > 0 {
			op = "AND"
		}
		p := &parser{toks: toks}
		n := p.parseOr()
		if n == nil {
			continue
		}
		if result == nil {
			result = n
			continue
		}
		result = combine(op, wrap(result), n)
	}
	if result == nil {
		return ""
	}
	return result.String()
}

// wrap makes an already combined node keep its grouping when combined again.
func wrap(n *node) *node {
	if n.op == "" {
		return n
	}
	return &node{id: "(" + n.String() + ")"}
}

// JoinAnd joins expressions with AND, parenthesising those that contain an
// operator, after dropping duplicates and empties. One expression is returned
// unchanged.
func JoinAnd(exprs []string) string {
	seen := map[string]bool{}
	var parts []string
	for _, e := range exprs {
		e = strings.TrimSpace(e)
		if e == "" || seen[e] {
			continue
		}
		seen[e] = true
		parts = append(parts, e)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	sort.Strings(parts)
	for i, e := range parts {
		if strings.Contains(e, " OR ") || strings.Contains(e, " AND ") {
			parts[i] = "(" + e + ")"
		}
	}
	return strings.Join(parts, " AND ")
}
