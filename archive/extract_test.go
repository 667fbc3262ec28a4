package archive

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
)

func TestExtractZipGood(t *testing.T) {
	t.Parallel()
	data := zipBytes(t,
		zent{name: "Dockerfile", body: "FROM scratch\n"},
		zent{name: "bin/", mode: fs.ModeDir | 0o700},
		zent{name: "bin/run.sh", mode: 0o4755, body: "#!/bin/sh\n"},
		zent{name: "src/deep/x/y.txt", mode: 0o600, body: "y", store: true},
		zent{name: "src/", mode: fs.ModeDir | 0o755},
		zent{name: "empty.txt"},
		zent{name: "link", mode: fs.ModeSymlink | 0o777, body: "src/deep"},
		zent{name: "src/deep/x/up", mode: fs.ModeSymlink | 0o777, body: "../../../Dockerfile"},
		zent{name: "src/deep/dangling", mode: fs.ModeSymlink | 0o777, body: "./missing"},
		zent{name: "ünïcode/名前.txt", body: "ok"},
	)
	dest := filepath.Join(t.TempDir(), "out")
	stats, err := ExtractZip(t.Context(), writeTemp(t, data), dest, Limits{})
	require.NoError(t, err)
	require.Equal(t, 10, stats.Entries)
	require.Equal(t, int64(len("FROM scratch\n")+len("#!/bin/sh\n")+1+len("src/deep")+len("../../../Dockerfile")+len("./missing")+2), stats.Bytes)

	got, err := os.ReadFile(filepath.Join(dest, "Dockerfile"))
	require.NoError(t, err)
	require.Equal(t, "FROM scratch\n", string(got))

	modes := map[string]fs.FileMode{
		"Dockerfile":       0o644,
		"bin":              fs.ModeDir | 0o755,
		"bin/run.sh":       0o755, // setuid dropped
		"src/deep/x/y.txt": 0o644,
		"src/deep":         fs.ModeDir | 0o755,
		"empty.txt":        0o644,
		"link":             fs.ModeSymlink | 0o777,
	}
	for name, want := range modes {
		fi, err := os.Lstat(filepath.Join(dest, name))
		require.NoError(t, err, name)
		require.Equal(t, want, fi.Mode(), name)
	}
	target, err := os.Readlink(filepath.Join(dest, "src/deep/x/up"))
	require.NoError(t, err)
	require.Equal(t, "../../../Dockerfile", target)
	got, err = os.ReadFile(filepath.Join(dest, "src/deep/x/up"))
	require.NoError(t, err)
	require.Equal(t, "FROM scratch\n", string(got))
	got, err = os.ReadFile(filepath.Join(dest, "link/x/y.txt"))
	require.NoError(t, err)
	require.Equal(t, "y", string(got))
}

