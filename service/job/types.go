package job

import (
	"time"

	"github.com/reehub/reehub/store"
)

// Family is the API family a job belongs to.
type Family string

const (
	// FamilyREE is the REE API (recordings, replays, SBOM strategy).
	FamilyREE Family = "ree"
	// FamilyFOSSology is the FOSSology API (uploads, scans, reports).
	FamilyFOSSology Family = "fossology"
	// FamilyREANA is the REANA API (workflows).
	FamilyREANA Family = "reana"
	// FamilyVice is the ViCE registry API (api/vice.yaml: deployments).
	FamilyVice Family = "vice"
	// FamilyStudio is the Studio API (appliance builds).
	FamilyStudio Family = "studio"
)

// Families lists every family.
func Families() []Family {
	return []Family{FamilyREE, FamilyFOSSology, FamilyREANA, FamilyVice, FamilyStudio}
}

// State is where a job is in its life.
type State string

const (
	// StateQueued waits for a worker (first, or again after an interrupted attempt).
	StateQueued State = "queued"
	// StateRunning is being worked on.
	StateRunning State = "running"
	// StateSucceeded ended successfully; its outputs are available.
	StateSucceeded State = "succeeded"
	// StateFailed ended with an error; Reason says why.
	StateFailed State = "failed"
	// StateCancelled was stopped by its owner.
	StateCancelled State = "cancelled"
)

// States lists every state.
func States() []State {
	return []State{StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled}
}

// Final reports whether the state is an end state.
func (s State) Final() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCancelled
}

// CanBecome reports whether the state machine allows moving from s to next:
// queued → running | cancelled | failed, running → queued (an interrupted
// attempt) | succeeded | failed | cancelled; an end state never changes.
func (s State) CanBecome(next State) bool {
	switch s {
	case StateQueued:
		return next == StateRunning || next == StateCancelled || next == StateFailed
	case StateRunning:
		return next == StateQueued || next.Final()
	default:
		return false
	}
}

// from lists the states that may become next, as the store's compare-and-set wants them.
func from(next State) []string {
	var out []string
	for _, s := range States() {
		if s.CanBecome(next) {
			out = append(out, string(s))
		}
	}
	return out
}

// Progress is how far a running job is.
type Progress struct {
	// Percent is 0 to 100.
	Percent int
	// Message says what the job is doing.
	Message string
}

// Job is one job of the engine, as the API families read it. The River job
// and the arguments stay inside the engine.
type Job struct {
	// ID is the job's UUID; the families use it as their resource id.
	ID string
	// Family is the API family of its kind.
	Family Family
	// Kind is the River kind of its arguments.
	Kind string
	// OwnerID is the user who submitted it.
	OwnerID int64
	// GroupID is the group it belongs to, nil for none.
	GroupID *int64
	// State is where it is.
	State State
	// Reason says why it failed or was cancelled.
	Reason string
	// Progress is how far it is.
	Progress Progress
	// Attempt counts the attempts started so far (0 while first queued).
	Attempt int
	// MaxAttempts is how many attempts it may have.
	MaxAttempts int
	// CreatedAt is when it was submitted.
	CreatedAt time.Time
	// StartedAt is when its first attempt started.
	StartedAt *time.Time
	// FinishedAt is when it reached its end state.
	FinishedAt *time.Time
	// Keep spares it from retention (Config.Retention).
	Keep bool
	// KeepImage asks its kind to keep the image it built once its output
	// is packaged (images are a cache; see the package doc, "Storage").
	KeepImage bool
	// RequestID is the id of the API request that submitted it (X-Request-Id),
	// "" for a job submitted otherwise; its log starts with it.
	RequestID string

	args       string
	logDigest  string
	riverJobID int64
}

// FromRow converts the store's job row into a Job. Families that read a job
// together with their own row (in one query) convert it with this.
func FromRow(r store.Job) Job {
	return Job{
		ID: r.ID, Family: Family(r.Family), Kind: r.Kind, OwnerID: r.OwnerID, GroupID: r.GroupID,
		State: State(r.State), Reason: r.Reason, Progress: Progress{Percent: r.ProgressPercent, Message: r.ProgressMessage},
		Attempt: r.Attempt, MaxAttempts: r.MaxAttempts, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Keep: r.Keep, KeepImage: r.KeepImage, RequestID: r.RequestID,
		args: r.Args, logDigest: r.LogDigest, riverJobID: r.RiverJobID,
	}
}

// LogDigest names the blob of the job's log once it ended, "" before.
func (j Job) LogDigest() string { return j.logDigest }

// StepState is where a step is.
type StepState string

const (
	// StepPending has not run in the current attempt.
	StepPending StepState = "pending"
	// StepRunning is running.
	StepRunning StepState = "running"
	// StepSucceeded ended successfully.
	StepSucceeded StepState = "succeeded"
	// StepFailed ended with an error.
	StepFailed StepState = "failed"
	// StepCancelled was stopped with its job.
	StepCancelled StepState = "cancelled"
	// StepSkipped never ran because an earlier step ended the job.
	StepSkipped StepState = "skipped"
)

// StepStates lists every step state.
func StepStates() []StepState {
	return []StepState{StepPending, StepRunning, StepSucceeded, StepFailed, StepCancelled, StepSkipped}
}

// Step is one ordered step of a job (a build phase, a FOSSology agent, a REANA step).
type Step struct {
	// Position is its index, from 0.
	Position int
	// Name names it within its job.
	Name string
	// State is where it is.
	State StepState
	// StartedAt and FinishedAt are the times of its last run.
	StartedAt, FinishedAt *time.Time
	// ExitCode is the exit code of the command it ran, when it ran one.
	ExitCode *int
	// Error says why it failed.
	Error string
	// LogDigest is the blob of its own log once it ended, "" before.
	LogDigest string
}

func stepFromRow(r store.JobStep) Step {
	return Step{Position: r.Position, Name: r.Name, State: StepState(r.State), StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		ExitCode: r.ExitCode, Error: r.Error, LogDigest: r.LogDigest}
}

func (s Step) row(jobID string) store.JobStep {
	return store.JobStep{JobID: jobID, Position: s.Position, Name: s.Name, State: string(s.State), StartedAt: s.StartedAt,
		FinishedAt: s.FinishedAt, ExitCode: s.ExitCode, Error: s.Error, LogDigest: s.LogDigest}
}

// Output is a named blob a job produced.
type Output struct {
	// Name names it within its job (e.g. "ree.zip").
	Name string
	// Digest is its blob digest.
	Digest string
	// Size is its length in bytes (0 when unknown: outputs recorded before the engine).
	Size int64
	// MediaType is its media type.
	MediaType string
}
