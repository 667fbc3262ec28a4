package scan_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/license"
	"github.com/reehub/reehub/analysis/scan"
)

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
}

// walkAll scans dir and returns the results by path.
func walkAll(t *testing.T, s *scan.Scanner, dir string) map[string]scan.Result {
	t.Helper()
	out := map[string]scan.Result{}
	require.NoError(t, s.Walk(context.Background(), dir, func(r scan.Result) error {
		_, dup := out[r.Path]
		require.False(t, dup, "path %s reported twice", r.Path)
		out[r.Path] = r
		return nil
	}))
	return out
}

func TestWalk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"src/a.c":       "// SPDX-License-Identifier: MIT\n// Copyright (c) 2020 Jane Roe\n",
		"src/b.py":      "# Licensed under the Apache License 2.0\n",
		"bin/blob":      "ELF\x00\x01\x02 Copyright 2020 Nobody\n",
		"big.txt":       strings.Repeat("x", 100) + "\nCopyright 2001 Late Holder\n",
		"latin1.c":      "/* Copyright (C) 1999 Fran\xe7ois Dupont */\n",
		".git/config":   "Copyright 2020 Not Scanned\n",
		"empty":         "",
		"deep/x/y/z.md": "This file is placed in the public domain.\n",
	})
	root := filepath.Join(dir)
	require.NoError(t, os.Symlink("src/a.c", filepath.Join(root, "link-ok")))
	require.NoError(t, os.Symlink("missing", filepath.Join(root, "link-dangling")))
	require.NoError(t, os.Symlink("/src/a.c", filepath.Join(root, "link-absolute")))      // root-relative: inside
	require.NoError(t, os.Symlink("/no/such/file", filepath.Join(root, "link-abs-gone"))) // root-relative: dangling
	require.NoError(t, os.Symlink("../../etc/passwd", filepath.Join(root, "link-outside")))
	require.NoError(t, os.Symlink("loop-b", filepath.Join(root, "loop-a")))
	require.NoError(t, os.Symlink("loop-a", filepath.Join(root, "loop-b")))
	require.NoError(t, os.Symlink(".", filepath.Join(root, "deep", "self"))) // directory cycle
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))

	s, err := scan.New(&scan.Options{Workers: 3, MaxBytes: 64})
	require.NoError(t, err)
	got := walkAll(t, s, dir)

	require.Equal(t, []string{"MIT"}, license.IDs(got["src/a.c"].Licenses))
	require.Equal(t, "Jane Roe", got["src/a.c"].Copyrights[0].Holder)
	require.Equal(t, []string{"Apache-2.0"}, license.IDs(got["src/b.py"].Licenses))
	require.Equal(t, scan.ReasonBinary, got["bin/blob"].Skipped)
	require.Empty(t, got["bin/blob"].Copyrights)
	require.Equal(t, []scan.Reason{scan.ReasonCapped}, got["big.txt"].Notes)
	require.Empty(t, got["big.txt"].Copyrights, "text past the cap is not read")
	require.Equal(t, []scan.Reason{scan.ReasonNotUTF8}, got["latin1.c"].Notes)
	require.Equal(t, "François Dupont", got["latin1.c"].Copyrights[0].Holder)
	require.NotContains(t, got, ".git/config")
	require.Empty(t, got["empty"].Skipped)
	require.Equal(t, []string{license.PublicDomain}, license.IDs(got["deep/x/y/z.md"].Licenses))

	for p, want := range map[string]scan.Reason{
		"link-ok":       scan.ReasonSymlink,
		"link-dangling": scan.ReasonDanglingSymlink,
		"link-absolute": scan.ReasonSymlink,
		"link-abs-gone": scan.ReasonDanglingSymlink,
		"link-outside":  scan.ReasonSymlinkOutside,
		"loop-a":        scan.ReasonSymlinkLoop,
		"loop-b":        scan.ReasonSymlinkLoop,
		"deep/self":     scan.ReasonSymlink,
		"fifo":          scan.ReasonSpecial,
	} {
		require.Equal(t, want, got[p].Skipped, p)
	}
	require.Equal(t, "src/a.c", got["link-ok"].Target)
	require.Len(t, got, 16)
}

func TestWalkSingleFileAndStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"one.c": "// SPDX-License-Identifier: ISC\n", "two.c": "x\n", "three.c": "y\n"})
	s, err := scan.New(nil)
	require.NoError(t, err)
	got := walkAll(t, s, filepath.Join(dir, "one.c"))
	require.Equal(t, []string{"ISC"}, license.IDs(got["one.c"].Licenses))

	stop := io.ErrShortWrite
	n := 0
	err = s.Walk(context.Background(), dir, func(scan.Result) error { n++; return stop })
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, n)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.Walk(ctx, dir, func(scan.Result) error { return nil }), context.Canceled)
	require.Error(t, s.Walk(context.Background(), filepath.Join(dir, "missing"), func(scan.Result) error { return nil }))
}

// permDirEnv carries the fixture directory to the child process of
// TestPermissionDenied.
const permDirEnv = "REEHUB_SCAN_PERMISSION_DIR"

func TestPermissionDenied(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	writeTree(t, dir, map[string]string{"open.c": "// SPDX-License-Identifier: MIT\n", "secret.c": "x", "closed/inner.c": "y"})
	require.NoError(t, os.Chmod(filepath.Join(dir, "secret.c"), 0))
	require.NoError(t, os.Chmod(filepath.Join(dir, "closed"), 0))
	if os.Geteuid() != 0 {
		s, err := scan.New(nil)
		require.NoError(t, err)
		checkPermissionResults(t, walkAll(t, s, dir))
		return
	}
	// root reads everything: run the scan in a child process as nobody.
	bin := filepath.Join(t.TempDir(), "scan.test")
	self, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, self, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(bin), 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755)) // t.TempDir's parent is private
	cmd := exec.Command(bin, "-test.run=^TestPermissionDeniedChild$", "-test.v")
	cmd.Env = append(os.Environ(), permDirEnv+"="+dir, "GOCACHE=/nonexistent", "HOME=/")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "--- PASS: TestPermissionDeniedChild")
}

// TestPermissionDeniedChild is the unprivileged half of TestPermissionDenied.
func TestPermissionDeniedChild(t *testing.T) {
	dir := os.Getenv(permDirEnv)
	if dir == "" {
		t.Skip("run by TestPermissionDenied")
	}
	s, err := scan.New(nil)
	require.NoError(t, err)
	checkPermissionResults(t, walkAll(t, s, dir))
}

func checkPermissionResults(t *testing.T, got map[string]scan.Result) {
	t.Helper()
	require.Equal(t, []string{"MIT"}, license.IDs(got["open.c"].Licenses))
	require.Equal(t, scan.ReasonPermission, got["secret.c"].Skipped)
	require.Equal(t, scan.ReasonPermission, got["closed"].Skipped)
	require.NotContains(t, got, "closed/inner.c")
}

func TestResultJSON(t *testing.T) {
	t.Parallel()
	s, err := scan.New(nil)
	require.NoError(t, err)
	var r scan.Result
	s.Text([]byte("// SPDX-License-Identifier: MIT\n"), &r)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.Contains(t, string(b), `"kind":"spdx-tag"`)
	require.Contains(t, string(b), `"start_line":1`)
}

