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
	return cleanEntryName("zip entry", raw)
}

// CheckEntryName checks the name of an entry of any archive format with the
// rules of ExtractZip (relative, clean, valid UTF-8, forward slashes, no
// "..") and returns it without its trailing slash, and whether it had one.
// what names the entry in error messages ("tar entry"); refusals wrap
// fault.ErrInvalid.
func CheckEntryName(what, raw string) (string, bool, error) {
	return cleanEntryName(what, raw)
}

// CheckLinkTarget refuses a symlink target that could resolve outside the
// extraction directory, with the rules of ExtractZip; name is the checked
// entry name of the link. what names the entry in error messages.
func CheckLinkTarget(what, raw, name, target string) error {
	return checkEntryLinkTarget(what, raw, name, target)
}

func cleanEntryName(what, raw string) (string, bool, error) {
	if !utf8.ValidString(raw) || strings.ContainsFunc(raw, isControl) {
		return "", false, fault.Invalidf("%s name %q is not a valid UTF-8 path", what, raw)
	}
	if strings.Contains(raw, `\`) {
		return "", false, fault.Invalidf("%s %q contains a backslash; names must use forward slashes", what, raw)
	}
	if strings.HasPrefix(raw, "/") || hasDriveLetter(raw) {
		return "", false, fault.Invalidf("%s %q has an absolute path", what, raw)
	}
	if len(raw) > maxNameBytes {
		return "", false, fault.Invalidf("%s %q has a name longer than %d bytes", what, raw, maxNameBytes)
	}
	isDir := strings.HasSuffix(raw, "/")
	name := strings.TrimSuffix(raw, "/")
	if name == "" {
		return "", false, fault.Invalidf("%s has an empty name", what)
	}
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if p == ".." {
			return "", false, fault.Invalidf("%s %q escapes the archive (it contains \"..\")", what, raw)
		}
	}
	for _, p := range parts {
		if p == "" || p == "." {
			return "", false, fault.Invalidf("%s %q is not a clean path (empty or \".\" component)", what, raw)
		}
		if len(p) > maxComponentBytes {
			return "", false, fault.Invalidf("%s %q has a path component longer than %d bytes", what, raw, maxComponentBytes)
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
	return checkEntryLinkTarget("zip entry", raw, name, target)
}

func checkEntryLinkTarget(what, raw, name, target string) error {
	if target == "" {
		return fault.Invalidf("%s %q is a symlink with an empty target", what, raw)
	}
	if !utf8.ValidString(target) || strings.ContainsFunc(target, isControl) {
		return fault.Invalidf("%s %q is a symlink whose target %q is not a valid UTF-8 path", what, raw, target)
	}
	if strings.Contains(target, `\`) {
		return fault.Invalidf("%s %q is a symlink whose target %q contains a backslash", what, raw, target)
	}
	if strings.HasPrefix(target, "/") || hasDriveLetter(target) {
		return fault.Invalidf("%s %q is a symlink to %q, which is outside the archive", what, raw, target)
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
			return fault.Invalidf("%s %q is a symlink to %q; \"..\" is only allowed at the start of a symlink target", what, raw, target)
		case p == "" || p == ".":
			// "a//b" and "./a" resolve like "a/b" and "a".
		default:
			leading = false
		}
	}
	if up > depth {
		return fault.Invalidf("%s %q is a symlink to %q, which is outside the archive", what, raw, target)
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
