package archive

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reehub/reehub/fault"
)

// FuzzExtractZip feeds arbitrary bytes to ExtractZip and checks that nothing
// is ever written outside the destination, that no symlink inside it
// resolves outside, that a failure leaves nothing behind, and that every
// refusal of the archive is a user-facing kind.
func FuzzExtractZip(f *testing.F) {
	sym := fs.ModeSymlink | 0o777
	seeds := [][]byte{
		zipBytes(f, zent{name: "Dockerfile", body: "FROM scratch\n"}, zent{name: "bin/run", mode: 0o755, body: "#!/bin/sh"}),
		zipBytes(f, zent{name: "a.txt", body: "hello world", store: true}),
		zipBytes(f, zent{name: "../x", body: "x"}),
		zipBytes(f, zent{name: "/etc/x", body: "x"}),
		zipBytes(f, zent{name: "a/../../x", body: "x"}),
		zipBytes(f, zent{name: `..\x`, body: "x"}),
		zipBytes(f, zent{name: "a\x00b", body: "x"}),
		zipBytes(f, zent{name: "evil", mode: sym, body: "/etc"}, zent{name: "evil/passwd", body: "x"}),
		zipBytes(f, zent{name: "up", mode: sym, body: "../.."}, zent{name: "up/x", body: "x"}),
		zipBytes(f, zent{name: "sub/", mode: fs.ModeDir | 0o755}, zent{name: "l", mode: sym, body: "sub"}, zent{name: "l/f", body: "x"}),
		zipBytes(f, zent{name: "a/b/top", mode: sym, body: "../.."}, zent{name: "a/b/out", mode: sym, body: "top/.."}, zent{name: "a/b/out/x", body: "x"}),
		zipBytes(f, zent{name: "p", mode: fs.ModeNamedPipe | 0o644}),
		zipBytes(f, zent{name: "a", body: "1"}, zent{name: "a", body: "2"}),
		bombZip(f, 4<<20),
		manyEntries(f, 40),
	}
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		extractContained(t, data)
	})
}

// FuzzExtractEntries builds well-formed zips of four entries from fuzzed
// names, kinds and contents, so that symlink targets (which the CRC protects
// from byte-level mutation) and name combinations are explored, and checks
// the same guarantees as FuzzExtractZip.
func FuzzExtractEntries(f *testing.F) {
	f.Add(uint8(0b10_10_10_10), "a/b/c/top", "../../..", "a/b/c/out", "top/..", "a/b/c/out/x", "x", "sub/", "")
	f.Add(uint8(0b00_00_10_01), "sub", "", "l", "sub", "l/f", "x", "l/g", "y")
	f.Add(uint8(0b00_00_00_10), "evil", "/etc", "evil/passwd", "x", "up", "../..", "a", "b")
	f.Add(uint8(0b10_00_10_00), "a/x", "1", "a/l", "..", "a/l/y", "2", "b", "a/l/../..")
	f.Add(uint8(0b10_10_10_10), "l1", "l2", "l2", "l3/..", "l3", "d/e", "d/e/f", "../../..")
	f.Fuzz(func(t *testing.T, kinds uint8, n1, b1, n2, b2, n3, b3, n4, b4 string) {
		names := []string{n1, n2, n3, n4}
		bodies := []string{b1, b2, b3, b4}
		var ents []zent
		for i := range names {
			if len(names[i]) > 8<<10 || len(bodies[i]) > 8<<10 {
				t.Skip("beyond what the zip writer takes")
			}
			e := zent{name: names[i], body: bodies[i]}
			switch (kinds >> (2 * i)) & 3 {
			case 1:
				e.mode = fs.ModeDir | 0o755
				e.body = ""
				if !strings.HasSuffix(e.name, "/") {
					e.name += "/"
				}
			case 2:
				e.mode = fs.ModeSymlink | 0o777
			case 3:
				e.mode = 0o755
			}
			if strings.HasSuffix(e.name, "/") && e.mode&fs.ModeDir == 0 {
				e.body = "" // the zip writer refuses data for directory names
			}
			ents = append(ents, e)
		}
		extractContained(t, zipBytes(t, ents...))
	})
}

// extractContained extracts data into a fresh directory next to a sentinel
// and fails the test if anything was written outside the destination, if a
// symlink inside resolves outside, if a failure left anything behind, or if
// an error is of no user-facing kind.
func extractContained(t *testing.T, data []byte) {
	t.Helper()
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	sentinel := filepath.Join(outside, "sentinel")
	if err := os.WriteFile(sentinel, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(base, "in.zip")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// dest is two levels down so that "..", "../.." and "../../outside"
	// all name real places.
	dest := filepath.Join(base, "d", "e", "dest")
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := ExtractZip(t.Context(), in, dest, Limits{MaxEntries: 30, MaxTotalBytes: 8 << 20})
	if err != nil && !errors.Is(err, fault.ErrInvalid) && !errors.Is(err, fault.ErrTooLarge) {
		t.Fatalf("error of no user-facing kind: %v", err)
	}

	realDest, _ := filepath.EvalSymlinks(filepath.Dir(dest))
	realDest = filepath.Join(realDest, "dest")
	walkErr := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch p {
		case base, outside, sentinel, in, filepath.Join(base, "d"), filepath.Dir(dest), dest:
			return nil
		}
		if !strings.HasPrefix(p, dest+string(os.PathSeparator)) {
			t.Errorf("written outside dest: %s", p)
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			r, rerr := filepath.EvalSymlinks(p)
			if rerr == nil && r != realDest && !strings.HasPrefix(r, realDest+string(os.PathSeparator)) {
				t.Errorf("symlink %s resolves outside dest to %s", p, r)
			}
		} else if !d.IsDir() && !d.Type().IsRegular() {
			t.Errorf("special file %s", p)
		}
		return nil
	})
	if walkErr != nil {
		t.Fatal(walkErr)
	}
	if got, _ := os.ReadFile(sentinel); !bytes.Equal(got, []byte("keep")) {
		t.Errorf("sentinel changed: %q", got)
	}
	if err != nil {
		if _, serr := os.Lstat(dest); !errors.Is(serr, fs.ErrNotExist) {
			t.Errorf("dest left behind after error %v", err)
		}
	}
}
