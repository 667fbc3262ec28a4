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
		{"GPL-1+ or Artistic", "Artistic-1.0-Perl OR GPL-1.0-or-later"},
		{"GPL-2+ or Artistic, and BSD-3-clause", "(Artistic-1.0-Perl OR GPL-2.0-or-later) AND BSD-3-Clause"},
		{"MIT OR Apache-2.0", "Apache-2.0 OR MIT"},
		{"(MIT OR Apache-2.0) AND BSD-2-Clause", "(Apache-2.0 OR MIT) AND BSD-2-Clause"},
		{"MIT AND (Apache-2.0 OR BSD-2-Clause)", "(Apache-2.0 OR BSD-2-Clause) AND MIT"},
		{"GPL-3+ with GCC-3.1 exception", "GPL-3.0-or-later WITH GCC-exception-3.1"},
		{"GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"},
		{"GPL-3+ with OpenSSL exception", "LicenseRef-GPL-3.0-or-later-with-openssl-exception"},
		{"Apache Software License", "Apache-2.0"},
		{"MIT License", "MIT"},
		{"apache-2.0", "Apache-2.0"},
		{"Custom Thing v2", "LicenseRef-Custom-Thing-v2"},
		{"", ""},
		{"MPL-2", "MPL-2.0"},
		{"Apache-2.0 OR MIT", "Apache-2.0 OR MIT"},
		{"MIT or MIT", "MIT"},
		{"MIT AND (BSD-2-Clause AND Zlib)", "BSD-2-Clause AND MIT AND Zlib"},
		{"GPL v2", "GPL-2.0-only"},
		{"GPL v2 or later", "GPL-2.0-only OR LicenseRef-later"},
		{"GPLv3", "GPL-3.0-only"},
		{"GPL 2.0", "GPL-2.0-only"},
		{"MIT / Apache 2.0", "Apache-2.0 OR MIT"},
		{"MIT | BSD-3-clause", "BSD-3-Clause OR MIT"},
		{"GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later"},
		{"Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"},
		{"Perl and Zlib", "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND Zlib"},
		{"(MIT", "MIT"},
		{"MIT)", "MIT"},
		{"MIT AND", "MIT"},
		{"or MIT", "MIT"},
		{"() MIT", "MIT"},
		{"(MIT) Zlib", "MIT AND Zlib"},
		{"(MIT AND) OR Zlib", "MIT OR Zlib"},
		{"MIT, or Zlib", "MIT OR Zlib"},
		{" , MIT,", "MIT"},
		{"(MIT OR Apache-2.0) with Classpath exception", "Apache-2.0 OR MIT"},
		{"LGPL-2.1+ with GCC exception", "LGPL-2.1-or-later WITH GCC-exception-3.1"},
		{"GPL-3+ with Autoconf exception", "GPL-3.0-or-later WITH Autoconf-exception-3.0"},
		{"Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception"},
		{"LicenseRef-my thing", "LicenseRef-my-thing"},
		{"MIT with", "MIT"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, catalog.NormalizeExpression(tt.in))
		})
	}
}

func TestNormalizeLicenseID(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"GPL-2 or later", "GPL-2.0-or-later"},
		{"GPL v3 or later", "GPL-3.0-or-later"},
		{"LGPL 2.1", "LGPL-2.1-only"},
		{"GNU General Public License v2 or later (GPLv2+)", "GPL-2.0-or-later"},
		{"BSD License", "LicenseRef-BSD"},
		{"Expat", "MIT"},
		{"mit", "MIT"},
		{"0bsd", "0BSD"},
		{"public domain", "LicenseRef-public-domain"},
		{"GPL", "LicenseRef-GPL"},
		{"  ", ""},
		{"!!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, catalog.NormalizeLicenseID(tt.in))
		})
	}
}

func TestJoinAnd(t *testing.T) {
	t.Parallel()
	require.Equal(t, "MIT", catalog.JoinAnd([]string{"MIT", "MIT", ""}))
	require.Equal(t, "(GPL-2.0-or-later OR MIT) AND Zlib", catalog.JoinAnd([]string{"Zlib", "GPL-2.0-or-later OR MIT"}))
	require.Equal(t, "", catalog.JoinAnd(nil))
	require.Equal(t, "GPL-3.0-or-later AND MIT", catalog.JoinAnd([]string{"GPL-3.0-or-later AND MIT", "GPL-3.0-or-later"}))
	require.Equal(t, "(Apache-2.0 OR MIT) AND Zlib", catalog.JoinAnd([]string{"Zlib", "Apache-2.0 OR MIT", "Zlib"}))
	require.Equal(t, "MIT AND a/b", catalog.JoinAnd([]string{"MIT", "a/b"}))
}

func TestParseDeb822(t *testing.T) {
	t.Parallel()
	ps := catalog.ParseDeb822([]byte("Package: a\nDescription: short\n long\n .\n more\n\n\n# comment\nPackage: b\nbroken line\nVersion: 1\n"))
	require.Len(t, ps, 2)
	require.Equal(t, "short\nlong\n.\nmore", ps[0].Get("description"))
	require.Equal(t, "1", ps[1].Get("Version"))
	require.Equal(t, []string{"Package", "Version"}, ps[1].Order)
}
