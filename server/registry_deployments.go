package server

import (
	"bytes"
	"context"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/registry"
)

// RegistryDeploy deploys an image into an environment (deployImage).
func (s *Server) RegistryDeploy(ctx context.Context, req api.RegistryDeployRequestObject) (api.RegistryDeployResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	d, err := s.registry.Deploy(ctx, who, registry.Deployment{Title: val(b.Title), ImageID: val(b.Imageid), EnvironmentID: val(b.EnvironmentId)})
	if err != nil {
		return nil, err
	}
	return api.RegistryDeploy201JSONResponse(toAPIDeployment(d)), nil
}

// RegistryDeploymentList lists the caller's deployments (findDeployments).
func (s *Server) RegistryDeploymentList(ctx context.Context, _ api.RegistryDeploymentListRequestObject) (api.RegistryDeploymentListResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := s.registry.Deployments(ctx, who)
	if err != nil {
		return nil, err
	}
	out := make(api.RegistryDeploymentList200JSONResponse, 0, len(ds))
	for _, d := range ds {
		out = append(out, toAPIDeployment(d))
	}
	return out, nil
}

// RegistryDeploymentGet returns a deployment with its container's state (getDeployment).
func (s *Server) RegistryDeploymentGet(ctx context.Context, req api.RegistryDeploymentGetRequestObject) (api.RegistryDeploymentGetResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.registry.Deployment(ctx, who, req.DeploymentId)
	if err != nil {
		return nil, err
	}
	return api.RegistryDeploymentGet200JSONResponse(toAPIDeployment(d)), nil
}

// RegistryDeploymentDelete stops and removes a deployment (deleteDeployment).
func (s *Server) RegistryDeploymentDelete(ctx context.Context, req api.RegistryDeploymentDeleteRequestObject) (api.RegistryDeploymentDeleteResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.registry.DeleteDeployment(ctx, who, req.DeploymentId); err != nil {
		return nil, err
	}
	return api.RegistryDeploymentDelete200Response{}, nil
}

// RegistryDeploymentLogs returns the container's log.
func (s *Server) RegistryDeploymentLogs(ctx context.Context, req api.RegistryDeploymentLogsRequestObject) (api.RegistryDeploymentLogsResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := s.registry.DeploymentLogs(ctx, who, req.DeploymentId, &buf); err != nil {
		return nil, err
	}
	return api.RegistryDeploymentLogs200TextResponse(buf.String()), nil
}

func toAPIDeployment(d registry.Deployment) api.RegistryDeployment {
	out := api.RegistryDeployment{
		Id: ptr(d.ID), Title: ptr(d.Title), Userid: ptr(d.UserID), Imageid: ptr(d.ImageID), EnvironmentId: ptr(d.EnvironmentID),
		EnvironmentReference: ptr(d.ContainerID), State: ptr(api.RegistryDeploymentState(d.State)), Message: ptr(d.Message), ExitCode: d.ExitCode,
	}
	return out
}
