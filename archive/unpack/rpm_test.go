package unpack_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"strings"
	"testing"

	"github.com/cavaliergopher/cpio"
	"github.com/cavaliergopher/rpm"
	"github.com/google/rpmpack"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
)

// rpmOf builds an rpm package with rpmpack (the writer nfpm and goreleaser
// use) holding files, compressed with comp.
func rpmOf(t *testing.T, comp string, files ...rpmpack.RPMFile) []byte {
	t.Helper()
	r, err := rpmpack.NewRPM(rpmpack.RPMMetaData{Name: "hello", Version: "1.2", Release: "3.fc40", Arch: "x86_64", Epoch: 2,
		Licence: "GPL-2.0-or-later", Vendor: "Fedora Project", Summary: "a test package", URL: "https://example.org/hello", Compressor: comp})
	require.NoError(t, err)
	for _, f := range files {
		r.AddFile(f)
	}
	var buf bytes.Buffer
	require.NoError(t, r.Write(&buf))
	return buf.Bytes()
}

func TestRPM(t *testing.T) {
	t.Parallel()
	inner := zipOf(t, entry{name: "notice.txt", body: gplC})
	for _, comp := range []string{"gzip", "xz", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			t.Parallel()
			b := rpmOf(t, comp,
				rpmpack.RPMFile{Name: "/usr/share/doc/hello", Mode: 0o40755},
				rpmpack.RPMFile{Name: "/usr/share/doc/hello/main.c", Body: []byte(gplC), Mode: 0o644},
				rpmpack.RPMFile{Name: "/usr/share/doc/hello/extra.zip", Body: inner, Mode: 0o644},
				rpmpack.RPMFile{Name: "/usr/share/doc/hello/link", Body: []byte("main.c"), Mode: 0o120777},
			)
			tree, dest, err := run(t, write(t, "hello.rpm", b), "hello-1.2-3.fc40.x86_64.rpm", unpack.Limits{})
			require.NoError(t, err)
			items := byPath(tree)
			top := items["hello-1.2-3.fc40.x86_64.rpm"]
			require.Equal(t, unpack.KindContainer, top.Kind)
			require.Equal(t, "rpm", top.Format)
			require.Equal(t, &unpack.Package{Type: "rpm", Name: "hello", Version: "1.2", Release: "3.fc40", Epoch: 2, Arch: "x86_64",
				License: "GPL-2.0-or-later", Vendor: "Fedora Project", Summary: "a test package", URL: "https://example.org/hello", SourceRPM: "hello-1.2-3.fc40.src.rpm"}, top.Package)
			base := "hello-1.2-3.fc40.x86_64.rpm/usr/share/doc/hello/"
			c := items[base+"main.c"]
			require.Equal(t, unpack.KindFile, c.Kind, "%v", items)
			require.Equal(t, int64(len(gplC)), c.Hash.Size)
			got, err := os.ReadFile(tree.FilePath(c))
			require.NoError(t, err)
			require.Equal(t, gplC, string(got))
			require.Equal(t, unpack.KindContainer, items[base+"extra.zip"].Kind, "a nested archive in the payload is unpacked")
			require.Equal(t, unpack.KindFile, items[base+"extra.zip/notice.txt"].Kind)
			require.Equal(t, unpack.KindSymlink, items[base+"link"].Kind)
			require.Equal(t, "main.c", items[base+"link"].LinkTarget)
			require.Equal(t, unpack.KindDir, items[base[:len(base)-1]].Kind)
			require.NotEmpty(t, dest)
		})
	}
}

func TestHostileRPM(t *testing.T) {
	t.Parallel()
	zeros := bytes.Repeat([]byte{0}, 8<<20)
	good := rpmOf(t, "gzip", rpmpack.RPMFile{Name: "/a.txt", Body: bytes.Repeat([]byte("abc "), 100000), Mode: 0o644})
	cases := []struct {
		name string
		data func(t *testing.T) []byte
		lim  unpack.Limits
		kind error
		msg  string
	}{
		{"path escape", func(t *testing.T) []byte {
			return rpmOf(t, "gzip", rpmpack.RPMFile{Name: "/../../etc/evil", Body: []byte("x"), Mode: 0o644})
		}, unpack.Limits{}, fault.ErrInvalid, "escapes the archive"},
		{"symlink escape", func(t *testing.T) []byte {
			return rpmOf(t, "gzip", rpmpack.RPMFile{Name: "/usr/l", Body: []byte("../../../etc/shadow"), Mode: 0o120777})
		}, unpack.Limits{}, fault.ErrInvalid, "outside the archive"},
		{"device", func(t *testing.T) []byte {
			return rpmOf(t, "gzip", rpmpack.RPMFile{Name: "/dev/sda", Mode: 0o60644})
		}, unpack.Limits{}, fault.ErrInvalid, "device"},
		{"bomb", func(t *testing.T) []byte {
			return rpmOf(t, "xz", rpmpack.RPMFile{Name: "/zeros", Body: zeros, Mode: 0o644})
		}, unpack.Limits{}, fault.ErrTooLarge, "a zip bomb"},
		{"entry too large", func(t *testing.T) []byte {
			return rpmOf(t, "gzip", rpmpack.RPMFile{Name: "/big", Body: zeros[:2<<20], Mode: 0o644})
		}, unpack.Limits{Limits: archive.Limits{MaxEntryBytes: 1 << 20, MaxRatio: 100000}}, fault.ErrTooLarge, "larger than the limit"},
		{"too many entries", func(t *testing.T) []byte {
			var fs []rpmpack.RPMFile
			for i := range 20 {
				fs = append(fs, rpmpack.RPMFile{Name: "/f" + strings.Repeat("x", i), Body: []byte("x"), Mode: 0o644})
			}
			return rpmOf(t, "gzip", fs...)
		}, unpack.Limits{Limits: archive.Limits{MaxEntries: 10}}, fault.ErrTooLarge, "entries"},
		{"truncated payload", func(t *testing.T) []byte { return good[:len(good)-len(good)/4] },
			unpack.Limits{}, fault.ErrInvalid, "truncated"},
		{"truncated header", func(t *testing.T) []byte { return good[:200] },
			unpack.Limits{}, fault.ErrInvalid, "corrupt rpm package"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tree, dest, err := run(t, write(t, "up.bin", tc.data(t)), "up.bin", tc.lim)
			require.ErrorIs(t, err, tc.kind, "%v", err)
			require.ErrorContains(t, err, tc.msg)
			require.Nil(t, tree)
			left, rerr := os.ReadDir(dest)
			require.NoError(t, rerr)
			require.Empty(t, left, "nothing is left behind")
		})
	}
}