func TestExtractZipRefuses(t *testing.T) {
	t.Parallel()
	sym := fs.ModeSymlink | 0o777
	valid := zipBytes(t, zent{name: "a.txt", body: strings.Repeat("hello world ", 100), store: true})
	tests := []struct {
		name string
		data func(t *testing.T) []byte
		lim  Limits
		kind error
		msg  string
	}{
		{"not a zip", func(*testing.T) []byte { return []byte("just some text, definitely not a zip archive") }, Limits{}, fault.ErrInvalid, "file is not a zip archive"},
		{"empty file", func(*testing.T) []byte { return nil }, Limits{}, fault.ErrInvalid, "file is not a zip archive"},
		{"empty zip", func(t *testing.T) []byte { return zipBytes(t) }, Limits{}, fault.ErrInvalid, "zip archive is empty"},
		{"truncated tail", func(*testing.T) []byte { return valid[:len(valid)/2] }, Limits{}, fault.ErrInvalid, "corrupt or truncated"},
		{"truncated central directory", func(*testing.T) []byte { return valid[:len(valid)-10] }, Limits{}, fault.ErrInvalid, "corrupt or truncated"},
		{"wrong crc", func(t *testing.T) []byte {
			out := bytes.Clone(valid)
			i := bytes.Index(out, []byte("hello world"))
			require.GreaterOrEqual(t, i, 0)
			out[i] = 'J'
			return out
		}, Limits{}, fault.ErrInvalid, `zip entry "a.txt" is corrupt (checksum mismatch)`},
		{"corrupt deflate stream", func(t *testing.T) []byte {
			out := zipBytes(t, zent{name: "a.txt", body: strings.Repeat("abcdefgh", 1000)})
			i := bytes.Index(out, []byte("a.txt")) + len("a.txt")
			for j := i + 2; j < i+40; j++ {
				out[j] ^= 0xff
			}
			return out
		}, Limits{}, fault.ErrInvalid, `zip entry "a.txt" is corrupt`},
		{"zip slip ../x", func(t *testing.T) []byte { return zipBytes(t, zent{name: "../x", body: "x"}) }, Limits{}, fault.ErrInvalid, `zip entry "../x" escapes the archive`},
		{"absolute /etc/x", func(t *testing.T) []byte { return zipBytes(t, zent{name: "/etc/x", body: "x"}) }, Limits{}, fault.ErrInvalid, `zip entry "/etc/x" has an absolute path`},
		{"a/../../x", func(t *testing.T) []byte { return zipBytes(t, zent{name: "a/../../x", body: "x"}) }, Limits{}, fault.ErrInvalid, "escapes the archive"},
		{"inner ..", func(t *testing.T) []byte { return zipBytes(t, zent{name: "a/../b", body: "x"}) }, Limits{}, fault.ErrInvalid, "escapes the archive"},
		{"backslash traversal", func(t *testing.T) []byte { return zipBytes(t, zent{name: `..\..\x`, body: "x"}) }, Limits{}, fault.ErrInvalid, "contains a backslash"},
		{"drive letter", func(t *testing.T) []byte { return zipBytes(t, zent{name: "C:/Windows/x", body: "x"}) }, Limits{}, fault.ErrInvalid, "has an absolute path"},
		{"dot component", func(t *testing.T) []byte { return zipBytes(t, zent{name: "./a", body: "x"}) }, Limits{}, fault.ErrInvalid, "not a clean path"},
		{"double slash", func(t *testing.T) []byte { return zipBytes(t, zent{name: "a//b", body: "x"}) }, Limits{}, fault.ErrInvalid, "not a clean path"},
		{"NUL in name", func(t *testing.T) []byte { return zipBytes(t, zent{name: "a\x00b", body: "x"}) }, Limits{}, fault.ErrInvalid, `zip entry name "a\x00b" is not a valid UTF-8 path`},
		{"invalid UTF-8", func(t *testing.T) []byte { return zipBytes(t, zent{name: "caf\xe9", body: "x"}) }, Limits{}, fault.ErrInvalid, "not a valid UTF-8 path"},
		{"newline in name", func(t *testing.T) []byte { return zipBytes(t, zent{name: "a\nb", body: "x"}) }, Limits{}, fault.ErrInvalid, "not a valid UTF-8 path"},
		{"long component", func(t *testing.T) []byte { return zipBytes(t, zent{name: strings.Repeat("a", 256), body: "x"}) }, Limits{}, fault.ErrInvalid, "longer than 255 bytes"},
		{"duplicate", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "a", body: "1"}, zent{name: "a", body: "2"})
		}, Limits{}, fault.ErrInvalid, `duplicate entry "a"`},
		{"duplicate dir", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "d/", mode: fs.ModeDir | 0o755}, zent{name: "d", body: "2"})
		}, Limits{}, fault.ErrInvalid, `duplicate entry "d"`},
		{"file over implicit dir", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "d/x", body: "1"}, zent{name: "d", body: "2"})
		}, Limits{}, fault.ErrInvalid, `zip entry "d" conflicts`},
		{"entry inside file", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "f", body: "1"}, zent{name: "f/x", body: "2"})
		}, Limits{}, fault.ErrInvalid, `zip entry "f/x" is inside "f", which is a file`},
		{"fifo", func(t *testing.T) []byte { return zipBytes(t, zent{name: "p", mode: fs.ModeNamedPipe | 0o644}) }, Limits{}, fault.ErrInvalid, `zip entry "p" is a fifo`},
		{"device", func(t *testing.T) []byte { return zipBytes(t, zent{name: "sda", mode: fs.ModeDevice | 0o644}) }, Limits{}, fault.ErrInvalid, `zip entry "sda" is a device`},
		{"char device", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "null", mode: fs.ModeDevice | fs.ModeCharDevice | 0o644})
		}, Limits{}, fault.ErrInvalid, "character device"},
		{"socket", func(t *testing.T) []byte { return zipBytes(t, zent{name: "s", mode: fs.ModeSocket | 0o644}) }, Limits{}, fault.ErrInvalid, "is a socket"},
		{"symlink to /etc then through it", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "evil", mode: sym, body: "/etc"}, zent{name: "evil/passwd", body: "root::0:0::/:/bin/sh\n"})
		}, Limits{}, fault.ErrInvalid, `zip entry "evil" is a symlink to "/etc", which is outside the archive`},
		{"symlink up ../..", func(t *testing.T) []byte { return zipBytes(t, zent{name: "up", mode: sym, body: "../.."}) }, Limits{}, fault.ErrInvalid, `symlink to "../.."`},
		{"nested symlink one too far up", func(t *testing.T) []byte { return zipBytes(t, zent{name: "a/b/up", mode: sym, body: "../../../x"}) }, Limits{}, fault.ErrInvalid, "outside the archive"},
		{"symlink .. after a component", func(t *testing.T) []byte {
			return zipBytes(t,
				zent{name: "a/b/c/top", mode: sym, body: "../../.."},
				zent{name: "a/b/c/out", mode: sym, body: "top/.."})
		}, Limits{}, fault.ErrInvalid, `".." is only allowed at the start`},
		{"write through inside symlink", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "sub/", mode: fs.ModeDir | 0o755}, zent{name: "l", mode: sym, body: "sub"}, zent{name: "l/file", body: "x"})
		}, Limits{}, fault.ErrInvalid, `zip entry "l/file" would be written through the symlink "l"`},
		{"symlink over existing file", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "f", body: "x"}, zent{name: "f", mode: sym, body: "g"})
		}, Limits{}, fault.ErrInvalid, "duplicate entry"},
		{"symlink absolute windows", func(t *testing.T) []byte { return zipBytes(t, zent{name: "w", mode: sym, body: `C:\Windows`}) }, Limits{}, fault.ErrInvalid, "backslash"},
		{"symlink NUL target", func(t *testing.T) []byte { return zipBytes(t, zent{name: "n", mode: sym, body: "a\x00b"}) }, Limits{}, fault.ErrInvalid, "not a valid UTF-8 path"},
		{"symlink long target", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "long", mode: sym, body: strings.Repeat("a/", 3000)})
		}, Limits{}, fault.ErrInvalid, "longer than 4096 bytes"},
		{"too many entries", func(t *testing.T) []byte { return manyEntries(t, 100_000) }, Limits{}, fault.ErrTooLarge, "zip archive has more than 10000 entries"},
		{"one entry over MaxEntries", func(t *testing.T) []byte { return manyEntries(t, 6) }, Limits{MaxEntries: 5}, fault.ErrTooLarge, "more than 5 entries"},
		{"entry too large", func(*testing.T) []byte { return valid }, Limits{MaxEntryBytes: 100}, fault.ErrTooLarge, `zip entry "a.txt" is larger than the limit of 100 bytes`},
		{"total too large", func(t *testing.T) []byte {
			return zipBytes(t, zent{name: "a", body: strings.Repeat("a", 600)}, zent{name: "b", body: strings.Repeat("b", 600)})
		}, Limits{MaxTotalBytes: 1000}, fault.ErrTooLarge, "expands to more than the limit of 1000 bytes"},
		{"lying header sizes", func(t *testing.T) []byte {
			// Claim 1000 bytes where 64 MiB are stored: the reader stops
			// at the claim instead of trusting it.
			return patchCentral(t, bombZip(t, 64<<20), 24, 1000)
		}, Limits{}, fault.ErrInvalid, `zip entry "zeros.bin" is corrupt`},
		{"lying header sizes below limits", func(t *testing.T) []byte {
			return patchCentral(t, bombZip(t, 64<<20), 24, 1000)
		}, Limits{MaxEntryBytes: 2000, MaxTotalBytes: 2000}, fault.ErrInvalid, "corrupt"},
		{"encrypted", func(t *testing.T) []byte {
			out := bytes.Clone(valid)
			i := bytes.Index(out, []byte("PK\x01\x02"))
			out[i+8] |= 1
			return out
		}, Limits{}, fault.ErrInvalid, "encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			dest := filepath.Join(dir, "out")
			_, err := ExtractZip(t.Context(), writeTemp(t, tt.data(t)), dest, tt.lim)
			require.Error(t, err)
			require.ErrorIs(t, err, tt.kind)
			require.Contains(t, err.Error(), tt.msg)
			// Nothing is left behind: dest was created by ExtractZip and is
			// removed again, and nothing appeared next to it.
			_, serr := os.Lstat(dest)
			require.ErrorIs(t, serr, fs.ErrNotExist)
			left, rerr := os.ReadDir(dir)
			require.NoError(t, rerr)
			require.Empty(t, left)
		})
	}
}

