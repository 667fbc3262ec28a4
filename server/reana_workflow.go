package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/service/workflow"
)

func toReanaProgress(p reana.Progress) api.ReanaProgress {
	count := func(c reana.JobCount) api.ReanaJobCount {
		ids := c.JobIDs
		if ids == nil {
			ids = []string{}
		}
		return api.ReanaJobCount{Total: c.Total, JobIds: ids}
	}
	cached := count(p.Cached)
	return api.ReanaProgress{
		Total: count(p.Total), Finished: count(p.Finished), Failed: count(p.Failed), Running: count(p.Running), Cached: &cached,
		CurrentStepName: p.CurrentStepName, CurrentCommand: p.CurrentCommand,
		RunStartedAt: p.RunStartedAt, RunFinishedAt: p.RunFinishedAt, RunStoppedAt: p.RunStoppedAt,
	}
}

func ownerUUID(w workflow.Workflow) uuid.UUID {
	id, _ := uuid.Parse(w.Owner)
	return id
}

func toReanaStatus(w workflow.Workflow) api.ReanaWorkflowStatus {
	return api.ReanaWorkflowStatus{
		Id: uuid.MustParse(w.ID), Name: w.FullName(), Status: api.ReanaStatus(w.Status), Created: reana.FormatTime(w.Created),
		User: ownerUUID(w), Progress: toReanaProgress(w.Progress), Logs: w.Reason,
	}
}

func statusChanged(w workflow.Workflow, msg string) api.ReanaWorkflowStatusChanged {
	run := w.RunNumber()
	return api.ReanaWorkflowStatusChanged{
		Message: msg, WorkflowId: uuid.MustParse(w.ID), WorkflowName: w.FullName(), RunNumber: &run, Status: api.ReanaStatus(w.Status), User: ownerUUID(w),
	}
}

// reanaStarted is the answer to a start, as reana-server words it: workflow_name
// is NAME and run_number "N" or "N.M" (reana-client restart joins them).
func reanaStarted(w workflow.Workflow) api.ReanaWorkflowStatusChanged {
	out := statusChanged(w, "Workflow submitted.")
	out.WorkflowName = w.Name
	return out
}

// startSpec parses the reana_specification of a restart.
func startSpec(raw *map[string]any) (*reana.Spec, error) {
	if raw == nil {
		return nil, nil
	}
	b, err := json.Marshal(*raw)
	if err != nil {
		return nil, fault.Invalidf("reana_specification: %v", err)
	}
	return reana.ParseJSON(b)
}

// ReanaWorkflowList lists the caller's workflows.
func (s *Server) ReanaWorkflowList(ctx context.Context, req api.ReanaWorkflowListRequestObject) (api.ReanaWorkflowListResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	p := req.Params
	out := api.ReanaWorkflowList{Items: []api.ReanaWorkflowListItem{}, Page: 1}
	if p.Page != nil {
		out.Page = *p.Page
	}
	o := workflow.ListOpts{Page: out.Page, WithSize: p.IncludeWorkspaceSize != nil && *p.IncludeWorkspaceSize}
	if p.Type != nil && *p.Type == "interactive" {
		return api.ReanaWorkflowList200JSONResponse(out), nil
	}
	if p.Search != nil {
		o.Search = *p.Search
	}
	if p.Sort != nil && *p.Sort == "asc" {
		o.Ascending = true
	}
	if p.Size != nil {
		o.Size = *p.Size
	}
	if p.WorkflowIdOrName != nil {
		o.Ref = *p.WorkflowIdOrName
	}
	if p.Status != nil {
		for _, st := range *p.Status {
			o.Statuses = append(o.Statuses, reana.Status(st))
		}
	}
	ws, total, any, err := s.workflows.List(ctx, owner, o)
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		out.Items = append(out.Items, api.ReanaWorkflowListItem{
			Id: uuid.MustParse(w.ID), Name: w.FullName(), Status: api.ReanaStatus(w.Status), Created: reana.FormatTime(w.Created),
			User: ownerUUID(w), Size: api.ReanaSize{Raw: w.Size, HumanReadable: humanOrEmpty(w.Size)}, Progress: toReanaProgress(w.Progress),
		})
	}
	out.Total, out.UserHasWorkflows = total, any
	out.HasPrev = out.Page > 1
	out.HasNext = o.Size > 0 && out.Page*o.Size < total
	return api.ReanaWorkflowList200JSONResponse(out), nil
}

