package python_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom/catalog"
	"github.com/reehub/reehub/analysis/sbom/catalog/python"
)

func TestLicenses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, meta, want string }{
		{name: "expression wins", meta: "License-Expression: MIT OR Apache-2.0\nLicense: BSD\n", want: "Apache-2.0 OR MIT"},
		{name: "license field", meta: "License: Apache 2.0\n", want: "Apache-2.0"},
		{name: "unknown falls back to classifier", meta: "License: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n", want: "MIT"},
		{name: "long text falls back", meta: "License: Copyright (c) someone\n        Permission is hereby granted\nClassifier: License :: OSI Approved :: BSD License\n", want: "LicenseRef-BSD"},
		{name: "two classifiers", meta: "Classifier: License :: OSI Approved :: Apache Software License\nClassifier: License :: OSI Approved :: BSD License\nClassifier: Programming Language :: Python\n", want: "Apache-2.0 OR LicenseRef-BSD"},
		{name: "none", meta: "Name: x\n", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, python.Licenses(python.ParseMetadata([]byte(tt.meta+"\nbody: not a header\n"))))
		})
	}
}

func TestNormalizeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"PyYAML": "pyyaml", "zope.interface": "zope-interface", "typing_extensions": "typing-extensions", "a--b__c": "a-b-c"} {
		require.Equal(t, want, python.NormalizeName(in))
	}
}

func TestCatalogSkipsBrokenMetadata(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"site/ok-1.0.dist-info/METADATA":               "Name: ok\nVersion: 1.0\nRequires-Dist: dep\n",
		"site/ok-1.0.dist-info/RECORD":                 "ok/__init__.py,,\n\"bad,quote\n",
		"site/dep-2.dist-info/METADATA":                "Name: Dep\nVersion: 2\n",
		"site/noversion.dist-info/METADATA":            "Name: noversion\n",
		"site/binary.dist-info/METADATA":               "\x00\x01\x02",
		"other/dep-3.dist-info/METADATA":               "Name: dep\nVersion: 3\n",
		"site/legacy-0.1.egg-info/PKG-INFO":            "Name: legacy\nVersion: 0.1\n",
		"site/legacy-0.1.egg-info/installed-files.txt": "../legacy/__init__.py\n",
	}
	var matched []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	require.NoError(t, os.Symlink("/nowhere", filepath.Join(dir, "site/dangling.dist-info")))
	src, err := rootfs.OpenDir(dir)
	require.NoError(t, err)
	defer src.Close()
	c := python.New()
	require.NoError(t, rootfs.Walk(context.Background(), src, ".", func(p string, d os.DirEntry, err error) error {
		if err == nil && c.Match(p, d) {
			matched = append(matched, p)
		}
		return err
	}))
	pkgs, err := c.Catalog(context.Background(), src, &catalog.Env{}, matched)
	require.NoError(t, err)
	got := map[string]catalog.Package{}
	for _, p := range pkgs {
		got[p.Name+"@"+p.Version] = p
	}
	require.Len(t, got, 4)
	require.Equal(t, []string{got["dep@2"].ID}, got["ok@1.0"].DependsOn) // same site dir wins
	require.Equal(t, []string{"/site/ok/__init__.py"}, got["ok@1.0"].Files)
	require.Equal(t, []string{"/site/legacy/__init__.py"}, got["legacy@0.1"].Files)
}
