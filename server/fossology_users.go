package server

import (
	"context"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
)

// defaultAgents are the agents FOSSology schedules by default, as
// /users/self shows them (mimetype, as FOSSology spells it).
var defaultAgents = api.FossologyUserAgents{CopyrightEmailAuthor: true, Mimetype: true, Monk: true, Nomos: true, Ojo: true}

// fossUser converts an account, with its default group id.
func fossUser(a auth.Account, defaultGroup int64) api.FossologyUser {
	level := api.FossologyUserAccessLevelReadWrite
	if a.Role == auth.RoleAdmin {
		level = api.FossologyUserAccessLevelAdmin
	}
	root, notify, agents := 1, false, defaultAgents
	u := api.FossologyUser{Id: int(a.ID), Name: a.Name, Description: a.FullName, AccessLevel: &level, RootFolderId: &root,
		EmailNotification: &notify, Agents: &agents}
	if a.Email != "" {
		u.Email = &a.Email
	}
	if defaultGroup > 0 {
		g := int(defaultGroup)
		u.DefaultGroup = &g
	}
	return u
}

// FossologyGetSelf returns the caller.
func (s *Server) FossologyGetSelf(ctx context.Context, req api.FossologyGetSelfRequestObject) (api.FossologyGetSelfResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	me, err := s.auth.Me(ctx, who)
	if err != nil {
		return nil, err
	}
	c, err := s.fossCaller(ctx, nil)
	if err != nil {
		return nil, err
	}
	if req.Params.GroupName != nil {
		if _, err := s.fossCaller(ctx, req.Params.GroupName); err != nil {
			return nil, err
		}
	}
	return api.FossologyGetSelf200JSONResponse(fossUser(me, c.GroupID)), nil
}

// FossologyListUsers lists every user (admins only).
func (s *Server) FossologyListUsers(ctx context.Context, _ api.FossologyListUsersRequestObject) (api.FossologyListUsersResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	accs, err := s.auth.Users(ctx, who)
	if err != nil {
		return nil, err
	}
	out := make(api.FossologyListUsers200JSONResponse, 0, len(accs))
	for _, a := range accs {
		out = append(out, fossUser(a, 0))
	}
	return out, nil
}

// FossologyGetUser returns one user by id (admins only).
func (s *Server) FossologyGetUser(ctx context.Context, req api.FossologyGetUserRequestObject) (api.FossologyGetUserResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	accs, err := s.auth.Users(ctx, who)
	if err != nil {
		return nil, err
	}
	for _, a := range accs {
		if a.ID == int64(req.Id) {
			return api.FossologyGetUser200JSONResponse(fossUser(a, 0)), nil
		}
	}
	return nil, fault.NotFoundf("user %d not found", req.Id)
}
