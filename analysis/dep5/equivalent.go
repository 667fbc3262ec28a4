package dep5

import (
	_ "embed" // equivalents.tsv
	"fmt"
	"slices"
	"strings"
	"sync"
)

// equivalentsTSV is the table of license ids that a comparison counts as
// one license (equivalents.tsv: its header says the format and why).
//
//go:embed equivalents.tsv
var equivalentsTSV string

// classes parses equivalents.tsv once: id → class. The embedded table is
// checked by the tests, so a malformed row is a programming error.
var classes = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for n, line := range strings.Split(equivalentsTSV, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			panic(fmt.Sprintf("dep5 equivalents.tsv line %d: %d columns, want 3", n+1, len(f)))
		}
		m[f[0]] = f[1]
	}
	return m
})

// Equivalent returns the class of a license id for comparing findings with
// debian/copyright: the id itself unless equivalents.tsv puts it in a class
// ("Artistic-dist" → "Artistic-1.0").
func Equivalent(id string) string {
	if c, ok := classes()[id]; ok {
		return c
	}
	return id
}

// Equivalents returns a copy of the table: id → class.
func Equivalents() map[string]string {
	m := map[string]string{}
	for k, v := range classes() {
		m[k] = v
	}
	return m
}

// Classes returns the sorted, distinct classes of ids.
func Classes(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, Equivalent(id))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SameLicenses reports whether two sets of license ids name the same
// licenses once each id is replaced by its class.
func SameLicenses(a, b []string) bool {
	return slices.Equal(Classes(a), Classes(b))
}
