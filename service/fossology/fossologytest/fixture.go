// Package fossologytest builds the upload the FOSSology tests scan: a
// tar.gz holding a nested zip, a GPL-2.0-or-later C file with a notice
// header, an MIT file with the full text, an SPDX-tagged Apache-2.0 file, a
// binary, a non-UTF-8 file and a file with export-control keywords.
package fossologytest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/archive/unpack"
)

// Name is the upload name of the fixture.
const Name = "project.tar.gz"

// GPLC is a C file with a GPL-2.0-or-later notice and a copyright.
const GPLC = `/*
 * hello.c - print a greeting
 *
 * Copyright (C) 2019 Jane Roe <jane@example.org>
 * Author: Jane Roe
 *
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program; if not, write to the Free Software
 * Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301 USA.
 */
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
`

// MIT is the full MIT license text.
const MIT = `MIT License

Copyright (c) 2020 John Doe

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`

// Apache is a Go file tagged Apache-2.0.
const Apache = "// SPDX-License-Identifier: Apache-2.0\n// Copyright 2021 Example Corp.\npackage x\n\n// Encrypt uses AES.\nfunc Encrypt() {}\n"

// Latin1 is a file in ISO-8859-1 ("Copyright (C) 2018 Jos\xe9 M\xfcller").
const Latin1 = "Copyright (C) 2018 Jos\xe9 M\xfcller\nThis file is in the public domain.\n"

// Binary is a binary file.
var Binary = []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'G', 'P', 'L'}

// Paths of the fixture's files in the tree.
const (
	PathGPL    = Name + "/project/src/hello.c"
	PathMIT    = Name + "/project/vendor/lib.zip/LICENSE"
	PathApache = Name + "/project/vendor/lib.zip/x.go"
	PathLatin1 = Name + "/project/NOTICE.latin1"
	PathBinary = Name + "/project/bin/hello"
	PathZip    = Name + "/project/vendor/lib.zip"
)

// Archive returns the fixture upload's bytes.
func Archive(t testing.TB) []byte {
	t.Helper()
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for name, body := range map[string]string{"LICENSE": MIT, "x.go": Apache} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	var tbuf bytes.Buffer
	gz := gzip.NewWriter(&tbuf)
	tw := tar.NewWriter(gz)
	for _, e := range []struct {
		name string
		body []byte
	}{
		{"project/src/hello.c", []byte(GPLC)},
		{"project/vendor/lib.zip", zbuf.Bytes()},
		{"project/NOTICE.latin1", []byte(Latin1)},
		{"project/bin/hello", Binary},
	} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(e.body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return tbuf.Bytes()
}

// Tree unpacks the fixture into a temporary directory.
func Tree(t testing.TB) *unpack.Tree {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "upload")
	require.NoError(t, os.WriteFile(src, Archive(t), 0o644))
	tree, err := unpack.Unpack(context.Background(), unpack.Source{Path: src, Name: Name}, filepath.Join(dir, "tree"), unpack.Limits{})
	require.NoError(t, err)
	return tree
}
