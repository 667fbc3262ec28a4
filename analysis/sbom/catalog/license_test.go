package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/sbom/catalog"
)

func TestNormalizeExpression(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"GPL-2+", "GPL-2.0-or-later"},
		{"GPL-2", "GPL-2.0-only"},
		{"GPL-2.0+", "GPL-2.0-or-later"},
		{"LGPL-2.1+", "LGPL-2.1-or-later"},
		{"LGPL-2.1", "LGPL-2.1-only"},
		{"GPL-3+", "GPL-3.0-or-later"},
		{"GFDL-1.3+", "GFDL-1.3-or-later"},
		{"BSD-3-clause", "BSD-3-Clause"},
		{"Expat", "MIT"},
		{"public-domain", "LicenseRef-public-domain"},
		{"Zlib", "Zlib"},
		{"Artistic", "Artistic-1.0-Perl"},
		{"GPL-1+ or Artistic", "GPL-1.0-or-later OR Artistic-1.0-Perl"},
		{"GPL-2+ or Artistic, and BSD-3-clause", "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause"},
		{"MIT OR Apache-2.0", "MIT OR Apache-2.0"},
		{"(MIT OR Apache-2.0) AND BSD-2-Clause", "(MIT OR Apache-2.0) AND BSD-2-Clause"},
		{"MIT AND (Apache-2.0 OR BSD-2-Clause)", "MIT AND (Apache-2.0 OR BSD-2-Clause)"},
		{"GPL-3+ with GCC-3.1 exception", "GPL-3.0-or-later WITH GCC-exception-3.1"},
		{"GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"},
		{"GPL-3+ with OpenSSL exception", "LicenseRef-GPL-3.0-or-later-with-openssl-exception"},
		{"Apache Software License", "Apache-2.0"},
		{"MIT License", "MIT"},
		{"apache-2.0", "Apache-2.0"},
		{"Custom Thing v2", "LicenseRef-Custom-Thing-v2"},
		{"", ""},
		{"MPL-2", "MPL-2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, catalog.NormalizeExpression(tt.in))
		})
	}
}

func TestJoinAnd(t *testing.T) {
	t.Parallel()
	require.Equal(t, "MIT", catalog.JoinAnd([]string{"MIT", "MIT", ""}))
	require.Equal(t, "(GPL-2.0-or-later OR MIT) AND Zlib", catalog.JoinAnd([]string{"Zlib", "GPL-2.0-or-later OR MIT"}))
	require.Equal(t, "", catalog.JoinAnd(nil))
}

func TestParseDeb822(t *testing.T) {
	t.Parallel()
	ps := catalog.ParseDeb822([]byte("Package: a\nDescription: short\n long\n .\n more\n\n\n# comment\nPackage: b\nbroken line\nVersion: 1\n"))
	require.Len(t, ps, 2)
	require.Equal(t, "short\nlong\n.\nmore", ps[0].Get("description"))
	require.Equal(t, "1", ps[1].Get("Version"))
	require.Equal(t, []string{"Package", "Version"}, ps[1].Order)
}
