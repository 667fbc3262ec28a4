package ree

import (
	"github.com/reehub/reehub/service/process"
)

// RecordingArgs are the job args of a recording: what its worker needs to
// record the build again from the stored upload.
type RecordingArgs struct {
	// InputDigest is the blob of the uploaded project zip.
	InputDigest string `json:"input_digest"`
	// Dockerfile is the path of the Dockerfile inside the zip.
	Dockerfile string `json:"dockerfile"`
	// Tag is the user's label, written into the manifest.
	Tag *string `json:"tag,omitempty"`
}

// Kind is the job kind of recordings.
func (RecordingArgs) Kind() string { return process.KindRecording.JobKind() }

// ReplayArgs are the job args of a replay.
type ReplayArgs struct {
	// InputDigest is the blob of the uploaded defined REE.
	InputDigest string `json:"input_digest"`
}

// Kind is the job kind of replays.
func (ReplayArgs) Kind() string { return process.KindReplay.JobKind() }

// SbomDefineArgs are the job args of an SBOM definition.
type SbomDefineArgs struct {
	// InputDigest is the blob of the uploaded project zip.
	InputDigest string `json:"input_digest"`
	// Dockerfile is the path of the Dockerfile inside the zip.
	Dockerfile string `json:"dockerfile"`
	// Tag is the user's label, written into the manifest.
	Tag *string `json:"tag,omitempty"`
}

// Kind is the job kind of SBOM definitions.
func (SbomDefineArgs) Kind() string { return process.KindSbomDefine.JobKind() }

// SbomBuildArgs are the job args of an SBOM rebuild.
type SbomBuildArgs struct {
	// InputDigest is the blob of the uploaded SBOM-defined REE.
	InputDigest string `json:"input_digest"`
	// Tag is the user's label.
	Tag *string `json:"tag,omitempty"`
}

// Kind is the job kind of SBOM rebuilds.
func (SbomBuildArgs) Kind() string { return process.KindSbomBuild.JobKind() }
