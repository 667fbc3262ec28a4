package dpkg_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom/catalog"
	"github.com/reehub/reehub/analysis/sbom/catalog/dpkg"
)

// fixture copies testdata/rootfs and adds the multi-arch list file, whose
// name (with a colon) cannot live in a Go module.
func fixture(t *testing.T) rootfs.Source {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/rootfs")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "var/lib/dpkg/info/libc6:amd64.list"),
		[]byte("/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n"), 0o644))
	src, err := rootfs.OpenDir(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	return src
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	src := fixture(t)
	env := &catalog.Env{Distro: catalog.Distro{ID: "debian", VersionID: "12"}}
	pkgs, err := dpkg.New().Catalog(context.Background(), src, env, []string{"var/lib/dpkg/status"})
	require.NoError(t, err)
	require.Len(t, pkgs, 3)
	byName := map[string]catalog.Package{}
	for _, p := range pkgs {
		byName[p.Name] = p
	}
	bash := byName["bash"]
	require.Equal(t, "5.2.15-2+b7", bash.Version)
	require.Equal(t, "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2", bash.PURL)
	require.Equal(t, []string{"BSD-3-Clause OR MIT", "GFDL-1.3-or-later", "GPL-3.0-or-later"}, bash.Licenses)
	require.Equal(t, []string{"/bin/bash", "/etc/bash.bashrc", "/usr/share/doc/bash/copyright"}, bash.Files)
	require.Equal(t, []string{"deb:debianutils@5.7-0.5~deb12u1:amd64", "deb:libc6@2.36-9+deb12u7:amd64"}, bash.DependsOn)
	require.Equal(t, "GNU Bourne Again SHell", bash.Description)
	require.Contains(t, bash.Locations, "/usr/share/doc/bash/copyright")

	libc := byName["libc6"]
	require.Equal(t, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc", libc.PURL)
	require.Equal(t, []string{"LGPL-2.1-only"}, libc.Licenses)
	require.Equal(t, []string{"/lib/x86_64-linux-gnu/libc.so.6"}, libc.Files)
	require.Empty(t, libc.DependsOn) // libgcc-s1 is not installed

	du := byName["debianutils"]
	require.Equal(t, "pkg:deb/debian/debianutils@5.7-0.5~deb12u1?arch=amd64&distro=debian-12", du.PURL)
	require.Empty(t, du.Licenses)
}

func TestStatusD(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "var/lib/dpkg/status.d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "var/lib/dpkg/status.d/base"),
		[]byte("Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "var/lib/dpkg/status.d/base.md5sums"), []byte("x  etc/issue\n"), 0o644))
	src, err := rootfs.OpenDir(dir)
	require.NoError(t, err)
	defer src.Close()
	c := dpkg.New()
	var matched []string
	require.NoError(t, rootfs.Walk(context.Background(), src, ".", func(p string, d os.DirEntry, err error) error {
		if err == nil && c.Match(p, d) {
			matched = append(matched, p)
		}
		return err
	}))
	require.Equal(t, []string{"var/lib/dpkg/status.d/base"}, matched)
	pkgs, err := c.Catalog(context.Background(), src, &catalog.Env{}, matched)
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	require.Equal(t, "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64", pkgs[0].PURL)
}

func TestParseCopyright(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{name: "dep5", in: "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: a/*\nLicense: LGPL-2.1+ or MPL-1.1\n\nLicense: GPL-2+\n text\n", want: []string{"GPL-2.0-or-later", "LGPL-2.1-or-later OR MPL-1.1"}},
		{name: "dep5 public domain", in: "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: public-domain\n", want: []string{"LicenseRef-public-domain"}},
		{name: "header license", in: "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nLicense: Expat\n", want: []string{"MIT"}},
		{name: "free form", in: "see /usr/share/common-licenses/GPL-2. and /usr/share/common-licenses/GPL\n", want: []string{"GPL-2.0-only", "GPL-3.0-only"}},
		{name: "nothing", in: "All rights reserved.\n", want: []string{}},
		{name: "garbage", in: "\x00\x01\xff:::\n\n\n:", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, dpkg.ParseCopyright([]byte(tt.in)))
		})
	}
}
