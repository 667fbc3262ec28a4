package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// errNoRows stands for an update or delete that matched nothing.
var errNoRows = gorm.ErrRecordNotFound

// ProcessState is where a process is in its life.
type ProcessState string

const (
	// StateQueued waits for a worker.
	StateQueued ProcessState = "queued"
	// StateRunning is being worked on.
	StateRunning ProcessState = "running"
	// StateProcessed ended successfully; its output is available.
	StateProcessed ProcessState = "processed"
	// StateFailed ended with an error; Reason says why.
	StateFailed ProcessState = "failed"
	// StateCancelled was stopped by its owner or by a restart clean-up.
	StateCancelled ProcessState = "cancelled"
)

// ProcessStates lists every state.
func ProcessStates() []ProcessState {
	return []ProcessState{StateQueued, StateRunning, StateProcessed, StateFailed, StateCancelled}
}

// Final reports whether the state is an end state.
func (s ProcessState) Final() bool {
	return s == StateProcessed || s == StateFailed || s == StateCancelled
}

// ProcessKind is what a process does.
type ProcessKind string

const (
	// KindRecording defines an REE by recording a build.
	KindRecording ProcessKind = "recording"
	// KindReplay rebuilds a defined REE offline.
	KindReplay ProcessKind = "replay"
)

// ProcessKinds lists every kind.
func ProcessKinds() []ProcessKind { return []ProcessKind{KindRecording, KindReplay} }

// Process is one long-running job of a user, as the REE API shows it.
type Process struct {
	ID              string `gorm:"primaryKey"`
	OwnerID         int64
	Kind            ProcessKind
	Tag             *string
	State           ProcessState
	Reason          string
	Dockerfile      string
	InputDigest     string
	OutputDigest    string
	LogDigest       string
	JobID           int64
	CancelRequested bool
	HeartbeatAt     *time.Time
	CreatedAt       time.Time
	StartedAt       *time.Time
	FinishedAt      *time.Time
}

// CreateProcess inserts p in state queued.
func (s *Store) CreateProcess(ctx context.Context, p *Process) error {
	p.CreatedAt = s.Now()
	p.State = StateQueued
	return translate(s.db.WithContext(ctx).Create(p).Error, "process "+p.ID)
}

// ProcessOf returns the process id owned by ownerID; another user's process is not found.
func (s *Store) ProcessOf(ctx context.Context, ownerID int64, id string) (Process, error) {
	var p Process
	err := s.read().WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Take(&p).Error
	return p, translate(err, "process "+id)
}

// ProcessByID returns the process regardless of owner (for workers).
func (s *Store) ProcessByID(ctx context.Context, id string) (Process, error) {
	var p Process
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&p).Error
	return p, translate(err, "process "+id)
}

// ProcessFilter selects processes of one owner.
type ProcessFilter struct {
	OwnerID int64
	Tag     *string
	State   *ProcessState
	Kind    *ProcessKind
	Limit   int
	Offset  int
}

// ListProcesses returns a page of matching processes, newest first, and the total count.
func (s *Store) ListProcesses(ctx context.Context, f ProcessFilter) ([]Process, int64, error) {
	q := s.db.WithContext(ctx).Model(&Process{}).Where("owner_id = ?", f.OwnerID)
	if f.Tag != nil {
		q = q.Where("tag = ?", *f.Tag)
	}
	if f.State != nil {
		q = q.Where("state = ?", *f.State)
	}
	if f.Kind != nil {
		q = q.Where("kind = ?", *f.Kind)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "count processes")
	}
	var ps []Process
	err := q.Order("created_at DESC, id").Limit(f.Limit).Offset(f.Offset).Find(&ps).Error
	return ps, total, translate(err, "list processes")
}

// ProcessesInState returns every process in one of the states (for recovery).
func (s *Store) ProcessesInState(ctx context.Context, states ...ProcessState) ([]Process, error) {
	var ps []Process
	err := s.db.WithContext(ctx).Where("state IN ?", states).Order("created_at").Find(&ps).Error
	return ps, translate(err, "list processes by state")
}

// SetProcessJob records the River job that works on the process.
func (s *Store) SetProcessJob(ctx context.Context, id string, jobID int64) error {
	return s.updateProcess(ctx, id, nil, map[string]any{"job_id": jobID})
}

// StartProcess moves a queued process to running; it fails with a conflict when
// the process is no longer queued (cancelled meanwhile, or taken by another worker).
func (s *Store) StartProcess(ctx context.Context, id string) error {
	now := s.Now()
	return s.updateProcess(ctx, id, []ProcessState{StateQueued},
		map[string]any{"state": StateRunning, "started_at": now, "heartbeat_at": now})
}

// Heartbeat records that the worker of a running process is alive and reports
// whether cancelling was requested.
func (s *Store) Heartbeat(ctx context.Context, id string) (cancelRequested bool, err error) {
	if err := s.updateProcess(ctx, id, []ProcessState{StateRunning}, map[string]any{"heartbeat_at": s.Now()}); err != nil {
		return false, err
	}
	p, err := s.ProcessByID(ctx, id)
	return p.CancelRequested, err
}

// RequestCancel marks a process for cancelling. A queued process is cancelled at
// once; a running one is flagged for its worker. A process that already ended is a conflict.
func (s *Store) RequestCancel(ctx context.Context, ownerID int64, id, reason string) (Process, error) {
	var out Process
	err := s.InTx(ctx, func(tx *Store) error {
		p, err := tx.ProcessOf(ctx, ownerID, id)
		if err != nil {
			return err
		}
		switch p.State {
		case StateQueued:
			if err := tx.FinishProcess(ctx, id, StateCancelled, reason, ""); err != nil {
				return err
			}
		case StateRunning:
			if err := tx.updateProcess(ctx, id, nil, map[string]any{"cancel_requested": true, "reason": reason}); err != nil {
				return err
			}
		default:
			return conflictf("process %s already ended: it is %s", id, p.State)
		}
		out, err = tx.ProcessByID(ctx, id)
		return err
	})
	return out, err
}

// FinishProcess moves a queued or running process to an end state.
func (s *Store) FinishProcess(ctx context.Context, id string, state ProcessState, reason, outputDigest string) error {
	if !state.Final() {
		return fmt.Errorf("finish process %s: %s is not an end state", id, state)
	}
	fields := map[string]any{"state": state, "reason": reason, "finished_at": s.Now()}
	if outputDigest != "" {
		fields["output_digest"] = outputDigest
	}
	return s.updateProcess(ctx, id, []ProcessState{StateQueued, StateRunning}, fields)
}

// SetProcessLog records the blob holding the final log.
func (s *Store) SetProcessLog(ctx context.Context, id, digest string) error {
	return s.updateProcess(ctx, id, nil, map[string]any{"log_digest": digest})
}

// updateProcess updates fields of a process, only when it is in one of from (any when nil).
func (s *Store) updateProcess(ctx context.Context, id string, from []ProcessState, fields map[string]any) error {
	q := s.db.WithContext(ctx).Model(&Process{}).Where("id = ?", id)
	if from != nil {
		q = q.Where("state IN ?", from)
	}
	res := q.Updates(fields)
	if res.Error != nil {
		return translate(res.Error, "process "+id)
	}
	if res.RowsAffected == 0 {
		if _, err := s.ProcessByID(ctx, id); err != nil {
			return err
		}
		return conflictf("process %s is not in a state that allows this change", id)
	}
	return nil
}
