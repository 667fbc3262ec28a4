package report

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/tagvalue"
)

const (
	noAssertion = "NOASSERTION"
	none        = "NONE"
)

// uploadID is the SPDX id of the upload's package.
func (m *model) uploadID() common.ElementID {
	return common.ElementID(fmt.Sprintf("upload%d", m.in.UploadID))
}

// fileID is the SPDX id of the i-th file.
func fileID(i int) common.ElementID { return common.ElementID(fmt.Sprintf("item%d", i+1)) }

// namespace is the document namespace.
func (m *model) namespace() string {
	return fmt.Sprintf("%s/%d-%s", strings.TrimRight(m.in.Namespace, "/"), m.in.UploadID, m.upload.Hash.SHA1)
}

// verificationCode is the SPDX package verification code: the sha1 of the
// sorted sha1s of the package's files.
func (m *model) verificationCode() string {
	sums := make([]string, 0, len(m.files))
	for _, f := range m.files {
		sums = append(sums, f.item.Hash.SHA1)
	}
	slices.Sort(sums)
	h := sha1.Sum([]byte(strings.Join(sums, "")))
	return hex.EncodeToString(h[:])
}

// fileLicenses returns a file's concluded expression and its
// licenseInfoInFile list.
func (f fileInfo) spdxLicenses() (string, []string) {
	concluded := noAssertion
	if len(f.concluded) > 0 {
		concluded = and(f.concluded)
	}
	info := []string{none}
	if len(f.found) > 0 {
		info = make([]string, len(f.found))
		for i, l := range f.found {
			info[i], _ = spdxID(l)
		}
	}
	return concluded, info
}

func (f fileInfo) copyrightText() string {
	if len(f.copyrights) == 0 {
		return none
	}
	return strings.Join(f.copyrights, "\n")
}

// mainConcluded is the upload package's concluded license.
func (m *model) mainConcluded() string {
	if m.in.MainLicense != "" {
		id, _ := spdxID(m.in.MainLicense)
		return id
	}
	return noAssertion
}

// spdxDocument builds the SPDX 2.3 document written as JSON and tag-value.
func (m *model) spdxDocument() *spdx.Document {
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      m.in.Tree.Name,
		DocumentNamespace: m.namespace(),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: m.in.Tool}},
			Created:  m.in.Created.UTC().Format(time.RFC3339),
		},
	}
	var fromFiles []string
	pkg := &spdx.Package{
		PackageName:               m.in.Tree.Name,
		PackageSPDXIdentifier:     m.uploadID(),
		PackageFileName:           m.in.Tree.Name,
		PackageDownloadLocation:   noAssertion,
		FilesAnalyzed:             true,
		PackageVerificationCode:   &common.PackageVerificationCode{Value: m.verificationCode()},
		PackageLicenseConcluded:   m.mainConcluded(),
		PackageLicenseDeclared:    noAssertion,
		PackageCopyrightText:      noAssertion,
		PackageChecksums:          checksums(m.upload.Hash.SHA1, m.upload.Hash.MD5, m.upload.Hash.SHA256),
		PrimaryPackagePurpose:     "SOURCE",
		PackageExternalReferences: nil,
	}
	for i, f := range m.files {
		concluded, info := f.spdxLicenses()
		fromFiles = append(fromFiles, info...)
		pkg.Files = append(pkg.Files, &spdx.File{
			FileName:           "./" + f.rel,
			FileSPDXIdentifier: fileID(i),
			Checksums:          checksums(f.item.Hash.SHA1, f.item.Hash.MD5, f.item.Hash.SHA256),
			LicenseConcluded:   concluded,
			LicenseInfoInFiles: info,
			FileCopyrightText:  f.copyrightText(),
		})
	}
	fromFiles = uniq(fromFiles)
	if len(fromFiles) > 1 {
		fromFiles = slices.DeleteFunc(fromFiles, func(s string) bool { return s == none })
	}
	pkg.PackageLicenseInfoFromFiles = fromFiles
	for _, p := range m.packages {
		pkg.PackageExternalReferences = append(pkg.PackageExternalReferences, &spdx.PackageExternalReference{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.Value,
			ExternalRefComment: "found by " + p.Rule + " in " + p.Path,
		})
	}
	doc.Packages = []*spdx.Package{pkg}
	doc.Relationships = []*spdx.Relationship{{
		RefA:         common.MakeDocElementID("", "DOCUMENT"),
		RefB:         common.MakeDocElementID("", string(m.uploadID())),
		Relationship: common.TypeRelationshipDescribe,
	}}
	for _, r := range m.refs() {
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: r,
			LicenseName:       strings.TrimPrefix(r, "LicenseRef-"),
			ExtractedText:     refText(r),
		})
	}
	return doc
}

