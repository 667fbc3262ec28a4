package agent

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWordMatcher(t *testing.T) {
	t.Parallel()
	m := newWordMatcher("# comment\nDES\nexport\nexport control\n\nall rights reserved\n")
	text := []byte("Uses DES, not desk or 3DESX.\nSubject to EXPORT\n  Control laws. Export it.\nAll Rights\nReserved. ÆDES")
	var got []string
	for _, sp := range m.find(asciiLower(text)) {
		got = append(got, sp.value+"@"+string(text[sp.start:sp.end]))
	}
	require.Equal(t, []string{"des@DES", "export control@EXPORT\n  Control", "export@Export", "all rights reserved@All Rights\nReserved"}, got)
	lines := newLineIndex(text)
	require.Equal(t, 1, lines.line(0))
	require.Equal(t, 2, lines.line(29))
	require.Equal(t, 3, lines.line(len("Uses DES, not desk or 3DESX.\nSubject to EXPORT\n")))
}
