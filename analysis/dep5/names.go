package dep5

import (
	"regexp"
	"strings"

	"github.com/reehub/reehub/analysis/license"
)

// shortNames maps lower-case Debian license short names that differ from SPDX
// ids to SPDX expressions. GNU names (GPL-2+, LGPL-2.1, GFDL-NIV-1.3+) are
// translated by rule, and names that already are SPDX ids need no entry.
var shortNames = map[string]string{
	"expat":           "MIT",
	"mit":             "MIT",
	"bsd-2-clause":    "BSD-2-Clause",
	"bsd-3-clause":    "BSD-3-Clause",
	"bsd-4-clause":    "BSD-4-Clause",
	"bsd-4-clause-uc": "BSD-4-Clause-UC",
	"zlib":            "Zlib",
	"artistic":        "Artistic-1.0",
	"artistic-1":      "Artistic-1.0",
	"artistic-2":      "Artistic-2.0",
	"perl":            "Artistic-1.0-Perl OR GPL-1.0-or-later",
	"public-domain":   license.PublicDomain,
	"publicdomain":    license.PublicDomain,
	"pd":              license.PublicDomain,
	"psf-2":           "PSF-2.0",
	"psf":             "PSF-2.0",
	"python":          "Python-2.0",
	"python-2":        "Python-2.0",
	"apache-2":        "Apache-2.0",
	"apache":          "Apache-2.0",
	"cc0":             "CC0-1.0",
	"boost-1.0":       "BSL-1.0",
	"ssleay":          "SSLeay-standalone",
	"openssl":         "OpenSSL",
	"curl":            "curl",
	"isc":             "ISC",
	"x11":             "X11",
	"mpl-1.1":         "MPL-1.1",
	"mpl-2.0":         "MPL-2.0",
	"unicode":         "Unicode-DFS-2016",
	"fsf-unlimited":   "FSFUL",
	"fsfullr":         "FSFULLR",
	"fsfap":           "FSFAP",
	"permissive":      "LicenseRef-permissive",
}

// ShortNames returns a copy of the table of Debian short names (lower case)
// that differ from SPDX ids, with the SPDX expression of each.
func ShortNames() map[string]string {
	m := make(map[string]string, len(shortNames))
	for k, v := range shortNames {
		m[k] = v
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
	if v, ok := shortNames[strings.ToLower(name)]; ok {
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
		id := SPDXID(name)
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
