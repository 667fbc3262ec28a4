package server

import (
	"context"
	"errors"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/job"
)

// SystemUsage reports the blob store by kind, the images reehub holds in
// Podman and the database size (admin; the gate checks the scope).
func (s *Server) SystemUsage(ctx context.Context, _ api.SystemUsageRequestObject) (api.SystemUsageResponseObject, error) {
	if s.usage == nil {
		return nil, errors.New("system usage: the server was built without a usage source")
	}
	u, err := s.usage(ctx)
	if err != nil {
		return nil, err
	}
	return api.SystemUsage200JSONResponse{
		Blobs: api.SystemBlobUsage{
			Outputs: u.Blobs[job.BlobOutputs], Logs: u.Blobs[job.BlobLogs], Inputs: u.Blobs[job.BlobInputs],
			Other: u.Other + familyBytes(u), Total: u.Total, Count: u.Count,
		},
		Images:   api.SystemImageUsage{Count: u.Images, Bytes: u.ImageBytes},
		Database: api.SystemDatabaseUsage{Kind: api.SystemDatabaseUsageKind(u.Database), Bytes: u.DatabaseBytes},
	}, nil
}

// familyBytes are blobs of kinds the contract does not name yet (a
// family's own), reported as other.
func familyBytes(u job.Usage) int64 {
	var n int64
	for k, b := range u.Blobs {
		if k != job.BlobOutputs && k != job.BlobLogs && k != job.BlobInputs {
			n += b
		}
	}
	return n
}
