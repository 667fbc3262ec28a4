package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
)

// projectDir makes a small tree with a file, an executable, a nested file
// and a symlink.
func projectDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "src/pkg"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\n"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "src/pkg/main.go"), []byte(strings.Repeat("package main\n", 100)), 0o644))
	require.NoError(t, os.Symlink("pkg/main.go", filepath.Join(dir, "src/main.go")))
	return dir
}

func TestDirEntriesWriteZipRoundTrip(t *testing.T) {
	t.Parallel()
	src := projectDir(t)
	entries, err := DirEntries(src, "project/")
	require.NoError(t, err)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name)
	}
	require.Equal(t, []string{"project/Dockerfile", "project/run.sh", "project/src/main.go", "project/src/pkg/main.go"}, names)

	var buf bytes.Buffer
	require.NoError(t, WriteZip(t.Context(), &buf, entries))
	zipPath := writeTemp(t, buf.Bytes())
	dest := filepath.Join(t.TempDir(), "out")
	stats, err := ExtractZip(t.Context(), zipPath, dest, Limits{})
	require.NoError(t, err)
	require.Equal(t, 4, stats.Entries)

	for _, tc := range []struct {
		name string
		mode fs.FileMode
	}{
		{"Dockerfile", 0o644},
		{"run.sh", 0o755},
		{"src/pkg/main.go", 0o644},
		{"src/main.go", fs.ModeSymlink | 0o777},
	} {
		fi, err := os.Lstat(filepath.Join(dest, "project", tc.name))
		require.NoError(t, err)
		require.Equal(t, tc.mode, fi.Mode(), tc.name)
		want, err := os.ReadFile(filepath.Join(src, tc.name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dest, "project", tc.name))
		require.NoError(t, err)
		require.Equal(t, want, got, tc.name)
	}
	target, err := os.Readlink(filepath.Join(dest, "project/src/main.go"))
	require.NoError(t, err)
	require.Equal(t, "pkg/main.go", target)
}

func TestWriteZipDeterministic(t *testing.T) {
	t.Parallel()
	src := projectDir(t)
	entries, err := DirEntries(src, "")
	require.NoError(t, err)
	var a, b bytes.Buffer
	require.NoError(t, WriteZip(t.Context(), &a, entries))

	// Same content, different order, different mtimes and permissions
	// within the same class: same bytes.
	reversed := make([]Entry, len(entries))
	for i, e := range entries {
		reversed[len(entries)-1-i] = e
	}
	future := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, os.Chtimes(filepath.Join(src, "Dockerfile"), future, future))
	require.NoError(t, os.Chmod(filepath.Join(src, "Dockerfile"), 0o640))
	require.NoError(t, WriteZip(t.Context(), &b, reversed))
	require.Equal(t, a.Bytes(), b.Bytes())

	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	require.NoError(t, err)
	prev := ""
	for _, f := range zr.File {
		require.Greater(t, f.Name, prev)
		prev = f.Name
		require.Empty(t, f.Extra, f.Name)
		require.Equal(t, time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), f.Modified.UTC(), f.Name)
		require.Equal(t, zip.Deflate, f.Method, f.Name)
	}
}

func TestWriteZipRefuses(t *testing.T) {
	t.Parallel()
	open := func(s string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		entries []Entry
		msg     string
	}{
		{"duplicate", t.Context(), []Entry{{Name: "a", Open: open("1"), Size: 1}, {Name: "a", Open: open("2"), Size: 1}}, `duplicate entry "a"`},
		{"traversal", t.Context(), []Entry{{Name: "../a", Open: open("1"), Size: 1}}, "escapes the archive"},
		{"absolute", t.Context(), []Entry{{Name: "/a", Open: open("1"), Size: 1}}, "absolute path"},
		{"size changed", t.Context(), []Entry{{Name: "a", Open: open("12345"), Size: 3}}, "read 5 bytes, expected 3"},
		{"fifo", t.Context(), []Entry{{Name: "p", Mode: fs.ModeNamedPipe, Open: open(""), Size: 0}}, "unsupported file type"},
		{"cancelled", cancelled, []Entry{{Name: "a", Open: open("1"), Size: 1}}, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := WriteZip(tt.ctx, io.Discard, tt.entries)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestWriteZipUnknownSizeAndDirs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, WriteZip(t.Context(), &buf, []Entry{
		{Name: "empty", Mode: fs.ModeDir},
		{Name: "f", Size: -1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("abc")), nil }},
	}))
	dest := filepath.Join(t.TempDir(), "out")
	_, err := ExtractZip(t.Context(), writeTemp(t, buf.Bytes()), dest, Limits{})
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(dest, "empty"))
	require.NoError(t, err)
	require.True(t, fi.IsDir())
}

