package rootfs_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/fault"
)

// makeTree builds a directory with the awkward cases a rootfs holds.
func makeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) { t.Helper(); require.NoError(t, err) }
	must(os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "usr/lib"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "usr/lib/os-release"), []byte("ID=debian\n"), 0o644))
	must(os.Symlink("../usr/lib/os-release", filepath.Join(dir, "etc/os-release")))
	must(os.Symlink("/usr/lib/os-release", filepath.Join(dir, "etc/abs")))
	must(os.Symlink("/../../../../../../etc/passwd", filepath.Join(dir, "etc/escape")))
	must(os.Symlink("../../../../../../../etc", filepath.Join(dir, "etc/escape-dir")))
	must(os.Symlink("nowhere", filepath.Join(dir, "etc/dangling")))
	must(os.Symlink("loop-b", filepath.Join(dir, "etc/loop-a")))
	must(os.Symlink("loop-a", filepath.Join(dir, "etc/loop-b")))
	must(os.Symlink("/", filepath.Join(dir, "usr/lib/root")))
	must(syscall.Mkfifo(filepath.Join(dir, "etc/fifo"), 0o644))
	return dir
}

func TestDirResolvesInsideRoot(t *testing.T) {
	t.Parallel()
	src, err := rootfs.OpenDir(makeTree(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	checkResolution(t, src)
}

func checkResolution(t *testing.T, src rootfs.Source) {
	t.Helper()
	tests := []struct {
		name    string
		want    string
		wantErr error
	}{
		{name: "etc/os-release", want: "ID=debian\n"},
		{name: "etc/abs", want: "ID=debian\n"},
		{name: "usr/lib/root/usr/lib/root/etc/os-release", want: "ID=debian\n"},
		{name: "etc/escape-dir/os-release", want: "ID=debian\n"},
		{name: "etc/escape", wantErr: fs.ErrNotExist},
		{name: "etc/dangling", wantErr: fs.ErrNotExist},
		{name: "etc/loop-a", wantErr: rootfs.ErrSymlinkLoop},
		{name: "etc/fifo", wantErr: rootfs.ErrNotRegular},
		{name: "../etc/os-release", wantErr: fs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := fs.ReadFile(src, tt.name)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, string(data))
		})
	}
	// Loops are reported, not followed, by Lstat and a walk.
	fi, err := src.Lstat("etc/loop-a")
	require.NoError(t, err)
	require.Equal(t, fs.ModeSymlink, fi.Mode().Type())
	target, err := src.ReadLink("etc/escape")
	require.NoError(t, err)
	require.Equal(t, "/../../../../../../etc/passwd", target)
	var names []string
	require.NoError(t, rootfs.Walk(context.Background(), src, ".", func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		names = append(names, p)
		return nil
	}))
	require.Contains(t, names, "etc/loop-a")
	require.Contains(t, names, "usr/lib/os-release")
	require.ErrorIs(t, errors.Join(rootfs.ErrSymlinkLoop), fault.ErrInvalid)
}

// TestDirPermissionDenied re-runs itself as an unprivileged user, because
// root reads any file whatever its mode.
func TestDirPermissionDenied(t *testing.T) {
	t.Parallel()
	if dir := os.Getenv("ROOTFS_TEST_DENIED_DIR"); dir != "" {
		src, err := rootfs.OpenDir(dir)
		require.NoError(t, err)
		_, err = fs.ReadFile(src, "secret/file")
		require.ErrorIs(t, err, fs.ErrPermission)
		_, err = fs.ReadFile(src, "locked")
		require.ErrorIs(t, err, fs.ErrPermission)
		var seen []string
		err = rootfs.Walk(context.Background(), src, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				require.ErrorIs(t, err, fs.ErrPermission)
				return fs.SkipDir
			}
			seen = append(seen, p)
			return nil
		})
		require.NoError(t, err)
		require.Contains(t, seen, "open")
		return
	}
	dir, err := os.MkdirTemp("", "rootfs-denied-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "secret"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret/file"), []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "locked"), []byte("x"), 0o000))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "open"), []byte("x"), 0o644))
	if os.Geteuid() != 0 {
		t.Setenv("ROOTFS_TEST_DENIED_DIR", dir)
		TestDirPermissionDenied(t)
		return
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	// The test binary lives under a private build directory; copy it where
	// nobody can run it.
	bin := filepath.Join(dir, "test.bin")
	data, err := os.ReadFile(exe)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, data, 0o755))
	cmd := exec.Command(bin, "-test.run=^TestDirPermissionDenied$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ROOTFS_TEST_DENIED_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "PASS")
}

