package catalog

import (
	"regexp"
	"slices"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp/spdxlicenses"

	"github.com/reehub/reehub/analysis/dep5"
	"github.com/reehub/reehub/analysis/license"
)

// This file holds only what is specific to the free-form license declarations
// of installed packages (Python METADATA, npm package.json, Debian copyright
// files): names written as prose, trove classifier names, stray punctuation.
// Debian short names go through dep5.SPDXID, and the parsing and
// normalisation of the resulting SPDX expression through
// license.ParseExpression, so an SBOM and a license scan spell a license the
// same way.

// aliases maps free-text license names and PyPI trove classifier names,
// lower-cased, to SPDX expressions. It also overrides two Debian short names:
// "Artistic" in a Debian package is Perl's Artistic license
// (/usr/share/common-licenses/Artistic), Artistic-1.0-Perl, and a bare
// "GPL"/"LGPL" in a declaration names no version, so it stays a reference.
var aliases = map[string]string{
	"mit license":                           "MIT",
	"the mit license":                       "MIT",
	"mit/expat":                             "MIT",
	"public domain":                         license.PublicDomain,
	"artistic":                              "Artistic-1.0-Perl",
	"artistic-1":                            "Artistic-1.0-Perl",
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
	"psf license":                           "PSF-2.0",
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
	"cc0 1.0 universal (cc0 1.0) public domain dedication":    "CC0-1.0",
	"the unlicense (unlicense)":                               "Unlicense",
	"boost software license 1.0 (bsl-1.0)":                    "BSL-1.0",
	"historical permission notice and disclaimer (hpnd)":      "HPND",
	"eclipse public license 2.0 (epl-2.0)":                    "EPL-2.0",
	"european union public licence 1.2 (eupl 1.2)":            "EUPL-1.2",
	"academic free license (afl)":                             "LicenseRef-AFL",
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

// looseGNU matches GNU names written as prose, which dep5.SPDXID does not
// take: "GPL 2", "GPL v3", "LGPL-2.1 or later", "GPL-2.0-only".
var looseGNU = regexp.MustCompile(`^(?i)(A?GPL|LGPL|GFDL)[- ]?v?[- ]?(\d(?:\.\d)?)(\+|\.0\+| or later|-or-later|-only)?$`)

var refSanitizer = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// licenseRef makes a LicenseRef id of free text, or "" when nothing of it is
// left.
func licenseRef(text string) string {
	ref := strings.Trim(refSanitizer.ReplaceAllString(text, "-"), "-")
	if ref == "" {
		return ""
	}
	return "LicenseRef-" + ref
}

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
	// Debian short names, GNU names ("GPL-2+", "LGPLv2.1") and SPDX ids
	// reehub's license scanner knows.
	if id := dep5.SPDXID(name); !strings.HasPrefix(id, "LicenseRef-") || id == license.PublicDomain {
		return id
	}
	if m := looseGNU.FindStringSubmatch(name); m != nil {
		ver := m[2]
		if !strings.Contains(ver, ".") {
			ver += ".0"
		}
		id, _ := license.CanonicalID(strings.ToUpper(m[1])+"-"+ver, m[3] != "" && !strings.EqualFold(m[3], "-only"))
		return id
	}
	// The scanner's id set is smaller than SPDX's license list.
	if ok, id := spdxlicenses.IsActiveLicense(name); ok {
		return id
	}
	if ok, id := spdxlicenses.IsDeprecatedLicense(name); ok {
		return id
	}
	// Debian spells some ids without ".0": "MPL-2", "Zope-2".
	if !strings.Contains(name, ".") {
		if ok, id := spdxlicenses.IsActiveLicense(name + ".0"); ok {
			return id
		}
	}
	return licenseRef(name)
}

// exceptionID maps the words of a "with ... exception" clause to an SPDX
// exception id, or to a LicenseRef when SPDX has none.
func exceptionID(words, licenseID string) string {
	if words == "" {
		return ""
	}
	if ok, id := spdxlicenses.IsException(words); ok {
		return id
	}
	key := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(words, "-exception"), " exception"))
	if key == "autoconf" && strings.HasPrefix(licenseID, "GPL-3") {
		key = "autoconf-3"
	}
	if id, ok := exceptionAliases[key]; ok {
		return id
	}
	if ok, id := spdxlicenses.IsException(key + "-exception"); ok {
		return id
	}
	return licenseRef(words) + "-exception"
}

// operator returns the SPDX operator a lenient declaration token stands for
// ("and", "&" → AND; "or", "|", "/" → OR; "with" → WITH), or "".
func operator(t string) string {
	switch strings.ToLower(t) {
	case "and", "&":
		return "AND"
	case "or", "|", "/":
		return "OR"
	case "with":
		return "WITH"
	}
	return ""
}

