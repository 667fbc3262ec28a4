package unpack_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mholt/archives"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
)

// entry is one member of a test archive.
type entry struct {
	name, body, link string
	typ              byte
}

func zipOf(t *testing.T, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.link != "" {
			h.SetMode(os.ModeSymlink | 0o777)
			e.body = e.link
		}
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = w.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func tarOf(t *testing.T, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		switch {
		case e.typ != 0:
			h.Typeflag, h.Size, h.Linkname = e.typ, 0, e.link
		case e.link != "":
			h.Typeflag, h.Size, h.Linkname = tar.TypeSymlink, 0, e.link
		case strings.HasSuffix(e.name, "/"):
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		}
		require.NoError(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func compress(t *testing.T, c archives.Compressor, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := c.OpenWriter(&buf)
	require.NoError(t, err)
	_, err = w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func write(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func run(t *testing.T, src, name string, lim unpack.Limits) (*unpack.Tree, string, error) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "tree")
	tree, err := unpack.Unpack(context.Background(), unpack.Source{Path: src, Name: name}, dest, lim)
	return tree, dest, err
}

func byPath(tree *unpack.Tree) map[string]unpack.Item {
	m := map[string]unpack.Item{}
	for _, it := range tree.Items {
		m[it.Path] = it
	}
	return m
}

const gplC = "/* main.c\n * This program is free software; you can redistribute it and/or modify\n" +
	" * it under the terms of the GNU General Public License version 2 or later.\n */\nint main(void) { return 0; }\n"

func TestNestedZipInTarGz(t *testing.T) {
	t.Parallel()
	inner := zipOf(t, entry{name: "lib/a.c", body: gplC}, entry{name: "README", body: "hello\n"})
	outer := tarOf(t,
		entry{name: "proj/"},
		entry{name: "proj/vendor.zip", body: string(inner)},
		entry{name: "proj/notes.txt.gz", body: string(compress(t, archives.Gz{}, []byte("notes\n")))},
		entry{name: "proj/link", link: "vendor.zip"},
	)
	src := write(t, "upload.tgz", compress(t, archives.Gz{}, outer))
	tree, dest, err := run(t, src, "project.tar.gz", unpack.Limits{})
	require.NoError(t, err)
	require.Equal(t, "project.tar.gz", tree.Name)
	items := byPath(tree)

	top := tree.Items[0]
	require.Equal(t, "project.tar.gz", top.Path)
	require.Equal(t, unpack.KindContainer, top.Kind)
	require.Equal(t, "tar.gz", top.Format)
	require.Equal(t, "application/gzip", top.MimeType)

	z := items["project.tar.gz/proj/vendor.zip"]
	require.Equal(t, unpack.KindContainer, z.Kind)
	require.Equal(t, "zip", z.Format)
	require.Equal(t, "project.tar.gz", z.Archive)
	sum := sha1.Sum(inner)
	require.Equal(t, hex.EncodeToString(sum[:]), z.Hash.SHA1)
	require.Equal(t, int64(len(inner)), z.Hash.Size)

	c := items["project.tar.gz/proj/vendor.zip/lib/a.c"]
	require.Equal(t, unpack.KindFile, c.Kind)
	require.Equal(t, "project.tar.gz/proj/vendor.zip", c.Archive)
	require.Equal(t, "text/x-c", c.MimeType)
	csum := sha1.Sum([]byte(gplC))
	require.Equal(t, hex.EncodeToString(csum[:]), c.Hash.SHA1)
	require.Len(t, c.Hash.SHA256, 64)
	require.Len(t, c.Hash.MD5, 32)
	got, err := os.ReadFile(tree.FilePath(c))
	require.NoError(t, err)
	require.Equal(t, gplC, string(got))
	require.Equal(t, unpack.KindDir, items["project.tar.gz/proj/vendor.zip/lib"].Kind)

	require.Equal(t, unpack.KindContainer, items["project.tar.gz/proj/notes.txt.gz"].Kind)
	require.Equal(t, unpack.KindFile, items["project.tar.gz/proj/notes.txt.gz/notes.txt"].Kind)

	l := items["project.tar.gz/proj/link"]
	require.Equal(t, unpack.KindSymlink, l.Kind)
	require.Equal(t, "vendor.zip", l.LinkTarget)
	_, err = os.Lstat(filepath.Join(dest, "project.tar.gz", "proj", "link"))
	require.ErrorIs(t, err, os.ErrNotExist, "links are recorded, never created")

	for _, it := range tree.Items {
		require.True(t, strings.HasPrefix(it.Path, "project.tar.gz"), it.Path)
	}
	_, err = os.Stat(filepath.Join(dest, ".unpack-tmp"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Len(t, tree.Files(), 3)
}

// TestUploadHash: the upload's own item carries its hash, computed by
// Unpack or, when the caller has it, taken as given without hashing; the
// upload is read in place and left as it was; a plain file is copied in.
func TestUploadHash(t *testing.T) {
	t.Parallel()
	body := compress(t, archives.Gz{}, tarOf(t, entry{name: "a.c", body: gplC}))
	src := write(t, "u.tgz", body)
	sum := sha1.Sum(body)

	tree, _, err := run(t, src, "u.tgz", unpack.Limits{})
	require.NoError(t, err)
	top := tree.Items[0]
	require.Equal(t, unpack.KindContainer, top.Kind)
	require.Equal(t, hex.EncodeToString(sum[:]), top.Hash.SHA1)
	require.Equal(t, int64(len(body)), top.Hash.Size)
	require.Len(t, top.Hash.MD5, 32)
	require.Len(t, top.Hash.SHA256, 64)

	given := unpack.Hash{SHA1: strings.Repeat("1", 40), MD5: strings.Repeat("2", 32), SHA256: strings.Repeat("3", 64), Size: int64(len(body))}
	dest := filepath.Join(t.TempDir(), "tree")
	tree, err = unpack.Unpack(context.Background(), unpack.Source{Path: src, Name: "u.tgz", Hash: &given}, dest, unpack.Limits{})
	require.NoError(t, err)
	require.Equal(t, given, tree.Items[0].Hash, "a given hash is the upload's, not computed again")
	require.Equal(t, "u.tgz/a.c", tree.Items[1].Path)
	after, err := os.ReadFile(src)
	require.NoError(t, err)
	require.Equal(t, body, after, "the upload is only read")

	plain := write(t, "notes.txt", []byte("notes\n"))
	tree, _, err = run(t, plain, "notes.txt", unpack.Limits{})
	require.NoError(t, err)
	require.Len(t, tree.Items, 1)
	require.Equal(t, unpack.KindFile, tree.Items[0].Kind)
	got, err := os.ReadFile(tree.FilePath(tree.Items[0]))
	require.NoError(t, err)
	require.Equal(t, "notes\n", string(got))
	_, err = os.Stat(plain)
	require.NoError(t, err, "a plain upload is copied into the tree, not moved")
}

func TestCompressedTars(t *testing.T) {
	t.Parallel()
	plain := tarOf(t, entry{name: "x/MIT.txt", body: "Permission is hereby granted, free of charge\n"})
	for _, tc := range []struct {
		format string
		c      archives.Compressor
	}{
		{"tar.gz", archives.Gz{}}, {"tar.bz2", archives.Bz2{}}, {"tar.xz", archives.Xz{}}, {"tar.zst", archives.Zstd{}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			t.Parallel()
			src := write(t, "a."+tc.format, compress(t, tc.c, plain))
			tree, _, err := run(t, src, "a."+tc.format, unpack.Limits{})
			require.NoError(t, err)
			require.Equal(t, tc.format, tree.Items[0].Format)
			require.Equal(t, unpack.KindFile, byPath(tree)["a."+tc.format+"/x/MIT.txt"].Kind)
		})
	}
	t.Run("plain tar", func(t *testing.T) {
		t.Parallel()
		tree, _, err := run(t, write(t, "a.tar", plain), "a.tar", unpack.Limits{})
		require.NoError(t, err)
		require.Equal(t, "tar", tree.Items[0].Format)
	})
}

func TestDeb(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/share/doc/hello"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "DEBIAN/control"),
		[]byte("Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: A <a@example.org>\nDescription: test\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "usr/share/doc/hello/copyright"), []byte("Copyright 2020 A\n"), 0o644))
	deb := filepath.Join(t.TempDir(), "hello_1.0_all.deb")
	for _, comp := range []string{"xz", "gzip", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			out, err := exec.Command("dpkg-deb", "--root-owner-group", "-Z"+comp, "--build", root, deb).CombinedOutput()
			if err != nil && comp == "zstd" && strings.Contains(string(out), "unknown compression") {
				t.Skip("dpkg-deb without zstd")
			}
			require.NoError(t, err, string(out))
			tree, _, err := run(t, deb, "hello_1.0_all.deb", unpack.Limits{})
			require.NoError(t, err)
			items := byPath(tree)
			require.Equal(t, "deb", tree.Items[0].Format)
			require.Equal(t, unpack.KindFile, items["hello_1.0_all.deb/debian-binary"].Kind)
			var data, control string
			for p, it := range items {
				if it.Kind == unpack.KindContainer && strings.Contains(p, "/data.tar") {
					data = p
				}
				if it.Kind == unpack.KindContainer && strings.Contains(p, "/control.tar") {
					control = p
				}
			}
			require.NotEmpty(t, data)
			require.NotEmpty(t, control)
			require.Equal(t, unpack.KindFile, items[data+"/usr/share/doc/hello/copyright"].Kind, "%v", items)
			require.Equal(t, unpack.KindFile, items[control+"/control"].Kind)
		})
	}
}

func TestPlainFileIsOneFileTree(t *testing.T) {
	t.Parallel()
	tree, _, err := run(t, write(t, "x", []byte(gplC)), "main.c", unpack.Limits{})
	require.NoError(t, err)
	require.Len(t, tree.Items, 1)
	require.Equal(t, unpack.KindFile, tree.Items[0].Kind)
	require.Equal(t, "main.c", tree.Items[0].Path)
	require.Empty(t, tree.Items[0].Archive)
}

func TestHostileArchives(t *testing.T) {
	t.Parallel()
	zeros := bytes.Repeat([]byte{0}, 8<<20)
	good := zipOf(t, entry{name: "a.txt", body: strings.Repeat("hello ", 1000)})
	cases := []struct {
		name string
		data func(t *testing.T) []byte
		lim  unpack.Limits
		kind error
		msg  string
	}{
		{"zip bomb", func(t *testing.T) []byte { return zipOf(t, entry{name: "zeros", body: string(zeros)}) },
			unpack.Limits{}, fault.ErrTooLarge, "a zip bomb"},
		{"tar.gz bomb", func(t *testing.T) []byte {
			return compress(t, archives.Gz{}, tarOf(t, entry{name: "zeros", body: string(zeros)}))
		}, unpack.Limits{}, fault.ErrTooLarge, "a zip bomb"},
		{"nested bomb over total", func(t *testing.T) []byte {
			in := zipOf(t, entry{name: "z1", body: string(zeros[:2<<20])})
			return zipOf(t, entry{name: "a.zip", body: string(in)}, entry{name: "b.zip", body: string(in)})
		}, unpack.Limits{Limits: archive.Limits{MaxTotalBytes: 3 << 20, MaxRatio: 100000}}, fault.ErrTooLarge, "more than the limit of 3145728 bytes"},
		{"zip slip", func(t *testing.T) []byte { return zipOf(t, entry{name: "../../evil", body: "x"}) },
			unpack.Limits{}, fault.ErrInvalid, `zip entry "../../evil" escapes the archive`},
		{"tar slip", func(t *testing.T) []byte { return tarOf(t, entry{name: "a/../../evil", body: "x"}) },
			unpack.Limits{}, fault.ErrInvalid, `tar entry "a/../../evil" escapes the archive`},
		{"absolute", func(t *testing.T) []byte { return tarOf(t, entry{name: "/etc/passwd", body: "x"}) },
			unpack.Limits{}, fault.ErrInvalid, "absolute path"},
		{"symlink escape", func(t *testing.T) []byte { return tarOf(t, entry{name: "d/l", link: "../../etc/passwd"}) },
			unpack.Limits{}, fault.ErrInvalid, "outside the archive"},
		{"zip symlink escape", func(t *testing.T) []byte { return zipOf(t, entry{name: "l", link: "/etc/passwd"}) },
			unpack.Limits{}, fault.ErrInvalid, "outside the archive"},
		{"hard link outside", func(t *testing.T) []byte {
			return tarOf(t, entry{name: "h", typ: tar.TypeLink, link: "../etc/shadow"})
		}, unpack.Limits{}, fault.ErrInvalid, "escapes the archive"},
		{"device", func(t *testing.T) []byte { return tarOf(t, entry{name: "sda", typ: tar.TypeBlock}) },
			unpack.Limits{}, fault.ErrInvalid, "device"},
		{"duplicate", func(t *testing.T) []byte { return tarOf(t, entry{name: "a", body: "1"}, entry{name: "a", body: "2"}) },
			unpack.Limits{}, fault.ErrInvalid, "duplicate"},
		{"file then dir", func(t *testing.T) []byte { return tarOf(t, entry{name: "a", body: "1"}, entry{name: "a/b", body: "2"}) },
			unpack.Limits{}, fault.ErrInvalid, "not a directory"},
		{"too many entries", func(t *testing.T) []byte {
			var es []entry
			for i := range 20 {
				es = append(es, entry{name: strings.Repeat("x", i+1), body: "x"})
			}
			return zipOf(t, es...)
		}, unpack.Limits{Limits: archive.Limits{MaxEntries: 10}}, fault.ErrTooLarge, "entries"},
		{"truncated zip", func(t *testing.T) []byte { return good[:len(good)/2] },
			unpack.Limits{}, fault.ErrInvalid, "corrupt or truncated zip"},
		{"truncated tar.gz", func(t *testing.T) []byte {
			b := compress(t, archives.Gz{}, tarOf(t, entry{name: "a", body: strings.Repeat("abc", 100000)}))
			return b[:len(b)/2]
		}, unpack.Limits{}, fault.ErrInvalid, "corrupt or truncated"},
		{"corrupt gzip", func(t *testing.T) []byte {
			b := compress(t, archives.Gz{}, tarOf(t, entry{name: "a", body: strings.Repeat("abc", 100000)}))
			for i := 40; i < len(b)-20; i += 7 {
				b[i] ^= 0x5a
			}
			return b
		}, unpack.Limits{}, fault.ErrInvalid, "corrupt"},
		{"truncated ar", func(t *testing.T) []byte { return []byte("!<arch>\nshort") }, unpack.Limits{}, fault.ErrInvalid, "ar archive"},
		{"nested zip slip", func(t *testing.T) []byte {
			return compress(t, archives.Gz{}, tarOf(t, entry{name: "in.zip", body: string(zipOf(t, entry{name: "../x", body: "x"}))}))
		}, unpack.Limits{}, fault.ErrInvalid, `up.bin/in.zip: zip entry "../x" escapes`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := write(t, "up.bin", tc.data(t))
			tree, dest, err := run(t, src, "up.bin", tc.lim)
			require.ErrorIs(t, err, tc.kind, "%v", err)
			require.ErrorContains(t, err, tc.msg)
			require.Nil(t, tree)
			left, rerr := os.ReadDir(dest)
			require.NoError(t, rerr)
			require.Empty(t, left, "nothing is left behind")
		})
	}
}

func TestMimeType(t *testing.T) {
	t.Parallel()
	require.Equal(t, "text/x-c", unpack.MimeType("a.c", []byte("int x;\n")))
	require.Equal(t, "application/zip", unpack.MimeType("a", zipOf(t, entry{name: "a", body: "b"})))
	require.Equal(t, "application/octet-stream", unpack.MimeType("a.bin", []byte{0, 1, 2, 0xff, 0, 0}))
	_ = io.Discard
}