// tarEntry is one member of a test TAR.
type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func makeTar(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: mode, Linkname: e.link, Size: int64(len(e.body))}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		require.NoError(t, tw.WriteHeader(h))
		if typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// layers are two layers exercising whiteouts, opaque directories, hard and
// symbolic links.
func layers(t *testing.T) [][]byte {
	l1 := makeTar(t, []tarEntry{
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/os-release", body: "ID=debian\nVERSION_ID=\"12\"\n"},
		{name: "etc/gone", body: "deleted above"},
		{name: "opq/", typ: tar.TypeDir, mode: 0o755},
		{name: "opq/old", body: "hidden by opaque"},
		{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "bin/tool", body: "v1", mode: 0o755},
		{name: "bin/hard", typ: tar.TypeLink, link: "bin/tool"},
		{name: "bin/abs", typ: tar.TypeSymlink, link: "/etc/os-release"},
		{name: "bin/out", typ: tar.TypeSymlink, link: "../../../../etc/shadow"},
	})
	l2 := makeTar(t, []tarEntry{
		{name: "etc/.wh.gone"},
		{name: "opq/new", body: "same layer as the marker"},
		{name: "opq/.wh..wh..opq"},
		{name: "bin/tool", body: "v2", mode: 0o755},
	})
	return [][]byte{l1, l2}
}

