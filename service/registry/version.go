package registry

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/reehub/reehub/fault"
)

// versionRange is a package version range of a search: a wildcard
// ("3.0.x", "3.*"), an exact version ("3.0.2", "=3.0.2") or comparisons
// joined by spaces (">=3.0.0 <3.1.0").
type versionRange struct {
	prefix string
	exact  string
	cmps   []versionCmp
}

type versionCmp struct {
	op string
	v  string
}

func parseRange(s string) (versionRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return versionRange{}, fault.Invalidf("version: empty")
	}
	if strings.HasSuffix(s, ".x") || strings.HasSuffix(s, ".*") {
		return versionRange{prefix: s[:len(s)-1]}, nil
	}
	if !strings.ContainsAny(s, "<>=") {
		return versionRange{exact: s}, nil
	}
	var r versionRange
	for _, f := range strings.Fields(s) {
		op := ""
		for _, o := range []string{">=", "<=", ">", "<", "="} {
			if strings.HasPrefix(f, o) {
				op = o
				break
			}
		}
		v := strings.TrimPrefix(f, op)
		if op == "" || v == "" || !(unicode.IsLetter(rune(v[0])) || unicode.IsDigit(rune(v[0]))) {
			return versionRange{}, fault.Invalidf("version: %q is not a range (use 3.0.x, 3.0.2 or >=3.0.0 <3.1.0)", s)
		}
		r.cmps = append(r.cmps, versionCmp{op: op, v: v})
	}
	return r, nil
}

// match reports whether version v is in the range. A Debian epoch ("1:")
// is ignored, and a package revision ("-1~deb12u1") counts after the
// upstream version.
func (r versionRange) match(v string) bool {
	if i := strings.IndexByte(v, ':'); i >= 0 && i < 4 {
		v = v[i+1:]
	}
	switch {
	case r.prefix != "":
		return strings.HasPrefix(v, r.prefix)
	case r.exact != "":
		return v == r.exact || strings.HasPrefix(v, r.exact+"-") || strings.HasPrefix(v, r.exact+"+")
	}
	for _, c := range r.cmps {
		d := compareVersions(v, c.v)
		ok := map[string]bool{">=": d >= 0, "<=": d <= 0, ">": d > 0, "<": d < 0, "=": d == 0}[c.op]
		if !ok {
			return false
		}
	}
	return true
}

// compareVersions compares dotted versions part by part, numerically where
// both parts are numbers.
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y string
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x == y {
			continue
		}
		nx, ex := strconv.Atoi(x)
		ny, ey := strconv.Atoi(y)
		switch {
		case ex == nil && ey == nil:
			if nx < ny {
				return -1
			}
			return 1
		case x == "":
			return -1
		case y == "":
			return 1
		case x < y:
			return -1
		default:
			return 1
		}
	}
	return 0
}

func versionParts(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// packagesMatch reports whether the packages column (lines "name@version")
// holds name with a version in r.
func packagesMatch(packages, name string, r versionRange) bool {
	for _, line := range strings.Split(packages, "\n") {
		n, v, ok := strings.Cut(line, "@")
		if ok && n == name && r.match(v) {
			return true
		}
	}
	return false
}
