package dep5_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/dep5"
	"github.com/reehub/reehub/analysis/license"
)

func TestShortNamesTable(t *testing.T) {
	t.Parallel()
	// Every row of shortnames.tsv is a valid SPDX expression.
	for name, expr := range dep5.ShortNames() {
		_, err := license.ParseExpression(strings.ReplaceAll(expr, "{v}", "1.0"))
		require.NoError(t, err, name)
	}
	tests := []struct{ in, want string }{
		// The specification's list, with and without versions.
		{"Public-Domain", "LicenseRef-public-domain"},
		{"Apache-2", "Apache-2.0"},
		{"Artistic-2.0", "Artistic-2.0"},
		{"CC-BY-SA-3", "CC-BY-SA-3.0"},
		{"CC-BY-4.0", "CC-BY-4.0"},
		{"CC0", "CC0-1.0"},
		{"CDDL-1.1", "CDDL-1.1"},
		{"LPPL-1.3c", "LPPL-1.3c"},
		{"MPL-1.1", "MPL-1.1"},
		{"Python-2", "Python-2.0"},
		{"Zope-2.1", "ZPL-2.1"},
		{"W3C", "W3C"},
		{"zlib", "Zlib"},
		// SPDX ids in another case.
		{"bsd-2-clause", "BSD-2-Clause"},
		{"isc", "ISC"},
		{"mit-0", "MIT-0"},
		// Not in any table.
		{"MIT-1", "LicenseRef-MIT-1"},
		{"cc-by-zz", "LicenseRef-cc-by-zz"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, dep5.SPDXID(tt.in), tt.in)
	}
}

const mitText = ` Permission is hereby granted, free of charge, to any person obtaining a
 copy of this software and associated documentation files (the "Software"),
 to deal in the Software without restriction, including without limitation
 the rights to use, copy, modify, merge, publish, distribute, sublicense,
 and/or sell copies of the Software, and to permit persons to whom the
 Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
 FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
 DEALINGS IN THE SOFTWARE.
`

// resolverFor parses a debian/copyright text and returns it with its
// Resolver and the Resolver's detector.
func resolverFor(t *testing.T, text string) (*dep5.Copyright, *dep5.Resolver, *license.Detector) {
	t.Helper()
	c, err := dep5.Parse(strings.NewReader(text))
	require.NoError(t, err)
	det, err := license.NewDetector()
	require.NoError(t, err)
	return c, dep5.NewResolver(c, det), det
}

func TestResolverByText(t *testing.T) {
	t.Parallel()
	in := "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n" +
		"Files: *\nCopyright: 2020 A\nLicense: MIT-1\n\n" +
		"Files: lib/*\nCopyright: 2020 B\nLicense: custom-inline\n" + mitText + "\n" +
		"Files: odd/*\nCopyright: 2020 C\nLicense: our-terms\n\n" +
		"License: MIT-1\n" + mitText + "\n" +
		"License: our-terms\n You may do anything with this file except sell it.\n\n" +
		"License: PD-debian\n The Debian packaging files are in the public domain.\n You may freely use, modify, distribute, and relicense them.\n\n" +
		"License: probably-PD\n See the note on AUTHORS, README, and so on above.\n"
	_, r, _ := resolverFor(t, in)

	id, src := r.ID("MIT-1") // stand-alone License paragraph with the MIT text
	require.Equal(t, "MIT", id)
	require.Equal(t, dep5.SourceText, src)
	id, src = r.ID("custom-inline") // text inline in the Files paragraph
	require.Equal(t, "MIT", id)
	require.Equal(t, dep5.SourceText, src)
	id, src = r.ID("our-terms") // a text no SPDX license has
	require.Equal(t, "LicenseRef-our-terms", id)
	require.Equal(t, dep5.SourceUnknown, src)
	id, src = r.ID("PD-debian") // a custom name for a dedication
	require.Equal(t, license.PublicDomain, id)
	require.Equal(t, dep5.SourceText, src)
	id, src = r.ID("probably-PD") // a body that states nothing
	require.Equal(t, "LicenseRef-probably-PD", id)
	require.Equal(t, dep5.SourceUnknown, src)
	id, src = r.ID("GPL-2+")
	require.Equal(t, "GPL-2.0-or-later", id)
	require.Equal(t, dep5.SourceTable, src)

	e, err := r.SPDX("MIT-1 or GPL-2+")
	require.NoError(t, err)
	require.Equal(t, "GPL-2.0-or-later OR MIT", e.String())
}

