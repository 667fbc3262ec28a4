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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, copyright.Extract([]byte(tt.text)))
		})
	}
}
