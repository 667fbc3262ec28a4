package server

import (
	"context"
	"io"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/server/wire"
)

// The typed 200 responses of the Studio operations, XML or JSON by the
// request's Accept header (reply in render.go); one function per operation.

func replyAccountShow(ctx context.Context, v any) (api.StudioAccountShowResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioAccountShowResponseObject {
		return api.StudioAccountShow200JSONResponse{StudioAccountOKJSONResponse: api.StudioAccountOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioAccountShowResponseObject {
			return api.StudioAccountShow200ApplicationxmlResponse{StudioAccountOKApplicationxmlResponse: api.StudioAccountOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApiVersion(ctx context.Context, v any) (api.StudioApiVersionResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApiVersionResponseObject {
		return api.StudioApiVersion200JSONResponse{StudioApiVersionOKJSONResponse: api.StudioApiVersionOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApiVersionResponseObject {
			return api.StudioApiVersion200ApplicationxmlResponse{StudioApiVersionOKApplicationxmlResponse: api.StudioApiVersionOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceList(ctx context.Context, v any) (api.StudioApplianceListResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceListResponseObject {
		return api.StudioApplianceList200JSONResponse{StudioAppliancesOKJSONResponse: api.StudioAppliancesOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceListResponseObject {
			return api.StudioApplianceList200ApplicationxmlResponse{StudioAppliancesOKApplicationxmlResponse: api.StudioAppliancesOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceCreate(ctx context.Context, v any) (api.StudioApplianceCreateResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceCreateResponseObject {
		return api.StudioApplianceCreate200JSONResponse{StudioApplianceOKJSONResponse: api.StudioApplianceOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceCreateResponseObject {
			return api.StudioApplianceCreate200ApplicationxmlResponse{StudioApplianceOKApplicationxmlResponse: api.StudioApplianceOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceDelete(ctx context.Context, v any) (api.StudioApplianceDeleteResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceDeleteResponseObject {
		return api.StudioApplianceDelete200JSONResponse{StudioSuccessOKJSONResponse: api.StudioSuccessOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceDeleteResponseObject {
			return api.StudioApplianceDelete200ApplicationxmlResponse{StudioSuccessOKApplicationxmlResponse: api.StudioSuccessOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceShow(ctx context.Context, v any) (api.StudioApplianceShowResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceShowResponseObject {
		return api.StudioApplianceShow200JSONResponse{StudioApplianceOKJSONResponse: api.StudioApplianceOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceShowResponseObject {
			return api.StudioApplianceShow200ApplicationxmlResponse{StudioApplianceOKApplicationxmlResponse: api.StudioApplianceOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replySoftwareAddPackage(ctx context.Context, v any) (api.StudioSoftwareAddPackageResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioSoftwareAddPackageResponseObject {
		return api.StudioSoftwareAddPackage200JSONResponse{StudioSoftwareChangeOKJSONResponse: api.StudioSoftwareChangeOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioSoftwareAddPackageResponseObject {
			return api.StudioSoftwareAddPackage200ApplicationxmlResponse{StudioSoftwareChangeOKApplicationxmlResponse: api.StudioSoftwareChangeOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replySoftwareAddPattern(ctx context.Context, v any) (api.StudioSoftwareAddPatternResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioSoftwareAddPatternResponseObject {
		return api.StudioSoftwareAddPattern200JSONResponse{StudioSoftwareChangeOKJSONResponse: api.StudioSoftwareChangeOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioSoftwareAddPatternResponseObject {
			return api.StudioSoftwareAddPattern200ApplicationxmlResponse{StudioSoftwareChangeOKApplicationxmlResponse: api.StudioSoftwareChangeOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceAddRepository(ctx context.Context, v any) (api.StudioApplianceAddRepositoryResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceAddRepositoryResponseObject {
		return api.StudioApplianceAddRepository200JSONResponse{StudioRepositoriesOKJSONResponse: api.StudioRepositoriesOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceAddRepositoryResponseObject {
			return api.StudioApplianceAddRepository200ApplicationxmlResponse{StudioRepositoriesOKApplicationxmlResponse: api.StudioRepositoriesOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceAddUserRepository(ctx context.Context, v any) (api.StudioApplianceAddUserRepositoryResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceAddUserRepositoryResponseObject {
		return api.StudioApplianceAddUserRepository200JSONResponse{StudioRepositoriesOKJSONResponse: api.StudioRepositoriesOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceAddUserRepositoryResponseObject {
			return api.StudioApplianceAddUserRepository200ApplicationxmlResponse{StudioRepositoriesOKApplicationxmlResponse: api.StudioRepositoriesOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replySoftwareRemovePackage(ctx context.Context, v any) (api.StudioSoftwareRemovePackageResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioSoftwareRemovePackageResponseObject {
		return api.StudioSoftwareRemovePackage200JSONResponse{StudioSoftwareChangeOKJSONResponse: api.StudioSoftwareChangeOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioSoftwareRemovePackageResponseObject {
			return api.StudioSoftwareRemovePackage200ApplicationxmlResponse{StudioSoftwareChangeOKApplicationxmlResponse: api.StudioSoftwareChangeOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replySoftwareRemovePattern(ctx context.Context, v any) (api.StudioSoftwareRemovePatternResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioSoftwareRemovePatternResponseObject {
		return api.StudioSoftwareRemovePattern200JSONResponse{StudioSoftwareChangeOKJSONResponse: api.StudioSoftwareChangeOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioSoftwareRemovePatternResponseObject {
			return api.StudioSoftwareRemovePattern200ApplicationxmlResponse{StudioSoftwareChangeOKApplicationxmlResponse: api.StudioSoftwareChangeOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceRemoveRepository(ctx context.Context, v any) (api.StudioApplianceRemoveRepositoryResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceRemoveRepositoryResponseObject {
		return api.StudioApplianceRemoveRepository200JSONResponse{StudioRepositoriesOKJSONResponse: api.StudioRepositoriesOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceRemoveRepositoryResponseObject {
			return api.StudioApplianceRemoveRepository200ApplicationxmlResponse{StudioRepositoriesOKApplicationxmlResponse: api.StudioRepositoriesOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceRepositoryList(ctx context.Context, v any) (api.StudioApplianceRepositoryListResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceRepositoryListResponseObject {
		return api.StudioApplianceRepositoryList200JSONResponse{StudioRepositoriesOKJSONResponse: api.StudioRepositoriesOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceRepositoryListResponseObject {
			return api.StudioApplianceRepositoryList200ApplicationxmlResponse{StudioRepositoriesOKApplicationxmlResponse: api.StudioRepositoriesOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceRepositoryUpdate(ctx context.Context, v any) (api.StudioApplianceRepositoryUpdateResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceRepositoryUpdateResponseObject {
		return api.StudioApplianceRepositoryUpdate200JSONResponse{StudioRepositoriesOKJSONResponse: api.StudioRepositoriesOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceRepositoryUpdateResponseObject {
			return api.StudioApplianceRepositoryUpdate200ApplicationxmlResponse{StudioRepositoriesOKApplicationxmlResponse: api.StudioRepositoriesOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replySoftwareShow(ctx context.Context, v any) (api.StudioSoftwareShowResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioSoftwareShowResponseObject {
		return api.StudioSoftwareShow200JSONResponse{StudioSoftwareOKJSONResponse: api.StudioSoftwareOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioSoftwareShowResponseObject {
			return api.StudioSoftwareShow200ApplicationxmlResponse{StudioSoftwareOKApplicationxmlResponse: api.StudioSoftwareOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replySoftwareUpdate(ctx context.Context, v any) (api.StudioSoftwareUpdateResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioSoftwareUpdateResponseObject {
		return api.StudioSoftwareUpdate200JSONResponse{StudioSoftwareOKJSONResponse: api.StudioSoftwareOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioSoftwareUpdateResponseObject {
			return api.StudioSoftwareUpdate200ApplicationxmlResponse{StudioSoftwareOKApplicationxmlResponse: api.StudioSoftwareOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replySoftwareInstalled(ctx context.Context, v any) (api.StudioSoftwareInstalledResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioSoftwareInstalledResponseObject {
		return api.StudioSoftwareInstalled200JSONResponse{StudioSoftwareMapOKJSONResponse: api.StudioSoftwareMapOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioSoftwareInstalledResponseObject {
			return api.StudioSoftwareInstalled200ApplicationxmlResponse{StudioSoftwareMapOKApplicationxmlResponse: api.StudioSoftwareMapOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replySoftwareSearch(ctx context.Context, v any) (api.StudioSoftwareSearchResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioSoftwareSearchResponseObject {
		return api.StudioSoftwareSearch200JSONResponse{StudioSoftwareMapOKJSONResponse: api.StudioSoftwareMapOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioSoftwareSearchResponseObject {
			return api.StudioSoftwareSearch200ApplicationxmlResponse{StudioSoftwareMapOKApplicationxmlResponse: api.StudioSoftwareMapOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyApplianceStatus(ctx context.Context, v any) (api.StudioApplianceStatusResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioApplianceStatusResponseObject {
		return api.StudioApplianceStatus200JSONResponse{StudioStatusOKJSONResponse: api.StudioStatusOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioApplianceStatusResponseObject {
			return api.StudioApplianceStatus200ApplicationxmlResponse{StudioStatusOKApplicationxmlResponse: api.StudioStatusOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyBuildList(ctx context.Context, v any) (api.StudioBuildListResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioBuildListResponseObject {
		return api.StudioBuildList200JSONResponse{StudioBuildsOKJSONResponse: api.StudioBuildsOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioBuildListResponseObject {
			return api.StudioBuildList200ApplicationxmlResponse{StudioBuildsOKApplicationxmlResponse: api.StudioBuildsOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyBuildDelete(ctx context.Context, v any) (api.StudioBuildDeleteResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioBuildDeleteResponseObject {
		return api.StudioBuildDelete200JSONResponse{StudioSuccessOKJSONResponse: api.StudioSuccessOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioBuildDeleteResponseObject {
			return api.StudioBuildDelete200ApplicationxmlResponse{StudioSuccessOKApplicationxmlResponse: api.StudioSuccessOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyBuildShow(ctx context.Context, v any) (api.StudioBuildShowResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioBuildShowResponseObject {
		return api.StudioBuildShow200JSONResponse{StudioBuildOKJSONResponse: api.StudioBuildOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioBuildShowResponseObject {
			return api.StudioBuildShow200ApplicationxmlResponse{StudioBuildOKApplicationxmlResponse: api.StudioBuildOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyFileList(ctx context.Context, v any) (api.StudioFileListResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioFileListResponseObject {
		return api.StudioFileList200JSONResponse{StudioFilesOKJSONResponse: api.StudioFilesOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioFileListResponseObject {
			return api.StudioFileList200ApplicationxmlResponse{StudioFilesOKApplicationxmlResponse: api.StudioFilesOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyFileUpload(ctx context.Context, v any) (api.StudioFileUploadResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioFileUploadResponseObject {
		return api.StudioFileUpload200JSONResponse{StudioFileOKJSONResponse: api.StudioFileOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioFileUploadResponseObject {
			return api.StudioFileUpload200ApplicationxmlResponse{StudioFileOKApplicationxmlResponse: api.StudioFileOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyFileDelete(ctx context.Context, v any) (api.StudioFileDeleteResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioFileDeleteResponseObject {
		return api.StudioFileDelete200JSONResponse{StudioSuccessOKJSONResponse: api.StudioSuccessOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioFileDeleteResponseObject {
			return api.StudioFileDelete200ApplicationxmlResponse{StudioSuccessOKApplicationxmlResponse: api.StudioSuccessOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyFileShow(ctx context.Context, v any) (api.StudioFileShowResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioFileShowResponseObject {
		return api.StudioFileShow200JSONResponse{StudioFileOKJSONResponse: api.StudioFileOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioFileShowResponseObject {
			return api.StudioFileShow200ApplicationxmlResponse{StudioFileOKApplicationxmlResponse: api.StudioFileOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyFileUpdate(ctx context.Context, v any) (api.StudioFileUpdateResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioFileUpdateResponseObject {
		return api.StudioFileUpdate200JSONResponse{StudioFileOKJSONResponse: api.StudioFileOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioFileUpdateResponseObject {
			return api.StudioFileUpdate200ApplicationxmlResponse{StudioFileOKApplicationxmlResponse: api.StudioFileOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyFileDataUpdate(ctx context.Context, v any) (api.StudioFileDataUpdateResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioFileDataUpdateResponseObject {
		return api.StudioFileDataUpdate200JSONResponse{StudioFileOKJSONResponse: api.StudioFileOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioFileDataUpdateResponseObject {
			return api.StudioFileDataUpdate200ApplicationxmlResponse{StudioFileOKApplicationxmlResponse: api.StudioFileOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRepositoryList(ctx context.Context, v any) (api.StudioRepositoryListResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRepositoryListResponseObject {
		return api.StudioRepositoryList200JSONResponse{StudioRepositoriesOKJSONResponse: api.StudioRepositoriesOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRepositoryListResponseObject {
			return api.StudioRepositoryList200ApplicationxmlResponse{StudioRepositoriesOKApplicationxmlResponse: api.StudioRepositoriesOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRepositoryImport(ctx context.Context, v any) (api.StudioRepositoryImportResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRepositoryImportResponseObject {
		return api.StudioRepositoryImport200JSONResponse{StudioRepositoryOKJSONResponse: api.StudioRepositoryOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRepositoryImportResponseObject {
			return api.StudioRepositoryImport200ApplicationxmlResponse{StudioRepositoryOKApplicationxmlResponse: api.StudioRepositoryOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRepositoryShow(ctx context.Context, v any) (api.StudioRepositoryShowResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRepositoryShowResponseObject {
		return api.StudioRepositoryShow200JSONResponse{StudioRepositoryOKJSONResponse: api.StudioRepositoryOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRepositoryShowResponseObject {
			return api.StudioRepositoryShow200ApplicationxmlResponse{StudioRepositoryOKApplicationxmlResponse: api.StudioRepositoryOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRpmList(ctx context.Context, v any) (api.StudioRpmListResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRpmListResponseObject {
		return api.StudioRpmList200JSONResponse{StudioRpmsOKJSONResponse: api.StudioRpmsOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRpmListResponseObject {
			return api.StudioRpmList200ApplicationxmlResponse{StudioRpmsOKApplicationxmlResponse: api.StudioRpmsOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRpmUpload(ctx context.Context, v any) (api.StudioRpmUploadResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRpmUploadResponseObject {
		return api.StudioRpmUpload200JSONResponse{StudioRpmOKJSONResponse: api.StudioRpmOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRpmUploadResponseObject {
			return api.StudioRpmUpload200ApplicationxmlResponse{StudioRpmOKApplicationxmlResponse: api.StudioRpmOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRpmDelete(ctx context.Context, v any) (api.StudioRpmDeleteResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRpmDeleteResponseObject {
		return api.StudioRpmDelete200JSONResponse{StudioSuccessOKJSONResponse: api.StudioSuccessOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRpmDeleteResponseObject {
			return api.StudioRpmDelete200ApplicationxmlResponse{StudioSuccessOKApplicationxmlResponse: api.StudioSuccessOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRpmShow(ctx context.Context, v any) (api.StudioRpmShowResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRpmShowResponseObject {
		return api.StudioRpmShow200JSONResponse{StudioRpmOKJSONResponse: api.StudioRpmOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRpmShowResponseObject {
			return api.StudioRpmShow200ApplicationxmlResponse{StudioRpmOKApplicationxmlResponse: api.StudioRpmOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRpmUpdate(ctx context.Context, v any) (api.StudioRpmUpdateResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRpmUpdateResponseObject {
		return api.StudioRpmUpdate200JSONResponse{StudioRpmOKJSONResponse: api.StudioRpmOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRpmUpdateResponseObject {
			return api.StudioRpmUpdate200ApplicationxmlResponse{StudioRpmOKApplicationxmlResponse: api.StudioRpmOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRunningBuildList(ctx context.Context, v any) (api.StudioRunningBuildListResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRunningBuildListResponseObject {
		return api.StudioRunningBuildList200JSONResponse{StudioRunningBuildsOKJSONResponse: api.StudioRunningBuildsOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRunningBuildListResponseObject {
			return api.StudioRunningBuildList200ApplicationxmlResponse{StudioRunningBuildsOKApplicationxmlResponse: api.StudioRunningBuildsOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRunningBuildStart(ctx context.Context, v any) (api.StudioRunningBuildStartResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRunningBuildStartResponseObject {
		return api.StudioRunningBuildStart200JSONResponse{StudioRunningBuildOKJSONResponse: api.StudioRunningBuildOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRunningBuildStartResponseObject {
			return api.StudioRunningBuildStart200ApplicationxmlResponse{StudioRunningBuildOKApplicationxmlResponse: api.StudioRunningBuildOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRunningBuildCancel(ctx context.Context, v any) (api.StudioRunningBuildCancelResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRunningBuildCancelResponseObject {
		return api.StudioRunningBuildCancel200JSONResponse{StudioSuccessOKJSONResponse: api.StudioSuccessOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRunningBuildCancelResponseObject {
			return api.StudioRunningBuildCancel200ApplicationxmlResponse{StudioSuccessOKApplicationxmlResponse: api.StudioSuccessOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyRunningBuildShow(ctx context.Context, v any) (api.StudioRunningBuildShowResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioRunningBuildShowResponseObject {
		return api.StudioRunningBuildShow200JSONResponse{StudioRunningBuildOKJSONResponse: api.StudioRunningBuildOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioRunningBuildShowResponseObject {
			return api.StudioRunningBuildShow200ApplicationxmlResponse{StudioRunningBuildOKApplicationxmlResponse: api.StudioRunningBuildOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyTemplateSetList(ctx context.Context, v any) (api.StudioTemplateSetListResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioTemplateSetListResponseObject {
		return api.StudioTemplateSetList200JSONResponse{StudioTemplateSetsOKJSONResponse: api.StudioTemplateSetsOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioTemplateSetListResponseObject {
			return api.StudioTemplateSetList200ApplicationxmlResponse{StudioTemplateSetsOKApplicationxmlResponse: api.StudioTemplateSetsOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}

func replyTemplateSetShow(ctx context.Context, v any) (api.StudioTemplateSetShowResponseObject, error) {
	return reply(ctx, v, func(b wire.Body) api.StudioTemplateSetShowResponseObject {
		return api.StudioTemplateSetShow200JSONResponse{StudioTemplateSetOKJSONResponse: api.StudioTemplateSetOKJSONResponse(b)}
	},
		func(r io.Reader, n int64) api.StudioTemplateSetShowResponseObject {
			return api.StudioTemplateSetShow200ApplicationxmlResponse{StudioTemplateSetOKApplicationxmlResponse: api.StudioTemplateSetOKApplicationxmlResponse{Body: r, ContentLength: n}}
		})
}
