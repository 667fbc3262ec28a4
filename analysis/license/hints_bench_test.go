package license

import (
	"strings"
	"testing"
)

// BenchmarkHintFind measures the hint automaton on source-like text.
func BenchmarkHintFind(b *testing.B) {
	m, err := newHintMatcher()
	if err != nil {
		b.Fatal(err)
	}
	text := []byte(gpl2Header + strings.Repeat("static int handle(struct ctx *c, int flags) { if (c->perm) return limit(c, flags); return -EPERM; }\n", 10000))
	b.SetBytes(int64(len(text)))
	var hits []hit
	var lane [lanes][]hit
	for b.Loop() {
		hits = m.find(text, hits[:0], &lane)
	}
}
