package server

import (
	"context"
	"fmt"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/studio"
)

// baseURL is the scheme and host the request came to, for the URLs Studio
// documents carry (edit_url, download_url).
func baseURL(ctx context.Context) string {
	req, err := requestFrom(ctx)
	if err != nil {
		return ""
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + req.Host
}

// mb is a size in MB, rounded up, as Studio showed sizes.
func mb(n int64) int64 { return (n + (1<<20 - 1)) >> 20 }

func toTemplateSet(t studio.TemplateSet) xmlTemplateSet {
	out := xmlTemplateSet{Name: t.Name, Description: t.Description, Template: []xmlTemplate{}}
	for _, a := range t.Templates {
		out.Template = append(out.Template, xmlTemplate{ApplianceID: a.ID, Name: a.Name, Description: a.Description, Basesystem: a.Basesystem})
	}
	return out
}

// StudioTemplateSetList lists the template sets.
func (s *Server) StudioTemplateSetList(ctx context.Context, _ api.StudioTemplateSetListRequestObject) (api.StudioTemplateSetListResponseObject, error) {
	sets, err := s.studio.TemplateSets(ctx)
	if err != nil {
		return nil, err
	}
	out := xmlTemplateSets{Type: arrayType, TemplateSet: []xmlTemplateSet{}}
	for _, t := range sets {
		out.TemplateSet = append(out.TemplateSet, toTemplateSet(t))
	}
	return replyTemplateSetList(ctx, out)
}

// StudioTemplateSetShow shows one template set.
func (s *Server) StudioTemplateSetShow(ctx context.Context, r api.StudioTemplateSetShowRequestObject) (api.StudioTemplateSetShowResponseObject, error) {
	t, err := s.studio.TemplateSet(ctx, r.Name)
	if err != nil {
		return nil, err
	}
	return replyTemplateSetShow(ctx, toTemplateSet(t))
}

func toAppliance(ctx context.Context, a studio.Appliance) xmlAppliance {
	base := baseURL(ctx)
	out := xmlAppliance{ID: a.ID, Name: a.Name, Arch: a.Arch, Type: "oci", LastEdited: a.LastEdited.UTC().Format(studioTime),
		EstimatedRawSize: fmt.Sprintf("%d MB", mb(a.EstimatedRaw)), EstimatedCompressedSize: fmt.Sprintf("%d MB", mb(a.EstimatedCompressed)),
		EditURL: fmt.Sprintf("%s/api/v1/user/appliances/%d", base, a.ID), IconURL: "", Basesystem: a.Basesystem, UUID: a.UUID,
		Builds: xmlApplianceBuilds{Type: arrayType, Build: []xmlApplianceBuild{}}}
	if a.ParentID != nil {
		out.Parent = xmlParent{ID: *a.ParentID, Name: a.ParentName}
	}
	for _, b := range a.Builds {
		out.Builds.Build = append(out.Builds.Build, xmlApplianceBuild{ID: b.ID, Version: b.Version, ImageType: b.ImageType,
			ImageSize: mb(b.Size), CompressedImageSize: mb(b.CompressedSize), DownloadURL: downloadURL(base, b.ID)})
	}
	return out
}

func downloadURL(base string, buildID int64) string {
	return fmt.Sprintf("%s/api/v1/user/builds/%d/download", base, buildID)
}

// StudioApplianceList lists the user's appliances.
func (s *Server) StudioApplianceList(ctx context.Context, _ api.StudioApplianceListRequestObject) (api.StudioApplianceListResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	as, err := s.studio.Appliances(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	out := xmlAppliances{Type: arrayType, Appliance: []xmlAppliance{}}
	for _, a := range as {
		out.Appliance = append(out.Appliance, toAppliance(ctx, a))
	}
	return replyApplianceList(ctx, out)
}

// StudioApplianceCreate clones a template or an appliance.
func (s *Server) StudioApplianceCreate(ctx context.Context, r api.StudioApplianceCreateRequestObject) (api.StudioApplianceCreateResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	name, arch := "", ""
	if r.Params.Name != nil {
		name = *r.Params.Name
	}
	if r.Params.Arch != nil {
		arch = string(*r.Params.Arch)
	}
	a, err := s.studio.Create(ctx, p.User.ID, r.Params.CloneFrom, name, arch)
	if err != nil {
		return nil, err
	}
	return replyApplianceCreate(ctx, toAppliance(ctx, a))
}

// StudioApplianceShow shows an appliance with its finished builds.
func (s *Server) StudioApplianceShow(ctx context.Context, r api.StudioApplianceShowRequestObject) (api.StudioApplianceShowResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.studio.Appliance(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return replyApplianceShow(ctx, toAppliance(ctx, a))
}

// StudioApplianceDelete deletes an appliance.
func (s *Server) StudioApplianceDelete(ctx context.Context, r api.StudioApplianceDeleteRequestObject) (api.StudioApplianceDeleteResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.studio.Delete(ctx, p.User.ID, r.Id); err != nil {
		return nil, err
	}
	return replyApplianceDelete(ctx, xmlSuccess{})
}

// StudioApplianceStatus reports the appliance's issues.
func (s *Server) StudioApplianceStatus(ctx context.Context, r api.StudioApplianceStatusRequestObject) (api.StudioApplianceStatusResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	issues, err := s.studio.Status(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	out := xmlStatus{State: "ok", Issues: xmlIssues{Issue: []xmlIssue{}}}
	for _, i := range issues {
		x := xmlIssue{Type: i.Type, Text: i.Text}
		if i.SolutionType != "" {
			x.Solution = &xmlSolution{Type: i.SolutionType, Package: i.SolutionPackage}
		}
		if i.Type == "error" {
			out.State = "error"
		}
		out.Issues.Issue = append(out.Issues.Issue, x)
	}
	return replyApplianceStatus(ctx, out)
}
