package server

import (
	"context"
	"time"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
)

// AccountListTokens lists the caller's personal tokens.
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
		out = append(out, toAccountToken(t))
	}
	return out, nil
}

// AccountCreateToken creates a personal token and returns its secret once.
func (s *Server) AccountCreateToken(ctx context.Context, req api.AccountCreateTokenRequestObject) (api.AccountCreateTokenResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	t, secret, err := s.auth.CreateToken(ctx, who, toNewToken(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.AccountCreateToken201JSONResponse(toCreatedToken(t, secret)), nil
}

// AccountIssueUserToken issues a personal token for another user (admins only).
func (s *Server) AccountIssueUserToken(ctx context.Context, req api.AccountIssueUserTokenRequestObject) (api.AccountIssueUserTokenResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	t, secret, err := s.auth.IssueToken(ctx, who, req.Uuid.String(), toNewToken(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.AccountIssueUserToken201JSONResponse(toCreatedToken(t, secret)), nil
}

// AccountDeleteToken revokes one of the caller's tokens.
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

func toNewToken(b api.AccountNewToken) auth.NewToken {
	nt := auth.NewToken{Name: b.Name}
	for _, sc := range b.Scopes {
		nt.Scopes = append(nt.Scopes, auth.Scope(sc))
	}
	if b.ExpiresInDays != nil {
		nt.ExpiresIn = time.Duration(*b.ExpiresInDays) * 24 * time.Hour
	}
	return nt
}

func toAccountToken(t auth.Token) api.AccountToken {
	out := api.AccountToken{Id: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt}
	out.Scopes = make([]api.AccountScope, 0, len(t.Scopes))
	for _, sc := range t.Scopes {
		out.Scopes = append(out.Scopes, api.AccountScope(sc))
	}
	return out
}

func toCreatedToken(t auth.Token, secret string) api.AccountCreatedToken {
	tok := toAccountToken(t)
	return api.AccountCreatedToken{
		Id: tok.Id, Name: tok.Name, Scopes: tok.Scopes, Prefix: tok.Prefix, CreatedAt: tok.CreatedAt,
		ExpiresAt: tok.ExpiresAt, LastUsedAt: tok.LastUsedAt, Token: secret,
	}
}
