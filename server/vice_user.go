package server

import (
	"context"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
)

// RegistryUserGet returns the caller (getUser). The password field echoes
// only the secret this request presented in its Basic credentials; no
// stored password exists to return.
func (s *Server) ViceUserGet(ctx context.Context, _ api.ViceUserGetRequestObject) (api.ViceUserGetResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	presented := ""
	if r, err := requestFrom(ctx); err == nil {
		if _, pw, ok := r.BasicAuth(); ok {
			presented = pw
		}
	}
	return api.ViceUserGet200JSONResponse{
		Id: ptr(who.User.UUID), Username: ptr(who.User.Name), Password: ptr(presented),
		Email: ptr(who.User.Email), Fullname: ptr(who.User.FullName),
	}, nil
}

// RegistryUserCreate registers a user (createUser): open to everyone with
// REEHUB_OPEN_REGISTRATION, otherwise only to admins.
func (s *Server) ViceUserCreate(ctx context.Context, req api.ViceUserCreateRequestObject) (api.ViceUserCreateResponseObject, error) {
	nu := auth.NewUser{Name: val(req.Body.Username), Password: val(req.Body.Password), Email: val(req.Body.Email), FullName: val(req.Body.Fullname)}
	var acc auth.Account
	var err error
	if s.cfg.OpenRegistration {
		acc, err = s.auth.Register(ctx, nu)
	} else {
		r, rerr := requestFrom(ctx)
		if rerr != nil {
			return nil, rerr
		}
		by, aerr := s.authenticate(r)
		if aerr != nil {
			return nil, aerr
		}
		if !by.Allows(auth.ScopeAdmin) {
			return nil, fault.New(fault.ErrForbidden, "registration is closed on this server; only an admin may create users")
		}
		acc, err = s.auth.CreateUser(ctx, by, nu)
	}
	if err != nil {
		return nil, err
	}
	return api.ViceUserCreate200JSONResponse{
		Id: ptr(acc.User.UUID), Username: ptr(acc.User.Name), Password: ptr(nu.Password),
		Email: ptr(acc.User.Email), Fullname: ptr(acc.User.FullName),
	}, nil
}
