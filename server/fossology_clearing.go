package server

import (
	"context"
	"fmt"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
)

// FossologySetClearingDecision sets a file's decision and concluded licenses.
func (s *Server) FossologySetClearingDecision(ctx context.Context, req api.FossologySetClearingDecisionRequestObject) (api.FossologySetClearingDecisionResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.Invalidf("request body: decisionType is required")
	}
	var licenses []string
	if req.Body.Licenses != nil {
		licenses = *req.Body.Licenses
	}
	if err := s.foss.SetDecision(ctx, c, int64(req.Id), int64(req.ItemId), string(req.Body.DecisionType), licenses, deref(req.Body.Comment)); err != nil {
		return nil, err
	}
	return api.FossologySetClearingDecision200JSONResponse{FossologyDoneJSONResponse: api.FossologyDoneJSONResponse(info(200, fmt.Sprintf("Decision of item %d set", req.ItemId)))}, nil
}

// FossologyBulkConclude adds (ADD) and removes (REMOVE) licenses on every
// file with a text, as a job.
func (s *Server) FossologyBulkConclude(ctx context.Context, req api.FossologyBulkConcludeRequestObject) (api.FossologyBulkConcludeResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.Invalidf("request body: refText and bulkActions are required")
	}
	var add, remove []string
	for _, a := range req.Body.BulkActions {
		if a.LicenseAction != nil && *a.LicenseAction == api.FossologyBulkScanBulkActionsLicenseActionREMOVE {
			remove = append(remove, a.LicenseShortName)
			continue
		}
		add = append(add, a.LicenseShortName)
	}
	id, err := s.foss.BulkConclude(ctx, c, int64(req.Id), int64(req.ItemId), req.Body.RefText, add, remove)
	if err != nil {
		return nil, err
	}
	return api.FossologyBulkConclude201JSONResponse(created(201, id)), nil
}

// FossologySetMainLicense sets the concluded main license of an upload.
func (s *Server) FossologySetMainLicense(ctx context.Context, req api.FossologySetMainLicenseRequestObject) (api.FossologySetMainLicenseResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.Invalidf("request body: shortName is required")
	}
	if err := s.foss.SetMainLicense(ctx, c, int64(req.Id), req.Body.ShortName); err != nil {
		return nil, err
	}
	return api.FossologySetMainLicense200JSONResponse{FossologyDoneJSONResponse: api.FossologyDoneJSONResponse(info(200, "Main license set to "+req.Body.ShortName))}, nil
}
