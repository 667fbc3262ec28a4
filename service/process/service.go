package process

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/riverqueue/river"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
)

// Service reads and controls REE processes over the job engine.
type Service struct {
	store  *store.Store
	engine *job.Engine
}

// New returns the REE process view of engine.
func New(st *store.Store, engine *job.Engine) *Service { return &Service{store: st, engine: engine} }

// SubmitOpts describes a process to start besides its job args.
type SubmitOpts struct {
	// OwnerID is the submitting user.
	OwnerID int64
	// Tag is the user's label, nil for none.
	Tag *string
	// Dockerfile and InputDigest are shown and kept with the process.
	Dockerfile  string
	InputDigest string
	// Inputs are staged directories moved into the job's work directory (see job.SubmitOpts).
	Inputs map[string]string
	// Keep marks the process to keep (retention spares it).
	Keep bool
	// KeepImage keeps the image it builds once its output is packaged.
	KeepImage bool
}

// Submit records a queued process (its job and its REE row, in one
// transaction with the River job) for args of an REE kind.
func (s *Service) Submit(ctx context.Context, args river.JobArgs, o SubmitOpts) (Process, error) {
	if kindOf(args.Kind()) == "" {
		return Process{}, fmt.Errorf("submit: %s is not an REE kind", args.Kind())
	}
	j, err := s.engine.Submit(ctx, args, job.SubmitOpts{
		OwnerID:   o.OwnerID,
		Inputs:    o.Inputs,
		Keep:      o.Keep,
		KeepImage: o.KeepImage,
		InTx: func(ctx context.Context, tx *store.Store, j job.Job) error {
			return tx.CreateProcess(ctx, &store.Process{ID: j.ID, Tag: o.Tag, Dockerfile: o.Dockerfile, InputDigest: o.InputDigest})
		},
	})
	if err != nil {
		return Process{}, err
	}
	return fromJob(j, o.Tag), nil
}

// Get returns a process of the owner.
func (s *Service) Get(ctx context.Context, ownerID int64, id string) (Process, error) {
	r, err := s.store.ProcessOf(ctx, ownerID, id)
	if err != nil {
		return Process{}, err
	}
	return fromRow(r), nil
}

// List returns a page of the owner's processes and the total count. Only
// jobs of the REE family are processes; other families' jobs never appear.
func (s *Service) List(ctx context.Context, f Filter) ([]Process, int64, error) {
	sf := store.ProcessFilter{OwnerID: f.OwnerID, Tag: f.Tag, Limit: f.Limit, Offset: f.Offset}
	if f.State != nil {
		sf.States = []string{string(f.State.jobState())}
	}
	if f.Kind != nil {
		sf.Kinds = []string{f.Kind.JobKind()}
	}
	rows, total, err := s.store.ListProcesses(ctx, sf)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Process, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, total, nil
}

// Cancel stops a queued or running process of the owner; one that already
// ended is a conflict.
func (s *Service) Cancel(ctx context.Context, ownerID int64, id, reason string) (Process, error) {
	p, err := s.Get(ctx, ownerID, id)
	if err != nil {
		return Process{}, err
	}
	if p.State.Final() {
		return Process{}, fault.Conflictf("process %s already ended: it is %s", id, p.State)
	}
	j, err := s.engine.Cancel(ctx, ownerID, id, reason)
	if err != nil {
		return Process{}, err
	}
	return fromJob(j, p.Tag), nil
}

// OpenLog returns the log of a process as written so far.
func (s *Service) OpenLog(ctx context.Context, ownerID int64, id string) (io.ReadCloser, error) {
	if _, err := s.store.ProcessOf(ctx, ownerID, id); err != nil {
		return nil, err
	}
	return s.engine.OpenLog(ctx, id)
}

// OpenOutput returns the output zip of a processed process.
func (s *Service) OpenOutput(ctx context.Context, ownerID int64, id string) (io.ReadSeekCloser, Process, error) {
	p, err := s.Get(ctx, ownerID, id)
	if err != nil {
		return nil, p, err
	}
	if p.State != StateProcessed {
		return nil, p, fault.Conflictf("process %s is %s; its output is available once it is processed", id, p.State)
	}
	f, out, err := s.engine.OpenOutput(ctx, id, OutputName)
	p.OutputDigest = out.Digest
	return f, p, err
}

// OpenOutputFile is OpenOutput as a local file (for zip.NewReader).
func (s *Service) OpenOutputFile(ctx context.Context, ownerID int64, id string) (*os.File, Process, error) {
	p, err := s.Get(ctx, ownerID, id)
	if err != nil {
		return nil, p, err
	}
	if p.State != StateProcessed {
		return nil, p, fault.Conflictf("process %s is %s; its output is available once it is processed", id, p.State)
	}
	f, out, err := s.engine.OpenOutputFile(ctx, id, OutputName)
	p.OutputDigest = out.Digest
	return f, p, err
}

// DeleteOpts says which process Delete deletes and for whom.
type DeleteOpts struct {
	// ID is the process.
	ID string
	// OwnerID is the user asking; another user's process is not found unless Admin.
	OwnerID int64
	// Admin may delete any user's process.
	Admin bool
	// Reason is the cancel reason when the process still runs.
	Reason string
}

// Delete deletes a process with its log, output, image and every blob only
// it referenced; a queued or running one is cancelled first (see job.Engine.Delete).
func (s *Service) Delete(ctx context.Context, o DeleteOpts) error {
	_, err := s.engine.Delete(ctx, job.DeleteOpts{
		ID: o.ID, OwnerID: o.OwnerID, Admin: o.Admin, Reason: o.Reason,
		Check: func(j job.Job) error {
			if j.Family != job.FamilyREE || kindOf(j.Kind) == "" {
				return fault.NotFoundf("process %s not found", o.ID)
			}
			return nil
		},
	})
	return err
}

// SetKeep sets or clears the keep mark of a process of the owner.
func (s *Service) SetKeep(ctx context.Context, ownerID int64, id string, keep bool) (Process, error) {
	if _, err := s.store.ProcessOf(ctx, ownerID, id); err != nil {
		return Process{}, err
	}
	if _, err := s.engine.SetKeep(ctx, ownerID, id, keep); err != nil {
		return Process{}, err
	}
	return s.Get(ctx, ownerID, id)
}

// SetIdentical records, for the replay id that is packaging its output,
// whether it rebuilt the recorded image ID; the status shows it once the
// replay is processed.
func (s *Service) SetIdentical(ctx context.Context, id string, identical bool) error {
	if err := s.store.SetProcessIdentical(ctx, id, identical); err != nil {
		return fmt.Errorf("record replay result: %w", err)
	}
	return nil
}
