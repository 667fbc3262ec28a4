package sbom

import (
	"fmt"
	"io"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"

	"github.com/reehub/reehub/analysis/sbom/catalog"
)

// rootRef is the bom-ref of the scanned subject in CycloneDX documents.
const rootRef = "reehub:subject"

// namespaceUUID seeds the deterministic serial numbers and namespaces.
var namespaceUUID = uuid.MustParse("6f1b8a53-5a0e-4d0e-9d6e-2d3f6b7a9c11")

// documentUUID derives a stable UUID from the subject and creation time, so
// the same scan written twice gives the same document.
func (s *SBOM) documentUUID() uuid.UUID {
	return uuid.NewSHA1(namespaceUUID, []byte(s.Name+"\x00"+s.Source.Path+"\x00"+s.Source.ImageID+"\x00"+s.Created.Format(time.RFC3339)))
}

// CycloneDX returns the SBOM as a CycloneDX 1.6 BOM.
func (s *SBOM) CycloneDX() *cdx.BOM {
	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.SerialNumber = "urn:uuid:" + s.documentUUID().String()
	subject := cdx.Component{BOMRef: rootRef, Type: cdx.ComponentTypeFile, Name: s.Name}
	if s.Source.ImageID != "" {
		subject.Type = cdx.ComponentTypeContainer
		subject.Version = s.Source.ImageID
	}
	if s.Distro.ID != "" {
		subject.Properties = &[]cdx.Property{{Name: "reehub:distro", Value: strings.TrimSuffix(s.Distro.ID+"-"+s.Distro.VersionID, "-")}}
	}
	bom.Metadata = &cdx.Metadata{
		Timestamp: s.Created.Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: ToolName, Version: ToolVersion,
		}}},
		Component: &subject,
	}
	comps := make([]cdx.Component, 0, len(s.Packages))
	deps := make([]cdx.Dependency, 0, len(s.Packages)+1)
	top := make([]string, 0, len(s.Packages))
	for i := range s.Packages {
		p := &s.Packages[i]
		comps = append(comps, cdxComponent(p))
		top = append(top, p.ID)
		if len(p.DependsOn) > 0 {
			d := append([]string(nil), p.DependsOn...)
			deps = append(deps, cdx.Dependency{Ref: p.ID, Dependencies: &d})
		}
	}
	deps = append([]cdx.Dependency{{Ref: rootRef, Dependencies: &top}}, deps...)
	bom.Components = &comps
	bom.Dependencies = &deps
	return bom
}

func cdxComponent(p *catalog.Package) cdx.Component {
	c := cdx.Component{
		BOMRef:      p.ID,
		Type:        cdx.ComponentTypeLibrary,
		Name:        p.Name,
		Version:     p.Version,
		PackageURL:  p.PURL,
		Description: p.Description,
	}
	if p.Type == catalog.TypeNPM && strings.HasPrefix(p.Name, "@") {
		g, n, _ := strings.Cut(p.Name, "/")
		c.Group, c.Name = g, n
	}
	if p.Supplier != "" {
		c.Supplier = &cdx.OrganizationalEntity{Name: p.Supplier}
	}
	if lic := p.License(); lic != "" {
		c.Licenses = &cdx.Licenses{{Expression: lic}}
	}
	if strings.HasPrefix(p.Homepage, "http://") || strings.HasPrefix(p.Homepage, "https://") {
		c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeWebsite, URL: p.Homepage}}
	}
	props := []cdx.Property{{Name: "reehub:package:type", Value: string(p.Type)}, {Name: "reehub:found-by", Value: p.FoundBy}}
	for _, l := range p.Locations {
		props = append(props, cdx.Property{Name: "reehub:location", Value: l})
	}
	if p.Arch != "" {
		props = append(props, cdx.Property{Name: "reehub:deb:arch", Value: p.Arch})
	}
	if len(p.Files) > 0 {
		props = append(props, cdx.Property{Name: "reehub:files", Value: fmt.Sprint(len(p.Files))})
	}
	c.Properties = &props
	return c
}

// WriteCycloneDX writes the SBOM as CycloneDX 1.6 JSON.
func (s *SBOM) WriteCycloneDX(w io.Writer) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	if err := enc.EncodeVersion(s.CycloneDX(), cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("write CycloneDX: %w", err)
	}
	return nil
}
