package copyright_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/copyright"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []copyright.Statement
	}{
		{
			name: "c in parentheses with email",
			text: "/*\n * Copyright (c) 2004-2019 Jane Roe <jane@example.org>\n */\n",
			want: []copyright.Statement{{Text: "Copyright (c) 2004-2019 Jane Roe <jane@example.org>", Holder: "Jane Roe <jane@example.org>", Years: "2004-2019", StartLine: 2, EndLine: 2}},
		},
		{
			name: "upper C and all rights reserved",
			text: "# Copyright (C) 1995, 1996 Acme, Inc.  All rights reserved.\n",
			want: []copyright.Statement{{Text: "Copyright (c) 1995, 1996 Acme, Inc", Holder: "Acme, Inc", Years: "1995, 1996", StartLine: 1, EndLine: 1}},
		},
		{
			name: "license sentence after the holder",
			text: " * Copyright (C) 2014 Oracle.  This file may be redistributed\n * under the terms of the GNU Public License.\n",
			want: []copyright.Statement{{Text: "Copyright (c) 2014 Oracle", Holder: "Oracle", Years: "2014", StartLine: 1, EndLine: 1}},
		},
		{
			name: "copyright sign",
			text: "// © 2021 Zoë Example\n",
			want: []copyright.Statement{{Text: "Copyright (c) 2021 Zoë Example", Holder: "Zoë Example", Years: "2021", StartLine: 1, EndLine: 1}},
		},
		{
			name: "bare (C) with year",
			text: "   (C) 1999 John Doe\n",
			want: []copyright.Statement{{Text: "Copyright (c) 1999 John Doe", Holder: "John Doe", Years: "1999", StartLine: 1, EndLine: 1}},
		},
		{
			name: "multi-line holder after years",
			text: "/* Copyright (C) 1989, 1991, 1992, 1993, 1994, 1995, 1996, 1997, 1998,\n   2000, 2001 Free Software Foundation, Inc.\n */\n",
			want: []copyright.Statement{{Text: "Copyright (c) 1989, 1991, 1992, 1993, 1994, 1995, 1996, 1997, 1998, 2000, 2001 Free Software Foundation, Inc", Holder: "Free Software Foundation, Inc", Years: "1989, 1991, 1992, 1993, 1994, 1995, 1996, 1997, 1998, 2000, 2001", StartLine: 1, EndLine: 2}},
		},
		{
			name: "holder continued after and",
			text: "Copyright 2010 Alice Example and\n    Bob Example\n",
			want: []copyright.Statement{{Text: "Copyright 2010 Alice Example and Bob Example", Holder: "Alice Example and Bob Example", Years: "2010", StartLine: 1, EndLine: 2}},
		},
		{
			name: "debian copyright block",
			text: "Files: *\nCopyright: 2004-2019 Jane Roe <jane@example.org>\n           2010 John Doe\nLicense: GPL-2+\n",
			want: []copyright.Statement{
				{Text: "Copyright 2004-2019 Jane Roe <jane@example.org>", Holder: "Jane Roe <jane@example.org>", Years: "2004-2019", StartLine: 2, EndLine: 2},
				{Text: "Copyright 2010 John Doe", Holder: "John Doe", Years: "2010", StartLine: 3, EndLine: 3},
			},
		},
		{
			name: "deduplicated",
			text: "Copyright (c) 2020 Jane Roe\nint x;\nCOPYRIGHT (C) 2020 Jane Roe.\n",
			want: []copyright.Statement{{Text: "Copyright (c) 2020 Jane Roe", Holder: "Jane Roe", Years: "2020", StartLine: 1, EndLine: 1}},
		},
		{
			name: "spdx file copyright text",
			text: "/* SPDX-FileCopyrightText: 2019 Ryan Roe <ryan@example.net>\n * SPDX-FileCopyrightText: 2023 John Doe <john@example.com>\n */\n",
			want: []copyright.Statement{
				{Text: "Copyright 2019 Ryan Roe <ryan@example.net>", Holder: "Ryan Roe <ryan@example.net>", Years: "2019", StartLine: 1, EndLine: 1},
				{Text: "Copyright 2023 John Doe <john@example.com>", Holder: "John Doe <john@example.com>", Years: "2023", StartLine: 2, EndLine: 2},
			},
		},
		{
			name: "block of holders under one marker",
			text: "/*\n * Copyright (C) 2001 Jane Roe\n *               2002-2005, 2007 John Doe <john@example.com>\n *\n * 2010 is not a holder line after a blank line.\n */\n",
			want: []copyright.Statement{
				{Text: "Copyright (c) 2001 Jane Roe", Holder: "Jane Roe", Years: "2001", StartLine: 2, EndLine: 2},
				{Text: "Copyright 2002-2005, 2007 John Doe <john@example.com>", Holder: "John Doe <john@example.com>", Years: "2002-2005, 2007", StartLine: 3, EndLine: 3},
			},
		},
		{
			name: "changelog dates are not holders",
			text: "Copyright (C) 2001 Free Software Foundation, Inc.\n2001-02-03  Jane Roe  <jane@example.org>\n",
			want: []copyright.Statement{{Text: "Copyright (c) 2001 Free Software Foundation, Inc", Holder: "Free Software Foundation, Inc", Years: "2001", StartLine: 1, EndLine: 1}},
		},
		{
			name: "portions and by",
			text: "Portions Copyright (C) 1998 by Acme Corp.\nCopyright 2004 by the Example Project\n",
			want: []copyright.Statement{
				{Text: "Copyright (c) 1998 Acme Corp", Holder: "Acme Corp", Years: "1998", StartLine: 1, EndLine: 1},
				{Text: "Copyright 2004 the Example Project", Holder: "the Example Project", Years: "2004", StartLine: 2, EndLine: 2},
			},
		},
		{
			name: "author lines are not statements",
			text: "/* Author: Jane Roe <jane@example.org>\n * Written by John Doe, 2004.\n * Contributed by Acme (c) division.\n */\n",
			want: nil,
		},
		{
			name: "marker far into a long text",
			text: strings.Repeat("int x; /* nothing */\n", 5000) + "# Copyright 2020 Late Holder\n",
			want: []copyright.Statement{{Text: "Copyright 2020 Late Holder", Holder: "Late Holder", Years: "2020", StartLine: 5001, EndLine: 5001}},
		},
		{
			name: "last line without newline",
			text: "x\nCopyright 2020 Jane Roe",
			want: []copyright.Statement{{Text: "Copyright 2020 Jane Roe", Holder: "Jane Roe", Years: "2020", StartLine: 2, EndLine: 2}},
		},
		{
			name: "years over several lines, then the holder",
			text: "/*\n *    Copyright (C) 1993, 1994, 1995, 1996, 1997, 1998, 1999, 2000, 2001\n *    2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010, 2011, 2012\n" +
				" *    2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022\n *    by Larry Wall and others\n *\n */\n",
			want: []copyright.Statement{{Text: "Copyright (c) 1993, 1994, 1995, 1996, 1997, 1998, 1999, 2000, 2001 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010, 2011, 2012 " +
				"2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022 Larry Wall and others", Holder: "Larry Wall and others",
				Years:     "1993, 1994, 1995, 1996, 1997, 1998, 1999, 2000, 2001 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010, 2011, 2012 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022",
				StartLine: 2, EndLine: 5}},
		},
		{
			name: "statement in a C string",
			text: "        PerlIO_printf(PIO_stdout,\n\t\t      \"\\n\\nCopyright 1987-2022, Larry Wall\\n\");\n" +
				"                      \"\\n\\nOS/2 port Copyright (c) 1990, 1991, Raymond Chen, Kai Uwe Rommel\\n\"\n",
			want: []copyright.Statement{
				{Text: "Copyright 1987-2022 Larry Wall", Holder: "Larry Wall", Years: "1987-2022", StartLine: 2, EndLine: 2},
				{Text: "Copyright (c) 1990, 1991 Raymond Chen, Kai Uwe Rommel", Holder: "Raymond Chen, Kai Uwe Rommel", Years: "1990, 1991", StartLine: 3, EndLine: 3},
			},
		},
		{
			name: "prose is not a statement",
			text: "The above copyright notice and this permission notice shall be included.\nCopyright holders are not liable.\nif (isalpha(c) || foo(bar)) return;\nint copyright_year = 0;\nCopyright (C) <year>  <name of author>\n",
			want: nil,
		},
		{
			name: "affiliation written under the holder",
			text: "/*\n * Copyright (C) 1993, 1994  Remy Card <card@masi.ibp.fr>\n *                           Laboratoire MASI, Institut Blaise Pascal\n" +
				" *                           Universite Pierre et Marie Curie (Paris VI)\n *\n * This file can be redistributed\n */\n",
			want: []copyright.Statement{{Text: "Copyright (c) 1993, 1994 Remy Card <card@masi.ibp.fr> Laboratoire MASI, Institut Blaise Pascal Universite Pierre et Marie Curie (Paris VI)",
				Holder: "Remy Card <card@masi.ibp.fr> Laboratoire MASI, Institut Blaise Pascal Universite Pierre et Marie Curie (Paris VI)", Years: "1993, 1994", StartLine: 2, EndLine: 4}},
		},
		{
			name: "name cut at the end of a line",
			text: "   Copyright (C) 1994-1996, 2020-2021 Free\nSoftware Foundation, Inc.\n\n   Copying and distribution\n" +
				"Copyright 1999, 2018 Russ\nAllbery <rra@example.org>\n\n   Copyright (C) 2006,2007 NTT\n   (Nippon Telegraph and Telephone Corporation).\n",
			want: []copyright.Statement{
				{Text: "Copyright (c) 1994-1996, 2020-2021 Free Software Foundation, Inc", Holder: "Free Software Foundation, Inc", Years: "1994-1996, 2020-2021", StartLine: 1, EndLine: 2},
				{Text: "Copyright 1999, 2018 Russ Allbery <rra@example.org>", Holder: "Russ Allbery <rra@example.org>", Years: "1999, 2018", StartLine: 5, EndLine: 6},
				{Text: "Copyright (c) 2006,2007 NTT (Nippon Telegraph and Telephone Corporation)", Holder: "NTT (Nippon Telegraph and Telephone Corporation)", Years: "2006,2007", StartLine: 8, EndLine: 9},
			},
		},
		{
			name: "further holders with addresses under one statement",
			text: " * Copyright (c) 1993-2000\n *      Juergen Weigert (jw@example.org)\n *      Michael Schroeder (ms@example.org)\n * Copyright (c) 1987 Oliver Laumann\n",
			want: []copyright.Statement{
				{Text: "Copyright (c) 1993-2000 Juergen Weigert (jw@example.org)", Holder: "Juergen Weigert (jw@example.org)", Years: "1993-2000", StartLine: 1, EndLine: 2},
				{Text: "Copyright (c) 1993-2000 Michael Schroeder (ms@example.org)", Holder: "Michael Schroeder (ms@example.org)", Years: "1993-2000", StartLine: 3, EndLine: 3},
				{Text: "Copyright (c) 1987 Oliver Laumann", Holder: "Oliver Laumann", Years: "1987", StartLine: 4, EndLine: 4},
			},
		},
		{
			name: "holder before the marker",
			text: "# Copyright:\n#   Moshe Zadka (c) 2002\n#   Canonical Ltd. (c) 2005 (DebconfCommunicator)\n#\n" +
				"   Written by Ben Collins <ben@example.org>, Copyright (c) 2000\n",
			want: []copyright.Statement{
				{Text: "Copyright (c) 2002 Moshe Zadka", Holder: "Moshe Zadka", Years: "2002", StartLine: 2, EndLine: 2},
				{Text: "Copyright (c) 2005 Canonical Ltd. (DebconfCommunicator)", Holder: "Canonical Ltd. (DebconfCommunicator)", Years: "2005", StartLine: 3, EndLine: 3},
				{Text: "Copyright (c) 2000 Ben Collins <ben@example.org>", Holder: "Ben Collins <ben@example.org>", Years: "2000", StartLine: 5, EndLine: 5},
			},
		},
		{
			name: "years after the holder",
			text: "#  (C) Paul Evans, 2010-2020 -- leonerd@example.org\n   Copyright (C) Stefan Metzmacher 2012\n   Copyright The GNU Toolchain Authors.\n(C) by Tels L<http://bloodgate.com/> 2002 - 2007.\n",
			want: []copyright.Statement{
				{Text: "Copyright (c) 2010-2020 Paul Evans", Holder: "Paul Evans", Years: "2010-2020", StartLine: 1, EndLine: 1},
				{Text: "Copyright (c) 2012 Stefan Metzmacher", Holder: "Stefan Metzmacher", Years: "2012", StartLine: 2, EndLine: 2},
				{Text: "Copyright The GNU Toolchain Authors", Holder: "The GNU Toolchain Authors", StartLine: 3, EndLine: 3},
				{Text: "Copyright (c) 2002 - 2007 Tels L<http://bloodgate.com/>", Holder: "Tels L<http://bloodgate.com/>", Years: "2002 - 2007", StartLine: 4, EndLine: 4},
			},
		},
		{
			name: "escapes and markup",
			text: "Copyright 2007 E<AElig>var ArnfjE<ouml>rE<eth> Bjarmason E<lt>avar@example.orgE<gt>\n" +
				"<p />Copyright (c) 2008, 2013 Oracle. All rights reserved.</div></div></body></html>\n" +
				"  <copyright><year>1998</year><holder>Jason Gunthorpe</holder></\"\n" +
				" * Copyright 2019-2021,2022 Thomas E. Dickey                                *\n" +
				".\\\" Copyright \\(co 2002-2022 Simon Josefsson\n" +
				"Copyright @copyright{} 1998--2022 Free Software Foundation, Inc.\n" +
				"Copyright &copy; 2004 Thorsten Kukuk &lt;kukuk@example.org&gt;\n" +
				"版權所有 \\(co 1999 Free Software Foundation, Inc.\n",
			want: []copyright.Statement{
				{Text: "Copyright 2007 Ævar Arnfjörð Bjarmason <avar@example.org>", Holder: "Ævar Arnfjörð Bjarmason <avar@example.org>", Years: "2007", StartLine: 1, EndLine: 1},
				{Text: "Copyright (c) 2008, 2013 Oracle", Holder: "Oracle", Years: "2008, 2013", StartLine: 2, EndLine: 2},
				{Text: "Copyright 1998 Jason Gunthorpe", Holder: "Jason Gunthorpe", Years: "1998", StartLine: 3, EndLine: 3},
				{Text: "Copyright 2019-2021,2022 Thomas E. Dickey", Holder: "Thomas E. Dickey", Years: "2019-2021,2022", StartLine: 4, EndLine: 4},
				{Text: "Copyright (c) 2002-2022 Simon Josefsson", Holder: "Simon Josefsson", Years: "2002-2022", StartLine: 5, EndLine: 5},
				{Text: "Copyright (c) 1998--2022 Free Software Foundation, Inc", Holder: "Free Software Foundation, Inc", Years: "1998--2022", StartLine: 6, EndLine: 6},
				{Text: "Copyright (c) 2004 Thorsten Kukuk <kukuk@example.org>", Holder: "Thorsten Kukuk <kukuk@example.org>", Years: "2004", StartLine: 7, EndLine: 7},
				{Text: "Copyright (c) 1999 Free Software Foundation, Inc", Holder: "Free Software Foundation, Inc", Years: "1999", StartLine: 8, EndLine: 8},
			},
		},
		{
			name: "open range and a spaced colon",
			text: "Copyright (C) 1994-1997 Peter Tobias <tobias@example.org>\n              2009-     Michael Meskes <meskes@example.org>\n\n" +
				" * Copyright  : Kyle Harper\n",
			want: []copyright.Statement{
				{Text: "Copyright (c) 1994-1997 Peter Tobias <tobias@example.org>", Holder: "Peter Tobias <tobias@example.org>", Years: "1994-1997", StartLine: 1, EndLine: 1},
				{Text: "Copyright 2009- Michael Meskes <meskes@example.org>", Holder: "Michael Meskes <meskes@example.org>", Years: "2009-", StartLine: 2, EndLine: 2},
				{Text: "Copyright Kyle Harper", Holder: "Kyle Harper", StartLine: 4, EndLine: 4},
			},
		},
		{
			name: "author label under the years",
			text: "#!/bin/sh\n# (C) 2021\n# Author: Anton Gladky <gladk@example.org>\n",
			want: []copyright.Statement{{Text: "Copyright (c) 2021 Anton Gladky <gladk@example.org>", Holder: "Anton Gladky <gladk@example.org>", Years: "2021", StartLine: 2, EndLine: 3}},
		},
		{
			name: "a later marker of a line",
			text: "# retain the copyright notice. Copyright 2001 Jane Roe\n",
			want: []copyright.Statement{{Text: "Copyright 2001 Jane Roe", Holder: "Jane Roe", Years: "2001", StartLine: 1, EndLine: 1}},
		},
		{
			name: "the initial developer of an MPL header",
			text: "# The Initial Developer of the Original Code is\n# Netscape Communications Corporation.\n" +
				"# Portions created by the Initial Developer are Copyright (C) 1998\n# the Initial Developer. All Rights Reserved.\n",
			want: []copyright.Statement{{Text: "Copyright (c) 1998 the Initial Developer", Holder: "Netscape Communications Corporation", Years: "1998", StartLine: 3, EndLine: 4}},
		},
		{
			name: "an MPL header cut short",
			text: "Copyright (C) 1998 the Initial Developer. The Initial Developer of the Original Code is",
			want: []copyright.Statement{{Text: "Copyright (c) 1998 the Initial Developer. The Initial Developer of the Original Code is",
				Holder: "the Initial Developer. The Initial Developer of the Original Code is", Years: "1998", StartLine: 1, EndLine: 1}},
		},
		{
			name: "common false positives stay out",
			text: "“Copyright” also means copyright-like laws that apply to other kinds of works, such as\n" +
				"the WIPO copyright treaty adopted on 20 December 1996, or similar laws\n" +
				"  * debian/copyright now points to /usr/share/common-licenses/GPL\n" +
				"00A9 ; Emoji # E0.6 [1] (©️) copyright\n00AE ; Emoji # E0.6 [1] (®️) registered\n" +
				"<li>copyright &rarr;  <a href=\"hirely.html\">hirely.html</a>\n" +
				"* Copyright::                   Your rights.\n" +
				"Copyright Release for<br>\n" +
				"copyright with dates from 1980 to 1993\n" +
				"Copyright (C) <var>year</var> <var>your name</var>\n" +
				"if (c) x = 2010;\n" +
				"    Copyright (C) 19yy  <name of author>\n" +
				"# Copyright (C) YEAR THE PACKAGE'S COPYRIGHT HOLDER\n",
			want: nil,
		},
		{
			name: "lines under a holder that are not its name",
			text: "# Copyright (C) 2007 Software in the Public Interest\n# Peter Krefting <peter@example.org>, 1999-2023.\n#\n" +
				" * Copyright (C) 2001 Jane Roe\n * SUCH DAMAGE.\n\n" +
				" * Copyright (C) 2002 John Doe\n * See AUTHORS for more\n\n" +
				"Copyright 2003 Ann Example\nLicensed under the MIT License\n\n" +
				"Copyright (C) 2011 Free Software Foundation, Inc.\nEOF\n",
			want: []copyright.Statement{
				{Text: "Copyright (c) 2007 Software in the Public Interest", Holder: "Software in the Public Interest", Years: "2007", StartLine: 1, EndLine: 1},
				{Text: "Copyright (c) 2001 Jane Roe", Holder: "Jane Roe", Years: "2001", StartLine: 4, EndLine: 4},
				{Text: "Copyright (c) 2002 John Doe", Holder: "John Doe", Years: "2002", StartLine: 7, EndLine: 7},
				{Text: "Copyright 2003 Ann Example", Holder: "Ann Example", Years: "2003", StartLine: 10, EndLine: 10},
				{Text: "Copyright (c) 2011 Free Software Foundation, Inc", Holder: "Free Software Foundation, Inc", Years: "2011", StartLine: 13, EndLine: 13},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, copyright.Extract([]byte(tt.text)))
		})
	}
}

// FuzzExtract checks that no text makes Extract panic or report a statement
// outside the text's lines.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		"Copyright (C) 1993, 1994  Remy Card <card@example.org>\n             Laboratoire MASI\n",
		"# Moshe Zadka (c) 2002\n", "(C) Paul Evans, 2010-2020 -- p@example.org", "Copyright E<lt>E<0x263A>E<9999999999>&copy;",
		"The Initial Developer of the Original Code is\n# Copyright (C) 1998 the Initial Developer",
		"Copyright 2001 Free\nSoftware\n(Foundation)\n", "<copyright><year>1998</year></", "Copyright \t\t2001\t Jane",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lines := strings.Count(text, "\n") + 1
		for _, s := range copyright.Extract([]byte(text)) {
			if s.StartLine < 1 || s.EndLine < s.StartLine || s.EndLine > lines || s.Holder == "" {
				t.Fatalf("statement %+v of a text of %d lines", s, lines)
			}
		}
	})
}
