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
}

// Submit records a queued process (its job and its REE row, in one
// transaction with the River job) for args of an REE kind.
func (s *Service) Submit(ctx context.Context, args river.JobArgs, o SubmitOpts) (Process, error) {
	if kindOf(args.Kind()) == "" {
		return Process{}, fmt.Errorf("submit: %s is not an REE kind", args.Kind())
	}
	j, err := s.engine.Submit(ctx, args, job.SubmitOpts{
		OwnerID: o.OwnerID,
		Inputs:  o.Inputs,
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
func (s *Service) OpenOutput(ctx context.Context, ownerID int64, id string) (*os.File, Process, error) {
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
