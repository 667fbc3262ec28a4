package server

import (
	"context"
	"time"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
)

// AuthMe returns the authenticated user.
func (s *Server) AccountMe(ctx context.Context, _ api.AccountMeRequestObject) (api.AccountMeResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	return api.AccountMe200JSONResponse(toUser(who.User)), nil
}

// AuthCreateUser creates a user (admins only).
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
	u, err := s.auth.CreateUser(ctx, who, nu)
	if err != nil {
		return nil, err
	}
	return api.AccountCreateUser201JSONResponse(toUser(u)), nil
}

// AuthListTokens lists the caller's personal tokens.
func (s *Server) AccountListTokens(ctx context.Context, _ api.AccountListTokensRequestObject) (api.AccountListTokensResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := s.auth.Tokens(ctx, who)
	if err != nil {
		return nil, err
	}
	out := make(api.AccountListTokens200JSONResponse, 0, len(ts))
	for _, t := range ts {
		out = append(out, toToken(t))
	}
	return out, nil
}

// AuthCreateToken creates a personal token and returns its secret once.
func (s *Server) AccountCreateToken(ctx context.Context, req api.AccountCreateTokenRequestObject) (api.AccountCreateTokenResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	nt := auth.NewToken{Name: req.Body.Name}
	for _, sc := range req.Body.Scopes {
		nt.Scopes = append(nt.Scopes, auth.Scope(sc))
	}
	if req.Body.ExpiresInDays != nil {
		nt.ExpiresIn = time.Duration(*req.Body.ExpiresInDays) * 24 * time.Hour
	}
	t, secret, err := s.auth.CreateToken(ctx, who, nt)
	if err != nil {
		return nil, err
	}
	tok := toToken(t)
	return api.AccountCreateToken201JSONResponse{
		Id: tok.Id, Name: tok.Name, Scopes: tok.Scopes, Prefix: tok.Prefix, CreatedAt: tok.CreatedAt,
		ExpiresAt: tok.ExpiresAt, LastUsedAt: tok.LastUsedAt, Token: secret,
	}, nil
}

// AuthDeleteToken revokes one of the caller's tokens.
func (s *Server) AccountDeleteToken(ctx context.Context, req api.AccountDeleteTokenRequestObject) (api.AccountDeleteTokenResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.auth.DeleteToken(ctx, who, req.Id); err != nil {
		return nil, err
	}
	return api.AccountDeleteToken204Response{}, nil
}

func toUser(u auth.User) api.AccountUser {
	return api.AccountUser{Id: u.ID, Name: u.Name, Role: api.AccountRole(u.Role), CreatedAt: u.CreatedAt}
}

func toToken(t auth.Token) api.AccountToken {
	out := api.AccountToken{Id: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt}
	for _, sc := range auth.TokenScopes(t) {
		out.Scopes = append(out.Scopes, api.AccountScope(sc))
	}
	return out
}
