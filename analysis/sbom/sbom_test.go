package sbom_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/tagvalue"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/analysis/sbom/catalog"
)

// writeTree creates a root file system with one package of each ecosystem,
// plus a real Go binary built from a tiny module.
func writeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"etc/os-release":     "ID=debian\nVERSION_ID=\"12\"\n",
		"etc/debian_version": "12.7\n",
		"var/lib/dpkg/status": "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u7\nDescription: GNU C Library\n\n" +
			"Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\nSource: bash (5.2.15-2)\nPre-Depends: libc6 (>= 2.36)\nDescription: GNU Bourne Again SHell\n",
		"var/lib/dpkg/info/bash.list":                                      "/.\n/bin\n/bin/bash\n",
		"usr/share/doc/bash/copyright":                                     "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n\nFiles: x/*\nLicense: custom-thing\n",
		"usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: requests\nVersion: 2.28.1\nLicense: Apache 2.0\nRequires-Dist: idna (<4,>=2.5)\nRequires-Dist: PySocks (>=1.5.6) ; extra == 'socks'\n\nbody\n",
		"usr/lib/python3/dist-packages/requests-2.28.1.dist-info/RECORD":   "requests/__init__.py,sha256=x,100\nrequests-2.28.1.dist-info/METADATA,,\n../../../bin/req,,\n",
		"usr/lib/python3/dist-packages/idna-3.3.egg-info/PKG-INFO":         "Metadata-Version: 1.2\nName: idna\nVersion: 3.3\nClassifier: License :: OSI Approved :: BSD License\n",
		"usr/lib/python3/dist-packages/PyYAML-6.0.egg-info":                "Metadata-Version: 1.1\nName: PyYAML\nVersion: 6.0\nLicense-Expression: MIT\n",
		"app/node_modules/left-pad/package.json":                           `{"name":"left-pad","version":"1.3.0","license":"WTFPL","dependencies":{"@scope/dep":"^1"}}`,
		"app/node_modules/@scope/dep/package.json":                         `{"name":"@scope/dep","version":"1.0.1","license":{"type":"ISC"}}`,
		"app/package-lock.json":                                            `{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/left-pad":{"version":"1.3.0"},"node_modules/only-in-lock":{"version":"2.0.0","license":"MIT"}}}`,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	// A real Go binary with build information.
	mod := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/hello\n\ngo 1.22\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(mod, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "usr/local/bin"), 0o755))
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "usr/local/bin/hello"), ".")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	// Bad entries the walk must survive.
	require.NoError(t, os.Symlink("/nowhere", filepath.Join(dir, "dangling")))
	require.NoError(t, os.Symlink("loop", filepath.Join(dir, "loop")))
	require.NoError(t, os.Symlink("/", filepath.Join(dir, "usr/rootlink")))
	return dir
}

func scan(t *testing.T) *sbom.SBOM {
	t.Helper()
	src, err := rootfs.OpenDir(writeTree(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	s, err := sbom.Scan(context.Background(), src, &sbom.Options{Name: "fixture", Now: func() time.Time { return time.Unix(1700000000, 0) }})
	require.NoError(t, err)
	return s
}

func find(s *sbom.SBOM, typ catalog.Type, name string) *catalog.Package {
	for i := range s.Packages {
		if s.Packages[i].Type == typ && s.Packages[i].Name == name {
			return &s.Packages[i]
		}
	}
	return nil
}

func TestScan(t *testing.T) {
	t.Parallel()
	s := scan(t)
	require.Equal(t, "12.7", s.Distro.VersionID)
	tests := []struct {
		typ     catalog.Type
		name    string
		version string
		purl    string
		license string
	}{
		{catalog.TypeDeb, "bash", "5.2.15-2+b7", "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12.7&upstream=bash%405.2.15-2", "GPL-3.0-or-later AND LicenseRef-custom-thing"},
		{catalog.TypeDeb, "libc6", "2.36-9+deb12u7", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12.7&upstream=glibc", ""},
		{catalog.TypePython, "requests", "2.28.1", "pkg:pypi/requests@2.28.1", "Apache-2.0"},
		{catalog.TypePython, "idna", "3.3", "pkg:pypi/idna@3.3", "LicenseRef-BSD"},
		{catalog.TypePython, "pyyaml", "6.0", "pkg:pypi/pyyaml@6.0", "MIT"},
		{catalog.TypeNPM, "left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0", "WTFPL"},
		{catalog.TypeNPM, "@scope/dep", "1.0.1", "pkg:npm/%40scope/dep@1.0.1", "ISC"},
		{catalog.TypeNPM, "only-in-lock", "2.0.0", "pkg:npm/only-in-lock@2.0.0", "MIT"},
		{catalog.TypeGoModule, "example.com/hello", "(devel)", "pkg:golang/example.com/hello", ""},
	}
	for _, tt := range tests {
		p := find(s, tt.typ, tt.name)
		require.NotNil(t, p, tt.name)
		require.Equal(t, tt.version, p.Version, tt.name)
		require.Equal(t, tt.purl, p.PURL, tt.name)
		require.Equal(t, tt.license, p.License(), tt.name)
	}
	require.Len(t, s.Packages, len(tests))
	bash := find(s, catalog.TypeDeb, "bash")
	require.Equal(t, []string{find(s, catalog.TypeDeb, "libc6").ID}, bash.DependsOn)
	require.Equal(t, []string{"/bin/bash"}, bash.Files)
	req := find(s, catalog.TypePython, "requests")
	require.Equal(t, []string{find(s, catalog.TypePython, "idna").ID}, req.DependsOn)
	require.Contains(t, req.Files, "/usr/bin/req")
	require.Contains(t, req.Files, "/usr/lib/python3/dist-packages/requests/__init__.py")
	lp := find(s, catalog.TypeNPM, "left-pad")
	require.Equal(t, []string{find(s, catalog.TypeNPM, "@scope/dep").ID}, lp.DependsOn)
}

func compile(t *testing.T, main string, files ...string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join("testdata/schema", f))
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		require.NoError(t, err)
		id := doc.(map[string]any)["$id"].(string)
		require.NoError(t, c.AddResource(id, doc))
		if f == main {
			main = id
		}
	}
	sch, err := c.Compile(main)
	require.NoError(t, err)
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	require.NoError(t, sch.Validate(doc))
}

func TestCycloneDXValidAndRoundTrips(t *testing.T) {
	t.Parallel()
	s := scan(t)
	var buf bytes.Buffer
	require.NoError(t, s.WriteCycloneDX(&buf))
	sch := compile(t, "bom-1.6.schema.json", "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json")
	validate(t, sch, buf.Bytes())

	// The schema must catch a broken document, or the check above proves nothing.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &raw))
	raw["components"].([]any)[0].(map[string]any)["type"] = "not-a-type"
	broken, err := json.Marshal(raw)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(broken))
	require.NoError(t, err)
	require.Error(t, sch.Validate(doc))

	var bom cdx.BOM
	require.NoError(t, cdx.NewBOMDecoder(bytes.NewReader(buf.Bytes()), cdx.BOMFileFormatJSON).Decode(&bom))
	require.Equal(t, cdx.SpecVersion1_6, bom.SpecVersion)
	require.Len(t, *bom.Components, len(s.Packages))
	purls := map[string]bool{}
	for _, c := range *bom.Components {
		purls[c.PackageURL] = true
	}
	for _, p := range s.Packages {
		require.True(t, purls[p.PURL], p.PURL)
	}
	deps := map[string][]string{}
	for _, d := range *bom.Dependencies {
		if d.Dependencies != nil {
			deps[d.Ref] = *d.Dependencies
		}
	}
	bash := find(s, catalog.TypeDeb, "bash")
	require.Equal(t, bash.DependsOn, deps[bash.ID])

	// The same scan writes the same bytes.
	var again bytes.Buffer
	require.NoError(t, s.WriteCycloneDX(&again))
	require.Equal(t, buf.String(), again.String())
}