func TestExtractZipBomb(t *testing.T) {
	t.Parallel()
	data := bombZip(t, 1<<30)
	t.Logf("1 GiB of zeros compresses to %d bytes", len(data))
	dir := t.TempDir()
	dest := filepath.Join(dir, "out")
	_, err := ExtractZip(t.Context(), writeTemp(t, data), dest, Limits{})
	require.ErrorIs(t, err, fault.ErrTooLarge)
	require.Contains(t, err.Error(), `zip entry "zeros.bin" expands more than 200 times its compressed size`)
	_, serr := os.Lstat(dest)
	require.ErrorIs(t, serr, fs.ErrNotExist)

	// With the ratio allowed, the declared size alone refuses it before
	// anything is written.
	_, err = ExtractZip(t.Context(), writeTemp(t, data), dest, Limits{MaxRatio: 1 << 30, MaxTotalBytes: 1<<30 - 1, MaxEntryBytes: 1 << 30})
	require.ErrorIs(t, err, fault.ErrTooLarge)
	require.Contains(t, err.Error(), "expands to more than the limit")
}

func TestExtractZipSmallCompressibleFileIsNotABomb(t *testing.T) {
	t.Parallel()
	data := zipBytes(t, zent{name: "spaces.txt", body: strings.Repeat(" ", 512<<10)})
	_, err := ExtractZip(t.Context(), writeTemp(t, data), filepath.Join(t.TempDir(), "out"), Limits{})
	require.NoError(t, err)
}

