package report

import (
	"archive/zip"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The fixed parts of a minimal WordprocessingML package.
const (
	docxContentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
</Types>`
	docxRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
</Relationships>`
	docxDocRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>`
	docxStyles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Arial" w:hAnsi="Arial"/><w:sz w:val="18"/></w:rPr></w:rPrDefault></w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="28"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:sz w:val="24"/></w:rPr></w:style>
<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/></w:style>
<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:basedOn w:val="TableNormal"/><w:tblPr><w:tblBorders>
<w:top w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:left w:val="single" w:sz="4" w:space="0" w:color="auto"/>
<w:bottom w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:right w:val="single" w:sz="4" w:space="0" w:color="auto"/>
<w:insideH w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="auto"/>
</w:tblBorders></w:tblPr></w:style>
</w:styles>`
)

// docx builds the body of a WordprocessingML document.
type docx struct{ b strings.Builder }

func (d *docx) para(style, text string) {
	d.b.WriteString("<w:p>")
	if style != "" {
		d.b.WriteString(`<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`)
	}
	d.run(text, false)
	d.b.WriteString("</w:p>")
}

// run writes text as runs, one line break per newline.
func (d *docx) run(text string, bold bool) {
	d.b.WriteString("<w:r>")
	if bold {
		d.b.WriteString("<w:rPr><w:b/></w:rPr>")
	}
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			d.b.WriteString("<w:br/>")
		}
		d.b.WriteString(`<w:t xml:space="preserve">` + esc(xmlSafe(line)) + "</w:t>")
	}
	d.b.WriteString("</w:r>")
}

// table writes a table with a bold header row.
func (d *docx) table(header []string, rows [][]string) {
	d.b.WriteString(`<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="5000" w:type="pct"/></w:tblPr><w:tblGrid>`)
	for range header {
		d.b.WriteString(fmt.Sprintf(`<w:gridCol w:w="%d"/>`, 9000/len(header)))
	}
	d.b.WriteString("</w:tblGrid>")
	row := func(cells []string, bold bool) {
		d.b.WriteString("<w:tr>")
		for _, c := range cells {
			d.b.WriteString("<w:tc><w:p>")
			d.run(c, bold)
			d.b.WriteString("</w:p></w:tc>")
		}
		d.b.WriteString("</w:tr>")
	}
	row(header, true)
	for _, r := range rows {
		row(r, false)
	}
	d.b.WriteString("</w:tbl>")
	d.para("", "")
}

// xmlSafe drops the characters XML 1.0 cannot hold.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r >= 0x20 && r != 0xfffe && r != 0xffff {
			return r
		}
		return -1
	}, s)
}

// writeDocx writes the unified report: a summary table, the license table
// (license, status, files), the copyright table (statement, files) and, for
// review, a table of the files with export-control and keyword findings.
func writeDocx(w io.Writer, m *model) error {
	var d docx
	d.para("Heading1", "Unified report: "+m.in.Tree.Name)
	main := m.in.MainLicense
	if main == "" {
		main = "not concluded"
	}
	cleared := 0
	for _, f := range m.files {
		if f.status.Cleared() {
			cleared++
		}
	}
	d.para("Heading2", "Summary")
	d.table([]string{"Item", "Value"}, [][]string{
		{"Upload", m.in.Tree.Name},
		{"Upload id", fmt.Sprint(m.in.UploadID)},
		{"SHA1", m.upload.Hash.SHA1},
		{"Main license", main},
		{"Files", fmt.Sprint(len(m.files))},
		{"Files cleared", fmt.Sprint(cleared)},
		{"Report created", m.in.Created.UTC().Format(time.RFC3339) + " by " + m.in.Tool},
	})

	rows := map[[2]string][]string{}
	for _, f := range m.files {
		for _, l := range f.concluded {
			rows[[2]string{l, "concluded"}] = append(rows[[2]string{l, "concluded"}], f.rel)
		}
		if f.concluded == nil {
			for _, l := range f.found {
				rows[[2]string{l, "found by scanners, not cleared"}] = append(rows[[2]string{l, "found by scanners, not cleared"}], f.rel)
			}
		}
	}
	d.para("Heading2", "Licenses")
	d.table([]string{"License", "Status", "Files"}, sortedRows(rows))

	crs := map[[2]string][]string{}
	ecc := map[[2]string][]string{}
	for _, f := range m.files {
		for _, c := range f.copyrights {
			crs[[2]string{c, ""}] = append(crs[[2]string{c, ""}], f.rel)
		}
	}
	for _, fd := range m.in.Findings {
		if fd.Type == "ecc" || fd.Type == "keyword" {
			k := [2]string{fd.Value, string(fd.Type)}
			ecc[k] = append(ecc[k], relPath(fd.Path, m.in.Tree.Name))
		}
	}
	d.para("Heading2", "Copyrights")
	var crRows [][]string
	for _, r := range sortedRows(crs) {
		crRows = append(crRows, []string{r[0], r[2]})
	}
	d.table([]string{"Copyright", "Files"}, crRows)
	d.para("Heading2", "Export restrictions and keywords")
	d.table([]string{"Keyword", "Agent", "Files"}, sortedRows(ecc))

	body := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>` +
		d.b.String() + `<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="0" w:footer="0" w:gutter="0"/></w:sectPr></w:body></w:document>`
	core := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<dc:title>` + esc(xmlSafe("Unified report: "+m.in.Tree.Name)) + `</dc:title><dc:creator>` + esc(xmlSafe(m.in.Tool)) + `</dc:creator>` +
		`<dcterms:created xsi:type="dcterms:W3CDTF">` + m.in.Created.UTC().Format(time.RFC3339) + `</dcterms:created></cp:coreProperties>`

	zw := zip.NewWriter(w)
	mod := m.in.Created.UTC()
	if mod.Year() < 1980 {
		mod = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	for _, p := range []struct{ name, body string }{
		{"[Content_Types].xml", docxContentTypes},
		{"_rels/.rels", docxRels},
		{"word/document.xml", body},
		{"word/_rels/document.xml.rels", docxDocRels},
		{"word/styles.xml", docxStyles},
		{"docProps/core.xml", core},
	} {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: mod})
		if err != nil {
			return fmt.Errorf("write unified report: %w", err)
		}
		if _, err := io.WriteString(fw, p.body); err != nil {
			return fmt.Errorf("write unified report: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write unified report: %w", err)
	}
	return nil
}

// sortedRows turns a map of (a, b) -> files into sorted rows a, b, files.
func sortedRows(m map[[2]string][]string) [][]string {
	keys := make([][2]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [2]string) int {
		if c := strings.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return strings.Compare(x[1], y[1])
	})
	out := make([][]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, []string{k[0], k[1], strings.Join(uniq(m[k]), "\n")})
	}
	return out
}
