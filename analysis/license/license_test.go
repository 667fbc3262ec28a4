package license_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/license"
	"github.com/reehub/reehub/fault"
)

func TestParseExpression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		licenses       []string
	}{
		{name: "single", in: "MIT", want: "MIT", licenses: []string{"MIT"}},
		{name: "case fixed", in: "mit or apache-2.0", want: "Apache-2.0 OR MIT", licenses: []string{"Apache-2.0", "MIT"}},
		{name: "deprecated plus", in: "GPL-2.0+", want: "GPL-2.0-or-later", licenses: []string{"GPL-2.0-or-later"}},
		{name: "deprecated bare", in: "LGPL-2.1", want: "LGPL-2.1-only", licenses: []string{"LGPL-2.1-only"}},
		{name: "other plus kept", in: "MPL-1.1+", want: "MPL-1.1+", licenses: []string{"MPL-1.1+"}},
		{name: "with exception", in: "GPL-2.0-or-later WITH Classpath-exception-2.0", want: "GPL-2.0-or-later WITH Classpath-exception-2.0", licenses: []string{"GPL-2.0-or-later"}},
		{name: "precedence", in: "MIT AND BSD-3-Clause OR Apache-2.0", want: "Apache-2.0 OR BSD-3-Clause AND MIT", licenses: []string{"Apache-2.0", "BSD-3-Clause", "MIT"}},
		{name: "parentheses", in: "(MIT OR Apache-2.0) AND Zlib", want: "(Apache-2.0 OR MIT) AND Zlib", licenses: []string{"Apache-2.0", "MIT", "Zlib"}},
		{name: "flatten and dedupe", in: "MIT OR (MIT OR (ISC OR MIT))", want: "ISC OR MIT", licenses: []string{"ISC", "MIT"}},
		{name: "license ref", in: "LicenseRef-foo AND DocumentRef-x:LicenseRef-y", want: "DocumentRef-x:LicenseRef-y AND LicenseRef-foo", licenses: []string{"DocumentRef-x:LicenseRef-y", "LicenseRef-foo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := license.ParseExpression(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, e.String())
			require.Equal(t, tt.licenses, e.Licenses())
			again, err := license.ParseExpression(e.String())
			require.NoError(t, err)
			require.Equal(t, e.String(), again.String(), "normal form is stable")
		})
	}
}

func TestParseExpressionInvalid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "MIT OR", "(MIT", "MIT)", "AND MIT", "MIT WITH", "(MIT OR ISC) WITH Foo", "MIT ISC", "M!T"} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, err := license.ParseExpression(in)
			require.ErrorIs(t, err, fault.ErrInvalid)
		})
	}
}

func TestCanonicalID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		orLater bool
		want    string
		plus    bool
	}{
		{"gpl-3.0", false, "GPL-3.0-only", false},
		{"GPL-3.0", true, "GPL-3.0-or-later", false},
		{"GPL-2.0-only", true, "GPL-2.0-or-later", false},
		{"agpl-3.0-or-later", false, "AGPL-3.0-or-later", false},
		{"apache-2.0", false, "Apache-2.0", false},
		{"EPL-1.0", true, "EPL-1.0", true},
		{"NoSuchLicense", false, "NoSuchLicense", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, plus := license.CanonicalID(tt.in, tt.orLater)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.plus, plus)
		})
	}
}

const gpl2Header = `/*
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or
 * (at your option) any later version.
 */
int main(void) { return 0; }
`

// bsdVariant is a BSD-3-Clause variant that licensecheck's texts do not cover.
const bsdVariant = `Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions
are met:
1. Redistributions of source code must retain the above copyright
   notice, and the entire permission notice in its entirety,
   including the disclaimer of warranties.
2. Redistributions in binary form must reproduce the above copyright
   notice, this list of conditions and the following disclaimer.
3. The name of the author may not be used to endorse or promote
   products derived from this software without specific prior
   written permission.
`

