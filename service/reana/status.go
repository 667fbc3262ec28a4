package reana

import (
	"fmt"
	"time"

	"github.com/reehub/reehub/fault"
)

// Status is a workflow's status in REANA's vocabulary.
type Status string

// REANA's workflow statuses (reana-client RUN_STATUSES).
const (
	StatusCreated  Status = "created"
	StatusQueued   Status = "queued"
	StatusPending  Status = "pending"
	StatusRunning  Status = "running"
	StatusFinished Status = "finished"
	StatusFailed   Status = "failed"
	StatusStopped  Status = "stopped"
	StatusDeleted  Status = "deleted"
)

// Statuses lists every status in REANA's order.
func Statuses() []Status {
	return []Status{StatusCreated, StatusQueued, StatusPending, StatusRunning, StatusFinished, StatusFailed, StatusStopped, StatusDeleted}
}

// ParseStatus returns the status named s, or an ErrInvalid error listing the
// valid ones.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fault.Invalidf("status %q is unknown; the statuses are created, queued, pending, running, finished, failed, stopped and deleted", s)
}

// Active reports whether a workflow in this status has work queued or
// running (what reana-client --follow waits on).
func (s Status) Active() bool {
	return s == StatusQueued || s == StatusPending || s == StatusRunning
}

// Ended reports whether the run has come to an end (finished, failed or
// stopped).
func (s Status) Ended() bool {
	return s == StatusFinished || s == StatusFailed || s == StatusStopped
}

// transitions are the status changes the engine may make.
var transitions = map[Status][]Status{
	StatusCreated:  {StatusQueued, StatusDeleted},
	StatusQueued:   {StatusPending, StatusRunning, StatusFailed, StatusStopped},
	StatusPending:  {StatusRunning, StatusFailed, StatusStopped},
	StatusRunning:  {StatusFinished, StatusFailed, StatusStopped},
	StatusFinished: {StatusQueued, StatusDeleted},
	StatusFailed:   {StatusQueued, StatusDeleted},
	StatusStopped:  {StatusDeleted},
	StatusDeleted:  {},
}

// CanTransition reports whether a workflow may go from one status to another.
func CanTransition(from, to Status) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}

// CheckStart returns nil when a workflow in status s may be started, and a
// fault.ErrConflict error otherwise, in reana-server's words
// (rest/workflows.py _start_workflow). A created workflow starts; a finished
// or failed one starts again only as a restart (restart true, or operational
// options FROM or TARGET); a stopped one cannot be restarted, as in REANA.
// REANA answers these refusals 403 (a ValueError); reehub answers 409, the
// status of every refused transition (issue 9), with the same message.
func CheckStart(name string, s Status, restart bool) error {
	switch {
	case s == StatusCreated:
		return nil
	case restart && (s == StatusFinished || s == StatusFailed):
		return nil
	case restart:
		return fault.Conflictf("Only finished or failed workflows can be restarted. Workflow %s is %s.", name, s)
	default:
		return fault.Conflictf("Workflow %s is already %s and cannot be started again.", name, s)
	}
}

// CheckStop returns nil when a workflow in status s may be stopped.
func CheckStop(name string, s Status) error {
	if s.Active() {
		return nil
	}
	return fault.Conflictf("workflow %s is not running (it is %s) and cannot be stopped", name, s)
}

// CheckDelete returns nil when a workflow in status s may be deleted.
func CheckDelete(name string, s Status) error {
	switch {
	case s.Active():
		return fault.Conflictf("workflow %s is %s; stop it before deleting it", name, s)
	case s == StatusDeleted:
		return fault.Conflictf("workflow %s is already deleted", name)
	}
	return nil
}

// TimeLayout is REANA's timestamp format: UTC, no fraction, no zone
// (reana-client parses it with strptime("%Y-%m-%dT%H:%M:%S")).
const TimeLayout = "2006-01-02T15:04:05"

// FormatTime formats t in TimeLayout, in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// formatTimePtr formats t, or returns nil for nil or the zero time.
func formatTimePtr(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := FormatTime(*t)
	return &s
}

// JobCount is one of REANA's progress counters.
type JobCount struct {
	// Total is the number of jobs counted.
	Total int
	// JobIDs are their ids.
	JobIDs []string
}

// StepState is what the engine knows of one step of a run, the input of
// NewProgress.
type StepState struct {
	// Name is the step's name.
	Name string
	// JobID identifies the step's job (REANA's job id).
	JobID string
	// Status is the step's status: created (not started), running,
	// finished, failed, stopped or cached.
	Status string
	// Command is the command running now (when running).
	Command string
}

// Progress is REANA's progress object of a run.
type Progress struct {
	// Total, Finished, Failed, Running and Cached count the run's steps.
	Total, Finished, Failed, Running, Cached JobCount
	// CurrentStepName and CurrentCommand name what runs now (nil when
	// nothing runs).
	CurrentStepName, CurrentCommand *string
	// RunStartedAt, RunFinishedAt and RunStoppedAt are TimeLayout strings,
	// nil until reached.
	RunStartedAt, RunFinishedAt, RunStoppedAt *string
}

// Run step statuses used in StepState.Status and the logs.
const (
	StepCreated  = "created"
	StepRunning  = "running"
	StepFinished = "finished"
	StepFailed   = "failed"
	StepStopped  = "stopped"
	StepCached   = "cached"
)

// NewProgress builds the progress object of a run from its steps and times.
// A cached step counts as finished (and as cached).
func NewProgress(steps []StepState, started, finished, stopped *time.Time) Progress {
	p := Progress{
		Total: JobCount{JobIDs: []string{}}, Finished: JobCount{JobIDs: []string{}},
		Failed: JobCount{JobIDs: []string{}}, Running: JobCount{JobIDs: []string{}},
		Cached:       JobCount{JobIDs: []string{}},
		RunStartedAt: formatTimePtr(started), RunFinishedAt: formatTimePtr(finished), RunStoppedAt: formatTimePtr(stopped),
	}
	add := func(c *JobCount, id string) {
		c.Total++
		if id != "" {
			c.JobIDs = append(c.JobIDs, id)
		}
	}
	for _, s := range steps {
		add(&p.Total, s.JobID)
		switch s.Status {
		case StepFinished:
			add(&p.Finished, s.JobID)
		case StepCached:
			add(&p.Finished, s.JobID)
			add(&p.Cached, s.JobID)
		case StepFailed:
			add(&p.Failed, s.JobID)
		case StepRunning:
			add(&p.Running, s.JobID)
			name, cmd := s.Name, s.Command
			p.CurrentStepName, p.CurrentCommand = &name, &cmd
		}
	}
	return p
}

// StepFailure is the reason of a failed step: the step, the command, its exit
// code and the last lines of its output.
type StepFailure struct {
	// Step is the step's name.
	Step string
	// Command is the command that failed, as run (parameters expanded).
	Command string
	// ExitCode is its exit code.
	ExitCode int
	// Tail is the last lines of its output.
	Tail string
}

// Error is the reason as status and logs show it.
func (f *StepFailure) Error() string {
	msg := fmt.Sprintf("step %q failed: command %q exited with code %d", f.Step, f.Command, f.ExitCode)
	if f.ExitCode == 137 {
		msg += " (killed: out of memory or stopped)"
	}
	if f.Tail != "" {
		msg += "; last lines of its output:\n" + f.Tail
	}
	return msg
}
