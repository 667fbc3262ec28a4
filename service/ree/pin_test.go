package ree

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/analysis/sbom/catalog"
	"github.com/reehub/reehub/analysis/sbom/diff"
	"github.com/reehub/reehub/runtime/dockerfile"
)

func deb(name, version string, deps ...string) catalog.Package {
	p := catalog.Package{ID: "deb:" + name + "@" + version + ":amd64", Type: catalog.TypeDeb, Name: name, Version: version, Arch: "amd64"}
	for _, d := range deps {
		p.DependsOn = append(p.DependsOn, "deb:"+d+":amd64")
	}
	return p
}

func py(name, version, site string, deps ...string) catalog.Package {
	loc := site + "/" + name + "-" + version + ".dist-info/METADATA"
	return catalog.Package{ID: "python:" + name + "@" + version + ":" + loc, Type: catalog.TypePython, Name: name, Version: version, Locations: []string{loc}, DependsOn: deps}
}

func npmPkg(name, version, loc string) catalog.Package {
	return catalog.Package{ID: "npm:" + name + "@" + version + ":" + loc, Type: catalog.TypeNPM, Name: name, Version: version, Locations: []string{loc}}
}

// TestPlanPins pins a Dockerfile with apt, pip and npm installs from fixture
// SBOMs of a base and a built image, as the definition process does.
func TestPlanPins(t *testing.T) {
	t.Parallel()
	const dist = "/usr/lib/python3/dist-packages"
	const site = "/usr/local/lib/python3.11/dist-packages"
	pipDeb := deb("python3-pip", "23.0.1+dfsg-1")
	pipDeb.Files = []string{dist + "/pip-23.0.1.dist-info/METADATA"}
	yamlDeb := deb("python3-yaml", "6.0-3+b2")
	yamlDeb.Files = []string{dist + "/pyyaml-6.0.dist-info/METADATA"}
	base := &sbom.SBOM{Packages: []catalog.Package{
		deb("libc6", "2.36-9+deb12u14"), pipDeb, py("pip", "23.0.1", dist),
		deb("curl", "7.88.1-10+deb12u11"),
	}}
	built := &sbom.SBOM{Packages: []catalog.Package{
		deb("libc6", "2.36-9+deb12u14"), pipDeb, py("pip", "23.0.1", dist),
		deb("jq", "1.6-2.1", "libjq1@1.6-2.1", "libc6@2.36-9+deb12u14"),
		deb("libjq1", "1.6-2.1", "libonig5@6.9.8-1"),
		deb("libonig5", "6.9.8-1"),
		deb("curl", "7.88.1-10+deb12u12", "libcurl4@7.88.1-10+deb12u12"), // upgraded by the install
		deb("libcurl4", "7.88.1-10+deb12u12"),
		deb("mawk", "1.3.4.20200120-3.1"), // the provider of the virtual package awk
		yamlDeb, py("pyyaml", "6.0", dist),
		py("requests", "2.32.3", site, "python:idna@3.10:"+site+"/idna-3.10.dist-info/METADATA"),
		py("idna", "3.10", site),
		py("six", "1.16.0", site),
		py("attrs", "24.2.0", site), // installed from a requirements file
		npmPkg("left-pad", "1.3.0", "/usr/local/lib/node_modules/left-pad/package.json"),
		npmPkg("left-pad", "1.0.0", "/usr/local/lib/node_modules/other/node_modules/left-pad/package.json"),
		npmPkg("@scope/pkg", "2.0.0", "/usr/local/lib/node_modules/@scope/pkg/package.json"),
	}}
	df, err := dockerfile.Parse([]byte(`FROM python_3_11
RUN apt-get update && apt-get install -y --no-install-recommends jq
RUN apt-get install -y curl awk python3-yaml
RUN pip install --break-system-packages 'requests[socks]>=2' -r /req.txt && pip3 install six ./local
RUN npm install -g left-pad@^1 @scope/pkg
`))
	require.NoError(t, err)
	installs, err := df.Installs()
	require.NoError(t, err)
	plan := planPins(base, built, installs)
	require.Equal(t, [][]string{
		{"jq=1.6-2.1", "libjq1=1.6-2.1", "libonig5=6.9.8-1", "mawk=1.3.4.20200120-3.1"},
		{"curl=7.88.1-10+deb12u12", "libcurl4=7.88.1-10+deb12u12", "python3-yaml=6.0-3+b2"},
		{"requests[socks]==2.32.3", "attrs==24.2.0", "idna==3.10"},
		{"six==1.16.0", "./local"},
		{"left-pad@1.3.0", "@scope/pkg@2.0.0"},
	}, plan.words)
	require.Empty(t, plan.unpinned)

	pinned, err := df.PinInstalls(func(i int, _ dockerfile.Install) []string { return plan.words[i] })
	require.NoError(t, err)
	text := string(pinned)
	require.Contains(t, text, "apt-get install -y --no-install-recommends jq=1.6-2.1 libjq1=1.6-2.1 libonig5=6.9.8-1 mawk=1.3.4.20200120-3.1\n")
	require.Contains(t, text, "pip install --break-system-packages 'requests[socks]==2.32.3' attrs==24.2.0 idna==3.10 -r /req.txt && pip3 install six==1.16.0 ./local\n")
	require.Contains(t, text, "npm install -g left-pad@1.3.0 @scope/pkg@2.0.0\n")
	require.False(t, strings.Contains(text, "libc6="), "unchanged base packages are not pinned")
	require.False(t, strings.Contains(text, "pyyaml=="), "Python files of Debian packages are pinned by their Debian package")

	names := map[string]string{}
	for _, p := range plan.pinned {
		names[string(p.Type)+":"+p.Name] = p.Version
	}
	require.Equal(t, "1.6-2.1", names["deb:jq"])
	require.Equal(t, "3.10", names["python:idna"])
	require.Equal(t, "1.3.0", names["npm:left-pad"])
}

