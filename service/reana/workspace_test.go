package reana_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/reana"
)

func newWorkspace(t *testing.T) *reana.Workspace {
	t.Helper()
	w, err := reana.NewWorkspace(filepath.Join(t.TempDir(), "ws"))
	require.NoError(t, err)
	return w
}

func upload(t *testing.T, w *reana.Workspace, name, content string) {
	t.Helper()
	n, err := w.Upload(context.Background(), name, strings.NewReader(content), -1)
	require.NoError(t, err)
	require.EqualValues(t, len(content), n)
}

func names(files []reana.File) []string {
	out := []string{}
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func TestCleanPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"/data/input.txt": "data/input.txt", "a//b/./c": "a/b/c", "reana.yaml": "reana.yaml", "//x": "x"} {
		got, err := reana.CleanPath(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{"", "/", "..", "a/../../b", "../x", "a/..", ".", "a\\b", "a\x00b"} {
		_, err := reana.CleanPath(bad)
		require.ErrorIs(t, err, fault.ErrInvalid, "%q", bad)
	}
}

func TestWorkspaceUploadListDownload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorkspace(t)
	upload(t, w, "/reana.yaml", "version: 0.9.0\n")
	upload(t, w, "/data/input.txt", "1\n2\n")
	upload(t, w, "data/deep/er/x.csv", "a,b\n")
	upload(t, w, "results/plot.png", "PNG")
	upload(t, w, "/data/input.txt", "1\n2\n3\n") // replaced

	files, total, err := w.List(ctx, reana.ListOpts{})
	require.NoError(t, err)
	require.Equal(t, 4, total)
	require.Equal(t, []string{"data/deep/er/x.csv", "data/input.txt", "reana.yaml", "results/plot.png"}, names(files))
	require.EqualValues(t, 6, files[1].Size)

	for _, tc := range []struct {
		o    reana.ListOpts
		want []string
	}{
		{reana.ListOpts{Glob: "data/*"}, []string{"data/input.txt"}},
		{reana.ListOpts{Glob: "data/**"}, []string{"data/deep/er/x.csv", "data/input.txt"}},
		{reana.ListOpts{Glob: "**/*.csv"}, []string{"data/deep/er/x.csv"}},
		{reana.ListOpts{Glob: "/results/*.png"}, []string{"results/plot.png"}},
		{reana.ListOpts{Glob: "*.yaml"}, []string{"reana.yaml"}},
		{reana.ListOpts{Search: "put"}, []string{"data/input.txt"}},
		{reana.ListOpts{Page: 2, Size: 3}, []string{"results/plot.png"}},
		{reana.ListOpts{Page: 5, Size: 3}, []string{}},
	} {
		files, _, err := w.List(ctx, tc.o)
		require.NoError(t, err)
		require.Equal(t, tc.want, names(files), "%+v", tc.o)
	}

	e, err := w.Stat("/data/input.txt")
	require.NoError(t, err)
	require.False(t, e.Dir)
	f, err := w.Open("data/input.txt")
	require.NoError(t, err)
	b, _ := io.ReadAll(f)
	f.Close()
	require.Equal(t, "1\n2\n3\n", string(b))
	_, err = w.Open("data")
	require.ErrorIs(t, err, fault.ErrInvalid)
	_, err = w.Stat("nope")
	require.ErrorIs(t, err, fault.ErrNotFound)

	e, err = w.Stat("data")
	require.NoError(t, err)
	require.True(t, e.Dir)
	var zbuf bytes.Buffer
	require.NoError(t, w.WriteZip(ctx, "data", &zbuf))
	zr, err := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
	require.NoError(t, err)
	var zn []string
	for _, zf := range zr.File {
		zn = append(zn, zf.Name)
	}
	sort.Strings(zn)
	require.Equal(t, []string{"deep/er/x.csv", "input.txt"}, zn)

	usage, err := w.Usage(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 15+6+4+3, usage)
}

