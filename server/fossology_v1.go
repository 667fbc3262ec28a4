package server

// The /api/v1 mirror of the FOSSology family (x-reehub-mirror): each V1
// operation calls its /repo/api/v1 twin, and v1 adapts the twin's response.

import (
	"context"
	"net/http"

	"github.com/reehub/reehub/gen/api"
)

// v1 serves a /repo/api/v1 response as the response of its /api/v1 twin.
type v1 struct{ r any }

// FossologyListFoldersV1 serves FossologyListFolders under /api/v1.
func (s *Server) FossologyListFoldersV1(ctx context.Context, req api.FossologyListFoldersV1RequestObject) (api.FossologyListFoldersV1ResponseObject, error) {
	r, err := s.FossologyListFolders(ctx, api.FossologyListFoldersRequestObject{Params: api.FossologyListFoldersParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyCreateFolderV1 serves FossologyCreateFolder under /api/v1.
func (s *Server) FossologyCreateFolderV1(ctx context.Context, req api.FossologyCreateFolderV1RequestObject) (api.FossologyCreateFolderV1ResponseObject, error) {
	r, err := s.FossologyCreateFolder(ctx, api.FossologyCreateFolderRequestObject{Params: api.FossologyCreateFolderParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyDeleteFolderV1 serves FossologyDeleteFolder under /api/v1.
func (s *Server) FossologyDeleteFolderV1(ctx context.Context, req api.FossologyDeleteFolderV1RequestObject) (api.FossologyDeleteFolderV1ResponseObject, error) {
	r, err := s.FossologyDeleteFolder(ctx, api.FossologyDeleteFolderRequestObject{Id: req.Id, Params: api.FossologyDeleteFolderParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGetFolderV1 serves FossologyGetFolder under /api/v1.
func (s *Server) FossologyGetFolderV1(ctx context.Context, req api.FossologyGetFolderV1RequestObject) (api.FossologyGetFolderV1ResponseObject, error) {
	r, err := s.FossologyGetFolder(ctx, api.FossologyGetFolderRequestObject{Id: req.Id, Params: api.FossologyGetFolderParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyUpdateFolderV1 serves FossologyUpdateFolder under /api/v1.
func (s *Server) FossologyUpdateFolderV1(ctx context.Context, req api.FossologyUpdateFolderV1RequestObject) (api.FossologyUpdateFolderV1ResponseObject, error) {
	r, err := s.FossologyUpdateFolder(ctx, api.FossologyUpdateFolderRequestObject{Id: req.Id, Params: api.FossologyUpdateFolderParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyCopyFolderV1 serves FossologyCopyFolder under /api/v1.
func (s *Server) FossologyCopyFolderV1(ctx context.Context, req api.FossologyCopyFolderV1RequestObject) (api.FossologyCopyFolderV1ResponseObject, error) {
	r, err := s.FossologyCopyFolder(ctx, api.FossologyCopyFolderRequestObject{Id: req.Id, Params: api.FossologyCopyFolderParams{Parent: req.Params.Parent, Action: api.FossologyCopyFolderParamsAction(req.Params.Action), GroupName: req.Params.GroupName}})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyHealthV1 serves FossologyHealth under /api/v1.
func (s *Server) FossologyHealthV1(ctx context.Context, req api.FossologyHealthV1RequestObject) (api.FossologyHealthV1ResponseObject, error) {
	r, err := s.FossologyHealth(ctx, api.FossologyHealthRequestObject{})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyInfoV1 serves FossologyInfo under /api/v1.
func (s *Server) FossologyInfoV1(ctx context.Context, req api.FossologyInfoV1RequestObject) (api.FossologyInfoV1ResponseObject, error) {
	r, err := s.FossologyInfo(ctx, api.FossologyInfoRequestObject{})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyListJobsV1 serves FossologyListJobs under /api/v1.
func (s *Server) FossologyListJobsV1(ctx context.Context, req api.FossologyListJobsV1RequestObject) (api.FossologyListJobsV1ResponseObject, error) {
	r, err := s.FossologyListJobs(ctx, api.FossologyListJobsRequestObject{Params: api.FossologyListJobsParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyScheduleJobsV1 serves FossologyScheduleJobs under /api/v1.
func (s *Server) FossologyScheduleJobsV1(ctx context.Context, req api.FossologyScheduleJobsV1RequestObject) (api.FossologyScheduleJobsV1ResponseObject, error) {
	r, err := s.FossologyScheduleJobs(ctx, api.FossologyScheduleJobsRequestObject{Params: api.FossologyScheduleJobsParams(req.Params), Body: req.Body})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGetJobV1 serves FossologyGetJob under /api/v1.
func (s *Server) FossologyGetJobV1(ctx context.Context, req api.FossologyGetJobV1RequestObject) (api.FossologyGetJobV1ResponseObject, error) {
	r, err := s.FossologyGetJob(ctx, api.FossologyGetJobRequestObject{Id: req.Id, Params: api.FossologyGetJobParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyJobEventsV1 serves FossologyJobEvents under /api/v1.
func (s *Server) FossologyJobEventsV1(ctx context.Context, req api.FossologyJobEventsV1RequestObject) (api.FossologyJobEventsV1ResponseObject, error) {
	r, err := s.FossologyJobEvents(ctx, api.FossologyJobEventsRequestObject{Id: req.Id, Params: api.FossologyJobEventsParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGenerateReportV1 serves FossologyGenerateReport under /api/v1.
func (s *Server) FossologyGenerateReportV1(ctx context.Context, req api.FossologyGenerateReportV1RequestObject) (api.FossologyGenerateReportV1ResponseObject, error) {
	r, err := s.FossologyGenerateReport(ctx, api.FossologyGenerateReportRequestObject{Params: api.FossologyGenerateReportParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyDownloadReportV1 serves FossologyDownloadReport under /api/v1.
func (s *Server) FossologyDownloadReportV1(ctx context.Context, req api.FossologyDownloadReportV1RequestObject) (api.FossologyDownloadReportV1ResponseObject, error) {
	r, err := s.FossologyDownloadReport(ctx, api.FossologyDownloadReportRequestObject{Id: req.Id, Params: api.FossologyDownloadReportParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyCreateTokenV1 serves FossologyCreateToken under /api/v1.
func (s *Server) FossologyCreateTokenV1(ctx context.Context, req api.FossologyCreateTokenV1RequestObject) (api.FossologyCreateTokenV1ResponseObject, error) {
	r, err := s.FossologyCreateToken(ctx, api.FossologyCreateTokenRequestObject(req))
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyListUploadsV1 serves FossologyListUploads under /api/v1.
func (s *Server) FossologyListUploadsV1(ctx context.Context, req api.FossologyListUploadsV1RequestObject) (api.FossologyListUploadsV1ResponseObject, error) {
	r, err := s.FossologyListUploads(ctx, api.FossologyListUploadsRequestObject{Params: api.FossologyListUploadsParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyCreateUploadV1 serves FossologyCreateUpload under /api/v1.
func (s *Server) FossologyCreateUploadV1(ctx context.Context, req api.FossologyCreateUploadV1RequestObject) (api.FossologyCreateUploadV1ResponseObject, error) {
	r, err := s.FossologyCreateUpload(ctx, api.FossologyCreateUploadRequestObject{Params: api.FossologyCreateUploadParams(req.Params), JSONBody: req.JSONBody, MultipartBody: req.MultipartBody})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyDeleteUploadV1 serves FossologyDeleteUpload under /api/v1.
func (s *Server) FossologyDeleteUploadV1(ctx context.Context, req api.FossologyDeleteUploadV1RequestObject) (api.FossologyDeleteUploadV1ResponseObject, error) {
	r, err := s.FossologyDeleteUpload(ctx, api.FossologyDeleteUploadRequestObject{Id: req.Id, Params: api.FossologyDeleteUploadParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGetUploadV1 serves FossologyGetUpload under /api/v1.
func (s *Server) FossologyGetUploadV1(ctx context.Context, req api.FossologyGetUploadV1RequestObject) (api.FossologyGetUploadV1ResponseObject, error) {
	r, err := s.FossologyGetUpload(ctx, api.FossologyGetUploadRequestObject{Id: req.Id, Params: api.FossologyGetUploadParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyUpdateUploadV1 serves FossologyUpdateUpload under /api/v1.
func (s *Server) FossologyUpdateUploadV1(ctx context.Context, req api.FossologyUpdateUploadV1RequestObject) (api.FossologyUpdateUploadV1ResponseObject, error) {
	r, err := s.FossologyUpdateUpload(ctx, api.FossologyUpdateUploadRequestObject{Id: req.Id, Params: api.FossologyUpdateUploadParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyCopyUploadV1 serves FossologyCopyUpload under /api/v1.
func (s *Server) FossologyCopyUploadV1(ctx context.Context, req api.FossologyCopyUploadV1RequestObject) (api.FossologyCopyUploadV1ResponseObject, error) {
	r, err := s.FossologyCopyUpload(ctx, api.FossologyCopyUploadRequestObject{Id: req.Id, Params: api.FossologyCopyUploadParams{FolderId: req.Params.FolderId, Action: api.FossologyCopyUploadParamsAction(req.Params.Action), GroupName: req.Params.GroupName}})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGetUploadCopyrightsV1 serves FossologyGetUploadCopyrights under /api/v1.
func (s *Server) FossologyGetUploadCopyrightsV1(ctx context.Context, req api.FossologyGetUploadCopyrightsV1RequestObject) (api.FossologyGetUploadCopyrightsV1ResponseObject, error) {
	r, err := s.FossologyGetUploadCopyrights(ctx, api.FossologyGetUploadCopyrightsRequestObject{Id: req.Id, Params: api.FossologyGetUploadCopyrightsParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyBulkConcludeV1 serves FossologyBulkConclude under /api/v1.
func (s *Server) FossologyBulkConcludeV1(ctx context.Context, req api.FossologyBulkConcludeV1RequestObject) (api.FossologyBulkConcludeV1ResponseObject, error) {
	r, err := s.FossologyBulkConclude(ctx, api.FossologyBulkConcludeRequestObject{Id: req.Id, ItemId: req.ItemId, Params: api.FossologyBulkConcludeParams(req.Params), Body: req.Body})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologySetClearingDecisionV1 serves FossologySetClearingDecision under /api/v1.
func (s *Server) FossologySetClearingDecisionV1(ctx context.Context, req api.FossologySetClearingDecisionV1RequestObject) (api.FossologySetClearingDecisionV1ResponseObject, error) {
	r, err := s.FossologySetClearingDecision(ctx, api.FossologySetClearingDecisionRequestObject{Id: req.Id, ItemId: req.ItemId, Params: api.FossologySetClearingDecisionParams(req.Params), Body: req.Body})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGetUploadLicensesV1 serves FossologyGetUploadLicenses under /api/v1.
func (s *Server) FossologyGetUploadLicensesV1(ctx context.Context, req api.FossologyGetUploadLicensesV1RequestObject) (api.FossologyGetUploadLicensesV1ResponseObject, error) {
	r, err := s.FossologyGetUploadLicenses(ctx, api.FossologyGetUploadLicensesRequestObject{Id: req.Id, Params: api.FossologyGetUploadLicensesParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologySetMainLicenseV1 serves FossologySetMainLicense under /api/v1.
func (s *Server) FossologySetMainLicenseV1(ctx context.Context, req api.FossologySetMainLicenseV1RequestObject) (api.FossologySetMainLicenseV1ResponseObject, error) {
	r, err := s.FossologySetMainLicense(ctx, api.FossologySetMainLicenseRequestObject{Id: req.Id, Params: api.FossologySetMainLicenseParams(req.Params), Body: req.Body})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGetUploadSummaryV1 serves FossologyGetUploadSummary under /api/v1.
func (s *Server) FossologyGetUploadSummaryV1(ctx context.Context, req api.FossologyGetUploadSummaryV1RequestObject) (api.FossologyGetUploadSummaryV1ResponseObject, error) {
	r, err := s.FossologyGetUploadSummary(ctx, api.FossologyGetUploadSummaryRequestObject{Id: req.Id, Params: api.FossologyGetUploadSummaryParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGetUploadTreeV1 serves FossologyGetUploadTree under /api/v1.
func (s *Server) FossologyGetUploadTreeV1(ctx context.Context, req api.FossologyGetUploadTreeV1RequestObject) (api.FossologyGetUploadTreeV1ResponseObject, error) {
	r, err := s.FossologyGetUploadTree(ctx, api.FossologyGetUploadTreeRequestObject{Id: req.Id, Params: api.FossologyGetUploadTreeParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyListUsersV1 serves FossologyListUsers under /api/v1.
func (s *Server) FossologyListUsersV1(ctx context.Context, req api.FossologyListUsersV1RequestObject) (api.FossologyListUsersV1ResponseObject, error) {
	r, err := s.FossologyListUsers(ctx, api.FossologyListUsersRequestObject{Params: api.FossologyListUsersParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGetSelfV1 serves FossologyGetSelf under /api/v1.
func (s *Server) FossologyGetSelfV1(ctx context.Context, req api.FossologyGetSelfV1RequestObject) (api.FossologyGetSelfV1ResponseObject, error) {
	r, err := s.FossologyGetSelf(ctx, api.FossologyGetSelfRequestObject{Params: api.FossologyGetSelfParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyGetUserV1 serves FossologyGetUser under /api/v1.
func (s *Server) FossologyGetUserV1(ctx context.Context, req api.FossologyGetUserV1RequestObject) (api.FossologyGetUserV1ResponseObject, error) {
	r, err := s.FossologyGetUser(ctx, api.FossologyGetUserRequestObject{Id: req.Id, Params: api.FossologyGetUserParams(req.Params)})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// FossologyVersionV1 serves FossologyVersion under /api/v1.
func (s *Server) FossologyVersionV1(ctx context.Context, req api.FossologyVersionV1RequestObject) (api.FossologyVersionV1ResponseObject, error) {
	r, err := s.FossologyVersion(ctx, api.FossologyVersionRequestObject{})
	if err != nil {
		return nil, err
	}
	return v1{r}, nil
}

// VisitFossologyListFoldersV1Response writes the twin's response.
func (v v1) VisitFossologyListFoldersV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyListFoldersResponseObject).VisitFossologyListFoldersResponse(w)
}

// VisitFossologyCreateFolderV1Response writes the twin's response.
func (v v1) VisitFossologyCreateFolderV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyCreateFolderResponseObject).VisitFossologyCreateFolderResponse(w)
}

// VisitFossologyDeleteFolderV1Response writes the twin's response.
func (v v1) VisitFossologyDeleteFolderV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyDeleteFolderResponseObject).VisitFossologyDeleteFolderResponse(w)
}

// VisitFossologyGetFolderV1Response writes the twin's response.
func (v v1) VisitFossologyGetFolderV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGetFolderResponseObject).VisitFossologyGetFolderResponse(w)
}

// VisitFossologyUpdateFolderV1Response writes the twin's response.
func (v v1) VisitFossologyUpdateFolderV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyUpdateFolderResponseObject).VisitFossologyUpdateFolderResponse(w)
}

// VisitFossologyCopyFolderV1Response writes the twin's response.
func (v v1) VisitFossologyCopyFolderV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyCopyFolderResponseObject).VisitFossologyCopyFolderResponse(w)
}

// VisitFossologyHealthV1Response writes the twin's response.
func (v v1) VisitFossologyHealthV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyHealthResponseObject).VisitFossologyHealthResponse(w)
}

// VisitFossologyInfoV1Response writes the twin's response.
func (v v1) VisitFossologyInfoV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyInfoResponseObject).VisitFossologyInfoResponse(w)
}

// VisitFossologyListJobsV1Response writes the twin's response.
func (v v1) VisitFossologyListJobsV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyListJobsResponseObject).VisitFossologyListJobsResponse(w)
}

// VisitFossologyScheduleJobsV1Response writes the twin's response.
func (v v1) VisitFossologyScheduleJobsV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyScheduleJobsResponseObject).VisitFossologyScheduleJobsResponse(w)
}

// VisitFossologyGetJobV1Response writes the twin's response.
func (v v1) VisitFossologyGetJobV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGetJobResponseObject).VisitFossologyGetJobResponse(w)
}

// VisitFossologyJobEventsV1Response writes the twin's response.
func (v v1) VisitFossologyJobEventsV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyJobEventsResponseObject).VisitFossologyJobEventsResponse(w)
}

// VisitFossologyGenerateReportV1Response writes the twin's response.
func (v v1) VisitFossologyGenerateReportV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGenerateReportResponseObject).VisitFossologyGenerateReportResponse(w)
}

// VisitFossologyDownloadReportV1Response writes the twin's response.
func (v v1) VisitFossologyDownloadReportV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyDownloadReportResponseObject).VisitFossologyDownloadReportResponse(w)
}

// VisitFossologyCreateTokenV1Response writes the twin's response.
func (v v1) VisitFossologyCreateTokenV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyCreateTokenResponseObject).VisitFossologyCreateTokenResponse(w)
}

// VisitFossologyListUploadsV1Response writes the twin's response.
func (v v1) VisitFossologyListUploadsV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyListUploadsResponseObject).VisitFossologyListUploadsResponse(w)
}

// VisitFossologyCreateUploadV1Response writes the twin's response.
func (v v1) VisitFossologyCreateUploadV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyCreateUploadResponseObject).VisitFossologyCreateUploadResponse(w)
}

// VisitFossologyDeleteUploadV1Response writes the twin's response.
func (v v1) VisitFossologyDeleteUploadV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyDeleteUploadResponseObject).VisitFossologyDeleteUploadResponse(w)
}

// VisitFossologyGetUploadV1Response writes the twin's response.
func (v v1) VisitFossologyGetUploadV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGetUploadResponseObject).VisitFossologyGetUploadResponse(w)
}

// VisitFossologyUpdateUploadV1Response writes the twin's response.
func (v v1) VisitFossologyUpdateUploadV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyUpdateUploadResponseObject).VisitFossologyUpdateUploadResponse(w)
}

// VisitFossologyCopyUploadV1Response writes the twin's response.
func (v v1) VisitFossologyCopyUploadV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyCopyUploadResponseObject).VisitFossologyCopyUploadResponse(w)
}

// VisitFossologyGetUploadCopyrightsV1Response writes the twin's response.
func (v v1) VisitFossologyGetUploadCopyrightsV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGetUploadCopyrightsResponseObject).VisitFossologyGetUploadCopyrightsResponse(w)
}

// VisitFossologyBulkConcludeV1Response writes the twin's response.
func (v v1) VisitFossologyBulkConcludeV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyBulkConcludeResponseObject).VisitFossologyBulkConcludeResponse(w)
}

// VisitFossologySetClearingDecisionV1Response writes the twin's response.
func (v v1) VisitFossologySetClearingDecisionV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologySetClearingDecisionResponseObject).VisitFossologySetClearingDecisionResponse(w)
}

// VisitFossologyGetUploadLicensesV1Response writes the twin's response.
func (v v1) VisitFossologyGetUploadLicensesV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGetUploadLicensesResponseObject).VisitFossologyGetUploadLicensesResponse(w)
}

// VisitFossologySetMainLicenseV1Response writes the twin's response.
func (v v1) VisitFossologySetMainLicenseV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologySetMainLicenseResponseObject).VisitFossologySetMainLicenseResponse(w)
}

// VisitFossologyGetUploadSummaryV1Response writes the twin's response.
func (v v1) VisitFossologyGetUploadSummaryV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGetUploadSummaryResponseObject).VisitFossologyGetUploadSummaryResponse(w)
}

// VisitFossologyGetUploadTreeV1Response writes the twin's response.
func (v v1) VisitFossologyGetUploadTreeV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGetUploadTreeResponseObject).VisitFossologyGetUploadTreeResponse(w)
}

// VisitFossologyListUsersV1Response writes the twin's response.
func (v v1) VisitFossologyListUsersV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyListUsersResponseObject).VisitFossologyListUsersResponse(w)
}

// VisitFossologyGetSelfV1Response writes the twin's response.
func (v v1) VisitFossologyGetSelfV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGetSelfResponseObject).VisitFossologyGetSelfResponse(w)
}

// VisitFossologyGetUserV1Response writes the twin's response.
func (v v1) VisitFossologyGetUserV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyGetUserResponseObject).VisitFossologyGetUserResponse(w)
}

// VisitFossologyVersionV1Response writes the twin's response.
func (v v1) VisitFossologyVersionV1Response(w http.ResponseWriter) error {
	return v.r.(api.FossologyVersionResponseObject).VisitFossologyVersionResponse(w)
}