func humanOrEmpty(n int64) string {
	if n < 0 {
		return ""
	}
	return reana.HumanSize(n)
}

// ReanaWorkflowCreate creates a workflow from a reana.yaml (the JSON body, or the seed's spec parameter).
func (s *Server) ReanaWorkflowCreate(ctx context.Context, req api.ReanaWorkflowCreateRequestObject) (api.ReanaWorkflowCreateResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	var spec *reana.Spec
	switch {
	case req.Body != nil:
		name := ""
		if req.Params.WorkflowName != nil {
			name = *req.Params.WorkflowName
		}
		w, err := s.workflows.CreateFromCrate(ctx, owner, name, req.Body)
		if err != nil {
			return nil, err
		}
		return api.ReanaWorkflowCreate201JSONResponse{
			Message: "The workflow has been successfully created from the crate.", WorkflowId: uuid.MustParse(w.ID), WorkflowName: w.FullName(),
		}, nil
	case req.JSONBody != nil:
		raw, err := json.Marshal(req.JSONBody)
		if err != nil {
			return nil, fmt.Errorf("encode specification: %w", err)
		}
		if spec, err = reana.ParseJSON(raw); err != nil {
			return nil, err
		}
	case req.Params.Spec != nil:
		text := strings.TrimSpace(*req.Params.Spec)
		if strings.HasPrefix(text, "http://") || strings.HasPrefix(text, "https://") || strings.HasPrefix(text, "git@") {
			return api.ReanaWorkflowCreate501JSONResponse{ReanaNotImplementedJSONResponse: api.ReanaNotImplementedJSONResponse{
				Code: 501, Message: "spec: reehub does not fetch remote repositories; send the reana.yaml as the body", Type: api.ApiErrorTypeERROR,
			}}, nil
		}
		if spec, err = reana.ParseYAML([]byte(text)); err != nil {
			return nil, err
		}
	default:
		return nil, fault.Invalidf("send the REANA specification (reana.yaml as JSON) as the body, or its text in the spec parameter")
	}
	name := reana.DefaultName
	if req.Params.WorkflowName != nil {
		name = *req.Params.WorkflowName
	}
	w, err := s.workflows.Create(ctx, owner, name, spec)
	if err != nil {
		return nil, err
	}
	return api.ReanaWorkflowCreate201JSONResponse{
		Message: "The workflow has been successfully created.", WorkflowId: uuid.MustParse(w.ID), WorkflowName: w.FullName(),
	}, nil
}

// ReanaWorkflowStatus reports a workflow's status and progress.
func (s *Server) ReanaWorkflowStatus(ctx context.Context, req api.ReanaWorkflowStatusRequestObject) (api.ReanaWorkflowStatusResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.workflows.Get(ctx, owner, req.WorkflowIdOrName)
	if err != nil {
		return nil, err
	}
	st := toReanaStatus(w)
	if m := s.workflows.OutputsMatch(ctx, w); m != nil {
		st.OutputsMatch = &m
	}
	return api.ReanaWorkflowStatus200JSONResponse(st), nil
}

func startOpts(params, options *map[string]any, restart *bool) workflow.StartOpts {
	var o workflow.StartOpts
	if params != nil {
		o.InputParameters = *params
	}
	if options != nil {
		o.Options = *options
	}
	o.Restart = restart != nil && *restart
	return o
}

// ReanaWorkflowStart starts a workflow (reana-client start).
func (s *Server) ReanaWorkflowStart(ctx context.Context, req api.ReanaWorkflowStartRequestObject) (api.ReanaWorkflowStartResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	var o workflow.StartOpts
	if req.Body != nil {
		o = startOpts(req.Body.InputParameters, req.Body.OperationalOptions, req.Body.Restart)
		if o.Spec, err = startSpec(req.Body.ReanaSpecification); err != nil {
			return nil, err
		}
	}
	w, err := s.workflows.Start(ctx, owner, req.WorkflowIdOrName, o)
	if err != nil {
		return nil, err
	}
	return api.ReanaWorkflowStart200JSONResponse(reanaStarted(w)), nil
}

