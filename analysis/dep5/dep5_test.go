package dep5_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/dep5"
	"github.com/reehub/reehub/fault"
)

const sample = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: demo

Files: *
Copyright: 2004-2019 Jane Roe <jane@example.org>
           2010 John Doe
License: GPL-2+

Files: lib/*.c lib/compat\*
Copyright: 2001 Acme, Inc.
License: LGPL-2.1+ or BSD-3-clause
 Some text.
 .
 More text.

Files: doc
Copyright: 2015 Writer
License: GFDL-NIV-1.3+

License: GPL-2+
 The full text.
`

func TestParse(t *testing.T) {
	t.Parallel()
	c, err := dep5.Parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Equal(t, "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/", c.Format)
	require.Len(t, c.Files, 3)
	require.Equal(t, []string{"*"}, c.Files[0].Files)
	require.Equal(t, []string{"2004-2019 Jane Roe <jane@example.org>", "2010 John Doe"}, c.Files[0].Copyright)
	require.Equal(t, "GPL-2+", c.Files[0].License)
	require.Equal(t, "LGPL-2.1+ or BSD-3-clause", c.Files[1].License)
	require.Equal(t, "Some text.\n\nMore text.", c.Files[1].LicenseText)
	require.Equal(t, 9, c.Files[1].Line)
	require.Contains(t, c.Licenses, "GPL-2+")

	tests := []struct{ path, license string }{
		{"README", "GPL-2+"},
		{"lib/a.c", "LGPL-2.1+ or BSD-3-clause"},
		{"lib/sub/b.c", "LGPL-2.1+ or BSD-3-clause"}, // "*" crosses "/"
		{"lib/a.h", "GPL-2+"},
		{"lib/compat*", "LGPL-2.1+ or BSD-3-clause"}, // escaped star is literal
		{"lib/compatX", "GPL-2+"},
		{"doc/manual.texi", "GFDL-NIV-1.3+"}, // directory named without a wildcard
		{"./doc", "GFDL-NIV-1.3+"},
	}
	for _, tt := range tests {
		p := c.Match(tt.path)
		require.NotNil(t, p, tt.path)
		require.Equal(t, tt.license, p.License, tt.path)
	}
}

func TestMatchGlobs(t *testing.T) {
	t.Parallel()
	c, err := dep5.Parse(strings.NewReader("Format: x\n\nFiles: * doc/local.mk\nCopyright: A\nLicense: GPL-3+\n\nFiles: lib/*\nCopyright: B\nLicense: MIT\n"))
	require.NoError(t, err)
	p, globs := c.MatchGlobs("doc/local.mk")
	require.Equal(t, "GPL-3+", p.License)
	require.Equal(t, []string{"*", "doc/local.mk"}, globs)
	_, globs = c.MatchGlobs("src/a.c")
	require.Equal(t, []string{"*"}, globs)
	p, globs = c.MatchGlobs("lib/x.c")
	require.Equal(t, "MIT", p.License)
	require.Equal(t, []string{"lib/*"}, globs)
}

func TestMostSpecific(t *testing.T) {
	t.Parallel()
	// sed's debian/copyright: doc/local.mk is named in the first paragraph,
	// and a later "doc/*" would take it by the last-match rule.
	c, err := dep5.Parse(strings.NewReader("Format: x\n\nFiles: * doc/local.mk\nCopyright: A\nLicense: GPL-3+\n\n" +
		"Files: doc/*\nCopyright: B\nLicense: GFDL-NIV-1.3+\n\nFiles: lib\nCopyright: C\nLicense: MIT\n\n" +
		"Files: lib/sub/x.c\nCopyright: D\nLicense: ISC\n\nFiles: lib/*.c\nCopyright: E\nLicense: Zlib\n"))
	require.NoError(t, err)
	tests := []struct{ path, license, globs string }{
		{"doc/local.mk", "GPL-3+", "* doc/local.mk"}, // the named file wins over a later pattern
		{"doc/sed.texi", "GFDL-NIV-1.3+", "doc/*"},   // patterns: the last one
		{"src/a.c", "GPL-3+", "*"},
		{"lib/a.h", "MIT", "lib"},             // a directory named without wildcards
		{"lib/a.c", "Zlib", "lib/*.c"},        // is a pattern: the later lib/*.c wins
		{"lib/sub/x.c", "ISC", "lib/sub/x.c"}, // named
	}
	for _, tt := range tests {
		p, globs := c.MostSpecific(tt.path)
		require.NotNil(t, p, tt.path)
		require.Equal(t, tt.license, p.License, tt.path)
		require.Equal(t, strings.Fields(tt.globs), globs, tt.path)
	}
	require.Equal(t, "GFDL-NIV-1.3+", c.Match("doc/local.mk").License) // DEP-5's own rule
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"not dep5":            "This package was debianized by someone.\nIt is GPL.\n",
		"orphan continuation": " leading continuation\n",
		"no files paragraph":  "Format: x\n\nLicense: MIT\n text\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := dep5.Parse(strings.NewReader(in))
			require.ErrorIs(t, err, fault.ErrInvalid)
		})
	}
}

func TestSPDX(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"GPL-2+", "GPL-2.0-or-later"},
		{"GPL-2", "GPL-2.0-only"},
		{"LGPL-2.1+", "LGPL-2.1-or-later"},
		{"GPL", "GPL-1.0-or-later"},
		{"Expat", "MIT"},
		{"BSD-3-clause", "BSD-3-Clause"},
		{"public-domain", "LicenseRef-public-domain"},
		{"GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later"},
		{"Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"},
		{"GPL-2+ or Artistic", "Artistic-1.0-Perl OR GPL-2.0-or-later"},
		{"Artistic-1.0", "Artistic-1.0"},
		{"LGPL-2.1+ and BSD-3-clause", "BSD-3-Clause AND LGPL-2.1-or-later"},
		{"GPL-2+ and/or LGPL-2.1+", "GPL-2.0-or-later OR LGPL-2.1-or-later"},
		{"GPL-3+ with Autoconf-data exception", "GPL-3.0-or-later WITH Autoconf-data-exception"},
		{"Apache-2.0", "Apache-2.0"},
		// The comma is the operator of lowest precedence (perl's debian/copyright).
		{"GPL-1+ or Artistic, and Expat", "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND MIT"},
		{"REGCOMP, and GPL-1+ or Artistic", "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND LicenseRef-REGCOMP"},
		{"GPL-2+, or BSD-3-clause and Expat", "BSD-3-Clause AND MIT OR GPL-2.0-or-later"},
		{"some custom terms", "LicenseRef-some-custom-terms"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			e, err := dep5.SPDX(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, e.String())
		})
	}
	require.Equal(t, "MIT", dep5.ShortNames()["expat"])
}
