package server

import (
	"context"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/registry"
)

// RegistryEnvironmentList lists the caller's environments (findEnvironment).
func (s *Server) ViceEnvironmentList(ctx context.Context, req api.ViceEnvironmentListRequestObject) (api.ViceEnvironmentListResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var ml, rt string
	if req.Params.FilterManagementlayer != nil {
		ml = string(*req.Params.FilterManagementlayer)
	}
	if req.Params.FilterRuntimetechnology != nil {
		rt = string(*req.Params.FilterRuntimetechnology)
	}
	envs, err := s.registry.Environments(ctx, who, ml, rt)
	if err != nil {
		return nil, err
	}
	out := make(api.ViceEnvironmentList200JSONResponse, 0, len(envs))
	for _, e := range envs {
		out = append(out, toAPIEnvironment(e))
	}
	return out, nil
}

// RegistryEnvironmentCreate creates an environment (createEnvironment).
func (s *Server) ViceEnvironmentCreate(ctx context.Context, req api.ViceEnvironmentCreateRequestObject) (api.ViceEnvironmentCreateResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.registry.CreateEnvironment(ctx, who, fromAPIEnvironment(req.Body))
	if err != nil {
		return nil, err
	}
	return api.ViceEnvironmentCreate201JSONResponse{ViceEnvironmentSavedJSONResponse: api.ViceEnvironmentSavedJSONResponse(toAPIEnvironment(e))}, nil
}

// RegistryEnvironmentUpdate replaces an environment (updateEnvironment, 201 as in the seed).
func (s *Server) ViceEnvironmentUpdate(ctx context.Context, req api.ViceEnvironmentUpdateRequestObject) (api.ViceEnvironmentUpdateResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.registry.UpdateEnvironment(ctx, who, fromAPIEnvironment(req.Body))
	if err != nil {
		return nil, err
	}
	return api.ViceEnvironmentUpdate201JSONResponse{ViceEnvironmentSavedJSONResponse: api.ViceEnvironmentSavedJSONResponse(toAPIEnvironment(e))}, nil
}

// RegistryEnvironmentGet returns one environment (getEnvironment).
func (s *Server) ViceEnvironmentGet(ctx context.Context, req api.ViceEnvironmentGetRequestObject) (api.ViceEnvironmentGetResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.registry.Environment(ctx, who, req.EnvironmentId)
	if err != nil {
		return nil, err
	}
	return api.ViceEnvironmentGet200JSONResponse(toAPIEnvironment(e)), nil
}

// RegistryEnvironmentDelete deletes an environment (deleteEnvironment).
func (s *Server) ViceEnvironmentDelete(ctx context.Context, req api.ViceEnvironmentDeleteRequestObject) (api.ViceEnvironmentDeleteResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.registry.DeleteEnvironment(ctx, who, req.EnvironmentId); err != nil {
		return nil, err
	}
	return api.ViceEnvironmentDelete200Response{}, nil
}

func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func fromAPIEnvironment(b *api.ViceEnvironment) registry.Environment {
	if b == nil {
		return registry.Environment{}
	}
	e := registry.Environment{ID: val(b.Id), Title: val(b.Title)}
	if c := b.Credentials; c != nil {
		e.Credentials = registry.Credentials{Location: val(c.Location), Username: val(c.Username), Password: val(c.Password), Specifics: val(c.Specifics)}
	}
	if r := b.Runtimetechnology; r != nil {
		e.Runtime = registry.Layer{Type: string(val(r.Type)), Software: val(r.Software), Version: val(r.Version)}
	}
	if m := b.Managementlayer; m != nil {
		e.Management = registry.Layer{Type: string(val(m.Type)), Software: val(m.Software), Version: val(m.Version)}
	}
	return e
}

// toAPIEnvironment always fills the nested objects: the web UI reads them without checks.
func toAPIEnvironment(e registry.Environment) api.ViceEnvironment {
	spec := e.Credentials.Specifics
	if spec == nil {
		spec = map[string]any{}
	}
	rt := api.ViceRuntimeTechnology{Software: ptr(e.Runtime.Software), Version: ptr(e.Runtime.Version)}
	if e.Runtime.Type != "" {
		rt.Type = ptr(api.ViceRuntimeTechnologyType(e.Runtime.Type))
	}
	ml := api.ViceManagementLayer{Software: ptr(e.Management.Software), Version: ptr(e.Management.Version)}
	if e.Management.Type != "" {
		ml.Type = ptr(api.ViceManagementLayerType(e.Management.Type))
	}
	return api.ViceEnvironment{
		Id: ptr(e.ID), Title: ptr(e.Title), Userid: ptr(e.UserID),
		Credentials: &api.ViceCredentials{Location: ptr(e.Credentials.Location), Username: ptr(e.Credentials.Username),
			Password: ptr(e.Credentials.Password), Specifics: &spec},
		Runtimetechnology: &rt, Managementlayer: &ml,
	}
}