// ReanaWorkflowSetStatus starts, stops or deletes a workflow (the seed's form, and reana-client stop and delete).
func (s *Server) ReanaWorkflowSetStatus(ctx context.Context, req api.ReanaWorkflowSetStatusRequestObject) (api.ReanaWorkflowSetStatusResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	body := api.ReanaSetStatusBody{}
	if req.Body != nil {
		body = *req.Body
	}
	var w workflow.Workflow
	var msg string
	switch req.Params.Status {
	case "start":
		if w, err = s.workflows.Start(ctx, owner, req.WorkflowIdOrName, startOpts(body.InputParameters, body.OperationalOptions, body.Restart)); err != nil {
			return nil, err
		}
		return api.ReanaWorkflowSetStatus200JSONResponse(reanaStarted(w)), nil
	case "stop":
		w, err = s.workflows.Stop(ctx, owner, req.WorkflowIdOrName)
		msg = "Workflow successfully stopped."
	case "deleted":
		all := body.AllRuns != nil && *body.AllRuns
		ws := body.Workspace != nil && *body.Workspace
		w, err = s.workflows.Delete(ctx, owner, req.WorkflowIdOrName, all, ws)
		msg = "Workflow successfully deleted."
	default:
		return nil, fault.Invalidf("status must be start, stop or deleted")
	}
	if err != nil {
		return nil, err
	}
	return api.ReanaWorkflowSetStatus200JSONResponse(statusChanged(w, msg)), nil
}

// ReanaWorkflowLogs returns the logs of a workflow and its steps in REANA's shape.
func (s *Server) ReanaWorkflowLogs(ctx context.Context, req api.ReanaWorkflowLogsRequestObject) (api.ReanaWorkflowLogsResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	var steps []string
	if req.Body != nil {
		steps = *req.Body
	}
	page, size := 1, 0
	if req.Params.Page != nil {
		page = *req.Params.Page
	}
	if req.Params.Size != nil {
		size = *req.Params.Size
	}
	w, text, err := s.workflows.Logs(ctx, owner, req.WorkflowIdOrName, steps, page, size)
	if err != nil {
		return nil, err
	}
	return api.ReanaWorkflowLogs200JSONResponse{
		WorkflowId: uuid.MustParse(w.ID), WorkflowName: w.FullName(), User: ownerUUID(w), Logs: text, LiveLogsEnabled: true,
	}, nil
}

func paramsAny(p map[string]string) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// ReanaWorkflowSpecification returns the submitted reana.yaml (as JSON) and the parameters in effect.
func (s *Server) ReanaWorkflowSpecification(ctx context.Context, req api.ReanaWorkflowSpecificationRequestObject) (api.ReanaWorkflowSpecificationResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.workflows.Get(ctx, owner, req.WorkflowIdOrName)
	if err != nil {
		return nil, err
	}
	var spec api.ReanaSpecification
	if err := json.Unmarshal(w.Spec.Raw, &spec); err != nil {
		return nil, fmt.Errorf("stored specification of %s: %w", w.FullName(), err)
	}
	return api.ReanaWorkflowSpecification200JSONResponse{Specification: spec, Parameters: paramsAny(w.Parameters)}, nil
}

// ReanaWorkflowParameters returns the workflow's type and parameters.
func (s *Server) ReanaWorkflowParameters(ctx context.Context, req api.ReanaWorkflowParametersRequestObject) (api.ReanaWorkflowParametersResponseObject, error) {
	_, owner, err := reanaOwner(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.workflows.Get(ctx, owner, req.WorkflowIdOrName)
	if err != nil {
		return nil, err
	}
	return api.ReanaWorkflowParameters200JSONResponse{
		Id: uuid.MustParse(w.ID), Name: w.FullName(), Type: reana.WorkflowTypeSerial, Parameters: paramsAny(w.Parameters),
	}, nil
}
