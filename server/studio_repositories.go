package server

import (
	"context"
	"strings"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/studio"
)

func toRepository(r studio.Repository) xmlRepository {
	return xmlRepository{ID: r.ID, Name: r.Name, Type: r.Type, BaseSystem: r.BaseSystem, BaseURL: r.BaseURL, Suite: r.Suite,
		Components: strings.Join(r.Components, " ")}
}

func toRepositories(rs []studio.Repository) xmlRepositories {
	out := xmlRepositories{Type: arrayType, Repository: []xmlRepository{}}
	for _, r := range rs {
		out.Repository = append(out.Repository, toRepository(r))
	}
	return out
}

// StudioRepositoryList lists the known repositories.
func (s *Server) StudioRepositoryList(ctx context.Context, r api.StudioRepositoryListRequestObject) (api.StudioRepositoryListResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := s.studio.Repositories(ctx, p.User.ID, deref(r.Params.BaseSystem), deref(r.Params.Filter))
	if err != nil {
		return nil, err
	}
	return replyRepositoryList(ctx, toRepositories(rs))
}

// StudioRepositoryImport imports a Debian archive by URL.
func (s *Server) StudioRepositoryImport(ctx context.Context, r api.StudioRepositoryImportRequestObject) (api.StudioRepositoryImportResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	repo, err := s.studio.Import(ctx, p.User.ID, r.Params.Url, deref(r.Params.Name))
	if err != nil {
		return nil, err
	}
	return replyRepositoryImport(ctx, toRepository(repo))
}

// StudioRepositoryShow shows one repository.
func (s *Server) StudioRepositoryShow(ctx context.Context, r api.StudioRepositoryShowRequestObject) (api.StudioRepositoryShowResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	repo, err := s.studio.Repository(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return replyRepositoryShow(ctx, toRepository(repo))
}

// StudioApplianceRepositoryList lists an appliance's repositories.
func (s *Server) StudioApplianceRepositoryList(ctx context.Context, r api.StudioApplianceRepositoryListRequestObject) (api.StudioApplianceRepositoryListResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := s.studio.ApplianceRepositories(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return replyApplianceRepositoryList(ctx, toRepositories(rs))
}

// StudioApplianceRepositoryUpdate sets an appliance's repositories (by id only).
func (s *Server) StudioApplianceRepositoryUpdate(ctx context.Context, r api.StudioApplianceRepositoryUpdateRequestObject) (api.StudioApplianceRepositoryUpdateResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var body xmlRepositories
	var raw []byte
	if r.JSONBody != nil {
		raw = r.JSONBody.Raw
	}
	if err := decodeStudioBody(raw, r.Body, &body); err != nil {
		return nil, fault.Invalidf("%v", err)
	}
	ids := make([]int64, 0, len(body.Repository))
	for _, x := range body.Repository {
		ids = append(ids, x.ID)
	}
	rs, err := s.studio.SetRepositories(ctx, p.User.ID, r.Id, ids)
	if err != nil {
		return nil, err
	}
	return replyApplianceRepositoryUpdate(ctx, toRepositories(rs))
}

// StudioApplianceAddRepository adds a repository to an appliance.
func (s *Server) StudioApplianceAddRepository(ctx context.Context, r api.StudioApplianceAddRepositoryRequestObject) (api.StudioApplianceAddRepositoryResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := s.studio.AddRepository(ctx, p.User.ID, r.Id, r.Params.RepoId)
	if err != nil {
		return nil, err
	}
	return replyApplianceAddRepository(ctx, toRepositories(rs))
}

// StudioApplianceRemoveRepository removes a repository from an appliance.
func (s *Server) StudioApplianceRemoveRepository(ctx context.Context, r api.StudioApplianceRemoveRepositoryRequestObject) (api.StudioApplianceRemoveRepositoryResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := s.studio.RemoveRepository(ctx, p.User.ID, r.Id, r.Params.RepoId)
	if err != nil {
		return nil, err
	}
	return replyApplianceRemoveRepository(ctx, toRepositories(rs))
}

// StudioApplianceAddUserRepository adds the user's archive of uploaded packages.
func (s *Server) StudioApplianceAddUserRepository(ctx context.Context, r api.StudioApplianceAddUserRepositoryRequestObject) (api.StudioApplianceAddUserRepositoryResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := s.studio.AddUserRepository(ctx, p.User.ID, r.Id)
	if err != nil {
		return nil, err
	}
	return replyApplianceAddUserRepository(ctx, toRepositories(rs))
}
