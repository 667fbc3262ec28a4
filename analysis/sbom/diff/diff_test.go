package diff_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/analysis/sbom/catalog"
	"github.com/reehub/reehub/analysis/sbom/diff"
)

func pkg(typ catalog.Type, name, version string, lic ...string) catalog.Package {
	return catalog.Package{Type: typ, Name: name, Version: version, PURL: "pkg:x/" + name + "@" + version, Licenses: lic}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	old := &sbom.SBOM{Packages: []catalog.Package{
		pkg(catalog.TypeDeb, "bash", "5.2.15-2", "GPL-3.0-or-later"),
		pkg(catalog.TypeDeb, "gone", "1"),
		pkg(catalog.TypePython, "requests", "2.28.1", "Apache-2.0"),
		pkg(catalog.TypeNPM, "lodash", "4.17.20"),
		pkg(catalog.TypeNPM, "lodash", "3.0.0"),
		pkg(catalog.TypePython, "same", "1", "MIT"),
	}}
	new := &sbom.SBOM{Packages: []catalog.Package{
		pkg(catalog.TypeDeb, "bash", "5.2.15-2+b7", "GPL-3.0-or-later"),
		pkg(catalog.TypeDeb, "curl", "7.88.1"),
		pkg(catalog.TypePython, "requests", "2.28.1", "MIT"),
		pkg(catalog.TypeNPM, "lodash", "4.17.21"),
		pkg(catalog.TypeNPM, "lodash", "3.0.0"),
		pkg(catalog.TypePython, "same", "1", "MIT"),
	}}
	r := diff.Compare(old, new)
	require.Equal(t, []diff.Package{{Type: catalog.TypeDeb, Name: "curl", Version: "7.88.1", PURL: "pkg:x/curl@7.88.1"}}, r.Added)
	require.Equal(t, []diff.Package{{Type: catalog.TypeDeb, Name: "gone", Version: "1", PURL: "pkg:x/gone@1"}}, r.Removed)
	require.Equal(t, []diff.VersionChange{
		{Type: catalog.TypeDeb, Name: "bash", From: "5.2.15-2", To: "5.2.15-2+b7", FromPURL: "pkg:x/bash@5.2.15-2", ToPURL: "pkg:x/bash@5.2.15-2+b7"},
		{Type: catalog.TypeNPM, Name: "lodash", From: "4.17.20", To: "4.17.21", FromPURL: "pkg:x/lodash@4.17.20", ToPURL: "pkg:x/lodash@4.17.21"},
	}, r.VersionChanged)
	require.Equal(t, []diff.LicenseChange{{Type: catalog.TypePython, Name: "requests", Version: "2.28.1", From: "Apache-2.0", To: "MIT"}}, r.LicenseChanged)
	require.False(t, r.Empty())

	b, err := json.Marshal(r)
	require.NoError(t, err)
	var back diff.Report
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, *r, back)
	require.Contains(t, string(b), `"version_changed":[{"type":"deb","name":"bash","from":"5.2.15-2","to":"5.2.15-2+b7"`)
}

func TestCompareSameAndEmpty(t *testing.T) {
	t.Parallel()
	s := &sbom.SBOM{Packages: []catalog.Package{pkg(catalog.TypeDeb, "bash", "1")}}
	require.True(t, diff.Compare(s, s).Empty())
	r := diff.Compare(nil, &sbom.SBOM{})
	require.True(t, r.Empty())
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.JSONEq(t, `{"added":[],"removed":[],"version_changed":[],"license_changed":[]}`, string(b))
	r = diff.Compare(&sbom.SBOM{}, s)
	require.Len(t, r.Added, 1)
}
