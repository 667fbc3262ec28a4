package license_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/license"
)

func TestNamedReference(t *testing.T) {
	t.Parallel()
	d, err := license.NewDetector()
	require.NoError(t, err)
	tests := []struct {
		text string
		id   string // "" for none
	}{
		{"/* This code is released under the libpng license.\n * For conditions of distribution and use, see the disclaimer\n * and license in png.h\n */\n", "Libpng"},
		{"# Distributed under the terms of the zlib/libpng license.\n", "Zlib"},
		{"// Licensed under the ISC license.\n", "ISC"},
		{"Released under the \"Boost Software\" license.\n", "BSL-1.0"},
		{"This file is released under the MIT-0 license.\n", "MIT-0"},
		{"This file is provided under the same license as the package.\n", ""},
		{"Released under the terms of the license.\n", ""},
		// dist's (metaconfig's) units: the family, the variant is in its README.
		{"?RCS: You may redistribute only under the terms of the Artistic Licence,\n?RCS: as specified in the README file that comes with the distribution.\n", "Artistic-1.0"},
		{"# You may distribute it and/or modify it under the terms of the Artistic License.\n", "Artistic-1.0"},
		{"This program is free software; you may redistribute it under the Apache 2.0 license.\n", "Apache-2.0"},
	}
	for _, tt := range tests {
		ms := d.Detect([]byte(tt.text))
		if tt.id == "" {
			require.Empty(t, ms, tt.text)
			continue
		}
		require.Len(t, ms, 1, "%q: %+v", tt.text, ms)
		require.Equal(t, tt.id, ms[0].ID)
		require.Equal(t, license.KindReference, ms[0].Kind)
	}
	ms := d.Detect([]byte(tests[0].text))
	require.Equal(t, "named-reference", ms[0].Rule)
	require.Equal(t, [2]int{1, 1}, [2]int{ms[0].StartLine, ms[0].EndLine})
}

func TestPointers(t *testing.T) {
	t.Parallel()
	d, err := license.NewDetector()
	require.NoError(t, err)
	tests := []struct {
		text, name, rule string
		lines            [2]int
	}{
		{"/*\n * This file is part of foo.  See the file COPYING for\n * copying permission.\n */\n", "copying", "see-file", [2]int{2, 2}},
		{"# Use of this source code is governed by a BSD-style license\n# that can be found in the LICENSE file.\n", "license", "found-in-file", [2]int{2, 2}},
		{"// see LICENSE.txt for details\n", "license.txt", "see-file", [2]int{1, 1}},
		{"/* This code is released under the libpng license.\n * For conditions of distribution and use, see the disclaimer\n * and license in png.h\n */\n", "png.h", "conditions-see-file", [2]int{2, 3}},
		{"The terms are described in COPYING.LIB.\n", "copying.lib", "found-in-file", [2]int{1, 1}},
	}
	for _, tt := range tests {
		_, refs := d.DetectRefs([]byte(tt.text))
		require.Len(t, refs, 1, "%q: %+v", tt.text, refs)
		require.Equal(t, tt.name, refs[0].Name, tt.text)
		require.Equal(t, tt.rule, refs[0].Rule, tt.text)
		require.Equal(t, tt.lines, [2]int{refs[0].StartLine, refs[0].EndLine}, tt.text)
	}
	_, refs := d.DetectRefs([]byte("see the manual for details; copy the file to /tmp\n"))
	require.Empty(t, refs)
}

func TestMITGrantAndGFDL(t *testing.T) {
	t.Parallel()
	d, err := license.NewDetector()
	require.NoError(t, err)
	mitNoWarranty := "# Copyright 2022 Jane Roe\n#\n# Permission is hereby granted, free of charge, to any person obtaining a copy\n" +
		"# of this software and associated documentation files (the \"Software\"), to deal\n# in the Software without restriction, including without limitation the rights\n" +
		"# to use, copy, modify, merge, publish, distribute, sublicense, and/or sell\n# copies of the Software, and to permit persons to whom the Software is\n" +
		"# furnished to do so, subject to the following conditions:\n#\n# The above copyright notice and this permission notice shall be included in all\n" +
		"# copies or substantial portions of the Software.\n"
	ms := d.Detect([]byte(mitNoWarranty))
	require.Equal(t, []string{"MIT"}, license.IDs(ms))
	require.Equal(t, "mit-grant", ms[0].Rule)
	require.Equal(t, [2]int{6, 11}, [2]int{ms[0].StartLine, ms[0].EndLine})

	for text, want := range map[string]string{
		"Permission is granted to copy, distribute and/or modify this document\nunder the terms of the GNU Free Documentation License, Version 1.3 or\n" +
			"any later version published by the Free Software Foundation; with no\nInvariant Sections, no Front-Cover Texts, and no Back-Cover Texts.\n": "GFDL-1.3-no-invariants-or-later",
		"under the terms of the GNU Free Documentation License, Version 1.2;\nwith the Invariant Sections being \"Foo\".\n": "GFDL-1.2-only",
	} {
		ms := d.Detect([]byte(text))
		require.Contains(t, license.IDs(ms), want, text)
	}
}

