package npm_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom/catalog"
	"github.com/reehub/reehub/analysis/sbom/catalog/npm"
)

func TestCatalogNestedResolution(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"app/node_modules/a/package.json":                `{"name":"a","version":"1.0.0","license":"MIT","dependencies":{"b":"^2","c":"*"}}`,
		"app/node_modules/a/node_modules/b/package.json": `{"name":"b","version":"2.0.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}`,
		"app/node_modules/b/package.json":                `{"name":"b","version":"1.0.0","dependencies":{"c":"*"}}`,
		"app/node_modules/c/package.json":                `{"name":"c","version":"3.0.0","author":{"name":"Jane","email":"j@x.org"}}`,
		"app/node_modules/broken/package.json":           `{"name": "broken", "version":`,
		"app/package-lock.json":                          `{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0"},"d":{"version":"4.0.0","requires":{"c":"*"}}}}`,
		"app/package.json":                               `{"name":"app","version":"0.0.1"}`,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	src, err := rootfs.OpenDir(dir)
	require.NoError(t, err)
	defer src.Close()
	c := npm.New()
	var matched []string
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
	require.Len(t, got, 5) // a, b@2, b@1, c, d (from the lock); app itself is not in node_modules
	require.Equal(t, []string{got["b@2.0.0"].ID, got["c@3.0.0"].ID}, got["a@1.0.0"].DependsOn)
	require.Equal(t, []string{got["c@3.0.0"].ID}, got["b@1.0.0"].DependsOn)
	require.Equal(t, []string{got["c@3.0.0"].ID}, got["d@4.0.0"].DependsOn)
	require.Equal(t, "Apache-2.0 OR MIT", got["b@2.0.0"].License())
	require.Equal(t, "Jane <j@x.org>", got["c@3.0.0"].Supplier)
	require.Equal(t, []string{"/app/package-lock.json"}, got["d@4.0.0"].Locations)
}
