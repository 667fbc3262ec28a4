package license

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
)

// licenseNames maps the name of a license as prose writes it before the
// word "license" ("released under the libpng license", "under the terms of
// the zlib/libpng license") to its SPDX id. Names that are SPDX ids in any
// case ("released under the MIT-0 license") need no entry; GNU licenses are
// the rules' business.
var licenseNames = map[string]string{
	"libpng": "Libpng", "png": "Libpng", "libpng/zlib": "Zlib", "zlib/libpng": "Zlib", "zlib": "Zlib",
	"mit": "MIT", "expat": "MIT", "mit/expat": "MIT", "expat/mit": "MIT", "mit/x11": "MIT", "x11": "X11",
	"isc": "ISC", "openssl": "OpenSSL", "ssleay": "SSLeay-standalone", "curl": "curl", "bzip2": "bzip2-1.0.6",
	"new bsd": "BSD-3-Clause", "modified bsd": "BSD-3-Clause", "revised bsd": "BSD-3-Clause", "3-clause bsd": "BSD-3-Clause",
	"three-clause bsd": "BSD-3-Clause", "bsd 3-clause": "BSD-3-Clause", "simplified bsd": "BSD-2-Clause",
	"2-clause bsd": "BSD-2-Clause", "two-clause bsd": "BSD-2-Clause", "bsd 2-clause": "BSD-2-Clause", "freebsd": "BSD-2-Clause",
	"apache": "Apache-2.0", "apache 2.0": "Apache-2.0", "apache-2.0": "Apache-2.0", "apache v2": "Apache-2.0",
	"boost software": "BSL-1.0", "boost": "BSL-1.0", "python software foundation": "PSF-2.0", "psf": "PSF-2.0",
	"wtfpl": "WTFPL", "cc0": "CC0-1.0", "0bsd": "0BSD", "unicode": "Unicode-DFS-2016", "sleepycat": "Sleepycat",
	"artistic": "Artistic-1.0", "artistic 1.0": "Artistic-1.0", "perl artistic": "Artistic-1.0-Perl", "artistic 2.0": "Artistic-2.0", "mozilla public 2.0": "MPL-2.0", "eclipse public 2.0": "EPL-2.0",
}

// namedReference finds "released under the <name> license"; the name is
// looked up in licenseNames and among the SPDX ids.
var namedReference = rule{
	name: "named-reference", kind: KindReference, keyword: "under", confidence: 0.8, span: 160,
	pattern: `\b(?:released|licen[cs]ed|distributed|available|provided|covered|published|offered|redistributable|` +
		`(?:re)?distribute(?: it)?(?: and/or modify it)?(?: only)?) under (?:the )?(?:terms (?:and conditions )?of (?:the )?)?` +
		`["']?(?P<name>[a-z0-9][a-z0-9./+-]*(?: [a-z0-9][a-z0-9./+-]*){0,2})["']? (?:style )?licen[cs]e\b`,
}

// namedID returns the SPDX id of a license name written in prose.
func namedID(name string) (string, bool) {
	name = strings.TrimSuffix(strings.TrimPrefix(name, "the "), " public")
	if id, ok := licenseNames[name]; ok {
		return id, true
	}
	if strings.Contains(name, "gpl") || strings.Contains(name, "general") {
		return "", false
	}
	id := strings.TrimSuffix(name, "+")
	if !Known(id) {
		return "", false
	}
	c, plus := CanonicalID(id, id != name)
	if plus {
		c += "+"
	}
	return c, true
}

// FileRef is a pointer in a text to another file that holds its license:
// "see the file COPYING", "the license can be found in LICENSE.txt", "for
// conditions of distribution and use, see the disclaimer and license in
// png.h". A tree scan (analysis/scan) looks the file up next to the text's
// file and in the directories above it.
type FileRef struct {
	// Name is the file named, lower case as the text was cleaned
	// ("copying", "license.txt", "png.h").
	Name string `json:"name"`
	// Rule names the pointer pattern that matched.
	Rule string `json:"rule"`
	// Start and End are the byte offsets of the pointer.
	Start int `json:"start"`
	End   int `json:"end"`
	// StartLine and EndLine are its 1-based lines.
	StartLine int `json:"start_line"`
	EndLine   int `json:"end_line"`
}

