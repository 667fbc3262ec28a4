package dep5_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/dep5"
	"github.com/reehub/reehub/analysis/license"
)

func TestEquivalents(t *testing.T) {
	t.Parallel()
	// Every id and class of the table is an id reehub knows, and a class
	// is its own class.
	for id, class := range dep5.Equivalents() {
		require.True(t, license.Known(id), id)
		require.True(t, license.Known(class), class)
		require.Equal(t, class, dep5.Equivalent(class), id)
	}
	// The Artistic License 1.0 variants compare as one license; Artistic-2.0
	// is another license, and ids in no row are their own class.
	require.True(t, dep5.SameLicenses([]string{"Artistic-dist"}, []string{"Artistic-1.0"}))
	require.True(t, dep5.SameLicenses([]string{"Artistic-1.0-Perl", "GPL-1.0-or-later"}, []string{"GPL-1.0-or-later", "Artistic-1.0"}))
	// debian/copyright's "GPL-1+ or Artistic or Artistic-dist" against a file
	// that says "under the same terms as Perl itself".
	e, err := dep5.SPDX("GPL-1+ or Artistic or Artistic-dist")
	require.NoError(t, err)
	require.Equal(t, []string{"Artistic-1.0-Perl", "Artistic-dist", "GPL-1.0-or-later"}, e.Licenses())
	require.True(t, dep5.SameLicenses(e.Licenses(), []string{"Artistic-1.0-Perl", "GPL-1.0-or-later"}))
	require.False(t, dep5.SameLicenses(e.Licenses(), []string{"Artistic-1.0"}))
	require.False(t, dep5.SameLicenses([]string{"Artistic-2.0"}, []string{"Artistic-1.0"}))
	require.False(t, dep5.SameLicenses([]string{"GPL-2.0-only"}, []string{"GPL-2.0-or-later"}))
	require.Equal(t, "MIT", dep5.Equivalent("MIT"))
}