func checkLayers(t *testing.T, src rootfs.Source) {
	t.Helper()
	read := func(name string) (string, error) {
		b, err := fs.ReadFile(src, name)
		return string(b), err
	}
	got, err := read("etc/os-release")
	require.NoError(t, err)
	require.Contains(t, got, "ID=debian")
	_, err = read("etc/gone")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = read("opq/old")
	require.ErrorIs(t, err, fs.ErrNotExist)
	got, err = read("opq/new")
	require.NoError(t, err)
	require.Equal(t, "same layer as the marker", got)
	got, err = read("bin/tool")
	require.NoError(t, err)
	require.Equal(t, "v2", got)
	got, err = read("bin/hard")
	require.NoError(t, err)
	require.Equal(t, "v1", got)
	got, err = read("bin/abs")
	require.NoError(t, err)
	require.Contains(t, got, "VERSION_ID")
	_, err = read("bin/out")
	require.ErrorIs(t, err, fs.ErrNotExist)
	ents, err := src.ReadDir("bin")
	require.NoError(t, err)
	require.Len(t, ents, 4)
	require.Equal(t, "abs", ents[0].Name())
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func dockerArchive(t *testing.T, ls [][]byte) []byte {
	t.Helper()
	var entries []tarEntry
	var names []string
	for i, l := range ls {
		if i == 1 {
			l = gz(t, l) // podman writes plain layers; docker may compress them
		}
		name := digest(l) + "/layer.tar"
		names = append(names, name)
		entries = append(entries, tarEntry{name: name, body: string(l)})
	}
	cfg := `{"architecture":"amd64","os":"linux"}`
	entries = append(entries, tarEntry{name: digest([]byte(cfg)) + ".json", body: cfg})
	m, err := json.Marshal([]map[string]any{{"Config": digest([]byte(cfg)) + ".json", "RepoTags": []string{"localhost/test:latest"}, "Layers": names}})
	require.NoError(t, err)
	entries = append(entries, tarEntry{name: "manifest.json", body: string(m)})
	return makeTar(t, entries)
}

func ociArchive(t *testing.T, ls [][]byte) []byte {
	t.Helper()
	entries := []tarEntry{{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`}}
	var descs []map[string]any
	for _, l := range ls {
		z := gz(t, l)
		entries = append(entries, tarEntry{name: "blobs/sha256/" + digest(z), body: string(z)})
		descs = append(descs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + digest(z), "size": len(z)})
	}
	cfg := `{"architecture":"amd64","os":"linux"}`
	entries = append(entries, tarEntry{name: "blobs/sha256/" + digest([]byte(cfg)), body: cfg})
	man, err := json.Marshal(map[string]any{"schemaVersion": 2, "config": map[string]any{"digest": "sha256:" + digest([]byte(cfg))}, "layers": descs})
	require.NoError(t, err)
	entries = append(entries, tarEntry{name: "blobs/sha256/" + digest(man), body: string(man)})
	idx, err := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + digest(man)}}})
	require.NoError(t, err)
	entries = append(entries, tarEntry{name: "index.json", body: string(idx)})
	return makeTar(t, entries)
}

func TestOpenArchive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data func(t *testing.T) []byte
		kind rootfs.Kind
	}{
		{name: "docker-archive", data: func(t *testing.T) []byte { return dockerArchive(t, layers(t)) }, kind: rootfs.KindDockerArchive},
		{name: "oci-archive", data: func(t *testing.T) []byte { return ociArchive(t, layers(t)) }, kind: rootfs.KindOCIArchive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, err := rootfs.OpenArchive(context.Background(), writeFile(t, tt.data(t)), nil)
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			require.Equal(t, tt.kind, src.Describe().Kind)
			require.Len(t, src.Describe().Layers, 2)
			require.NotEmpty(t, src.Describe().ImageID)
			checkLayers(t, src)
		})
	}
}

func TestOpenArchivePlainTarWithLinks(t *testing.T) {
	t.Parallel()
	raw := makeTar(t, []tarEntry{
		{name: "./usr/lib/os-release", body: "ID=debian\n"},
		{name: "./etc/os-release", typ: tar.TypeSymlink, link: "../usr/lib/os-release"},
		{name: "./etc/abs", typ: tar.TypeSymlink, link: "/usr/lib/os-release"},
		{name: "./etc/escape", typ: tar.TypeSymlink, link: "/../../../../../../etc/passwd"},
		{name: "./etc/escape-dir", typ: tar.TypeSymlink, link: "../../../../../../../etc"},
		{name: "./etc/dangling", typ: tar.TypeSymlink, link: "nowhere"},
		{name: "./etc/loop-a", typ: tar.TypeSymlink, link: "loop-b"},
		{name: "./etc/loop-b", typ: tar.TypeSymlink, link: "loop-a"},
		{name: "./usr/lib/root", typ: tar.TypeSymlink, link: "/"},
		{name: "./etc/fifo", typ: tar.TypeFifo},
	})
	for _, data := range [][]byte{raw, gz(t, raw)} {
		src, err := rootfs.OpenArchive(context.Background(), writeFile(t, data), nil)
		require.NoError(t, err)
		require.Equal(t, rootfs.KindTar, src.Describe().Kind)
		checkResolution(t, src)
		require.NoError(t, src.Close())
	}
}

func TestOpenArchiveBadInput(t *testing.T) {
	t.Parallel()
	full := dockerArchive(t, layers(t))
	big := makeTar(t, []tarEntry{{name: "big", body: string(bytes.Repeat([]byte("x"), 8192))}})
	tests := []struct {
		name string
		data []byte
	}{
		{name: "truncated docker-archive", data: full[:len(full)/2]},
		{name: "truncated in a member", data: big[:4000]},
		{name: "truncated gzip", data: gz(t, big)[:40]},
		{name: "not a tar", data: []byte("this is not an archive at all, just text that is long enough to fill a header block? no")},
		{name: "manifest without layers", data: makeTar(t, []tarEntry{{name: "manifest.json", body: "[]"}})},
		{name: "missing layer", data: makeTar(t, []tarEntry{{name: "manifest.json", body: `[{"Layers":["x/layer.tar"]}]`}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := rootfs.OpenArchive(context.Background(), writeFile(t, tt.data), nil)
			require.Error(t, err)
			require.ErrorIs(t, err, fault.ErrInvalid)
		})
	}
	_, err := rootfs.OpenArchive(context.Background(), filepath.Join(t.TempDir(), "none.tar"), nil)
	require.ErrorIs(t, err, fault.ErrNotFound)
}

func TestOpenArchiveKeepFilter(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("y"), 3<<20)
	data := makeTar(t, []tarEntry{
		{name: "keep/small", body: "s"},
		{name: "keep/big", body: string(big)},
		{name: "skip/x", body: "x"},
	})
	src, err := rootfs.OpenArchive(context.Background(), writeFile(t, data), &rootfs.ArchiveOptions{
		Keep:    func(name string, _ fs.FileMode, _ int64) bool { return filepath.Dir(name) == "keep" },
		TempDir: t.TempDir(),
	})
	require.NoError(t, err)
	got, err := fs.ReadFile(src, "keep/big")
	require.NoError(t, err)
	require.Equal(t, big, got)
	f, err := src.Open("keep/big")
	require.NoError(t, err)
	ra, ok := f.(io.ReaderAt)
	require.True(t, ok)
	var b [1]byte
	_, err = ra.ReadAt(b[:], 3<<19)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = fs.ReadFile(src, "skip/x")
	require.ErrorIs(t, err, rootfs.ErrContentSkipped)
	fi, err := src.Stat("skip/x")
	require.NoError(t, err)
	require.EqualValues(t, 1, fi.Size())
	require.NoError(t, src.Close())
}

func TestOpenArchiveCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := rootfs.OpenArchive(ctx, writeFile(t, dockerArchive(t, layers(t))), nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestClean(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"/etc/os-release": "etc/os-release", "./a/../b/": "b", "/": ".", "../../x": "x"} {
		require.Equal(t, want, rootfs.Clean(in), in)
	}
}
