package cli

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// zipMagic starts every zip file (a local file header).
var zipMagic = []byte("PK\x03\x04")

// projectZip returns the path of a zip to upload for path: path itself when it
// is a zip file, else a temporary zip of the directory (remove it with the
// returned cleanup).
func projectZip(path, dockerfile string) (string, func(), error) {
	none := func() {}
	info, err := os.Stat(path)
	if err != nil {
		return "", none, Usage(err)
	}
	if !info.IsDir() {
		if err := checkZip(path); err != nil {
			return "", none, err
		}
		return path, none, nil
	}
	tmp, err := os.CreateTemp("", "reehub-project-*.zip")
	if err != nil {
		return "", none, fmt.Errorf("create a temporary zip: %w", err)
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	if err := zipDir(tmp, path, dockerfile); err != nil {
		tmp.Close()
		cleanup()
		return "", none, err
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return "", none, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	return tmp.Name(), cleanup, nil
}

// checkZip refuses a file that is not a zip before it is uploaded.
func checkZip(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return Usage(err)
	}
	defer f.Close()
	head := make([]byte, len(zipMagic))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != string(zipMagic) {
		return Usage(fmt.Errorf("%s is neither a directory nor a zip file", path))
	}
	return nil
}

// zipDir writes the build context of dir to w as a zip, as `podman build`
// would send it: the paths that .dockerignore excludes are left out, except
// the Dockerfile and .dockerignore themselves, which the build always needs.
// Symbolic links are stored as links; modes are kept.
func zipDir(w io.Writer, dir, dockerfile string) error {
	matcher, err := dockerignore(dir)
	if err != nil {
		return err
	}
	keep := map[string]bool{filepath.ToSlash(filepath.Clean(dockerfile)): true, ".dockerignore": true}
	bw := bufio.NewWriterSize(w, 1<<20)
	zw := zip.NewWriter(bw)
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if matcher != nil && !keep[rel] {
			excluded, err := matcher.MatchesOrParentMatches(rel)
			if err != nil {
				return fmt.Errorf(".dockerignore: %w", err)
			}
			if excluded {
				// A directory is skipped whole unless an exception (!pattern) may
				// bring back something below it.
				if d.IsDir() && !matcher.Exclusions() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return addZipEntry(zw, path, rel, info)
	})
	if walkErr != nil {
		return fmt.Errorf("zip %s: %w", dir, walkErr)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	return bw.Flush()
}

// dockerignore reads dir/.dockerignore; nil when there is none.
func dockerignore(dir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	m, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return m, nil
}

// addZipEntry stores one file, directory or symbolic link.
func addZipEntry(zw *zip.Writer, path, rel string, info fs.FileInfo) error {
	hdr, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	hdr.Name = rel
	switch {
	case info.IsDir():
		hdr.Name += "/"
		hdr.Method = zip.Store
		_, err := zw.CreateHeader(hdr)
		return err
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		hdr.Method = zip.Store
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, target)
		return err
	case info.Mode().IsRegular():
		hdr.Method = zip.Deflate
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	default:
		// Sockets, devices and pipes are not build context.
		return nil
	}
}

// isSHA256Hex tells whether s is 64 lower-case hex digits.
func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