func TestWalkResolvesTree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mit := "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \"Software\"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n"
	writeTree(t, dir, map[string]string{
		"LICENSE.txt": "MIT License\n\n" + mit,
		"src/a.c":     "/* Part of demo.\n * See the file LICENSE for copying conditions.\n */\n",
		"src/sub/b.c": "// see LICENSE\n",
		"src/c.c":     "/* Licensed under the ISC license; see LICENSE. */\n", // own license wins
		"src/d.c":     "/* see the README */\n",                               // no README: nothing
		"lib/COPYING": "This is two licenses: MIT and the GNU GPL.\n" + mit + "\nGNU General Public License version 2\n",
		"lib/e.c":     "/* See COPYING. */\n",                                 // COPYING with two licenses: ambiguous, nothing
		"lib/f.c":     "/* Released under the ISC license; see COPYING. */\n", // COPYING does not state ISC: its own
		// metaconfig's units: the Artistic License "as specified in the
		// README", whose terms are the Artistic License or the GPL.
		"U/README": "You may distribute the files contained in this distribution\nunder the terms of either\n\n   a) the \"Artistic License\" which comes with Perl, or\n\n" +
			"   b) the GNU General Public License as published by the Free\n   Software Foundation; either version 1, or (at your option) any\n   later version.\n",
		"U/perl/Devel.U":       "?RCS: You may redistribute only under the terms of the Artistic License,\n?RCS: as specified in the README file that comes with the distribution.\n",
		"LICENSES/MIT.txt":     mit,
		"LICENSES/Zlib.txt":    "the zlib text\n",
		"img/logo.svg":         "<svg/>\n",
		"img/logo.svg.license": "SPDX-FileCopyrightText: 2020 Jane Roe\nSPDX-License-Identifier: CC-BY-4.0\n",
		"data/x.json":          "{}\n",
		".reuse/dep5":          "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: data/*\nCopyright: 2020 Jane Roe\nLicense: CC0-1.0\n",
	})
	s, err := scan.New(nil)
	require.NoError(t, err)
	res := walkAll(t, s, dir)

	one := func(p string) license.Match {
		t.Helper()
		require.Len(t, res[p].Licenses, 1, "%s: %+v", p, res[p].Licenses)
		return res[p].Licenses[0]
	}
	m := one("src/a.c")
	require.Equal(t, "MIT", m.ID)
	require.Equal(t, "pointer:see-file", m.Rule)
	require.Equal(t, "LICENSE.txt", m.RefFile)
	require.Equal(t, [2]int{2, 2}, [2]int{m.StartLine, m.EndLine})
	require.Positive(t, m.RefStartLine)
	require.Equal(t, "MIT", one("src/sub/b.c").ID) // found two directories up
	require.Equal(t, "ISC", one("src/c.c").ID)
	require.Empty(t, res["src/d.c"].Licenses)
	require.Empty(t, res["lib/e.c"].Licenses)
	require.Equal(t, "ISC", one("lib/f.c").ID)
	require.Equal(t, []string{"Artistic-1.0-Perl", "GPL-1.0-or-later"}, license.IDs(res["U/perl/Devel.U"].Licenses))
	for _, m := range res["U/perl/Devel.U"].Licenses {
		require.Equal(t, "pointer-terms:found-in-file", m.Rule)
		require.Equal(t, "U/README", m.RefFile)
		require.Equal(t, [2]int{2, 2}, [2]int{m.StartLine, m.EndLine})
	}
	m = one("LICENSES/Zlib.txt")
	require.Equal(t, "Zlib", m.ID)
	require.Equal(t, "reuse-licenses-dir", m.Rule)
	m = one("img/logo.svg")
	require.Equal(t, "CC-BY-4.0", m.ID)
	require.Equal(t, "reuse-sidecar", m.Rule)
	require.Equal(t, "img/logo.svg.license", m.RefFile)
	m = one("data/x.json")
	require.Equal(t, "CC0-1.0", m.ID)
	require.Equal(t, "reuse-dep5", m.Rule)
	require.Equal(t, ".reuse/dep5", m.RefFile)
	require.Equal(t, 3, m.RefStartLine)
}

func TestWalkDualPointers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bsd3 := "Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met:\n\n" +
		" * Redistributions of source code must retain the above copyright notice, this list of conditions and the following disclaimer.\n\n" +
		" * Redistributions in binary form must reproduce the above copyright notice, this list of conditions and the following disclaimer in the documentation and/or other materials provided with the distribution.\n\n" +
		" * Neither the name Facebook nor the names of its contributors may be used to endorse or promote products derived from this software without specific prior written permission.\n\n" +
		"THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.\n"
	zstd := "/*\n * Copyright (c) Meta Platforms, Inc. and affiliates.\n * All rights reserved.\n *\n" +
		" * This source code is licensed under both the BSD-style license (found in the\n" +
		" * LICENSE file in the root directory of this source tree) and the GPLv2 (found\n" +
		" * in the COPYING file in the root directory of this source tree).\n" +
		" * You may select, at your option, one of the above-listed licenses.\n */\n"
	writeTree(t, dir, map[string]string{
		"LICENSE":     "BSD License\n\n" + bsd3,
		"lib/zstd.h":  zstd,
		"lib/other.c": "/* Licensed under the GPLv2.\n * Released under the GPLv2 license; see LICENSE for the history. */\n",
	})
	s, err := scan.New(nil)
	require.NoError(t, err)
	res := walkAll(t, s, dir)
	ms := res["lib/zstd.h"].Licenses
	require.Equal(t, []string{"BSD-3-Clause", "GPL-2.0-only"}, license.IDs(ms), "%+v", ms)
	for _, m := range ms {
		if m.ID == "BSD-3-Clause" {
			require.Equal(t, "pointer:found-in-file", m.Rule)
			require.Equal(t, "LICENSE", m.RefFile)
			require.Equal(t, [2]int{5, 6}, [2]int{m.StartLine, m.EndLine})
			require.Positive(t, m.RefStartLine)
		}
	}
	// A pointer outside a dual statement adds nothing to a file's own license.
	require.NotContains(t, license.IDs(res["lib/other.c"].Licenses), "BSD-3-Clause")
}
