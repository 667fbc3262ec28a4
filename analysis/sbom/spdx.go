package sbom

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/tagvalue"

	"github.com/reehub/reehub/analysis/sbom/catalog"
)

// noAssertion is SPDX's "unknown".
const noAssertion = "NOASSERTION"

var (
	idSanitizer  = regexp.MustCompile(`[^A-Za-z0-9.-]+`)
	licenseRefRE = regexp.MustCompile(`LicenseRef-[A-Za-z0-9.-]+`)
)

// spdxID turns a package ID into a valid SPDX element id (without the
// "SPDXRef-" prefix the library adds), unique within the document.
func spdxID(i int, id string) common.ElementID {
	s := strings.Trim(idSanitizer.ReplaceAllString(id, "-"), "-")
	if len(s) > 120 {
		s = s[:120]
	}
	return common.ElementID(fmt.Sprintf("Package-%d-%s", i, s))
}

// SPDX returns the SBOM as an SPDX 2.3 document. The subject is a package
// that the document DESCRIBES and that CONTAINS every package found; package
// dependencies become DEPENDS_ON relationships, and every LicenseRef used is
// declared as an extracted license.
func (s *SBOM) SPDX() *spdx.Document {
	u := s.documentUUID().String()
	name := s.Name
	if name == "" {
		name = "rootfs"
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: "https://reehub.invalid/spdxdocs/" + idSanitizer.ReplaceAllString(name, "-") + "-" + u,
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: ToolName + "-" + ToolVersion}},
			Created:  s.Created.Format(time.RFC3339),
		},
	}
	subjectID := common.ElementID("Subject")
	subject := &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   subjectID,
		PackageVersion:          s.Source.ImageID,
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   "FILE",
		PackageComment:          "scanned " + string(s.Source.Kind) + " " + s.Source.Path,
	}
	if s.Source.ImageID != "" {
		subject.PrimaryPackagePurpose = "CONTAINER"
	}
	doc.Packages = append(doc.Packages, subject)
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA:         common.MakeDocElementID("", "DOCUMENT"),
		RefB:         common.MakeDocElementID("", string(subjectID)),
		Relationship: common.TypeRelationshipDescribe,
	})
	ids := make(map[string]common.ElementID, len(s.Packages))
	for i := range s.Packages {
		ids[s.Packages[i].ID] = spdxID(i, s.Packages[i].ID)
	}
	refs := map[string]bool{}
	for i := range s.Packages {
		p := &s.Packages[i]
		sp := spdxPackage(p, ids[p.ID])
		for _, r := range licenseRefRE.FindAllString(sp.PackageLicenseDeclared, -1) {
			refs[r] = true
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(subjectID)),
			RefB:         common.MakeDocElementID("", string(ids[p.ID])),
			Relationship: common.TypeRelationshipContains,
		})
		for _, d := range p.DependsOn {
			if did, ok := ids[d]; ok {
				doc.Relationships = append(doc.Relationships, &spdx.Relationship{
					RefA:         common.MakeDocElementID("", string(ids[p.ID])),
					RefB:         common.MakeDocElementID("", string(did)),
					Relationship: common.TypeRelationshipDependsOn,
				})
			}
		}
	}
	names := make([]string, 0, len(refs))
	for r := range refs {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: r,
			LicenseName:       strings.TrimPrefix(r, "LicenseRef-"),
			ExtractedText:     "The package metadata names the license \"" + strings.TrimPrefix(r, "LicenseRef-") + "\", which has no SPDX identifier.",
		})
	}
	return doc
}

func spdxPackage(p *catalog.Package, id common.ElementID) *spdx.Package {
	sp := &spdx.Package{
		PackageName:             p.Name,
		PackageSPDXIdentifier:   id,
		PackageVersion:          p.Version,
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PackageSummary:          p.Description,
		PackageSourceInfo:       "found by " + p.FoundBy + " in " + strings.Join(p.Locations, ", "),
		PrimaryPackagePurpose:   "LIBRARY",
	}
	if lic := p.License(); lic != "" {
		sp.PackageLicenseDeclared = lic
	}
	if strings.HasPrefix(p.Homepage, "http://") || strings.HasPrefix(p.Homepage, "https://") {
		sp.PackageHomePage = p.Homepage
	}
	if p.PURL != "" {
		sp.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL,
		}}
	}
	return sp
}

// WriteSPDXJSON writes the SBOM as SPDX 2.3 JSON.
func (s *SBOM) WriteSPDXJSON(w io.Writer) error {
	if err := spdxjson.Write(s.SPDX(), w, spdxjson.Indent("  ")); err != nil {
		return fmt.Errorf("write SPDX JSON: %w", err)
	}
	return nil
}

// WriteSPDXTagValue writes the SBOM as SPDX 2.3 tag-value.
func (s *SBOM) WriteSPDXTagValue(w io.Writer) error {
	if err := tagvalue.Write(s.SPDX(), w); err != nil {
		return fmt.Errorf("write SPDX tag-value: %w", err)
	}
	return nil
}