func TestNoticeRefinements(t *testing.T) {
	t.Parallel()
	d, err := license.NewDetector()
	require.NoError(t, err)
	tests := []struct{ text, want string }{
		{"# Published under the GNU GPL license\n", "GPL-1.0-or-later"},
		{"# This program is free software; you can redistribute it and/or modify\n# it under the terms of version 3 of the GNU General Public License as\n# published by the Free Software Foundation.\n", "GPL-3.0-only"},
		{"# This script may be copied under the terms of the GNU GPL\n# version 2, or at your option any later version.\n", "GPL-2.0-or-later"},
		{" * This software may be freely redistributed and/or modified under the\n * terms of the GNU General Public License as published by the Free\n" +
			" * Software Foundation; either version 2, or (at your option) any\n * later version.\n", "GPL-2.0-or-later"},
		{"it under the terms of the GNU General Public License as published by\nthe Free Software Foundation; version 3 dated June, 2007, or (at\nyour option) any later version.\n", "GPL-3.0-or-later"},
		{" * under the terms of the GNU Lesser General Public License as published\n * by the Free Software Foundation, version 2.1.\n", "LGPL-2.1-only"},
		{"# Published under the GNU GPL license\n# Licensed under GPLv2 or later\n", "GPL-2.0-or-later"},
		{"// This code is published under the Microsoft Public License (Ms-PL).\n", "MS-PL"},
		{"% This file is free software: you can redistribute it and/or\n% modify it under the terms of the GNU General Public License as\n% published by the Free Software Foundation, either version 3 of the\n" +
			"% License, or (at your option) any later version.\n%\n% This file is distributed in the hope that it will be useful, but\n" +
			"% WITHOUT ANY WARRANTY; without even the implied warranty of\n% MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU\n" +
			"% General Public License for more details.\n%\n% You should have received a copy of the GNU General Public License\n" +
			"% along with this program.  If not, see <https://www.gnu.org/licenses/>.\n%\n% This Exception is an additional permission under section 7\n" +
			"% of the GNU General Public License, version 3 (\"GPLv3\").\n", "GPL-3.0-or-later"},
		{"# Permission is hereby granted, free of charge, to any person obtaining a copy\n# of this software and associated documentation files (the \"Software\"), to\n" +
			"# deal in the Software without restriction, including without limitation the\n# rights to use, copy, modify, merge, publish, distribute, sublicense, and/or\n" +
			"# sell copies of the Software, and to permit persons to whom the Software is\n# furnished to do so, subject to the following conditions:\n#\n" +
			"# The above copyright notice and this permission notice shall be included in\n# all copies or substantial portions of the Software.\n#\n" +
			"# Except as contained in this notice, the name of the X Consortium shall not\n# be used in advertising or otherwise to promote the sale, use or other deal-\n" +
			"# ings in this Software without prior written authorization from the X Consor-\n# tium.\n#\n# FSF changes to this file are in the public domain.\n", "X11"},
		// gettext's m4 files: a negated reference is not a license of the file.
		{"dnl This file is free software; the Free Software Foundation\ndnl gives unlimited permission to copy and/or distribute it,\n" +
			"dnl with or without modifications, as long as this notice is preserved.\ndnl\ndnl This file can can be used in projects which are not available under\n" +
			"dnl the GNU General Public License or the GNU Library General Public\ndnl License but which still want to provide support for the GNU gettext\n", "FSFULLR"},
		// Perl's notice and its README.
		{"/*    av.c\n *\n *    You may distribute under the terms of either the GNU General Public\n *    License or the Artistic License, as specified in the README file.\n */\n", "Artistic-1.0-Perl,GPL-1.0-or-later"},
		{"    This program is free software; you can redistribute it and/or modify\n    it under the terms of either:\n\n\ta) the GNU General Public License as published by the Free\n" +
			"\tSoftware Foundation; either version 1, or (at your option) any\n\tlater version, or\n\n\tb) the \"Artistic License\" which comes with this Kit.\n", "Artistic-1.0-Perl,GPL-1.0-or-later"},
		{"?RCS: Copyright (c) 2001 Jarkko Hietaniemi\n?RCS:\n?RCS: You may distribute under the terms of either the GNU General Public\n?RCS: License or the Artistic License, as specified in the README file.\n", "Artistic-1.0-Perl,GPL-1.0-or-later"},
		// A second "Artistic License" a few words before the notice (dist's
		// units): the notice runs past the window of the first.
		{"?RCS: In accordance with clause 7 of dist's modified Artistic License:\n?RCS:\n?RCS:     You may distribute under the terms of either the GNU General Public\n" +
			"?RCS:     License or the Artistic License, as specified in the README file.\n", "Artistic-1.0-Perl,GPL-1.0-or-later"},
		// CPAN's wording of Perl's terms.
		{"This program is free software; you can redistribute it and/or modify it\nunder the terms of either: the GNU General Public License as published\n" +
			"by the Free Software Foundation; or the Artistic License.\n", "Artistic-1.0-Perl,GPL-1.0-or-later"},
		{"    This program is free software; you can redistribute it and/or modify\n    it under the same terms as Perl 5 itself.\n", "Artistic-1.0-Perl,GPL-1.0-or-later"},
		{"#  You may redistribute only under the same terms as Perl 5, as specified\n#  in the README file that comes with the distribution.\n", "Artistic-1.0-Perl,GPL-1.0-or-later"},
		{"This is free software; you can redistribute it and/or modify it under\nthe same terms as the Perl 5 programming language system itself.\n", "Artistic-1.0-Perl,GPL-1.0-or-later"},
		// The GFDL's title in an info manual's appendix is no notice.
		{"   Permission is granted to copy, distribute and/or modify this\n     document under the terms of the GNU Free Documentation License,\n" +
			"     Version 1.3 or any later version published by the Free Software\n     Foundation; with no Invariant Sections, no Front-Cover Texts, and\n     no Back-Cover Texts.\n\n" +
			"Appendix A GNU Free Documentation License\n*****************************************\n\n                     Version 1.3, 3 November 2008\n", "GFDL-1.3-no-invariants-or-later"},
		// The PSF's contributor line is the license only of a file that
		// states none (tomli states MIT).
		{"# Licensed to PSF under a Contributor Agreement.\n", "PSF-2.0"},
		{"# SPDX-License-Identifier: MIT\n# SPDX-FileCopyrightText: 2021 Taneli Hukkinen\n# Licensed to PSF under a Contributor Agreement.\n", "MIT"},
		// zstd's dual notice: the GPL part (the BSD part is a pointer to LICENSE).
		{" * This source code is licensed under both the BSD-style license (found in the\n * LICENSE file in the root directory of this source tree) and the GPLv2 (found\n" +
			" * in the COPYING file in the root directory of this source tree).\n", "GPL-2.0-only"},
	}
	for _, tt := range tests {
		require.Equal(t, strings.Split(tt.want, ","), license.IDs(d.Detect([]byte(tt.text))), tt.text)
	}
}

