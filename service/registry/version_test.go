package registry

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersionRanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rng, version string
		want         bool
	}{
		{"3.0.x", "3.0.15-1~deb12u1", true},
		{"3.0.x", "3.1.0", false},
		{"3.0.2", "3.0.2-1", true},
		{"3.0.2", "3.0.20", false},
		{">=3.0.0 <3.1.0", "3.0.15-1~deb12u1", true},
		{">=3.0.0 <3.1.0", "3.1.0", false},
		{">=1.21.0 <2", "1.21.22", true},
		{">1.10", "1.9", false},
		{">1.10", "1:1.11", true},
	}
	for _, tc := range tests {
		r, err := parseRange(tc.rng)
		require.NoError(t, err, tc.rng)
		require.Equal(t, tc.want, r.match(tc.version), "%s in %s", tc.version, tc.rng)
	}
	for _, bad := range []string{">>", "<", "=", ">= <1"} {
		_, err := parseRange(bad)
		require.Error(t, err, bad)
	}
}

func TestHCLCheck(t *testing.T) {
	t.Parallel()
	require.NoError(t, checkHCL([]byte("source \"qemu\" \"x\" {\n  iso_url = \"a{b\" # {\n}\nbuild {\n  sources = [\"source.qemu.x\"]\n}\n")))
	require.Error(t, checkHCL([]byte("build {\n")))
	require.Error(t, checkHCL([]byte("just some text")))
	require.Error(t, checkHCL([]byte("}{")))
}
