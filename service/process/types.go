package process

import (
	"time"

	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
)

// State is where a process is, in the REE API's words.
type State string

const (
	// StateQueued waits for a worker.
	StateQueued State = "queued"
	// StateRunning is being worked on.
	StateRunning State = "running"
	// StateProcessed ended successfully; its output is available.
	StateProcessed State = "processed"
	// StateFailed ended with an error; Reason says why.
	StateFailed State = "failed"
	// StateCancelled was stopped by its owner.
	StateCancelled State = "cancelled"
)

// States lists every state.
func States() []State {
	return []State{StateQueued, StateRunning, StateProcessed, StateFailed, StateCancelled}
}

// Final reports whether the state is an end state.
func (s State) Final() bool { return s == StateProcessed || s == StateFailed || s == StateCancelled }

// stateOf is the REE word for an engine state.
func stateOf(s job.State) State {
	if s == job.StateSucceeded {
		return StateProcessed
	}
	return State(s)
}

// jobState is the engine state an REE state stands for ("" for an unknown word).
func (s State) jobState() job.State {
	switch s {
	case StateProcessed:
		return job.StateSucceeded
	case StateQueued, StateRunning, StateFailed, StateCancelled:
		return job.State(s)
	}
	return ""
}

// Kind is what a process does.
type Kind string

const (
	// KindRecording defines an REE by recording a build.
	KindRecording Kind = "recording"
	// KindReplay rebuilds a defined REE offline.
	KindReplay Kind = "replay"
	// KindSbomDefine defines an REE with the SBOM strategy (one online build, pinned).
	KindSbomDefine Kind = "sbom_define"
	// KindSbomBuild rebuilds an SBOM-defined REE online and reports drift.
	KindSbomBuild Kind = "sbom_build"
)

// Kinds lists every kind.
func Kinds() []Kind { return []Kind{KindRecording, KindReplay, KindSbomDefine, KindSbomBuild} }

// JobKind is the engine's kind (the River kind of the args) of an REE kind.
func (k Kind) JobKind() string { return "ree_" + string(k) }

// kindOf is the REE kind of an engine kind, "" when it is not one.
func kindOf(jobKind string) Kind {
	for _, k := range Kinds() {
		if k.JobKind() == jobKind {
			return k
		}
	}
	return ""
}

// OutputName is the name of a process's one output, the zip the REE API downloads.
const OutputName = "ree.zip"

// Process is one recording, replay or SBOM definition or build of a user, as the REE API shows it.
type Process struct {
	// ID is its UUID.
	ID string
	// Kind is what it does.
	Kind Kind
	// State is where it is.
	State State
	// Tag is the user's label, nil for none.
	Tag *string
	// Reason says why it failed or was cancelled.
	Reason string
	// CreatedAt, StartedAt and FinishedAt are when it was submitted, first started and ended.
	CreatedAt             time.Time
	StartedAt, FinishedAt *time.Time
	// LogDigest names the blob of its log once it ended, "" before.
	LogDigest string
	// OutputDigest names the blob of its output zip; only OpenOutput sets it.
	OutputDigest string
	// Keep spares it from retention.
	Keep bool
	// KeepImage keeps its image after its output is packaged.
	KeepImage bool
	// Identical is set for a processed replay: whether it rebuilt the
	// recorded image ID. Nil for every other process.
	Identical *bool
}

// fromJob converts a job of the REE family and its tag into a Process.
func fromJob(j job.Job, tag *string) Process {
	return Process{
		ID: j.ID, Kind: kindOf(j.Kind), State: stateOf(j.State), Tag: tag, Reason: j.Reason,
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, LogDigest: j.LogDigest(),
		Keep: j.Keep, KeepImage: j.KeepImage,
	}
}

func fromRow(r store.ProcessJob) Process {
	p := fromJob(job.FromRow(r.Job), r.Tag)
	if p.Kind == KindReplay && p.State == StateProcessed {
		p.Identical = r.Identical
	}
	return p
}

// Filter selects and pages a user's processes.
type Filter struct {
	// OwnerID is the user whose processes are listed.
	OwnerID int64
	// Tag, State and Kind, when set, must match.
	Tag   *string
	State *State
	Kind  *Kind
	// Limit and Offset page the list, newest first.
	Limit, Offset int
}