// fields splits a declaration into words, parentheses, "|" and "&".
func fields(s string) []string {
	return strings.FieldsFunc(strings.NewReplacer("(", " ( ", ")", " ) ", "|", " | ", "&", " & ").Replace(s),
		func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// strictSyntax rewrites one lenient declaration ("MIT License / Apache 2.0",
// "LGPL-2.1+ with GCC exception", "(MIT") as a sequence of strict SPDX
// tokens: each run of words between operators becomes one mapped id, "with
// ... exception" becomes WITH and an exception id, and dangling operators,
// empty or unbalanced parentheses are dropped or closed.
func strictSyntax(decl string) []string {
	toks := fields(decl)
	var out []string
	for i := 0; i < len(toks); {
		t := toks[i]
		switch op := operator(t); {
		case t == "(" || t == ")":
			out = append(out, t)
			i++
		case op == "AND" || op == "OR":
			out = append(out, op)
			i++
		case op == "WITH":
			// The exception's words, up to the next operator or "exception".
			i++
			var words []string
			for ; i < len(toks) && toks[i] != "(" && toks[i] != ")" && operator(toks[i]) == ""; i++ {
				if strings.EqualFold(toks[i], "exception") {
					i++
					break
				}
				words = append(words, toks[i])
			}
			attachException(out, strings.Join(words, " "))
		default:
			// A name may span words: "MIT License", "Apache 2.0".
			j := i + 1
			for j < len(toks) && toks[j] != "(" && toks[j] != ")" && operator(toks[j]) == "" {
				j++
			}
			id := NormalizeLicenseID(strings.Join(toks[i:j], " "))
			if strings.Contains(id, " ") {
				out = append(out, "(", id, ")")
			} else if id != "" {
				out = append(out, id)
			}
			i = j
		}
	}
	return balance(out)
}

// attachException appends the exception named by words to the id that ends
// out. SPDX 2.3 has no custom exceptions, so an exception without an SPDX id
// is kept together with its license in one LicenseRef. A clause after a
// parenthesised group or an expression alias is dropped.
func attachException(out []string, words string) {
	if len(out) == 0 {
		return
	}
	last := out[len(out)-1]
	if last == "(" || last == ")" || operator(last) != "" || strings.Contains(last, " ") {
		return
	}
	exc := exceptionID(words, last)
	switch {
	case exc == "":
	case strings.HasPrefix(exc, "LicenseRef-"):
		out[len(out)-1] = "LicenseRef-" + strings.TrimPrefix(last, "LicenseRef-") + "-with-" + strings.TrimPrefix(exc, "LicenseRef-")
	default:
		out[len(out)-1] = last + " WITH " + exc
	}
}

// balance drops the tokens that would make a strict parse fail: unmatched
// ")", operators with a missing operand, empty "()"; it closes unclosed "("
// and joins operands that follow each other with AND.
func balance(toks []string) []string {
	var out []string
	depth := 0
	operand := func() bool { // whether out ends with a complete operand
		return len(out) > 0 && out[len(out)-1] != "(" && operator(out[len(out)-1]) == ""
	}
	for _, t := range toks {
		switch {
		case t == "(":
			if operand() {
				out = append(out, "AND")
			}
			out = append(out, t)
			depth++
		case t == ")":
			if depth == 0 {
				continue
			}
			depth--
			if !operand() && len(out) > 0 && out[len(out)-1] != "(" {
				out = out[:len(out)-1] // a dangling operator
			}
			if out[len(out)-1] == "(" {
				out = out[:len(out)-1]
				continue
			}
			out = append(out, t)
		case operator(t) != "":
			if operand() {
				out = append(out, t)
			}
		default:
			if operand() {
				out = append(out, "AND")
			}
			out = append(out, t)
		}
	}
	for ; depth > 0; depth-- {
		if !operand() && len(out) > 0 && out[len(out)-1] != "(" {
			out = out[:len(out)-1]
		}
		if out[len(out)-1] == "(" {
			out = out[:len(out)-1]
			continue
		}
		out = append(out, ")")
	}
	if len(out) > 0 && !operand() {
		out = out[:len(out)-1]
	}
	return out
}

// NormalizeExpression turns a license declaration ("GPL-2+ or Artistic",
// "LGPL-2.1+ with GCC exception", "MIT OR Apache-2.0", "(MIT)") into a
// normalised SPDX license expression (see license.ParseExpression: canonical
// ids, operands deduplicated and sorted); it returns "" for an empty
// declaration. A DEP-5 comma ("GPL-2+ or Artistic, and BSD-3-clause") binds
// loosest.
func NormalizeExpression(decl string) string {
	var expr []string
	for i, part := range strings.Split(decl, ",") {
		op := "AND"
		if f := fields(part); i > 0 && len(f) > 0 {
			if o := operator(f[0]); o == "AND" || o == "OR" {
				op = o
				part = strings.TrimSpace(part)[len(f[0]):]
			}
		}
		toks := strictSyntax(part)
		if len(toks) == 0 {
			continue
		}
		if len(expr) > 0 {
			expr = append(append([]string{"("}, expr...), ")", op)
		}
		expr = append(append(append(expr, "("), toks...), ")")
	}
	if len(expr) == 0 {
		return ""
	}
	e, err := license.ParseExpression(strings.Join(expr, " "))
	if err != nil {
		// Not reachable with the ids NormalizeLicenseID makes; keep the
		// declaration rather than lose it.
		return licenseRef(decl)
	}
	return e.String()
}

// JoinAnd joins expressions with AND, normalised like NormalizeExpression:
// duplicates and empties dropped, operands flattened and sorted. One
// expression is returned unchanged.
func JoinAnd(exprs []string) string {
	var parts []string
	for _, e := range exprs {
		if e = strings.TrimSpace(e); e != "" && !slices.Contains(parts, e) {
			parts = append(parts, e)
		}
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	slices.Sort(parts)
	if e, err := license.ParseExpression("(" + strings.Join(parts, ") AND (") + ")"); err == nil {
		return e.String()
	}
	// An expression from elsewhere that is not strict SPDX: join as is.
	for i, e := range parts {
		if strings.Contains(e, " OR ") || strings.Contains(e, " AND ") {
			parts[i] = "(" + e + ")"
		}
	}
	return strings.Join(parts, " AND ")
}
