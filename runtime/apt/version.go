// Package apt reads Debian archives: InRelease (signed) and Packages indexes
// over HTTP with an on-disk cache, the control paragraphs of .deb files, and
// Debian version comparison and relations, so that reehub can search an
// archive, check that a package version exists and resolve dependencies
// before a build.
package apt

import "strings"

// CompareVersions compares two Debian versions as dpkg does: negative when
// a < b, zero when equal, positive when a > b.
func CompareVersions(a, b string) int {
	ea, ua, ra := splitVersion(a)
	eb, ub, rb := splitVersion(b)
	if c := compareNum(ea, eb); c != 0 {
		return c
	}
	if c := compareFragment(ua, ub); c != 0 {
		return c
	}
	return compareFragment(ra, rb)
}

func splitVersion(v string) (epoch, upstream, revision string) {
	epoch = "0"
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, v = v[:i], v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

func order(c byte) int {
	switch {
	case c == '~':
		return -1
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return int(c)
	case c == 0:
		return 0
	default:
		return int(c) + 256
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func compareFragment(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			var ca, cb byte
			if i < len(a) && !isDigit(a[i]) {
				ca = a[i]
			}
			if j < len(b) && !isDigit(b[j]) {
				cb = b[j]
			}
			if oa, ob := order(ca), order(cb); oa != ob {
				return oa - ob
			}
			if ca != 0 {
				i++
			}
			if cb != 0 {
				j++
			}
			if ca == 0 && cb == 0 {
				break
			}
		}
		si := i
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		sj := j
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if c := compareNum(a[si:i], b[sj:j]); c != 0 {
			return c
		}
	}
	return 0
}

func compareNum(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// Relation is one package of a Depends-style field with an optional version constraint.
type Relation struct {
	Name    string
	Op      string // "", "<<", "<=", "=", ">=", ">>"
	Version string
}

// Satisfied reports whether version v satisfies the relation's constraint.
func (r Relation) Satisfied(v string) bool {
	if r.Op == "" {
		return true
	}
	c := CompareVersions(v, r.Version)
	switch r.Op {
	case "<<", "<":
		return c < 0
	case "<=":
		return c <= 0
	case "=":
		return c == 0
	case ">=":
		return c >= 0
	case ">>", ">":
		return c > 0
	}
	return false
}

// ParseRelations parses a Depends-style field into its groups of alternatives.
func ParseRelations(field string) [][]Relation {
	var out [][]Relation
	for _, group := range strings.Split(field, ",") {
		var alts []Relation
		for _, alt := range strings.Split(group, "|") {
			alt = strings.TrimSpace(alt)
			if alt == "" {
				continue
			}
			var r Relation
			if i := strings.IndexByte(alt, '('); i >= 0 {
				cons := strings.TrimSuffix(strings.TrimSpace(alt[i+1:]), ")")
				alt = strings.TrimSpace(alt[:i])
				for _, op := range []string{"<<", "<=", ">=", ">>", "=", "<", ">"} {
					if strings.HasPrefix(cons, op) {
						r.Op, r.Version = op, strings.TrimSpace(cons[len(op):])
						break
					}
				}
			}
			if i := strings.IndexAny(alt, " [<"); i >= 0 {
				alt = alt[:i]
			}
			r.Name, _, _ = strings.Cut(alt, ":") // drop :any, :native
			alts = append(alts, r)
		}
		if len(alts) > 0 {
			out = append(out, alts)
		}
	}
	return out
}
