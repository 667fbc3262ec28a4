package server

import (
	"context"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
)

// AccountListGroups lists every group for an admin, the caller's groups otherwise.
func (s *Server) AccountListGroups(ctx context.Context, _ api.AccountListGroupsRequestObject) (api.AccountListGroupsResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	gs, err := s.auth.Groups(ctx, who)
	if err != nil {
		return nil, err
	}
	out := make(api.AccountListGroups200JSONResponse, 0, len(gs))
	for _, g := range gs {
		out = append(out, toAccountGroup(g))
	}
	return out, nil
}

// AccountCreateGroup creates a group (admins only).
func (s *Server) AccountCreateGroup(ctx context.Context, req api.AccountCreateGroupRequestObject) (api.AccountCreateGroupResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	g, err := s.auth.CreateGroup(ctx, who, req.Body.Name)
	if err != nil {
		return nil, err
	}
	return api.AccountCreateGroup201JSONResponse(toAccountGroup(g)), nil
}

// AccountGetGroup returns a group the caller is in (any group for an admin).
func (s *Server) AccountGetGroup(ctx context.Context, req api.AccountGetGroupRequestObject) (api.AccountGetGroupResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	g, err := s.auth.Group(ctx, who, req.Uuid.String())
	if err != nil {
		return nil, err
	}
	return api.AccountGetGroup200JSONResponse(toAccountGroup(g)), nil
}

// AccountAddGroupMember adds a user to a group (admins only).
func (s *Server) AccountAddGroupMember(ctx context.Context, req api.AccountAddGroupMemberRequestObject) (api.AccountAddGroupMemberResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.auth.AddMember(ctx, who, req.Uuid.String(), req.UserUuid.String()); err != nil {
		return nil, err
	}
	return api.AccountAddGroupMember204Response{}, nil
}

// AccountRemoveGroupMember removes a user from a group (admins only).
func (s *Server) AccountRemoveGroupMember(ctx context.Context, req api.AccountRemoveGroupMemberRequestObject) (api.AccountRemoveGroupMemberResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.auth.RemoveMember(ctx, who, req.Uuid.String(), req.UserUuid.String()); err != nil {
		return nil, err
	}
	return api.AccountRemoveGroupMember204Response{}, nil
}

func toAccountGroup(g auth.Group) api.AccountGroup {
	out := api.AccountGroup{Uuid: parseUUID(g.UUID), Name: g.Name, Personal: g.Personal, CreatedAt: g.CreatedAt,
		Members: make([]api.AccountGroupMember, 0, len(g.Members))}
	for _, m := range g.Members {
		out.Members = append(out.Members, api.AccountGroupMember{Uuid: parseUUID(m.UUID), Name: m.Name})
	}
	return out
}
