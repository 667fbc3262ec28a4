package server

import (
	"context"
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/fossology"
)

// FossologyCreateToken checks a user name and password (404 when wrong, as
// FOSSology answers) and mints an HS256 JWT valid until 23:59:59 of
// token_expire. A read token carries the read scope; a write token read and
// write (and admin for an admin).
func (s *Server) FossologyCreateToken(ctx context.Context, req api.FossologyCreateTokenRequestObject) (api.FossologyCreateTokenResponseObject, error) {
	b := req.JSONBody
	if b == nil {
		b = req.FormdataBody
	}
	if b == nil {
		return nil, fault.Invalidf("request body: username and password are required")
	}
	name, scope, expire := b.TokenName, b.TokenScope, b.TokenExpire
	if name == nil {
		name = b.TokenNameV2
	}
	if scope == nil {
		scope = b.TokenScopeV2
	}
	if expire == nil {
		expire = b.TokenExpireV2
	}
	day := ""
	if expire != nil {
		day = expire.String()
	} else if gc, ok := ctx.(*gin.Context); ok && req.FormdataBody != nil {
		// The form binder leaves dates out: read the field the strict
		// handler parsed.
		day = gc.Request.PostForm.Get("token_expire")
		if day == "" {
			day = gc.Request.PostForm.Get("tokenExpire")
		}
	}
	if name == nil || *name == "" || scope == nil || day == "" {
		return nil, fault.Invalidf("request body: token_name, token_scope and token_expire are required")
	}
	who, err := s.auth.Basic(auth.WithClientAddr(ctx, clientAddr(ctx)), b.Username, b.Password)
	if errors.Is(err, fault.ErrUnauthenticated) {
		return nil, fault.NotFoundf("Username or password is incorrect")
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	until, err := fossology.TokenExpiry(day, now, time.Local, s.cfg.MaxTokenDays)
	if err != nil {
		return nil, err
	}
	scopes := []auth.Scope{auth.ScopeRead}
	if *scope == api.FossologyTokenScopeWrite {
		scopes = append(scopes, auth.ScopeWrite)
		if who.User.Role == auth.RoleAdmin {
			scopes = append(scopes, auth.ScopeAdmin)
		}
	}
	_, jwt, err := s.auth.MintJWT(ctx, who, auth.NewToken{Name: *name, Scopes: scopes, ExpiresIn: until.Sub(now)})
	if err != nil {
		return nil, err
	}
	return api.FossologyCreateToken201JSONResponse{Authorization: "Bearer " + jwt}, nil
}

// clientAddr is the remote address of the request of ctx, for the login limits.
func clientAddr(ctx context.Context) string {
	if req, err := requestFrom(ctx); err == nil {
		return req.RemoteAddr
	}
	return ""
}
