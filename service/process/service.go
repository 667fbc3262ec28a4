package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// Runner does the work of one kind of process.
type Runner interface {
	// Run does the work of p, writing its log to w.Log, and returns the blob
	// digest of its output. A cancelled ctx means the process is being cancelled.
	Run(ctx context.Context, p store.Process, w Work) (outputDigest string, err error)
	// Cleanup removes every runtime resource (containers, networks, images,
	// proxies) a run of process id may have left, e.g. after reehub was killed.
	Cleanup(ctx context.Context, id string) error
}

// Work is what a runner gets besides the process.
type Work struct {
	// Log receives the plain-text log; it is readable through the API while the process runs.
	Log io.Writer
	// LogFile is the path of the log file (to copy it into an output).
	LogFile string
	// Dir is a scratch directory removed when the process ends.
	Dir string
	// Note, when not nil, takes a one-line summary of a successful result
	// (an SBOM rebuild's drift); it becomes the process's reason.
	Note *string
}

// Config tunes the process service.
type Config struct {
	// DataDir holds logs/ and work/. Required.
	DataDir string
	// PostgresURL is the Postgres URL River uses when the store is on Postgres.
	PostgresURL string
	// MaxWorkers is how many processes run at once. Defaults to 4.
	MaxWorkers int
	// HeartbeatInterval is how often a running process records that it is alive
	// and looks for a cancel request. Defaults to 2 seconds.
	HeartbeatInterval time.Duration
	// StaleAfter is how long without a heartbeat makes a running process orphaned.
	// Defaults to 30 seconds.
	StaleAfter time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = 4
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 2 * time.Second
	}
	if c.StaleAfter <= 0 {
		c.StaleAfter = 30 * time.Second
	}
	return c
}

// Service owns processes and their jobs.
type Service struct {
	cfg     Config
	store   *store.Store
	blobs   *blob.Store
	log     *slog.Logger
	runners map[store.ProcessKind]Runner
	queue   jobQueue
	closeDB func()

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	stopBg  context.CancelFunc
	bgDone  chan struct{}
}

// New builds the service; register runners, then call Start.
func New(st *store.Store, blobs *blob.Store, log *slog.Logger, cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if cfg.DataDir == "" {
		return nil, errors.New("process service: DataDir is required")
	}
	for _, d := range []string{"logs", "work"} {
		if err := os.MkdirAll(filepath.Join(cfg.DataDir, d), 0o750); err != nil {
			return nil, fmt.Errorf("process service: %w", err)
		}
	}
	return &Service{cfg: cfg, store: st, blobs: blobs, log: log, runners: map[store.ProcessKind]Runner{}, running: map[string]context.CancelCauseFunc{}}, nil
}

// Register sets the runner of a process kind. Call before Start.
func (s *Service) Register(kind store.ProcessKind, r Runner) { s.runners[kind] = r }

// Start recovers processes left by a previous run, then starts the job engine.
func (s *Service) Start(ctx context.Context) error {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{svc: s}); err != nil {
		return fmt.Errorf("register worker: %w", err)
	}
	q, closeDB, err := newQueue(ctx, s.store, s.cfg.PostgresURL, workers, s.cfg.MaxWorkers, s.log)
	if err != nil {
		return err
	}
	s.queue, s.closeDB = q, closeDB
	// With SQLite only this instance can run processes, so anything left running
	// is orphaned now; with Postgres other instances may be alive: wait for staleness.
	// Staged uploads of a previous run are garbage for the same reason.
	staleAfter, grace := s.cfg.StaleAfter, stagingGrace
	if s.store.Dialect() == store.SQLite {
		staleAfter, grace = 0, 0
	}
	if err := s.reap(ctx, staleAfter, grace); err != nil {
		return err
	}
	if err := s.queue.Start(ctx); err != nil {
		return fmt.Errorf("start job engine: %w", err)
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopBg, s.bgDone = stop, make(chan struct{})
	go s.reapLoop(bg)
	return nil
}

// Stop cancels running processes, waits for their workers to finish and stops the engine.
func (s *Service) Stop(ctx context.Context) error {
	if s.stopBg != nil {
		s.stopBg()
		<-s.bgDone
	}
	s.mu.Lock()
	for _, cancel := range s.running {
		cancel(errShutdown)
	}
	s.mu.Unlock()
	var err error
	if s.queue != nil {
		err = s.queue.Stop(ctx)
	}
	if s.closeDB != nil {
		s.closeDB()
	}
	return err
}

var errShutdown = errors.New("reehub is shutting down")

