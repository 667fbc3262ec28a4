package server

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/service/workflow"
)

// reanaOwner is the principal as the workflow service's owner.
func reanaOwner(ctx context.Context) (auth.Principal, workflow.Owner, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return auth.Principal{}, workflow.Owner{}, err
	}
	return who, workflow.Owner{ID: who.User.ID, UUID: who.User.UUID}, nil
}

func quotaAmount(n float64, human string) api.ReanaQuotaAmount {
	return api.ReanaQuotaAmount{Raw: float32(n), HumanReadable: human}
}

// ReanaYou reports the caller, the server's version and the quota (reana-client ping).
func (s *Server) ReanaYou(ctx context.Context, _ api.ReanaYouRequestObject) (api.ReanaYouResponseObject, error) {
	who, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	q, err := s.workflows.QuotaOf(ctx, owner)
	if err != nil {
		return nil, err
	}
	out := api.ReanaYou{Email: who.User.Email, FullName: who.User.FullName, ReanaServerVersion: s.cfg.Version, Username: &who.User.Name}
	if out.FullName == "" {
		out.FullName = who.User.Name
	}
	health := api.ReanaQuotaResourceHealth("healthy")
	limitHuman := "unlimited"
	if q.Limit > 0 {
		limitHuman = reana.HumanSize(q.Limit)
		switch ratio := float64(q.Used) / float64(q.Limit); {
		case ratio >= 1:
			health = "critical"
		case ratio >= 0.8:
			health = "warning"
		}
	}
	out.Quota.Disk = api.ReanaQuotaResource{Usage: quotaAmount(float64(q.Used), reana.HumanSize(q.Used)), Limit: quotaAmount(float64(q.Limit), limitHuman), Health: health}
	cpuMs := float64(q.CPU.Milliseconds())
	out.Quota.Cpu = api.ReanaQuotaResource{Usage: quotaAmount(cpuMs, q.CPU.Round(1e9).String()), Limit: quotaAmount(0, "unlimited"), Health: "healthy"}
	return api.ReanaYou200JSONResponse(out), nil
}

// ReanaInfo reports the server's capabilities as REANA does.
func (s *Server) ReanaInfo(ctx context.Context, _ api.ReanaInfoRequestObject) (api.ReanaInfoResponseObject, error) {
	if _, err := principalFrom(ctx); err != nil {
		return nil, err
	}
	str := func(title string, v *string) api.ReanaInfoString { return api.ReanaInfoString{Title: title, Value: v} }
	ptr := func(v string) *string { return &v }
	root := s.workflows.WorkspaceRoot()
	info := api.ReanaInfo{
		ComputeBackends:              api.ReanaInfoList{Title: "List of supported compute backends", Value: reana.ComputeBackends()},
		WorkspacesAvailable:          api.ReanaInfoList{Title: "List of available workspaces", Value: []string{root}},
		DefaultWorkspace:             str("Default workspace", ptr(root)),
		DefaultKubernetesJobsTimeout: str("Default timeout for Kubernetes jobs", ptr("604800")),
		MaximumKubernetesJobsTimeout: str("Maximum timeout for Kubernetes jobs", ptr("1209600")),
		SupportedWorkflowEngines:     &api.ReanaInfoList{Title: "List of supported workflow engines", Value: []string{reana.WorkflowTypeSerial}},
	}
	none := str("Default memory limit for Kubernetes jobs", nil)
	info.DefaultKubernetesMemoryLimit = &none
	return api.ReanaInfo200JSONResponse(info), nil
}

func toReanaUser(u auth.User) api.ReanaUser {
	id := uuid.MustParse(u.UUID)
	return api.ReanaUser{Id: id, LegacyId: id, Email: u.Email}
}

// ReanaUserList lists the users matching the filters (admins only).
func (s *Server) ReanaUserList(ctx context.Context, req api.ReanaUserListRequestObject) (api.ReanaUserListResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var f auth.UserFilter
	if req.Params.Email != nil {
		f.Email = *req.Params.Email
	}
	if req.Params.Id != nil {
		f.UUID = req.Params.Id.String()
	} else if req.Params.LegacyId != nil {
		f.UUID = req.Params.LegacyId.String()
	}
	if req.Params.UserToken != nil {
		f.Token = *req.Params.UserToken
	}
	us, err := s.auth.FindUsers(ctx, who, f)
	if err != nil {
		return nil, err
	}
	out := make(api.ReanaUserList200JSONResponse, len(us))
	for i, u := range us {
		out[i] = toReanaUser(u)
	}
	return out, nil
}

// ReanaUserCreate creates a user and returns their access token (admins only).
func (s *Server) ReanaUserCreate(ctx context.Context, req api.ReanaUserCreateRequestObject) (api.ReanaUserCreateResponseObject, error) {
	who, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	tok := ""
	if req.Params.UserToken != nil {
		tok = *req.Params.UserToken
	}
	u, secret, err := s.auth.CreateAccessTokenUser(ctx, who, strings.TrimSpace(string(req.Params.Email)), tok)
	if err != nil {
		return nil, err
	}
	ru := toReanaUser(u)
	return api.ReanaUserCreate201JSONResponse{Id: ru.Id, LegacyId: ru.LegacyId, Email: u.Email, AccessToken: secret, Message: "User was successfully created."}, nil
}