func TestWorkspaceEscapes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorkspace(t)
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("top"), 0o644))
	// A step (or anyone with a shell) can leave links in the workspace.
	require.NoError(t, os.Symlink(outside, filepath.Join(w.Dir(), "link")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(w.Dir(), "file-link")))

	for _, name := range []string{"../escape.txt", "a/../../escape.txt"} {
		_, err := w.Upload(ctx, name, strings.NewReader("x"), -1)
		require.ErrorIs(t, err, fault.ErrInvalid, name)
		require.ErrorContains(t, err, "leaves the workspace")
	}
	_, err := w.Upload(ctx, "link/planted.txt", strings.NewReader("x"), -1)
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, "symbolic link")
	require.NoFileExists(t, filepath.Join(outside, "planted.txt"))

	_, err = w.Open("link/secret")
	require.ErrorIs(t, err, fault.ErrInvalid)
	_, err = w.Open("file-link")
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.Error(t, w.WriteZip(ctx, "link", io.Discard))
	require.Error(t, w.Move("link/secret", "stolen"))
	require.FileExists(t, filepath.Join(outside, "secret"))
	_, _, err = w.Delete(ctx, "link/secret")
	require.Error(t, err)
	require.FileExists(t, filepath.Join(outside, "secret"))

	files, _, err := w.List(ctx, reana.ListOpts{})
	require.NoError(t, err)
	require.Empty(t, files, "links are not listed, nor followed")
	var zbuf bytes.Buffer
	require.NoError(t, w.WriteZip(ctx, ".", &zbuf))
	require.NotContains(t, zbuf.String(), "top")
}

func TestWorkspaceQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorkspace(t)
	_, err := w.Upload(ctx, "a.bin", strings.NewReader(strings.Repeat("x", 100)), 100)
	require.NoError(t, err)
	// Replacing a file may use its own size again.
	_, err = w.Upload(ctx, "a.bin", strings.NewReader(strings.Repeat("y", 150)), 50)
	require.NoError(t, err)
	_, err = w.Upload(ctx, "big/b.bin", strings.NewReader(strings.Repeat("z", 11)), 10)
	require.ErrorIs(t, err, fault.ErrTooLarge)
	require.ErrorContains(t, err, "disk quota")
	files, _, err := w.List(ctx, reana.ListOpts{})
	require.NoError(t, err)
	require.Equal(t, []string{"a.bin"}, names(files), "a refused upload leaves nothing")
	entries, err := os.ReadDir(filepath.Join(w.Dir(), "big"))
	require.NoError(t, err)
	require.Empty(t, entries, "no partial file is left")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = w.Upload(cctx, "c.bin", strings.NewReader("data"), -1)
	require.ErrorIs(t, err, context.Canceled)
}

func TestWorkspaceDeleteMove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorkspace(t)
	upload(t, w, "a.txt", "aa")
	upload(t, w, "logs/1.log", "1")
	upload(t, w, "logs/2.log", "22")
	upload(t, w, "out/x.csv", "xxx")
	upload(t, w, "out/y.csv", "yyyy")

	deleted, failed, err := w.Delete(ctx, "a.txt")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"a.txt": 2}, deleted)
	require.Empty(t, failed)

	deleted, _, err = w.Delete(ctx, "out/*.csv")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"out/x.csv": 3, "out/y.csv": 4}, deleted)

	deleted, _, err = w.Delete(ctx, "/logs")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"logs/1.log": 1, "logs/2.log": 2}, deleted)
	require.NoDirExists(t, filepath.Join(w.Dir(), "logs"))

	_, _, err = w.Delete(ctx, "nothing*")
	require.ErrorIs(t, err, fault.ErrNotFound)

	upload(t, w, "m/src.txt", "s")
	upload(t, w, "taken.txt", "t")
	require.NoError(t, w.Move("m/src.txt", "new/dir/dst.txt"))
	require.FileExists(t, filepath.Join(w.Dir(), "new/dir/dst.txt"))
	require.ErrorIs(t, w.Move("new/dir/dst.txt", "taken.txt"), fault.ErrConflict)
	require.ErrorIs(t, w.Move("missing", "x"), fault.ErrNotFound)
	require.ErrorIs(t, w.Move("taken.txt", "../x"), fault.ErrInvalid)

	require.NoError(t, w.Remove())
	require.NoDirExists(t, w.Dir())
}

func TestMatchGlobAndHumanSize(t *testing.T) {
	t.Parallel()
	require.True(t, reana.MatchGlob("**", "a/b/c"))
	require.True(t, reana.MatchGlob("a/**/c", "a/c"))
	require.True(t, reana.MatchGlob("a/**/c", "a/x/y/c"))
	require.False(t, reana.MatchGlob("a/*", "a/b/c"))
	require.True(t, reana.MatchGlob("?.txt", "x.txt"))
	require.False(t, reana.MatchGlob("[", "["))
	for n, want := range map[int64]string{0: "0 Bytes", 1: "1 Byte", 1023: "1023 Bytes", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		require.Equal(t, want, reana.HumanSize(n))
	}
}
