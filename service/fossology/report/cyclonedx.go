package report

import (
	"fmt"
	"io"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"
)

// bomNamespace derives the serial numbers of CycloneDX reports.
var bomNamespace = uuid.MustParse("6f1f6c53-8a55-4c3e-9a9e-2a3cbb7c2f43")

// cdxLicenses turns ids into CycloneDX licenses: listed ids as id, others
// as name (the schema's id is an enum of SPDX ids).
func cdxLicenses(ids []string, ack cdx.LicenseAcknowledgement) *cdx.Licenses {
	if len(ids) == 0 {
		return nil
	}
	out := make(cdx.Licenses, 0, len(ids))
	for _, id := range ids {
		l := &cdx.License{Acknowledgement: ack}
		if sid, ref := spdxID(id); ref {
			l.Name = sid
		} else {
			l.ID = sid
		}
		out = append(out, cdx.LicenseChoice{License: l})
	}
	return &out
}

func cdxHashes(sha1, md5, sha256 string) *[]cdx.Hash {
	return &[]cdx.Hash{
		{Algorithm: cdx.HashAlgoSHA1, Value: sha1},
		{Algorithm: cdx.HashAlgoMD5, Value: md5},
		{Algorithm: cdx.HashAlgoSHA256, Value: sha256},
	}
}

// writeCycloneDX writes a CycloneDX 1.6 JSON BOM: the upload as the
// metadata component, one file component per file (concluded licenses as
// its licenses, scanner findings and copyrights as its evidence) and one
// library component per package the package agent found.
func writeCycloneDX(w io.Writer, m *model) error {
	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.SerialNumber = "urn:uuid:" + uuid.NewSHA1(bomNamespace, []byte(m.namespace()+"\x00"+m.in.Created.UTC().Format(time.RFC3339))).String()
	root := cdx.Component{
		BOMRef: fmt.Sprintf("upload-%d", m.in.UploadID), Type: cdx.ComponentTypeFile, Name: m.in.Tree.Name,
		Hashes:   cdxHashes(m.upload.Hash.SHA1, m.upload.Hash.MD5, m.upload.Hash.SHA256),
		Licenses: cdxLicenses(nonEmpty(m.in.MainLicense), cdx.LicenseAcknowledgementConcluded),
	}
	bom.Metadata = &cdx.Metadata{
		Timestamp: m.in.Created.UTC().Format(time.RFC3339),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: m.in.Tool}}},
		Component: &root,
	}
	comps := make([]cdx.Component, 0, len(m.files)+len(m.packages))
	refs := make([]string, 0, cap(comps))
	for i, f := range m.files {
		c := cdx.Component{
			BOMRef: string(fileID(i)), Type: cdx.ComponentTypeFile, Name: f.rel,
			Hashes:   cdxHashes(f.item.Hash.SHA1, f.item.Hash.MD5, f.item.Hash.SHA256),
			Licenses: cdxLicenses(f.concluded, cdx.LicenseAcknowledgementConcluded),
		}
		if f.item.MimeType != "" {
			c.MIMEType = f.item.MimeType
		}
		if len(f.found) > 0 || len(f.copyrights) > 0 {
			ev := &cdx.Evidence{Licenses: cdxLicenses(f.found, "")}
			if len(f.copyrights) > 0 {
				crs := make([]cdx.Copyright, len(f.copyrights))
				for j, s := range f.copyrights {
					crs[j] = cdx.Copyright{Text: s}
				}
				ev.Copyright = &crs
			}
			c.Evidence = ev
		}
		comps = append(comps, c)
		refs = append(refs, c.BOMRef)
	}
	for i, p := range m.packages {
		c := cdx.Component{
			BOMRef: fmt.Sprintf("package-%d", i+1), Type: cdx.ComponentTypeLibrary, Name: p.Value, PackageURL: p.Value,
			Properties: &[]cdx.Property{{Name: "reehub:found-in", Value: relPath(p.Path, m.in.Tree.Name)}, {Name: "reehub:found-by", Value: p.Rule}},
		}
		comps = append(comps, c)
		refs = append(refs, c.BOMRef)
	}
	bom.Components = &comps
	bom.Dependencies = &[]cdx.Dependency{{Ref: root.BOMRef, Dependencies: &refs}}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("write CycloneDX: %w", err)
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
