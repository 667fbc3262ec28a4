package scan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/scan"
)

// benchTree writes a source tree shaped like a Debian source package: C
// files with a GPL or BSD header and a long body, headerless build and test
// files, a few license texts and a debian/copyright. It returns its root and
// total size.
func benchTree(b *testing.B) (string, int64) {
	b.Helper()
	dir := b.TempDir()
	gpl, err := os.ReadFile(filepath.Join("..", "license", "testdata", "GPL-3.0.txt"))
	require.NoError(b, err)
	headers := []string{
		"/*\n * Copyright (C) 2001-2019 Jane Roe <jane@example.org>\n *\n * This program is free software; you can redistribute it and/or modify\n" +
			" * it under the terms of the GNU General Public License as published by\n * the Free Software Foundation; either version 2 of the License, or\n" +
			" * (at your option) any later version.\n */\n",
		"/* SPDX-License-Identifier: BSD-3-Clause */\n/* Copyright (c) 2010 Example Corp. */\n",
		"# Copyright 2015 The Example Authors.\n# Licensed under the Apache License, Version 2.0\n",
		"", // no header at all
	}
	body := strings.Repeat("static int handle(struct ctx *c, int flags)\n{\n\tif (c->mode & O_RDONLY)\n\t\treturn -EPERM;\n\treturn limit(c, flags);\n}\n\n", 60)
	var total int64
	write := func(rel, content string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(b, os.WriteFile(p, []byte(content), 0o644))
		total += int64(len(content))
	}
	for i := range 400 {
		write(fmt.Sprintf("src/m%d/f%d.c", i%20, i), headers[i%len(headers)]+strings.Repeat(body, 1+i%7))
	}
	for i := range 100 {
		write(fmt.Sprintf("tests/t%d.sh", i), "#!/bin/sh\nset -e\n"+strings.Repeat("echo ok; test -f out || exit 1\n", 50))
	}
	write("COPYING", string(gpl))
	write("doc/COPYING.inner", "Some text first.\n"+string(gpl))
	write("debian/copyright", "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"+
		"Files: *\nCopyright: 2001-2019 Jane Roe <jane@example.org>\n           2010 Example Corp.\nLicense: GPL-2+\n")
	return dir, total
}

// BenchmarkScanTree measures a whole-tree scan on all cores; the scanner
// (pattern compilation) is built once outside the timed loop.
func BenchmarkScanTree(b *testing.B) {
	dir, size := benchTree(b)
	s, err := scan.New(nil)
	require.NoError(b, err)
	var r scan.Result
	s.Text([]byte("Copyright 2020 Jane Roe. Permission is hereby granted."), &r) // builds licensecheck's automaton
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		n := 0
		require.NoError(b, s.Walk(context.Background(), dir, func(scan.Result) error { n++; return nil }))
		require.Equal(b, 503, n)
	}
}

// BenchmarkScanText measures one large source file with a header notice,
// in memory, on one core.
func BenchmarkScanText(b *testing.B) {
	s, err := scan.New(nil)
	require.NoError(b, err)
	text := []byte("/*\n * Copyright (C) 2001 Jane Roe\n * Licensed under GPLv2 or later, see file LICENSE in this source tree.\n */\n" +
		strings.Repeat("static int handle(struct ctx *c, int flags) { return limit(c, flags); }\n", 3000))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		var r scan.Result
		s.Text(text, &r)
		if len(r.Licenses) != 1 || len(r.Copyrights) != 1 {
			b.Fatalf("got %+v", r)
		}
	}
}
