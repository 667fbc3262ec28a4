package server

import (
	"bytes"
	"context"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/registry"
)

// RegistryDeploy deploys an image into an environment (deployImage).
func (s *Server) ViceDeploy(ctx context.Context, req api.ViceDeployRequestObject) (api.ViceDeployResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	d, err := s.registry.Deploy(ctx, who, registry.Deployment{Title: val(b.Title), ImageID: val(b.Imageid), EnvironmentID: val(b.EnvironmentId)})
	if err != nil {
		return nil, err
	}
	return api.ViceDeploy201JSONResponse(toAPIDeployment(d)), nil
}

// RegistryDeploymentList lists the caller's deployments (findDeployments).
func (s *Server) ViceDeploymentList(ctx context.Context, _ api.ViceDeploymentListRequestObject) (api.ViceDeploymentListResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := s.registry.Deployments(ctx, who)
	if err != nil {
		return nil, err
	}
	out := make(api.ViceDeploymentList200JSONResponse, 0, len(ds))
	for _, d := range ds {
		out = append(out, toAPIDeployment(d))
	}
	return out, nil
}

// RegistryDeploymentGet returns a deployment with its container's state (getDeployment).
func (s *Server) ViceDeploymentGet(ctx context.Context, req api.ViceDeploymentGetRequestObject) (api.ViceDeploymentGetResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.registry.Deployment(ctx, who, req.DeploymentId)
	if err != nil {
		return nil, err
	}
	return api.ViceDeploymentGet200JSONResponse(toAPIDeployment(d)), nil
}

// RegistryDeploymentDelete stops and removes a deployment (deleteDeployment).
func (s *Server) ViceDeploymentDelete(ctx context.Context, req api.ViceDeploymentDeleteRequestObject) (api.ViceDeploymentDeleteResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.registry.DeleteDeployment(ctx, who, req.DeploymentId); err != nil {
		return nil, err
	}
	return api.ViceDeploymentDelete200Response{}, nil
}

// RegistryDeploymentLogs returns the container's log.
func (s *Server) ViceDeploymentLogs(ctx context.Context, req api.ViceDeploymentLogsRequestObject) (api.ViceDeploymentLogsResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := s.registry.DeploymentLogs(ctx, who, req.DeploymentId, &buf); err != nil {
		return nil, err
	}
	return api.ViceDeploymentLogs200TextResponse(buf.String()), nil
}

func toAPIDeployment(d registry.Deployment) api.ViceDeployment {
	out := api.ViceDeployment{
		Id: ptr(d.ID), Title: ptr(d.Title), Userid: ptr(d.UserID), Imageid: ptr(d.ImageID), EnvironmentId: ptr(d.EnvironmentID),
		EnvironmentReference: ptr(d.ContainerID), State: ptr(api.ViceDeploymentState(d.State)), Message: ptr(d.Message), ExitCode: d.ExitCode,
	}
	return out
}