// refText is the extracted text stated for a LicenseRef.
func refText(r string) string {
	return "The scanners or the clearing named the license \"" + strings.TrimPrefix(r, "LicenseRef-") + "\", which has no SPDX identifier."
}

func checksums(sha1, md5, sha256 string) []common.Checksum {
	return []common.Checksum{
		{Algorithm: common.SHA1, Value: sha1},
		{Algorithm: common.MD5, Value: md5},
		{Algorithm: common.SHA256, Value: sha256},
	}
}

// writeSPDXJSON writes the document as JSON, where the schema wants the
// files at the top level, each tied to the package by a CONTAINS
// relationship (and the package's hasFiles).
func writeSPDXJSON(w io.Writer, m *model) error {
	doc := m.spdxDocument()
	pkg := doc.Packages[0]
	doc.Files, pkg.Files = pkg.Files, nil
	for _, f := range doc.Files {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(pkg.PackageSPDXIdentifier)),
			RefB:         common.MakeDocElementID("", string(f.FileSPDXIdentifier)),
			Relationship: common.TypeRelationshipContains,
		})
	}
	if err := spdxjson.Write(doc, w, spdxjson.Indent("  ")); err != nil {
		return fmt.Errorf("write SPDX JSON: %w", err)
	}
	return nil
}

func writeSPDXTagValue(w io.Writer, m *model) error {
	if err := tagvalue.Write(m.spdxDocument(), w); err != nil {
		return fmt.Errorf("write SPDX tag-value: %w", err)
	}
	return nil
}

