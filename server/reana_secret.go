package server

import (
	"context"
	"sort"
	"strings"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/reana"
)

// ReanaSecretList lists the names and types of the caller's secrets.
func (s *Server) ReanaSecretList(ctx context.Context, _ api.ReanaSecretListRequestObject) (api.ReanaSecretListResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	secs, err := s.workflows.Secrets(ctx, owner)
	if err != nil {
		return nil, err
	}
	out := make(api.ReanaSecretList200JSONResponse, len(secs))
	for i, sec := range secs {
		out[i] = api.ReanaSecret{Name: sec.Name, Type: api.ReanaSecretType(sec.Type)}
	}
	return out, nil
}

// ReanaSecretAdd stores secrets, encrypted.
func (s *Server) ReanaSecretAdd(ctx context.Context, req api.ReanaSecretAddRequestObject) (api.ReanaSecretAddResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil || len(*req.Body) == 0 {
		return nil, fault.Invalidf("the body maps each secret's name to {name, value, type}")
	}
	var secs []reana.Secret
	var names []string
	for key, in := range *req.Body {
		if in.Name != key {
			return nil, fault.Invalidf("secret %s: its name field says %q", key, in.Name)
		}
		sec, err := reana.ParseSecretInput(in.Name, in.Value, string(in.Type))
		if err != nil {
			return nil, err
		}
		secs = append(secs, sec)
		names = append(names, in.Name)
	}
	sort.Strings(names)
	overwrite := req.Params.Overwrite != nil && *req.Params.Overwrite
	if err := s.workflows.AddSecrets(ctx, owner, secs, overwrite); err != nil {
		return nil, err
	}
	return api.ReanaSecretAdd201JSONResponse{Message: "Secrets " + strings.Join(names, ", ") + " successfully added."}, nil
}

// ReanaSecretDelete deletes secrets; a missing name answers 404 with the missing names.
func (s *Server) ReanaSecretDelete(ctx context.Context, req api.ReanaSecretDeleteRequestObject) (api.ReanaSecretDeleteResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil || len(*req.Body) == 0 {
		return nil, fault.Invalidf("the body lists the names of the secrets to delete")
	}
	missing, err := s.workflows.DeleteSecrets(ctx, owner, *req.Body)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return api.ReanaSecretDelete404JSONResponse(missing), nil
	}
	return api.ReanaSecretDelete200JSONResponse(*req.Body), nil
}