// SubmitOpts describes a process to start.
type SubmitOpts struct {
	OwnerID     int64
	Kind        store.ProcessKind
	Tag         *string
	Dockerfile  string
	InputDigest string
	// ID is the process UUID; a new one is generated when empty.
	ID string
}

// NewID returns a fresh process UUID (callers that stage work before Submit use it).
func NewID() string { return uuid.NewString() }

// Submit records a queued process and enqueues its job.
func (s *Service) Submit(ctx context.Context, o SubmitOpts) (store.Process, error) {
	if _, ok := s.runners[o.Kind]; !ok {
		return store.Process{}, fmt.Errorf("submit: no runner for %s", o.Kind)
	}
	if o.ID == "" {
		o.ID = NewID()
	}
	p := store.Process{ID: o.ID, OwnerID: o.OwnerID, Kind: o.Kind, Tag: o.Tag, Dockerfile: o.Dockerfile, InputDigest: o.InputDigest}
	if err := s.store.CreateProcess(ctx, &p); err != nil {
		return store.Process{}, fmt.Errorf("submit %s: %w", o.Kind, err)
	}
	res, err := s.queue.Insert(ctx, jobArgs{ProcessID: p.ID}, &river.InsertOpts{MaxAttempts: 1})
	if err != nil {
		_ = s.store.FinishProcess(context.WithoutCancel(ctx), p.ID, store.StateFailed, "could not queue the process", "")
		return store.Process{}, fmt.Errorf("enqueue process %s: %w", p.ID, err)
	}
	if err := s.store.SetProcessJob(ctx, p.ID, res.Job.ID); err != nil {
		return store.Process{}, fmt.Errorf("submit %s: %w", p.ID, err)
	}
	p.JobID = res.Job.ID
	return p, nil
}

// Get returns a process of the owner.
func (s *Service) Get(ctx context.Context, ownerID int64, id string) (store.Process, error) {
	return s.store.ProcessOf(ctx, ownerID, id)
}

// List returns a page of the owner's processes and the total count.
func (s *Service) List(ctx context.Context, f store.ProcessFilter) ([]store.Process, int64, error) {
	return s.store.ListProcesses(ctx, f)
}

// Cancel stops a queued or running process of the owner.
func (s *Service) Cancel(ctx context.Context, ownerID int64, id, reason string) (store.Process, error) {
	p, err := s.store.RequestCancel(ctx, ownerID, id, reason)
	if err != nil {
		return store.Process{}, err
	}
	if p.JobID != 0 && p.State == store.StateCancelled {
		// A queued job must not start later; an error here only means it already ran.
		if _, err := s.queue.JobCancel(ctx, p.JobID); err != nil {
			s.log.DebugContext(ctx, "cancel queued job", "process", id, "err", err)
		}
	}
	s.mu.Lock()
	cancel := s.running[id]
	s.mu.Unlock()
	if cancel != nil {
		cancel(errors.New(reason))
	}
	return p, nil
}

// OpenLog returns the log of a process as written so far.
func (s *Service) OpenLog(ctx context.Context, ownerID int64, id string) (io.ReadCloser, error) {
	for range 2 {
		p, err := s.store.ProcessOf(ctx, ownerID, id)
		if err != nil {
			return nil, err
		}
		if p.LogDigest != "" {
			return s.blobs.Open(ctx, p.LogDigest)
		}
		f, err := os.Open(s.logPath(id))
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open log of %s: %w", id, err)
		}
		if p.State == store.StateQueued {
			return io.NopCloser(&emptyReader{}), nil
		}
		// The log moved into the blob store between the two reads: read again.
	}
	return io.NopCloser(&emptyReader{}), nil
}

// OpenOutput returns the output of a processed process.
func (s *Service) OpenOutput(ctx context.Context, ownerID int64, id string) (*os.File, store.Process, error) {
	p, err := s.store.ProcessOf(ctx, ownerID, id)
	if err != nil {
		return nil, p, err
	}
	if p.State != store.StateProcessed || p.OutputDigest == "" {
		return nil, p, fault.Conflictf("process %s is %s; its output is available once it is processed", id, p.State)
	}
	f, err := s.blobs.Open(ctx, p.OutputDigest)
	return f, p, err
}

type emptyReader struct{}

func (*emptyReader) Read([]byte) (int, error) { return 0, io.EOF }

func (s *Service) logPath(id string) string { return filepath.Join(s.cfg.DataDir, "logs", id+".log") }

func (s *Service) workDir(id string) string { return filepath.Join(s.cfg.DataDir, "work", id) }

// WorkDir is the scratch directory of a process; callers may stage input there before Submit.
func (s *Service) WorkDir(id string) string { return s.workDir(id) }
