package server

import (
	"context"

	"github.com/google/uuid"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
)

// AccountMe returns the authenticated user with their groups.
func (s *Server) AccountMe(ctx context.Context, _ api.AccountMeRequestObject) (api.AccountMeResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	acc, err := s.auth.Me(ctx, who)
	if err != nil {
		return nil, err
	}
	return api.AccountMe200JSONResponse(toAccountUser(acc)), nil
}

// AccountListUsers lists every user (admins only).
func (s *Server) AccountListUsers(ctx context.Context, _ api.AccountListUsersRequestObject) (api.AccountListUsersResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	accs, err := s.auth.Users(ctx, who)
	if err != nil {
		return nil, err
	}
	out := make(api.AccountListUsers200JSONResponse, 0, len(accs))
	for _, a := range accs {
		out = append(out, toAccountUser(a))
	}
	return out, nil
}

// AccountCreateUser creates a user and their default group (admins only).
func (s *Server) AccountCreateUser(ctx context.Context, req api.AccountCreateUserRequestObject) (api.AccountCreateUserResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	nu := auth.NewUser{Name: req.Body.Name}
	if req.Body.Password != nil {
		nu.Password = *req.Body.Password
	}
	if req.Body.Role != nil {
		nu.Role = auth.Role(*req.Body.Role)
	}
	if req.Body.Email != nil {
		nu.Email = string(*req.Body.Email)
	}
	if req.Body.FullName != nil {
		nu.FullName = *req.Body.FullName
	}
	acc, err := s.auth.CreateUser(ctx, who, nu)
	if err != nil {
		return nil, err
	}
	return api.AccountCreateUser201JSONResponse(toAccountUser(acc)), nil
}

// AccountGetUser returns one user (admins only).
func (s *Server) AccountGetUser(ctx context.Context, req api.AccountGetUserRequestObject) (api.AccountGetUserResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	acc, err := s.auth.User(ctx, who, req.Uuid.String())
	if err != nil {
		return nil, err
	}
	return api.AccountGetUser200JSONResponse(toAccountUser(acc)), nil
}

// AccountUpdateUser changes the fields of a user that the request names (admins only).
func (s *Server) AccountUpdateUser(ctx context.Context, req api.AccountUpdateUserRequestObject) (api.AccountUpdateUserResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	up := auth.UserUpdate{
		Email: req.Body.Email, FullName: req.Body.FullName, Password: req.Body.Password, Disabled: req.Body.Disabled,
	}
	if req.Body.Role != nil {
		r := auth.Role(*req.Body.Role)
		up.Role = &r
	}
	acc, err := s.auth.UpdateUser(ctx, who, req.Uuid.String(), up)
	if err != nil {
		return nil, err
	}
	return api.AccountUpdateUser200JSONResponse(toAccountUser(acc)), nil
}

// AccountDisableUser disables a user and revokes their tokens (admins only).
func (s *Server) AccountDisableUser(ctx context.Context, req api.AccountDisableUserRequestObject) (api.AccountDisableUserResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.auth.DisableUser(ctx, who, req.Uuid.String()); err != nil {
		return nil, err
	}
	return api.AccountDisableUser204Response{}, nil
}

func toAccountUser(a auth.Account) api.AccountUser {
	return api.AccountUser{
		Id: a.ID, Uuid: parseUUID(a.UUID), Name: a.Name, Email: a.Email, FullName: a.FullName,
		Role: api.AccountRole(a.Role), Disabled: a.Disabled, DefaultGroup: a.DefaultGroup, Groups: a.Groups,
		CreatedAt: a.CreatedAt,
	}
}

// parseUUID converts a UUID the services generated; they are always valid.
func parseUUID(s string) uuid.UUID {
	id, _ := uuid.Parse(s)
	return id
}
