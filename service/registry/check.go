package registry

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/reehub/reehub/fault"
)

// archiveKind reads the TAR headers of path and returns "docker" (a
// docker-archive: manifest.json), "oci" (an oci-archive: index.json and
// oci-layout) or "" for any other TAR. A file that is not a TAR is invalid.
func archiveKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var manifest, index, layout bool
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if n == 0 {
				return "", fault.Invalidf("upfile: not a docker or OCI image archive (not a TAR)")
			}
			return "", fault.Invalidf("upfile: the image archive is cut off or corrupt: %v", err)
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "manifest.json":
			manifest = true
		case "index.json":
			index = true
		case "oci-layout":
			layout = true
		}
	}
	switch {
	case manifest:
		return "docker", nil
	case index && layout:
		return "oci", nil
	}
	return "", nil
}

var hclBlock = regexp.MustCompile(`(?m)^\s*(source|build|packer|variable|locals|data)\b[^{\n]*\{`)

// checkHCL checks the structure of a Packer HCL2 template: blocks balanced
// outside strings and comments, and at least one top-level block of
// Packer's (source, build, packer, variable, locals, data). It does not
// evaluate expressions.
func checkHCL(b []byte) error {
	depth, line := 0, 1
	inStr, lineComment, blockComment := false, false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		next := byte(0)
		if i+1 < len(b) {
			next = b[i+1]
		}
		switch {
		case c == '\n':
			line++
			lineComment = false
			if inStr {
				return fmt.Errorf("line %d: a string is not closed", line-1)
			}
		case lineComment:
		case blockComment:
			if c == '*' && next == '/' {
				blockComment = false
				i++
			}
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '#' || (c == '/' && next == '/'):
			lineComment = true
		case c == '/' && next == '*':
			blockComment = true
			i++
		case c == '{' || c == '[' || c == '(':
			depth++
		case c == '}' || c == ']' || c == ')':
			depth--
			if depth < 0 {
				return fmt.Errorf("line %d: %q closes nothing", line, c)
			}
		case c == 0:
			return fmt.Errorf("line %d: a NUL byte", line)
		}
	}
	if inStr || blockComment {
		return errors.New("a string or comment is not closed at the end")
	}
	if depth != 0 {
		return errors.New("a block is not closed at the end")
	}
	if !hclBlock.Match(b) {
		return errors.New("no source, build, packer, variable, locals or data block")
	}
	return nil
}
