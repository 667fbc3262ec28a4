package baseimage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/podman"
)

func TestCatalogue(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, d := range Catalogue() {
		require.NotEmpty(t, d.Description)
		if d.Parent != "" {
			require.True(t, seen[d.Parent], "%s is listed before its parent %s", d.Name, d.Parent)
		} else {
			require.NotEmpty(t, d.Suite)
		}
		seen[d.Name] = true
	}
	require.True(t, seen["debian_bookworm"])
	require.True(t, seen["python_3_11"])
	_, err := Lookup("fedora_99")
	require.ErrorIs(t, err, fault.ErrNotFound)
	require.Equal(t, "localhost/python_3_11:latest", Ref("python_3_11"))
}

func TestMirrorFromSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, content, want string
	}{
		{name: "deb822", file: "debian.sources", content: "Types: deb\n# comment\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n", want: "http://mirror.example/debian"},
		{name: "deb822 other suite only", file: "x.sources", content: "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n", want: ""},
		{name: "one-line", file: "sources.list", content: "# x\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\n", want: "http://m.example/debian"},
		{name: "one-line other suite", file: "sources.list", content: "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), tt.file)
			require.NoError(t, os.WriteFile(p, []byte(tt.content), 0o644))
			got := mirrorFromList(p)
			if strings.HasSuffix(tt.file, ".sources") {
				got = mirrorFromDeb822(p)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func connect(t *testing.T) (*podman.Runtime, context.Context) {
	t.Helper()
	if _, err := os.Stat("/run/podman/podman.sock"); err != nil {
		t.Skipf("podman service socket absent (run scripts/setup-host.sh): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	rt, err := podman.Connect(ctx, podman.DefaultURI)
	require.NoError(t, err)
	return rt, ctx
}

// TestEnsure builds the catalogue when it is absent (debootstrap needs the
// Debian mirror) and checks that user Dockerfiles reach the images by short
// name with pulls disabled. The images are left in place for other packages.
func TestEnsure(t *testing.T) {
	t.Parallel()
	rt, ctx := connect(t)
	work := t.TempDir()
	var log bytes.Buffer
	for _, d := range Catalogue() {
		if d.OnDemand {
			continue // TestEnsureOnDemand
		}
		t0 := time.Now()
		img, err := Ensure(ctx, rt, d.Name, EnsureOpts{WorkDir: work, Log: &log})
		require.NoError(t, err, tailOf(log.String()))
		t.Logf("Ensure(%s) took %s (image %s, %d MB)", d.Name, time.Since(t0).Round(100*time.Millisecond), img.ID[:12], img.Size>>20)
		require.Equal(t, d.Name, img.Labels[LabelKey])
		require.Contains(t, img.Names, Ref(d.Name))
	}
	entries, err := os.ReadDir(work)
	require.NoError(t, err)
	require.Empty(t, entries, "the work directory was not cleaned")

	files, err := rt.ImageFiles(ctx, Ref("python_3_11"))
	require.NoError(t, err)
	require.Contains(t, files, "/usr/bin/python3.11")
	require.Contains(t, files, "/usr/lib/python3/dist-packages/pip/__init__.py")

	_, err = Ensure(ctx, rt, "fedora_99", EnsureOpts{})
	require.ErrorIs(t, err, fault.ErrNotFound)

	tests := []struct{ from, run, want string }{
		{from: "python_3_11", run: `python3 -c "import sys, venv, pip; print('py', sys.version_info[:2])"`, want: "py (3, 11)"},
		{from: "debian_bookworm", run: `cat /etc/debian_version; echo "PATH=$PATH"`, want: "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	}
	for _, tt := range tests {
		t.Run("FROM "+tt.from, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+tt.from+"\nRUN "+tt.run+"\n"), 0o644))
			var out bytes.Buffer
			id, err := rt.Build(ctx, podman.BuildOpts{ContextDir: dir, Log: &out, NoCache: true})
			require.NoError(t, err)
			t.Cleanup(func() { _ = rt.RemoveImage(context.Background(), id) })
			require.Contains(t, out.String(), tt.want)
			require.Contains(t, out.String(), "FROM "+tt.from)
		})
	}
}

// TestEnsureOnDemand builds the i386 base (debootstrap --arch=i386) on its
// first Ensure, which EnsureAll skips, and runs a build step in it: the
// 64-bit host kernel runs the i386 userland, and dpkg reports i386.
func TestEnsureOnDemand(t *testing.T) {
	t.Parallel()
	d, err := Lookup("debian_bookworm_i386")
	require.NoError(t, err)
	require.True(t, d.OnDemand)
	require.Equal(t, "i386", d.Arch)
	rt, ctx := connect(t)
	var log bytes.Buffer
	t0 := time.Now()
	img, err := Ensure(ctx, rt, d.Name, EnsureOpts{WorkDir: t.TempDir(), Log: &log})
	require.NoError(t, err, tailOf(log.String()))
	t.Logf("Ensure(%s) took %s (image %s, %d MB)", d.Name, time.Since(t0).Round(100*time.Millisecond), img.ID[:12], img.Size>>20)
	require.Equal(t, d.Name, img.Labels[LabelKey])
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+d.Name+"\nRUN echo arch=$(dpkg --print-architecture) && od -An -tx1 -j4 -N1 /bin/true\n"), 0o644))
	var out bytes.Buffer
	id, err := rt.Build(ctx, podman.BuildOpts{ContextDir: dir, Log: &out, NoCache: true})
	require.NoError(t, err, out.String())
	t.Cleanup(func() { _ = rt.RemoveImage(context.Background(), id) })
	require.Contains(t, out.String(), "arch=i386")
	require.Contains(t, out.String(), " 01\n", "EI_CLASS of /bin/true is ELFCLASS32")
}

func tailOf(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}
