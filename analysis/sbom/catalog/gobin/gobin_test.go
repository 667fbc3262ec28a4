package gobin_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom/catalog"
	"github.com/reehub/reehub/analysis/sbom/catalog/gobin"
)

func TestCatalog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	// A real Go binary with one dependency (replaced by a local directory so
	// the build needs no network).
	mods := t.TempDir()
	for name, body := range map[string]string{
		"hello/go.mod":  "module example.com/hello\n\ngo 1.22\n\nrequire example.com/dep v1.2.3\n\nreplace example.com/dep => ../dep\n",
		"hello/main.go": "package main\n\nimport \"example.com/dep\"\n\nfunc main() { dep.F() }\n",
		"dep/go.mod":    "module example.com/dep\n\ngo 1.22\n",
		"dep/dep.go":    "package dep\n\n// F does nothing.\nfunc F() {}\n",
	} {
		p := filepath.Join(mods, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin/tool"), ".")
	build.Dir = filepath.Join(mods, "hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	// Executables that are not Go binaries, or not binaries at all.
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	shData, err := os.ReadFile(sh)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin/sh"), shData, 0o755))
	big := make([]byte, 100<<10)
	copy(big, "\x7fELF garbage")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin/fake-elf"), big, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin/script"), append([]byte("#!/bin/sh\n"), big...), 0o755))

	src, err := rootfs.OpenDir(dir)
	require.NoError(t, err)
	defer src.Close()
	c := gobin.New()
	var matched []string
	require.NoError(t, rootfs.Walk(context.Background(), src, ".", func(p string, d os.DirEntry, err error) error {
		if err == nil && c.Match(p, d) {
			matched = append(matched, p)
		}
		return err
	}))
	require.Contains(t, matched, "bin/tool")
	pkgs, err := c.Catalog(context.Background(), src, &catalog.Env{}, matched)
	require.NoError(t, err)
	require.NotEmpty(t, pkgs)
	main := pkgs[0]
	require.Equal(t, "example.com/hello", main.Name)
	require.Equal(t, "pkg:golang/example.com/hello", main.PURL)
	require.Equal(t, []string{"/bin/tool"}, main.Locations)
	require.Len(t, pkgs, 2)
	dep := pkgs[1]
	require.Equal(t, "example.com/dep", dep.Name)
	require.Equal(t, "v1.2.3", dep.Version)
	require.Equal(t, "pkg:golang/example.com/dep@v1.2.3", dep.PURL)
	require.Equal(t, []string{"/bin/tool"}, dep.Locations)
	require.Equal(t, []string{dep.ID}, main.DependsOn)
}
