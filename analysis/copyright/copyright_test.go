package copyright_test

import (
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