func TestExtractZipDest(t *testing.T) {
	t.Parallel()
	good := zipBytes(t, zent{name: "a/b.txt", body: "b"})
	bad := zipBytes(t, zent{name: "a/b.txt", body: "b"}, zent{name: "../x", body: "x"})
	tests := []struct {
		name    string
		data    []byte
		prepare func(t *testing.T, dest string)
		ctx     func(t *testing.T) context.Context
		wantErr error
		// left is what dest contains afterwards; nil means dest is gone.
		left []string
	}{
		{name: "existing empty dest", data: good, prepare: mkdir, left: []string{"a"}},
		{name: "existing empty dest kept on error", data: bad, prepare: mkdir, wantErr: fault.ErrInvalid, left: []string{}},
		{name: "non-empty dest", data: good, prepare: func(t *testing.T, dest string) {
			mkdir(t, dest)
			require.NoError(t, os.WriteFile(filepath.Join(dest, "old"), nil, 0o644))
		}, wantErr: errAny, left: []string{"old"}},
		{name: "cancelled", data: good, ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dest := filepath.Join(t.TempDir(), "out")
			if tt.prepare != nil {
				tt.prepare(t, dest)
			}
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			_, err := ExtractZip(ctx, writeTemp(t, tt.data), dest, Limits{})
			switch {
			case tt.wantErr == nil:
				require.NoError(t, err)
			case tt.wantErr == errAny:
				require.Error(t, err)
			default:
				require.ErrorIs(t, err, tt.wantErr)
			}
			ents, rerr := os.ReadDir(dest)
			if tt.left == nil {
				require.ErrorIs(t, rerr, fs.ErrNotExist)
				return
			}
			require.NoError(t, rerr)
			names := []string{}
			for _, e := range ents {
				names = append(names, e.Name())
			}
			require.Equal(t, tt.left, names)
		})
	}
}

// errAny marks a test that wants some error, of no particular kind.
var errAny = fault.New(nil, "any error")

func mkdir(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
}

func TestLimitsWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Limits
		want Limits
	}{
		{"zero", Limits{}, Limits{MaxEntries: 10000, MaxTotalBytes: 4 << 30, MaxEntryBytes: 4 << 30, MaxRatio: 200}},
		{"entry follows total", Limits{MaxTotalBytes: 10}, Limits{MaxEntries: 10000, MaxTotalBytes: 10, MaxEntryBytes: 10, MaxRatio: 200}},
		{"kept", Limits{MaxEntries: 1, MaxTotalBytes: 2, MaxEntryBytes: 3, MaxRatio: 4}, Limits{MaxEntries: 1, MaxTotalBytes: 2, MaxEntryBytes: 3, MaxRatio: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.in.WithDefaults())
		})
	}
}