func TestResolverBodyRefinesVersion(t *testing.T) {
	t.Parallel()
	// The short name says LGPL-2+, the paragraph's own text says 2.1 or later.
	in := "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n" +
		"Files: *\nCopyright: 2020 A\nLicense: GPL-2+\n\n" +
		"Files: lib/*\nCopyright: 2020 B\nLicense: LGPL-2+\n" +
		" This program is free software: you can redistribute it and/or modify it\n" +
		" under the terms of the GNU Lesser General Public License as published by\n" +
		" the Free Software Foundation, either version 2.1 of the License, or\n" +
		" (at your option) any later version.\n" +
		"\nFiles: bsd/*\nCopyright: 2020 C\nLicense: BSD-3-clause\n" + mitText
	c, r, det := resolverFor(t, in)

	e, src, err := r.ParagraphSources(c.Files[1])
	require.NoError(t, err)
	require.Equal(t, "LGPL-2.1-or-later", e.String())
	require.Equal(t, []dep5.Source{dep5.SourceText}, src)
	// Without a body the table decides.
	e, err = r.Paragraph(c.Files[0])
	require.NoError(t, err)
	require.Equal(t, "GPL-2.0-or-later", e.String())
	// A full text does not say "or later": GPL-3+ with the GPL text stays.
	raw, err := os.ReadFile(filepath.Join("..", "license", "testdata", "GPL-3.0.txt"))
	require.NoError(t, err)
	gpl3Text := " " + strings.ReplaceAll(strings.ReplaceAll(string(raw), "\n\n", "\n.\n"), "\n", "\n ") + "\n"
	c2, err := dep5.Parse(strings.NewReader("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n" +
		"Files: *\nCopyright: 2020 A\nLicense: MIT-1\n" + mitText + "\nFiles: gpl/*\nCopyright: 2020 A\nLicense: GPL-3+\n\nLicense: GPL-3+\n" + gpl3Text))
	require.NoError(t, err)
	r2 := dep5.NewResolver(c2, det)
	e, err = r2.Paragraph(c2.Files[1])
	require.NoError(t, err)
	require.Equal(t, "GPL-3.0-or-later", e.String())
	// A name with "+" is not narrowed to -only by a notice either.
	c3, err := dep5.Parse(strings.NewReader("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n" +
		"Files: *\nCopyright: 2020 A\nLicense: GPL-2+\n This program is free software; you can redistribute it and/or modify\n" +
		" it under the terms of the GNU General Public License version 2 as\n published by the Free Software Foundation.\n"))
	require.NoError(t, err)
	e, err = dep5.NewResolver(c3, det).Paragraph(c3.Files[0])
	require.NoError(t, err)
	require.Equal(t, "GPL-2.0-or-later", e.String())
	// A body of another family does not override a name the table knows.
	e, err = r.Paragraph(c.Files[2])
	require.NoError(t, err)
	require.Equal(t, "BSD-3-Clause", e.String())
}

// bsd4UCText is the BSD-4-Clause text as the University of California
// wrote it (SPDX BSD-4-Clause-UC), as util-linux's debian/copyright quotes
// it under the short name BSD-4-clause.
const bsd4UCText = ` Redistribution and use in source and binary forms, with or without
 modification, are permitted provided that the following conditions
 are met:
 1. Redistributions of source code must retain the above copyright
    notice, this list of conditions and the following disclaimer.
 2. Redistributions in binary form must reproduce the above copyright
    notice, this list of conditions and the following disclaimer in the
    documentation and/or other materials provided with the distribution.
 3. All advertising materials mentioning features or use of this software
    must display the following acknowledgement:
    This product includes software developed by the University of
    California, Berkeley and its contributors.
 4. Neither the name of the University nor the names of its contributors
    may be used to endorse or promote products derived from this software
    without specific prior written permission.
 .
 THIS SOFTWARE IS PROVIDED BY THE REGENTS AND CONTRIBUTORS ` + "``AS IS''" + ` AND
 ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
 IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
 ARE DISCLAIMED.  IN NO EVENT SHALL THE REGENTS OR CONTRIBUTORS BE LIABLE
 FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
 DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS
 OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION)
 HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT
 LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY
 OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF
 SUCH DAMAGE.
`

func TestResolverBodyNamesVariant(t *testing.T) {
	t.Parallel()
	in := "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n" +
		"Files: *\nCopyright: 2020 A\nLicense: GPL-2+\n\n" +
		"Files: uc/*\nCopyright: 1980 The Regents of the University of California.\nLicense: BSD-4-clause\n\n" +
		"Files: mit/*\nCopyright: 2020 B\nLicense: BSD-4-clause-mit\n\n" +
		"License: BSD-4-clause\n" + bsd4UCText + "\n" +
		"License: BSD-4-clause-mit\n" + mitText
	c, r, _ := resolverFor(t, in)
	// The body is the UC text: the variant, found by the text.
	e, src, err := r.ParagraphSources(c.Files[1])
	require.NoError(t, err)
	require.Equal(t, "BSD-4-Clause-UC", e.String())
	require.Equal(t, []dep5.Source{dep5.SourceText}, src)
	// A body that is no variant of the name's license changes nothing
	// when the table knows the name (above: BSD-3-clause with the MIT
	// text); an unknown name takes its body's license.
	e, err = r.Paragraph(c.Files[2])
	require.NoError(t, err)
	require.Equal(t, "MIT", e.String())
}