func TestSPDXValidAndRoundTrips(t *testing.T) {
	t.Parallel()
	s := scan(t)
	var buf bytes.Buffer
	require.NoError(t, s.WriteSPDXJSON(&buf))
	sch := compile(t, "spdx-schema-2.3.json", "spdx-schema-2.3.json")
	validate(t, sch, buf.Bytes())

	doc, err := spdxjson.Read(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.Equal(t, "SPDX-2.3", doc.SPDXVersion)
	require.Len(t, doc.Packages, len(s.Packages)+1)
	var dependsOn, contains int
	for _, r := range doc.Relationships {
		switch r.Relationship {
		case "DEPENDS_ON":
			dependsOn++
		case "CONTAINS":
			contains++
		}
	}
	require.Equal(t, len(s.Packages), contains)
	require.Equal(t, 3, dependsOn) // bash->libc6, requests->idna, left-pad->@scope/dep
	refs := map[string]bool{}
	for _, l := range doc.OtherLicenses {
		refs[l.LicenseIdentifier] = true
	}
	require.True(t, refs["LicenseRef-custom-thing"])
	require.True(t, refs["LicenseRef-BSD"])

	var tv bytes.Buffer
	require.NoError(t, s.WriteSPDXTagValue(&tv))
	require.True(t, strings.HasPrefix(tv.String(), "SPDXVersion: SPDX-2.3"))
	doc2, err := tagvalue.Read(bytes.NewReader(tv.Bytes()))
	require.NoError(t, err)
	require.Len(t, doc2.Packages, len(doc.Packages))
	require.Len(t, doc2.Relationships, len(doc.Relationships))
	// Tag-value read back writes the same JSON as the original.
	var fromTV bytes.Buffer
	require.NoError(t, spdxjson.Write(doc2, &fromTV, spdxjson.Indent("  ")))
	validate(t, sch, fromTV.Bytes())
}

func TestScanArchiveMatchesDir(t *testing.T) {
	t.Parallel()
	dir := writeTree(t)
	tarPath := filepath.Join(t.TempDir(), "rootfs.tar")
	out, err := exec.Command("tar", "-C", dir, "-cf", tarPath, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	src, err := rootfs.OpenArchive(context.Background(), tarPath, &rootfs.ArchiveOptions{Keep: sbom.Keep(nil)})
	require.NoError(t, err)
	defer src.Close()
	fromTar, err := sbom.Scan(context.Background(), src, nil)
	require.NoError(t, err)
	dsrc, err := rootfs.OpenDir(dir)
	require.NoError(t, err)
	defer dsrc.Close()
	fromDir, err := sbom.Scan(context.Background(), dsrc, nil)
	require.NoError(t, err)
	require.Equal(t, len(fromDir.Packages), len(fromTar.Packages))
	for i := range fromDir.Packages {
		require.Equal(t, fromDir.Packages[i].PURL, fromTar.Packages[i].PURL)
		require.Equal(t, fromDir.Packages[i].Licenses, fromTar.Packages[i].Licenses)
		require.Equal(t, fromDir.Packages[i].Files, fromTar.Packages[i].Files)
	}
}

func TestScanCancelled(t *testing.T) {
	t.Parallel()
	src, err := rootfs.OpenDir(writeTree(t))
	require.NoError(t, err)
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = sbom.Scan(ctx, src, nil)
	require.ErrorIs(t, err, context.Canceled)
}