// rpmWithPayload is an rpm whose lead and headers rpmpack wrote and whose
// payload is the gzip-compressed cpio (newc) archive of entries, written as
// rpmbuild writes hard links: every name of an inode carries its inode
// number and link count, and only the last carries the content.
func rpmWithPayload(t *testing.T, entries ...cpioEntry) []byte {
	t.Helper()
	head := rpmOf(t, "gzip", rpmpack.RPMFile{Name: "/placeholder", Body: []byte("x"), Mode: 0o644})
	r := bytes.NewReader(head)
	_, err := rpm.Read(r)
	require.NoError(t, err)
	var out bytes.Buffer
	out.Write(head[:len(head)-r.Len()])
	gz := gzip.NewWriter(&out)
	cw := cpio.NewWriter(gz)
	for _, e := range entries {
		require.NoError(t, cw.WriteHeader(&cpio.Header{Name: e.name, Mode: cpio.FileMode(e.mode), Size: int64(len(e.body)), Inode: e.inode, Links: e.links}))
		_, err := cw.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, cw.Close())
	require.NoError(t, gz.Close())
	return out.Bytes()
}

type cpioEntry struct {
	name  string
	mode  uint32
	inode int64
	links int
	body  string
}

// TestRPMHardLinks: the names of one inode in an rpm payload are one file
// and hard links to it (as FOSSology's ununpack keeps them), whichever name
// carries the content; an inode whose names are all empty is an empty file.
func TestRPMHardLinks(t *testing.T) {
	t.Parallel()
	b := rpmWithPayload(t,
		cpioEntry{name: "./usr/bin", mode: 0o40755, inode: 1, links: 2},
		cpioEntry{name: "./usr/bin/gzip", mode: 0o100755, inode: 7, links: 3},
		cpioEntry{name: "./usr/bin/gunzip", mode: 0o100755, inode: 7, links: 3},
		cpioEntry{name: "./usr/bin/zcat", mode: 0o100755, inode: 7, links: 3, body: gplC},
		cpioEntry{name: "./usr/bin/after", mode: 0o100644, inode: 9, links: 2, body: "first\n"},
		cpioEntry{name: "./usr/bin/after2", mode: 0o100644, inode: 9, links: 2},
		cpioEntry{name: "./usr/share/empty-a", mode: 0o100644, inode: 11, links: 2},
		cpioEntry{name: "./usr/share/empty-b", mode: 0o100644, inode: 11, links: 2},
		cpioEntry{name: "./usr/share/single", mode: 0o100644, inode: 12, links: 1, body: "one\n"},
	)
	tree, _, err := run(t, write(t, "links.rpm", b), "links.rpm", unpack.Limits{})
	require.NoError(t, err)
	items := byPath(tree)
	base := "links.rpm/usr/bin/"
	zcat := items[base+"zcat"]
	require.Equal(t, unpack.KindFile, zcat.Kind, "the name with the content is the file: %v", items)
	got, err := os.ReadFile(tree.FilePath(zcat))
	require.NoError(t, err)
	require.Equal(t, gplC, string(got))
	for _, n := range []string{"gzip", "gunzip"} {
		require.Equal(t, unpack.KindHardlink, items[base+n].Kind, n)
		require.Equal(t, "usr/bin/zcat", items[base+n].LinkTarget, n)
	}
	require.Equal(t, unpack.KindFile, items[base+"after"].Kind)
	require.Equal(t, unpack.KindHardlink, items[base+"after2"].Kind)
	require.Equal(t, "usr/bin/after", items[base+"after2"].LinkTarget)
	ea := items["links.rpm/usr/share/empty-a"]
	require.Equal(t, unpack.KindFile, ea.Kind)
	require.Zero(t, ea.Hash.Size)
	require.Equal(t, unpack.KindHardlink, items["links.rpm/usr/share/empty-b"].Kind)
	require.Equal(t, "usr/share/empty-a", items["links.rpm/usr/share/empty-b"].LinkTarget)
	require.Equal(t, unpack.KindFile, items["links.rpm/usr/share/single"].Kind)
	var files int
	for _, it := range tree.Files() {
		if strings.HasPrefix(it.Path, "links.rpm/") {
			files++
		}
	}
	require.Equal(t, 4, files, "zcat, after, empty-a, single: the links are no second copy")

	// A second content for an inode is a corrupt payload.
	bad := rpmWithPayload(t,
		cpioEntry{name: "./a", mode: 0o100644, inode: 3, links: 2, body: "a\n"},
		cpioEntry{name: "./b", mode: 0o100644, inode: 3, links: 2, body: "b\n"},
	)
	_, _, err = run(t, write(t, "bad.rpm", bad), "bad.rpm", unpack.Limits{})
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, "again")
}