// writeRDF writes the SPDX 2.3 document as RDF/XML, laid out as FOSSology's
// spdx2 agent writes it: an SpdxDocument describing one Package (the
// upload), which has a File element per file with checksums,
// licenseConcluded, licenseInfoInFile and copyrightText, and
// ExtractedLicensingInfo for licenses without an SPDX id.
func writeRDF(w io.Writer, m *model) error {
	doc := m.spdxDocument()
	ns := doc.DocumentNamespace + "#"
	x := &xmlWriter{w: w}
	x.raw(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	x.raw(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" xmlns:spdx="http://spdx.org/rdf/terms#">` + "\n")
	x.raw(`  <spdx:SpdxDocument rdf:about="` + esc(ns) + `SPDXRef-DOCUMENT">` + "\n")
	x.elem(4, "spdx:specVersion", doc.SPDXVersion)
	x.raw(`    <spdx:dataLicense rdf:resource="http://spdx.org/licenses/CC0-1.0"/>` + "\n")
	x.elem(4, "spdx:name", doc.DocumentName)
	x.raw("    <spdx:creationInfo>\n      <spdx:CreationInfo>\n")
	for _, c := range doc.CreationInfo.Creators {
		x.elem(8, "spdx:creator", c.CreatorType+": "+c.Creator)
	}
	x.elem(8, "spdx:created", doc.CreationInfo.Created)
	x.raw("      </spdx:CreationInfo>\n    </spdx:creationInfo>\n")
	for _, ol := range doc.OtherLicenses {
		x.raw("    <spdx:hasExtractedLicensingInfo>\n")
		x.raw(`      <spdx:ExtractedLicensingInfo rdf:about="` + esc(ns+ol.LicenseIdentifier) + `">` + "\n")
		x.elem(8, "spdx:licenseId", ol.LicenseIdentifier)
		x.elem(8, "spdx:name", ol.LicenseName)
		x.elem(8, "spdx:extractedText", ol.ExtractedText)
		x.raw("      </spdx:ExtractedLicensingInfo>\n    </spdx:hasExtractedLicensingInfo>\n")
	}
	pkg := doc.Packages[0]
	x.raw("    <spdx:relationship>\n      <spdx:Relationship>\n")
	x.raw(`        <spdx:relationshipType rdf:resource="http://spdx.org/rdf/terms#relationshipType_describes"/>` + "\n")
	x.raw("        <spdx:relatedSpdxElement>\n")
	x.raw(`          <spdx:Package rdf:about="` + esc(ns) + "SPDXRef-" + string(pkg.PackageSPDXIdentifier) + `">` + "\n")
	x.elem(12, "spdx:name", pkg.PackageName)
	x.elem(12, "spdx:packageFileName", pkg.PackageFileName)
	x.raw(`            <spdx:downloadLocation rdf:resource="http://spdx.org/rdf/terms#noassertion"/>` + "\n")
	x.elem(12, "spdx:filesAnalyzed", "true")
	x.raw("            <spdx:packageVerificationCode>\n              <spdx:PackageVerificationCode>\n")
	x.elem(16, "spdx:packageVerificationCodeValue", pkg.PackageVerificationCode.Value)
	x.raw("              </spdx:PackageVerificationCode>\n            </spdx:packageVerificationCode>\n")
	x.checksums(12, pkg.PackageChecksums)
	x.license(12, "spdx:licenseConcluded", pkg.PackageLicenseConcluded, ns)
	for _, l := range pkg.PackageLicenseInfoFromFiles {
		x.license(12, "spdx:licenseInfoFromFiles", l, ns)
	}
	x.license(12, "spdx:licenseDeclared", pkg.PackageLicenseDeclared, ns)
	x.elem(12, "spdx:copyrightText", pkg.PackageCopyrightText)
	x.raw(`            <spdx:primaryPackagePurpose rdf:resource="http://spdx.org/rdf/terms#purpose_source"/>` + "\n")
	for _, f := range pkg.Files {
		x.raw("            <spdx:hasFile>\n")
		x.raw(`              <spdx:File rdf:about="` + esc(ns) + "SPDXRef-" + string(f.FileSPDXIdentifier) + `">` + "\n")
		x.elem(16, "spdx:fileName", f.FileName)
		x.checksums(16, f.Checksums)
		x.license(16, "spdx:licenseConcluded", f.LicenseConcluded, ns)
		for _, l := range f.LicenseInfoInFiles {
			x.license(16, "spdx:licenseInfoInFile", l, ns)
		}
		x.elem(16, "spdx:copyrightText", f.FileCopyrightText)
		x.raw("              </spdx:File>\n            </spdx:hasFile>\n")
	}
	x.raw("          </spdx:Package>\n        </spdx:relatedSpdxElement>\n      </spdx:Relationship>\n    </spdx:relationship>\n")
	x.raw("  </spdx:SpdxDocument>\n</rdf:RDF>\n")
	if x.err != nil {
		return fmt.Errorf("write SPDX RDF: %w", x.err)
	}
	return nil
}

// xmlWriter writes indented XML, keeping the first error.
type xmlWriter struct {
	w   io.Writer
	err error
}

func (x *xmlWriter) raw(s string) {
	if x.err == nil {
		_, x.err = io.WriteString(x.w, s)
	}
}

func (x *xmlWriter) elem(indent int, name, text string) {
	x.raw(strings.Repeat(" ", indent) + "<" + name + ">" + esc(text) + "</" + name + ">\n")
}

func (x *xmlWriter) checksums(indent int, cs []common.Checksum) {
	pad := strings.Repeat(" ", indent)
	for _, c := range cs {
		x.raw(pad + "<spdx:checksum>\n" + pad + "  <spdx:Checksum>\n")
		x.raw(pad + `    <spdx:algorithm rdf:resource="http://spdx.org/rdf/terms#checksumAlgorithm_` + strings.ToLower(string(c.Algorithm)) + `"/>` + "\n")
		x.elem(indent+4, "spdx:checksumValue", c.Value)
		x.raw(pad + "  </spdx:Checksum>\n" + pad + "</spdx:checksum>\n")
	}
}

// license writes a license property: NOASSERTION, NONE, a listed license,
// a LicenseRef or a conjunction of those.
func (x *xmlWriter) license(indent int, prop, expr, ns string) {
	pad := strings.Repeat(" ", indent)
	parts := strings.Split(expr, " AND ")
	if len(parts) == 1 {
		x.raw(pad + "<" + prop + ` rdf:resource="` + esc(licenseURI(expr, ns)) + `"/>` + "\n")
		return
	}
	x.raw(pad + "<" + prop + ">\n" + pad + "  <spdx:ConjunctiveLicenseSet>\n")
	for _, p := range parts {
		x.raw(pad + `    <spdx:member rdf:resource="` + esc(licenseURI(p, ns)) + `"/>` + "\n")
	}
	x.raw(pad + "  </spdx:ConjunctiveLicenseSet>\n" + pad + "</" + prop + ">\n")
}

func licenseURI(id, ns string) string {
	switch {
	case id == noAssertion:
		return "http://spdx.org/rdf/terms#noassertion"
	case id == none:
		return "http://spdx.org/rdf/terms#none"
	case strings.HasPrefix(id, "LicenseRef-"):
		return ns + id
	}
	return "http://spdx.org/licenses/" + id
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
