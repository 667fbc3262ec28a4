package dpkg

import (
	"regexp"
	"sort"
	"strings"

	"github.com/reehub/reehub/analysis/sbom/catalog"
)

// commonLicenseRef finds references to the licenses Debian ships in
// /usr/share/common-licenses, the usual way a non-DEP-5 copyright file names
// its license.
var commonLicenseRef = regexp.MustCompile(`/usr/share/common-licenses/([A-Za-z0-9][A-Za-z0-9.+_-]*[A-Za-z0-9+])`)

// ParseCopyright returns the SPDX expressions a debian/copyright file
// declares, sorted and without duplicates. A machine-readable (DEP-5) file
// gives one expression per distinct License field of its header and Files
// paragraphs (stand-alone License paragraphs only hold texts); any other file
// gives the licenses it references under /usr/share/common-licenses.
func ParseCopyright(data []byte) []string {
	paras := catalog.ParseDeb822(data)
	set := map[string]bool{}
	dep5 := false
	for i, p := range paras {
		if i == 0 && strings.Contains(p.Get("Format"), "copyright-format") {
			dep5 = true
		}
		if p.Get("Files") != "" {
			dep5 = true
		}
	}
	if dep5 {
		for i, p := range paras {
			if i > 0 && p.Get("Files") == "" {
				continue // a stand-alone License paragraph
			}
			lic := p.Get("License")
			if lic == "" {
				continue
			}
			first, _, _ := strings.Cut(lic, "\n")
			if e := catalog.NormalizeExpression(first); e != "" {
				set[e] = true
			}
		}
	}
	if len(set) == 0 {
		for _, m := range commonLicenseRef.FindAllStringSubmatch(string(data), -1) {
			name := strings.TrimSuffix(m[1], ".")
			if name == "GPL" {
				name = "GPL-3" // /usr/share/common-licenses/GPL links to GPL-3
			}
			if name == "LGPL" {
				name = "LGPL-3"
			}
			if e := catalog.NormalizeExpression(name); e != "" {
				set[e] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}
