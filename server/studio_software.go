package server

import (
	"context"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/studio"
)

func toSoftware(id int64, sw studio.Software) xmlSoftware {
	out := xmlSoftware{Type: arrayType, ApplianceID: id, Package: []xmlPackage{}, Pattern: []xmlPackage{}}
	for _, p := range sw.Packages {
		out.Package = append(out.Package, xmlPackage{Name: p.Name, Version: p.Version})
	}
	for _, p := range sw.Patterns {
		out.Pattern = append(out.Pattern, xmlPackage{Name: p})
	}
	return out
}

func toSoftwareMap(id int64, rs []studio.RepoSoftware) xmlSoftwareMap {
	out := xmlSoftwareMap{Type: arrayType, ApplianceID: id, Repository: []xmlMapRepository{}}
	for _, r := range rs {
		x := xmlMapRepository{ID: r.Repository.ID, Name: r.Repository.Name, BaseURL: r.Repository.BaseURL,
			Software: xmlMapSoftware{Type: arrayType, Package: []xmlMapPackage{}, Pattern: []xmlPackage{}}}
		for _, p := range r.Packages {
			m := xmlMapPackage{Name: p.Name, Version: p.Version, Arch: p.Arch, Summary: p.Summary}
			if p.SHA256 != "" {
				m.Checksum, m.ChecksumType = p.SHA256, "SHA256"
			}
			x.Software.Package = append(x.Software.Package, m)
		}
		for _, p := range r.Patterns {
			x.Software.Pattern = append(x.Software.Pattern, xmlPackage{Name: p})
		}
		out.Repository = append(out.Repository, x)
	}
	return out
}

func toChange(c studio.Change) xmlSoftwareChange {
	var out xmlSoftwareChange
	st := &out.Details.Status
	st.State = "unchanged"
	if c.Changed {
		st.State = "changed"
	}
	st.PackagesAdded, st.PackagesRemoved = len(c.Added), len(c.Removed)
	st.Added.Package = append([]string{}, c.Added...)
	st.Removed.Package = append([]string{}, c.Removed...)
	return out
}

// StudioSoftwareShow shows the selected packages and patterns.
func (s *Server) StudioSoftwareShow(ctx context.Context, r api.StudioSoftwareShowRequestObject) (api.StudioSoftwareShowResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	sw, err := s.studio.Software(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return replySoftwareShow(ctx, toSoftware(r.Id, sw))
}

// StudioSoftwareUpdate replaces the selection.
func (s *Server) StudioSoftwareUpdate(ctx context.Context, r api.StudioSoftwareUpdateRequestObject) (api.StudioSoftwareUpdateResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var body xmlSoftware
	var raw []byte
	if r.JSONBody != nil {
		raw = r.JSONBody.Raw
	}
	if err := decodeStudioBody(raw, r.Body, &body); err != nil {
		return nil, fault.Invalidf("%v", err)
	}
	var sw studio.Software
	for _, x := range body.Package {
		sw.Packages = append(sw.Packages, studio.Package{Name: x.Name, Version: x.Version})
	}
	for _, x := range body.Pattern {
		sw.Patterns = append(sw.Patterns, x.Name)
	}
	if _, err := s.studio.SetSoftware(ctx, p.User.ID, r.Id, sw); err != nil {
		return nil, err
	}
	now, err := s.studio.Software(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return replySoftwareUpdate(ctx, toSoftware(r.Id, now))
}

// StudioSoftwareInstalled lists what the next build installs, or what a
// finished build has installed (build_id).
func (s *Server) StudioSoftwareInstalled(ctx context.Context, r api.StudioSoftwareInstalledRequestObject) (api.StudioSoftwareInstalledResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var rs []studio.RepoSoftware
	if r.Params.BuildId != nil {
		found, err := s.studio.BuildInstalled(ctx, p.User.ID, r.Id, *r.Params.BuildId)
		if err != nil {
			return nil, err
		}
		rs = []studio.RepoSoftware{{Repository: studio.Repository{Name: "installed in build"}, Packages: found}}
	} else if rs, err = s.studio.Installed(ctx, p.User.ID, r.Id); err != nil {
		return nil, err
	}
	return replySoftwareInstalled(ctx, toSoftwareMap(r.Id, rs))
}

// StudioSoftwareSearch searches the repositories' packages.
func (s *Server) StudioSoftwareSearch(ctx context.Context, r api.StudioSoftwareSearchRequestObject) (api.StudioSoftwareSearchResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := s.studio.Search(ctx, p.User.ID, r.Id, r.Params.Q, flag(r.Params.AllFields), flag(r.Params.AllRepos))
	if err != nil {
		return nil, err
	}
	return replySoftwareSearch(ctx, toSoftwareMap(r.Id, rs))
}

// StudioSoftwareAddPackage adds a package (optionally of one version).
func (s *Server) StudioSoftwareAddPackage(ctx context.Context, r api.StudioSoftwareAddPackageRequestObject) (api.StudioSoftwareAddPackageResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.studio.AddPackage(ctx, p.User.ID, r.Id, r.Params.Name, deref(r.Params.Version))
	if err != nil {
		return nil, err
	}
	return replySoftwareAddPackage(ctx, toChange(c))
}

// StudioSoftwareRemovePackage removes a package.
func (s *Server) StudioSoftwareRemovePackage(ctx context.Context, r api.StudioSoftwareRemovePackageRequestObject) (api.StudioSoftwareRemovePackageResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.studio.RemovePackage(ctx, p.User.ID, r.Id, r.Params.Name)
	if err != nil {
		return nil, err
	}
	return replySoftwareRemovePackage(ctx, toChange(c))
}

// StudioSoftwareAddPattern adds a pattern (a Debian task or metapackage).
func (s *Server) StudioSoftwareAddPattern(ctx context.Context, r api.StudioSoftwareAddPatternRequestObject) (api.StudioSoftwareAddPatternResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.studio.AddPattern(ctx, p.User.ID, r.Id, r.Params.Name)
	if err != nil {
		return nil, err
	}
	return replySoftwareAddPattern(ctx, toChange(c))
}

// StudioSoftwareRemovePattern removes a pattern.
func (s *Server) StudioSoftwareRemovePattern(ctx context.Context, r api.StudioSoftwareRemovePatternRequestObject) (api.StudioSoftwareRemovePatternResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.studio.RemovePattern(ctx, p.User.ID, r.Id, r.Params.Name)
	if err != nil {
		return nil, err
	}
	return replySoftwareRemovePattern(ctx, toChange(c))
}
