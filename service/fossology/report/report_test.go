package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/rdf"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/tagvalue"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/analysis/dep5"
	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/clearing"
	"github.com/reehub/reehub/service/fossology/fossologytest"
	"github.com/reehub/reehub/service/fossology/report"
)

var (
	once  sync.Once
	input report.Input
	onErr error
)

// fixture scans the test upload once and concludes it with the deciders
// plus a user decision on the Latin-1 file.
func fixture(t *testing.T) report.Input {
	t.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "report-test-")
		if err != nil {
			onErr = err
			return
		}
		src := filepath.Join(dir, "upload")
		if onErr = os.WriteFile(src, fossologytest.Archive(t), 0o644); onErr != nil {
			return
		}
		tree, err := unpack.Unpack(context.Background(), unpack.Source{Path: src, Name: fossologytest.Name}, filepath.Join(dir, "tree"), unpack.Limits{})
		if err != nil {
			onErr = err
			return
		}
		r, err := agent.New(nil)
		if err != nil {
			onErr = err
			return
		}
		var fs []agent.Finding
		onErr = r.Run(context.Background(), tree, agent.Agents(), func(_ string, _ int, f []agent.Finding) error {
			fs = append(fs, f...)
			return nil
		})
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		ds := clearing.Merge(nil, clearing.NomosMonk(fs, nil, now), clearing.OjoDecider(fs, nil, now))
		for _, it := range tree.Files() {
			if it.Path == fossologytest.PathLatin1 {
				d, err := clearing.Decide(it, "IDENTIFIED", []string{"LicenseRef-public-domain"}, "", "u1", now)
				if err != nil {
					onErr = err
					return
				}
				ds[d.Path] = d
			}
		}
		input = report.Input{UploadID: 11, Tree: tree, Findings: fs, Decisions: ds, MainLicense: "GPL-2.0-or-later",
			Created: now, Namespace: "https://reehub.test/repo/api/v1/report", Tool: "reehub-test"}
	})
	require.NoError(t, onErr)
	return input
}

func write(t *testing.T, f report.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, report.Write(&buf, f, fixture(t)))
	return buf.Bytes()
}

// checkSPDX checks what every SPDX serialisation must say.
func checkSPDX(t *testing.T, doc *spdx.Document) {
	t.Helper()
	require.Equal(t, "SPDX-2.3", doc.SPDXVersion)
	require.Len(t, doc.Packages, 1)
	p := doc.Packages[0]
	require.Equal(t, fossologytest.Name, p.PackageName)
	require.Equal(t, "GPL-2.0-or-later", p.PackageLicenseConcluded)
	files := map[string]*spdx.File{}
	for _, f := range p.Files {
		files[f.FileName] = f
	}
	if len(files) == 0 {
		for _, f := range doc.Files {
			files[f.FileName] = f
		}
	}
	gpl := files["./project/src/hello.c"]
	require.NotNil(t, gpl, "%v", files)
	require.Equal(t, "GPL-2.0-or-later", gpl.LicenseConcluded)
	require.Contains(t, gpl.LicenseInfoInFiles, "GPL-2.0-or-later")
	require.Contains(t, gpl.FileCopyrightText, "Jane Roe")
	require.Equal(t, "MIT", files["./project/vendor/lib.zip/LICENSE"].LicenseConcluded)
	require.Equal(t, "Apache-2.0", files["./project/vendor/lib.zip/x.go"].LicenseConcluded)
	require.Equal(t, "LicenseRef-public-domain", files["./project/NOTICE.latin1"].LicenseConcluded)
	require.Equal(t, "NOASSERTION", files["./project/bin/hello"].LicenseConcluded)
	var refs []string
	for _, ol := range doc.OtherLicenses {
		refs = append(refs, ol.LicenseIdentifier)
	}
	require.Contains(t, refs, "LicenseRef-public-domain")
	sha := ""
	for _, c := range gpl.Checksums {
		if c.Algorithm == "SHA1" {
			sha = c.Value
		}
	}
	require.Len(t, sha, 40)
}

func TestSPDXFormatsParse(t *testing.T) {
	t.Parallel()
	doc, err := rdf.Read(bytes.NewReader(write(t, report.SPDX2)))
	require.NoError(t, err)
	checkSPDX(t, doc)

	doc, err = tagvalue.Read(bytes.NewReader(write(t, report.SPDX2TV)))
	require.NoError(t, err)
	checkSPDX(t, doc)

	raw := write(t, report.SPDX2JSON)
	doc, err = spdxjson.Read(bytes.NewReader(raw))
	require.NoError(t, err)
	checkSPDX(t, doc)
	sch := compile(t, "spdx-schema-2.3.json", "spdx-schema-2.3.json")
	validate(t, sch, raw)
}

func TestCycloneDXValid(t *testing.T) {
	t.Parallel()
	raw := write(t, report.CycloneDX)
	sch := compile(t, "bom-1.6.schema.json", "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json")
	validate(t, sch, raw)
	var bom cdx.BOM
	require.NoError(t, cdx.NewBOMDecoder(bytes.NewReader(raw), cdx.BOMFileFormatJSON).Decode(&bom))
	require.Equal(t, cdx.SpecVersion1_6, bom.SpecVersion)
	byName := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		byName[c.Name] = c
	}
	gpl := byName["project/src/hello.c"]
	require.NotNil(t, gpl.Licenses)
	require.Equal(t, "GPL-2.0-or-later", (*gpl.Licenses)[0].License.ID)
	require.Equal(t, cdx.LicenseAcknowledgementConcluded, (*gpl.Licenses)[0].License.Acknowledgement)
	require.NotNil(t, gpl.Evidence)
	require.Contains(t, (*gpl.Evidence.Copyright)[0].Text, "Jane Roe")
	pd := byName["project/NOTICE.latin1"]
	require.Equal(t, "LicenseRef-public-domain", (*pd.Licenses)[0].License.Name)
}