// TestPlanPinsUnpinned: packages a build adds without an install naming
// their tool are reported, not silently left out.
func TestPlanPinsUnpinned(t *testing.T) {
	t.Parallel()
	base := &sbom.SBOM{}
	built := &sbom.SBOM{Packages: []catalog.Package{py("six", "1.16.0", "/opt/venv/lib/python3.11/site-packages")}}
	df, err := dockerfile.Parse([]byte("FROM python_3_11\nRUN python3 setup.py install\n"))
	require.NoError(t, err)
	installs, err := df.Installs()
	require.NoError(t, err)
	plan := planPins(base, built, installs)
	require.Equal(t, []PinnedPackage{{Type: catalog.TypePython, Name: "six", Version: "1.16.0"}}, plan.unpinned)
}

func TestMissingScanner(t *testing.T) {
	t.Parallel()
	m := &missingScanner{}
	for _, chunk := range []string{
		"Reading package lists...\nE: Version '1.5-0reehub1' for 'j", "q' was not found\n",
		"ERROR: No matching distribution found for six==0.0.1\n",
		"npm ERR! notarget No matching version found for left-pad@9.9.9.\n",
		"E: Unable to locate package nosuchpkg",
	} {
		_, _ = m.Write([]byte(chunk))
	}
	require.Equal(t, []string{"jq=1.5-0reehub1", "six==0.0.1", "left-pad@9.9.9", "nosuchpkg"}, m.found())
}

func TestDriftSummary(t *testing.T) {
	t.Parallel()
	require.Contains(t, driftSummary(&diff.Report{}), "no drift")
	s := driftSummary(&diff.Report{
		Removed:        []diff.Package{{Name: "jq", Version: "1.6-2.1"}},
		VersionChanged: []diff.VersionChange{{Name: "curl", From: "1", To: "2"}},
	})
	require.Equal(t, "drift: 0 added, 1 removed, 1 version changed, 0 license changed (-jq 1.6-2.1, curl 1 -> 2); see drift.json", s)
}