func TestDirEntriesRefusesFifo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, mkfifo(filepath.Join(dir, "p")))
	_, err := DirEntries(dir, "")
	require.ErrorContains(t, err, "unsupported file type")
}

func TestOpenZipAndReadFile(t *testing.T) {
	t.Parallel()
	data := zipBytes(t,
		zent{name: "a.txt", body: "hello"},
		zent{name: "big.txt", body: strings.Repeat("x", 1000)},
		zent{name: "dir/", mode: fs.ModeDir | 0o755},
		zent{name: "crc.txt", body: "checksummed", store: true},
	)
	i := bytes.Index(data, []byte("checksummed"))
	data[i] = 'C'
	z, err := OpenZip(writeTemp(t, data))
	require.NoError(t, err)
	t.Cleanup(func() { z.Close() })

	tests := []struct {
		name string
		max  int64
		want string
		kind error
		msg  string
	}{
		{name: "a.txt", max: 100, want: "hello"},
		{name: "a.txt", max: 5, want: "hello"},
		{name: "a.txt", max: 4, kind: fault.ErrTooLarge, msg: "larger than the limit of 4 bytes"},
		{name: "big.txt", max: 999, kind: fault.ErrTooLarge, msg: "big.txt"},
		{name: "missing", max: 10, kind: fault.ErrNotFound, msg: `zip archive has no entry "missing"`},
		{name: "dir/", max: 10, kind: fault.ErrInvalid, msg: "is a directory"},
		{name: "crc.txt", max: 100, kind: fault.ErrInvalid, msg: "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadFile(&z.Reader, tt.name, tt.max)
			if tt.kind != nil {
				require.ErrorIs(t, err, tt.kind)
				require.ErrorContains(t, err, tt.msg)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

func TestReadFileMeasuresSize(t *testing.T) {
	t.Parallel()
	// The header claims 10 bytes; the reader refuses to return more than
	// the claim, so a lying header cannot smuggle in a bigger entry.
	data := patchCentral(t, zipBytes(t, zent{name: "a", body: strings.Repeat("a", 5000)}), 24, 10)
	z, err := OpenZip(writeTemp(t, data))
	require.NoError(t, err)
	defer z.Close()
	_, err = ReadFile(&z.Reader, "a", 100)
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, "corrupt")
}

func TestOpenZipErrors(t *testing.T) {
	t.Parallel()
	valid := zipBytes(t, zent{name: "a", body: "a"})
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"text", []byte("hello, world"), "file is not a zip archive"},
		{"empty", nil, "file is not a zip archive"},
		{"truncated", valid[:len(valid)-30], "zip archive is corrupt or truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := OpenZip(writeTemp(t, tt.data))
			require.ErrorIs(t, err, fault.ErrInvalid)
			require.ErrorContains(t, err, tt.msg)
		})
	}
	_, err := OpenZip(filepath.Join(t.TempDir(), "missing.zip"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestWriteZipRawEntry(t *testing.T) {
	t.Parallel()
	content := []byte(strings.Repeat("already compressed, say ", 1000))
	raw := func(sum uint32) []Entry {
		return []Entry{{
			Name: "base-images/x.tar.gz", Size: int64(len(content)), Raw: true, CRC32: sum,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil },
		}}
	}
	var buf bytes.Buffer
	require.NoError(t, WriteZip(t.Context(), &buf, raw(crc32.ChecksumIEEE(content))))
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	require.Equal(t, zip.Store, f.Method)
	require.Equal(t, uint64(len(content)), f.UncompressedSize64)
	require.Empty(t, f.Extra)
	rc, err := f.Open()
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Equal(t, content, got)
	// The same entry written through the normal path gives the same bytes.
	var stored bytes.Buffer
	require.NoError(t, WriteZip(t.Context(), &stored, []Entry{{
		Name: "base-images/x.tar.gz", Size: int64(len(content)), Store: true,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil },
	}}))
	zs, err := zip.NewReader(bytes.NewReader(stored.Bytes()), int64(stored.Len()))
	require.NoError(t, err)
	require.Equal(t, f.CRC32, zs.File[0].CRC32)

	// A wrong checksum makes an archive that readers refuse.
	buf.Reset()
	require.NoError(t, WriteZip(t.Context(), &buf, raw(crc32.ChecksumIEEE(content)+1)))
	zr, err = zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	rc, err = zr.File[0].Open()
	require.NoError(t, err)
	_, err = io.ReadAll(rc)
	require.ErrorIs(t, err, zip.ErrChecksum)
	// A size that does not match the content is refused while writing.
	short := raw(0)
	short[0].Size--
	require.Error(t, WriteZip(t.Context(), io.Discard, short))
}