// TestArtisticDistText: dist's Artistic License (SPDX Artistic-dist, as
// perl's debian/copyright quotes it) is told from the other Artistic 1.0
// texts by its preamble and clause 7, and supersedes them.
func TestArtisticDistText(t *testing.T) {
	t.Parallel()
	d, err := license.NewDetector()
	require.NoError(t, err)
	b, err := os.ReadFile("testdata/Artistic-dist.txt")
	require.NoError(t, err)
	ms := d.Detect(b)
	require.Equal(t, []string{"Artistic-dist"}, license.IDs(ms), "%+v", ms)
	require.Equal(t, "artistic-dist-text", ms[0].Rule)
	require.Equal(t, license.KindFullText, ms[0].Kind)
	// Perl's own Artistic text is not dist's.
	perl := strings.ReplaceAll(string(b), "It also grants you the rights to reuse parts of a Package in your own\nprograms without transferring this License to those programs, provided\nthat you meet some reasonable requirements.", "")
	require.NotContains(t, license.IDs(d.Detect([]byte(perl))), "Artistic-dist")
}

// TestLicenseTextParts: what lies inside a full license text is part of
// it (the GPL-3.0's section 13 names the GNU Affero General Public License,
// version 3), and the full text of a GNU license that a notice before it
// names is the text of that notice's license (an info manual's appendix).
func TestLicenseTextParts(t *testing.T) {
	t.Parallel()
	d, err := license.NewDetector()
	require.NoError(t, err)
	raw, err := os.ReadFile("testdata/GPL-3.0.txt")
	require.NoError(t, err)
	gpl3 := string(raw)
	// The text alone: the license, and its "How to Apply" example after
	// it (outside licensecheck's match); not AGPL-3.0.
	ids := license.IDs(d.Detect(raw))
	require.NotContains(t, ids, "AGPL-3.0-only")
	require.Contains(t, ids, "GPL-3.0-only")
	// A notice, then the text: the notice's terms.
	notice := "This manual is free software: you can redistribute it and/or modify\nit under the terms of the GNU General Public License as published by\n" +
		"the Free Software Foundation, either version 3 of the License, or\n(at your option) any later version.\n\n"
	ms := d.Detect([]byte(notice + gpl3))
	require.Equal(t, []string{"GPL-3.0-or-later"}, license.IDs(ms))
	require.Equal(t, 1, ms[0].StartLine) // the notice explains the finding
	// A notice of another version keeps the text.
	other := strings.ReplaceAll(notice, "version 3", "version 2")
	ids = license.IDs(d.Detect([]byte(other + gpl3)))
	require.Subset(t, ids, []string{"GPL-2.0-or-later", "GPL-3.0-only"})
	require.NotContains(t, ids, "AGPL-3.0-only")
}
