package apt

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "1.1", -1}, {"1.10", "1.9", 1}, {"1:1.0", "2.0", 1},
		{"1.0~rc1", "1.0", -1}, {"2:9.0.1378-2+deb12u2", "2:9.0.1378-2", 1}, {"1.0-1", "1.0-1.1", -1},
		{"7.88.1-10+deb12u8", "7.88.1-10+deb12u12", -1}, {"1.0a", "1.0", 1},
	} {
		got := CompareVersions(c.a, c.b)
		require.Equal(t, c.want, sign(got), "%s vs %s", c.a, c.b)
		require.Equal(t, -c.want, sign(CompareVersions(c.b, c.a)), "%s vs %s", c.b, c.a)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestParseRelations(t *testing.T) {
	rels := ParseRelations("libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, python3:any, foo [amd64]")
	require.Len(t, rels, 4)
	require.Equal(t, Relation{Name: "libc6", Op: ">=", Version: "2.34"}, rels[0][0])
	require.Equal(t, []Relation{{Name: "debconf", Op: ">=", Version: "0.5"}, {Name: "debconf-2.0"}}, rels[1])
	require.Equal(t, "python3", rels[2][0].Name)
	require.Equal(t, "foo", rels[3][0].Name)
	require.True(t, rels[0][0].Satisfied("2.36-9"))
	require.False(t, rels[0][0].Satisfied("2.31"))
}

func TestResolve(t *testing.T) {
	u := NewUniverse([]Package{
		{Name: "app", Version: "1.0", Depends: "liba (>= 2), mail-transport-agent"},
		{Name: "app", Version: "0.9", Depends: "liba"},
		{Name: "liba", Version: "2.1", Depends: "libc6"},
		{Name: "liba", Version: "1.0"},
		{Name: "libc6", Version: "2.36", Priority: "required"},
		{Name: "postfix", Version: "3.7", Provides: "mail-transport-agent"},
		{Name: "broken", Version: "1", Depends: "nothing-has-this"},
		{Name: "enemy", Version: "1", Conflicts: "app (>= 1.0)"},
	})
	base := func(n string) bool { p, ok := u.Find(n, ""); return ok && p.Priority == "required" }
	r := u.Resolve([]Want{{Name: "app"}}, base)
	require.Empty(t, r.Problems)
	names := map[string]string{}
	for _, p := range r.Packages {
		names[p.Name] = p.Version
	}
	require.Equal(t, map[string]string{"app": "1.0", "liba": "2.1", "postfix": "3.7"}, names, "libc6 is in the base; the MTA comes from Provides")

	r = u.Resolve([]Want{{Name: "app", Version: "0.9"}}, base)
	require.Empty(t, r.Problems)
	require.Len(t, r.Packages, 2)

	r = u.Resolve([]Want{{Name: "app", Version: "7"}, {Name: "nosuch"}, {Name: "broken"}}, base)
	require.Len(t, r.Problems, 3)
	kinds := map[string]string{}
	for _, p := range r.Problems {
		kinds[p.Package] = p.Kind
	}
	require.Equal(t, map[string]string{"app": "missing", "nosuch": "missing", "broken": "unsatisfiable"}, kinds)

	r = u.Resolve([]Want{{Name: "app"}, {Name: "enemy"}}, base)
	require.Len(t, r.Problems, 1)
	require.Equal(t, "conflict", r.Problems[0].Kind)
}

func TestSearch(t *testing.T) {
	u := NewUniverse([]Package{{Name: "curl", Version: "1", Summary: "transfer data with URLs"}, {Name: "wget", Version: "1", Summary: "retrieves files from the web", Description: "supports HTTP"}})
	require.Len(t, u.Search("curl", false), 1)
	require.Empty(t, u.Search("web", false))
	require.Len(t, u.Search("web", true), 1)
	require.Len(t, u.Search("http", true), 1)
}

// TestReadDebControl builds a real package with dpkg-deb (xz and gzip
// compressed control members) and reads its control paragraph back.
func TestReadDebControl(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is not installed")
	}
	for _, comp := range []string{"xz", "gzip", "none"} {
		dir := t.TempDir()
		root := filepath.Join(dir, "pkg")
		require.NoError(t, os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755))
		require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/share/hello"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, "usr/share/hello/hi"), []byte("hi\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte("Package: hello-studio\nVersion: 1.2-3\nArchitecture: all\nMaintainer: T <t@example.org>\nDepends: libc6\nDescription: a test package\n long text\n"), 0o644))
		deb := filepath.Join(dir, "hello.deb")
		out, err := exec.Command("dpkg-deb", "-Z"+comp, "--root-owner-group", "--build", root, deb).CombinedOutput()
		require.NoError(t, err, string(out))
		p, err := ReadDebControl(deb)
		require.NoError(t, err, comp)
		require.Equal(t, "hello-studio", p.Get("Package"))
		require.Equal(t, "1.2-3", p.Get("Version"))
		pk := FromParagraph(p, "x")
		require.Equal(t, "a test package", pk.Summary)
		require.Equal(t, "long text", pk.Description)
	}
	notDeb := filepath.Join(t.TempDir(), "x.rpm")
	require.NoError(t, os.WriteFile(notDeb, []byte("\xed\xab\xee\xdbrpm"), 0o644))
	_, err := ReadDebControl(notDeb)
	require.ErrorIs(t, err, ErrNotDeb)
}

func TestBase(t *testing.T) {
	t.Parallel()
	u := NewUniverse([]Package{
		{Name: "base-files", Version: "12", Essential: true, Priority: "required"},
		{Name: "coreutils", Version: "9.1", Essential: true, Depends: "libc6 (>= 2.34)"},
		{Name: "libc6", Version: "2.36", Priority: "optional", Depends: "libgcc-s1"},
		{Name: "libgcc-s1", Version: "12.2", Priority: "optional"},
		{Name: "apt", Version: "2.6", Priority: "important", Depends: "libapt-pkg6.0"},
		{Name: "libapt-pkg6.0", Version: "2.6", Priority: "optional"},
		{Name: "hello", Version: "2.10", Priority: "optional", Depends: "libc6"},
	})
	base := u.Base()
	for _, n := range []string{"base-files", "coreutils", "libc6", "libgcc-s1", "apt", "libapt-pkg6.0"} {
		require.True(t, base[n], n)
	}
	require.False(t, base["hello"])
	res := u.Resolve([]Want{{Name: "hello"}}, func(n string) bool { return base[n] })
	require.Len(t, res.Packages, 1, "hello's libc6 is in the base")
}
