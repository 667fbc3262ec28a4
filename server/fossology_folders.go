package server

import (
	"context"
	"fmt"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/fossology"
)

func toFossFolder(f fossology.Folder) api.FossologyFolder {
	out := api.FossologyFolder{Id: int(f.ID), Name: f.Name, Description: f.Description}
	if f.Parent != nil {
		p := int(*f.Parent)
		out.Parent = &p
	}
	return out
}

// FossologyListFolders lists the folders of the caller's group.
func (s *Server) FossologyListFolders(ctx context.Context, req api.FossologyListFoldersRequestObject) (api.FossologyListFoldersResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	fs, err := s.foss.Folders(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make(api.FossologyListFolders200JSONResponse, len(fs))
	for i, f := range fs {
		out[i] = toFossFolder(f)
	}
	return out, nil
}

// FossologyCreateFolder creates a folder (201), or names the one of that
// name already under the parent (200).
func (s *Server) FossologyCreateFolder(ctx context.Context, req api.FossologyCreateFolderRequestObject) (api.FossologyCreateFolderResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	desc := ""
	if req.Params.FolderDescription != nil {
		desc = *req.Params.FolderDescription
	}
	id, existed, err := s.foss.CreateFolder(ctx, c, int64(req.Params.ParentFolder), req.Params.FolderName, desc)
	if err != nil {
		return nil, err
	}
	if existed {
		return api.FossologyCreateFolder200JSONResponse(created(200, id)), nil
	}
	return api.FossologyCreateFolder201JSONResponse(created(201, id)), nil
}

// FossologyGetFolder returns one folder.
func (s *Server) FossologyGetFolder(ctx context.Context, req api.FossologyGetFolderRequestObject) (api.FossologyGetFolderResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	f, err := s.foss.Folder(ctx, c, int64(req.Id))
	if err != nil {
		return nil, err
	}
	return api.FossologyGetFolder200JSONResponse(toFossFolder(f)), nil
}

// FossologyUpdateFolder renames a folder or changes its description.
func (s *Server) FossologyUpdateFolder(ctx context.Context, req api.FossologyUpdateFolderRequestObject) (api.FossologyUpdateFolderResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	if err := s.foss.UpdateFolder(ctx, c, int64(req.Id), req.Params.Name, req.Params.Description); err != nil {
		return nil, err
	}
	return api.FossologyUpdateFolder200JSONResponse{FossologyDoneJSONResponse: api.FossologyDoneJSONResponse(info(200, fmt.Sprintf("Folder %d updated", req.Id)))}, nil
}

// FossologyCopyFolder moves a folder under another.
func (s *Server) FossologyCopyFolder(ctx context.Context, req api.FossologyCopyFolderRequestObject) (api.FossologyCopyFolderResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	if err := s.foss.MoveFolder(ctx, c, int64(req.Id), int64(req.Params.Parent), req.Params.Action == "copy"); err != nil {
		return nil, err
	}
	return api.FossologyCopyFolder202JSONResponse{FossologyAcceptedJSONResponse: api.FossologyAcceptedJSONResponse(info(202, fmt.Sprintf("Folder %d moved to folder %d", req.Id, req.Params.Parent)))}, nil
}

// FossologyDeleteFolder deletes a folder with its sub-folders and uploads.
func (s *Server) FossologyDeleteFolder(ctx context.Context, req api.FossologyDeleteFolderRequestObject) (api.FossologyDeleteFolderResponseObject, error) {
	c, err := s.fossCaller(ctx, req.Params.GroupName)
	if err != nil {
		return nil, err
	}
	if err := s.foss.DeleteFolder(ctx, c, int64(req.Id)); err != nil {
		return nil, err
	}
	return api.FossologyDeleteFolder202JSONResponse{FossologyAcceptedJSONResponse: api.FossologyAcceptedJSONResponse(info(202, fmt.Sprintf("Folder %d deleted", req.Id)))}, nil
}
