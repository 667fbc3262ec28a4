package archive

import (
	"path"
	"strings"
	"unicode/utf8"

	"github.com/reehub/reehub/fault"
)

const (
	// maxNameBytes is the longest entry name accepted (PATH_MAX).
	maxNameBytes = 4096
	// maxComponentBytes is the longest path component accepted (NAME_MAX).
	maxComponentBytes = 255
)

// cleanName checks an archive entry name and returns it without its
// trailing slash, and whether it had one. Names must be relative, clean,
// valid UTF-8 paths with forward slashes: no "..", ".", empty components,
// backslashes, drive letters, NULs or control characters.
func cleanName(raw string) (string, bool, error) {
	if !utf8.ValidString(raw) || strings.ContainsFunc(raw, isControl) {
		return "", false, fault.Invalidf("zip entry name %q is not a valid UTF-8 path", raw)
	}
	if strings.Contains(raw, `\`) {
		return "", false, fault.Invalidf("zip entry %q contains a backslash; names must use forward slashes", raw)
	}
	if strings.HasPrefix(raw, "/") || hasDriveLetter(raw) {
		return "", false, fault.Invalidf("zip entry %q has an absolute path", raw)
	}
	if len(raw) > maxNameBytes {
		return "", false, fault.Invalidf("zip entry %q has a name longer than %d bytes", raw, maxNameBytes)
	}
	isDir := strings.HasSuffix(raw, "/")
	name := strings.TrimSuffix(raw, "/")
	if name == "" {
		return "", false, fault.Invalidf("zip archive has an entry with an empty name")
	}
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if p == ".." {
			return "", false, fault.Invalidf("zip entry %q escapes the archive (it contains \"..\")", raw)
		}
	}
	for _, p := range parts {
		if p == "" || p == "." {
			return "", false, fault.Invalidf("zip entry %q is not a clean path (empty or \".\" component)", raw)
		}
		if len(p) > maxComponentBytes {
			return "", false, fault.Invalidf("zip entry %q has a path component longer than %d bytes", raw, maxComponentBytes)
		}
	}
	return name, isDir, nil
}

// checkLinkTarget refuses a symlink target that could resolve outside the
// extraction directory. name is the cleaned entry name of the link. A target
// must be relative, and ".." may appear only at its start and no more often
// than the link's directory is deep: every directory the link sits in is a
// real directory (nothing is written through symlinks), so the leading ".."
// stay inside, and every symlink the rest passes through obeys the same rule.
func checkLinkTarget(raw, name, target string) error {
	if target == "" {
		return fault.Invalidf("zip entry %q is a symlink with an empty target", raw)
	}
	if !utf8.ValidString(target) || strings.ContainsFunc(target, isControl) {
		return fault.Invalidf("zip entry %q is a symlink whose target %q is not a valid UTF-8 path", raw, target)
	}
	if strings.Contains(target, `\`) {
		return fault.Invalidf("zip entry %q is a symlink whose target %q contains a backslash", raw, target)
	}
	if strings.HasPrefix(target, "/") || hasDriveLetter(target) {
		return fault.Invalidf("zip entry %q is a symlink to %q, which is outside the archive", raw, target)
	}
	depth := strings.Count(path.Dir(name), "/") + 1
	if path.Dir(name) == "." {
		depth = 0
	}
	up := 0
	leading := true
	for _, p := range strings.Split(target, "/") {
		switch {
		case p == ".." && leading:
			up++
		case p == "..":
			return fault.Invalidf("zip entry %q is a symlink to %q; \"..\" is only allowed at the start of a symlink target", raw, target)
		case p == "" || p == ".":
			// "a//b" and "./a" resolve like "a/b" and "a".
		default:
			leading = false
		}
	}
	if up > depth {
		return fault.Invalidf("zip entry %q is a symlink to %q, which is outside the archive", raw, target)
	}
	return nil
}

// isControl reports whether r is NUL or another control character.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f
}

// hasDriveLetter reports whether s starts like a Windows absolute path.
func hasDriveLetter(s string) bool {
	if len(s) < 2 || s[1] != ':' {
		return false
	}
	c := s[0] | 0x20
	return c >= 'a' && c <= 'z'
}