func TestDEP5ParsesWithOwnParser(t *testing.T) {
	t.Parallel()
	raw := write(t, report.DEP5)
	c, err := dep5.Parse(bytes.NewReader(raw))
	require.NoError(t, err, string(raw))
	require.Equal(t, "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/", c.Format)
	for path, want := range map[string]string{
		"project/src/hello.c":            "GPL-2.0-or-later",
		"project/vendor/lib.zip/LICENSE": "MIT",
		"project/vendor/lib.zip/x.go":    "Apache-2.0",
		"project/NOTICE.latin1":          "LicenseRef-public-domain",
	} {
		p := c.Match(path)
		require.NotNil(t, p, path)
		e, err := dep5.SPDX(p.License)
		require.NoError(t, err)
		require.Equal(t, want, e.String(), path)
	}
	require.Contains(t, c.Match("project/src/hello.c").Copyright, "Copyright (c) 2019 Jane Roe <jane@example.org>")
	e, err := dep5.SPDX(c.Match("anything/else").License)
	require.NoError(t, err)
	require.Equal(t, "GPL-2.0-or-later", e.String(), "Files: * carries the main license")
	require.Contains(t, c.Licenses, "Expat")
}

func TestReadmeOSS(t *testing.T) {
	t.Parallel()
	s := string(write(t, report.ReadmeOSS))
	require.Contains(t, s, fossologytest.Name)
	require.Contains(t, s, "Main license: GPL-2.0-or-later")
	require.Contains(t, s, "MIT\n    project/vendor/lib.zip/LICENSE\n")
	require.Contains(t, s, "Copyright (c) 2020 John Doe")
	require.Contains(t, s, "Copyright (c) 2018 José Müller")
}

// debianPython is Debian's python3, where python3-docx is installed.
const debianPython = "/usr/bin/python3"

func TestUnifiedReportOpensWithPythonDocx(t *testing.T) {
	t.Parallel()
	if out, err := exec.Command(debianPython, "-c", "import docx").CombinedOutput(); err != nil {
		t.Skipf("python3-docx not installed (apt-get install -y python3-docx): %s", out)
	}
	p := filepath.Join(t.TempDir(), "report.docx")
	require.NoError(t, os.WriteFile(p, write(t, report.UnifiedReport), 0o644))
	script := `
import docx, json, sys
d = docx.Document(sys.argv[1])
tables = [[[c.text for c in r.cells] for r in t.rows] for t in d.tables]
print(json.dumps({"headings": [p.text for p in d.paragraphs if p.style.name.startswith("Heading")], "tables": tables}))
`
	out, err := exec.Command(debianPython, "-c", script, p).Output()
	require.NoError(t, err)
	var got struct {
		Headings []string
		Tables   [][][]string
	}
	require.NoError(t, json.Unmarshal(out, &got))
	require.Contains(t, got.Headings, "Licenses")
	require.Contains(t, got.Headings, "Copyrights")
	var lic, cr [][]string
	for _, tb := range got.Tables {
		switch tb[0][0] {
		case "License":
			lic = tb
		case "Copyright":
			cr = tb
		}
	}
	require.NotNil(t, lic, "%v", got.Tables)
	require.NotNil(t, cr)
	require.Equal(t, []string{"License", "Status", "Files"}, lic[0])
	rows := map[string][]string{}
	for _, r := range lic[1:] {
		rows[r[0]] = r
	}
	require.Equal(t, "concluded", rows["MIT"][1])
	require.Equal(t, "project/vendor/lib.zip/LICENSE", rows["MIT"][2])
	require.Equal(t, "project/src/hello.c", rows["GPL-2.0-or-later"][2])
	var statements []string
	for _, r := range cr[1:] {
		statements = append(statements, r[0])
	}
	require.Contains(t, statements, "Copyright (c) 2019 Jane Roe <jane@example.org>")
	require.Contains(t, statements, "Copyright (c) 2018 José Müller")
}

func TestFormats(t *testing.T) {
	t.Parallel()
	f, err := report.ParseFormat("SPDX2TV")
	require.NoError(t, err)
	require.Equal(t, report.SPDX2TV, f)
	_, err = report.ParseFormat("pdf")
	require.ErrorIs(t, err, fault.ErrInvalid)
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	require.Equal(t, "SPDX2_a.zip_2026-12-01_120000.rdf", report.SPDX2.FileName("a.zip", at))
	require.Equal(t, "UnifiedReport_x_y.zip_2026-12-01_120000.docx", report.UnifiedReport.FileName(`x"y.zip`, at))
	for _, f := range report.Formats() {
		require.NotEmpty(t, f.ContentType())
		require.True(t, strings.HasSuffix(f.FileName("u", at), map[bool]string{true: ".docx", false: ""}[f == report.UnifiedReport]))
	}
}

func compile(t *testing.T, main string, files ...string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "analysis", "sbom", "testdata", "schema", f))
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