// licenseFile is a file name that holds license texts: COPYING, LICENSE,
// LICENCE, COPYRIGHT, README, UNLICENSE, with an optional suffix (".txt",
// "-MIT", ".LGPL").
const licenseFile = `(?P<file>(?:copying|copyright|licen[cs]e|readme|unlicense)(?:[._-][a-z0-9]+(?:\.[a-z0-9]+)?)?)`

// pointers are the patterns that name another file for a text's license.
// Each has a "file" group. They run on the rule regions (around forRules
// hint words): every match contains "licen", "copying", "copyright" or
// "readme", each a hint word. Each pattern runs only on windows around its
// anchors, from before bytes before an anchor to after bytes after it,
// which every match of the pattern fits in (TestPointerWindows checks it
// against the pattern on the whole text): on the whole cleaned text, these
// patterns were 40% of a scan's CPU time on perl's tree.
var pointers = []struct {
	name          string
	re            *regexp.Regexp
	anchors       [][]byte
	before, after int
}{
	{"see-file", regexp.MustCompile(`\bsee (?:the )?(?:accompanying |included |enclosed |attached |top-level |toplevel |top level )?(?:file |files )?["'` + "`" + `(<]?` +
		licenseFile + `(?:["'` + "`" + `)>]| file|\b)`), [][]byte{[]byte("see ")}, 0, 160},
	{"found-in-file", regexp.MustCompile(`\b(?:found|contained|included|given|described|stated|specified|listed|set out|set forth|available|detailed|reproduced) in (?:the )?` +
		`(?:accompanying |included |enclosed |top-level |toplevel |top level )?(?:file )?["'` + "`" + `]?` + licenseFile + `(?:["'` + "`" + `]| file|\b)`),
		[][]byte{[]byte("copying"), []byte("copyright"), []byte("licen"), []byte("readme")}, 100, 80},
	{"conditions-see-file", regexp.MustCompile(`\bfor (?:conditions of distribution and use|licen[cs]ing (?:terms|information|details|conditions)|copying (?:conditions|permission)|(?:the )?(?:full )?licen[cs]e(?: terms| text| information| details)?),? ` +
		`see (?:the )?(?:disclaimer and licen[cs]e|licen[cs]e|copyright notice|copyright)s? (?:in|at the top of|at the beginning of) (?:the )?(?:file )?(?P<file>[a-z0-9_][a-z0-9_+-]*(?:\.[a-z0-9_+-]+)+|copying|licen[cs]e|readme)\b`),
		[][]byte{[]byte("see ")}, 100, 200},
}

// findPointers runs the pointer patterns on cleaned text.
func findPointers(clean []byte, origin []int32, out []FileRef) []FileRef {
	for _, p := range pointers {
		i := p.re.SubexpIndex("file")
		var seen []int
		for _, w := range anchorWindows(clean, p.anchors, p.before, p.after) {
			for _, loc := range p.re.FindAllSubmatchIndex(clean[w[0]:w[1]], -1) {
				if slices.Contains(seen, w[0]+loc[0]) {
					continue
				}
				seen = append(seen, w[0]+loc[0])
				name := strings.TrimRight(string(clean[w[0]+loc[2*i]:w[0]+loc[2*i+1]]), ".")
				out = append(out, FileRef{Name: name, Rule: p.name, Start: int(origin[w[0]+loc[0]]), End: int(origin[w[0]+loc[1]-1]) + 1})
			}
		}
	}
	return out
}

// anchorWindows returns the windows of clean from before bytes before to
// after bytes after each occurrence of an anchor, joined where they
// overlap, in order, each widened to whole words.
func anchorWindows(clean []byte, anchors [][]byte, before, after int) [][2]int {
	var ws [][2]int
	for _, a := range anchors {
		for off := 0; off < len(clean); {
			i := bytes.Index(clean[off:], a)
			if i < 0 {
				break
			}
			i += off
			ws = append(ws, [2]int{max(0, i-before), min(len(clean), i+len(a)+after)})
			off = i + len(a)
		}
	}
	if len(ws) == 0 {
		return nil
	}
	slices.SortFunc(ws, func(a, b [2]int) int { return a[0] - b[0] })
	out := ws[:1]
	for _, w := range ws[1:] {
		last := &out[len(out)-1]
		if w[0] <= last[1] {
			last[1] = max(last[1], w[1])
			continue
		}
		out = append(out, w)
	}
	for k := range out {
		out[k] = [2]int{wordStart(clean, out[k][0]), wordEnd(clean, out[k][1])}
	}
	return out
}