func TestDetect(t *testing.T) {
	t.Parallel()
	d, err := license.NewDetector()
	require.NoError(t, err)
	mitText := "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \"Software\"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n"
	tests := []struct {
		name  string
		text  string
		id    string
		kind  license.Kind
		rule  string
		lines [2]int
	}{
		{name: "spdx tag", text: "// x\n// SPDX-License-Identifier: GPL-2.0+ OR MIT */\n", id: "GPL-2.0-or-later", kind: license.KindSPDXTag, rule: "spdx-tag", lines: [2]int{2, 2}},
		{name: "spdx tag second id", text: "# SPDX-License-Identifier: (Apache-2.0 OR MIT)\n", id: "MIT", kind: license.KindSPDXTag, rule: "spdx-tag", lines: [2]int{1, 1}},
		{name: "gpl header notice", text: gpl2Header, id: "GPL-2.0-or-later", kind: license.KindHeaderNotice, rule: "licensecheck", lines: [2]int{1, 5}},
		{name: "mit full text", text: "MIT License\n\n" + mitText, id: "MIT", kind: license.KindFullText, rule: "licensecheck", lines: [2]int{1, 7}},
		{name: "apache short", text: "# Licensed under the Apache License 2.0; see LICENSE.\n", id: "Apache-2.0", kind: license.KindReference, rule: "apache-reference", lines: [2]int{1, 1}},
		{name: "gnu short notice", text: "/*\n * Licensed under GPLv2 or later, see file LICENSE in this source tree.\n */\n", id: "GPL-2.0-or-later", kind: license.KindReference, rule: "gnu-short-notice", lines: [2]int{2, 2}},
		{name: "gnu short notice only", text: "# Released under the GPL version 3.\n", id: "GPL-3.0-only", kind: license.KindReference, rule: "gnu-short-notice", lines: [2]int{1, 1}},
		{name: "gnu name version across lines", text: "; This file is covered by the GNU Lesser General Public License,\n; version 2.1 or later.\n", id: "LGPL-2.1-or-later", kind: license.KindReference, rule: "gnu-name-version", lines: [2]int{1, 2}},
		{name: "gnu unversioned", text: " * This file may be redistributed under the terms of the GNU Lesser General Public License.\n", id: "LGPL-2.0-or-later", kind: license.KindHeaderNotice, rule: "gnu-unversioned", lines: [2]int{1, 1}},
		{name: "gnu unversioned gpl", text: "May be distributed under the GNU General Public License\n", id: "GPL-1.0-or-later", kind: license.KindHeaderNotice, rule: "gnu-unversioned", lines: [2]int{1, 1}},
		{name: "bsd3 clauses", text: bsdVariant, id: "BSD-3-Clause", kind: license.KindFullText, rule: "bsd3-clauses", lines: [2]int{1, 9}},
		{name: "bsd4 clauses", text: strings.Replace(bsdVariant, "3. The name", "3. All advertising materials mentioning features must say so.\n4. The name", 1), id: "BSD-4-Clause", kind: license.KindFullText, rule: "bsd4-clauses", lines: [2]int{1, 9}},
		{name: "bsd2 clauses", text: bsdVariant[:strings.Index(bsdVariant, "3. The name")], id: "BSD-2-Clause", kind: license.KindFullText, rule: "bsd2-clauses", lines: [2]int{1, 7}},
		{name: "fsf unlimited retain", text: "# This file is free software; the Free Software Foundation\n# gives unlimited permission to copy and/or distribute it,\n# with or without modifications, as long as this notice is preserved.\n", id: "FSFULLR", kind: license.KindHeaderNotice, rule: "fsf-unlimited-retain", lines: [2]int{2, 3}},
		{name: "fsf unlimited", text: "# This configure script is free software; the Free Software Foundation\n# gives unlimited permission to copy, distribute and modify it.\n", id: "FSFUL", kind: license.KindHeaderNotice, rule: "fsf-unlimited", lines: [2]int{2, 2}},
		{name: "fsf all permissive", text: "# Copying and distribution of this file, with or without modification, are\n# permitted in any medium without royalty provided the copyright notice\n# and this notice are preserved.\n", id: "FSFAP", kind: license.KindHeaderNotice, rule: "fsf-all-permissive", lines: [2]int{1, 3}},
		{name: "license field", text: "Name: foo\nLicense: BSD-3-Clause\n", id: "BSD-3-Clause", kind: license.KindReference, rule: "spdx-short-field", lines: [2]int{2, 2}},
		{name: "mit reference", text: "This library is released under the MIT license.\n", id: "MIT", kind: license.KindReference, rule: "mit-reference", lines: [2]int{1, 1}},
		{name: "bsd3 reference", text: "Distributed under the new BSD license.\n", id: "BSD-3-Clause", kind: license.KindReference, rule: "bsd3-reference", lines: [2]int{1, 1}},
		{name: "bsd2 reference", text: "Distributed under the simplified BSD license.\n", id: "BSD-2-Clause", kind: license.KindReference, rule: "bsd2-reference", lines: [2]int{1, 1}},
		{name: "perl terms", text: "You may distribute under the same terms as Perl itself.\n", id: "Artistic-1.0-Perl", kind: license.KindReference, rule: "perl-terms", lines: [2]int{1, 1}},
		{name: "zlib reference", text: "/* crc32.c\n * For conditions of distribution and use, see copyright notice in zlib.h\n */\n", id: "Zlib", kind: license.KindReference, rule: "zlib-reference", lines: [2]int{2, 2}},
		{name: "psf contributor", text: "# Licensed to PSF under a Contributor Agreement.\n", id: "PSF-2.0", kind: license.KindReference, rule: "psf-contributor", lines: [2]int{1, 1}},
		{name: "public domain", text: "/* Written by Jane.\n * This file is placed in the public domain.\n */\n", id: license.PublicDomain, kind: license.KindPublicDomain, rule: "public-domain", lines: [2]int{2, 2}},
		{name: "no copyright claimed", text: "No copyright is claimed.  This code is in the public domain; do with\nit what you wish.\n", id: license.PublicDomain, kind: license.KindPublicDomain, rule: "no-copyright-claimed", lines: [2]int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ms := d.Detect([]byte(tt.text))
			var got *license.Match
			for i := range ms {
				if ms[i].ID == tt.id {
					got = &ms[i]
					break
				}
			}
			require.NotNil(t, got, "no %s in %+v", tt.id, ms)
			require.Equal(t, tt.kind, got.Kind)
			require.Equal(t, tt.rule, got.Rule)
			require.Equal(t, tt.lines, [2]int{got.StartLine, got.EndLine})
			require.Greater(t, got.Confidence, 0.0)
			require.LessOrEqual(t, got.Confidence, 1.0)
			require.True(t, got.Start >= 0 && got.Start < got.End && got.End <= len(tt.text))
		})
	}
}

func TestDetectNothing(t *testing.T) {
	t.Parallel()
	d, err := license.NewDetector()
	require.NoError(t, err)
	for _, text := range []string{
		"",
		"int main(void) { return 0; }\n",
		"// SPDX-License-Identifier: (MIT OR\n", // malformed tag is ignored
		"The license: is unclear, see the GPL FAQ.\n",            // no version, no known id
		"The public domain name server answered.\n",              // not a dedication
		"Under the terms of the GNU GPL v2 clause 3 as amended.", // gnu short notice needs a verb of licensing
	} {
		require.Empty(t, d.Detect([]byte(text)), "text %q", text)
	}
}

func TestDetectFallbackDropped(t *testing.T) {
	t.Parallel()
	d, err := license.NewDetector()
	require.NoError(t, err)
	text := strings.Replace(gpl2Header, "*/", "* distributed under the terms of the GNU General Public License\n */", 1)
	require.Equal(t, []string{"GPL-2.0-or-later"}, license.IDs(d.Detect([]byte(text))))
}
