package process

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/reehub/reehub/store"
)

// jobArgs are the River arguments of every process job: the process names its kind.
type jobArgs struct {
	ProcessID string `json:"process_id"`
}

// Kind is the River job kind.
func (jobArgs) Kind() string { return "reehub_process" }

// jobQueue is what the service needs of a River client, whichever driver it has.
type jobQueue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// newQueue migrates River's schema and builds a client on the store's database:
// the shared *sql.DB for SQLite, a pgx pool on the same URL for Postgres.
func newQueue(ctx context.Context, st *store.Store, postgresURL string, workers *river.Workers, maxWorkers int, log *slog.Logger) (jobQueue, func(), error) {
	cfg := &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
		Workers: workers,
		Logger:  log.With("component", "river"),
		// A build has no natural time limit; cancelling is explicit.
		JobTimeout:           -1,
		RescueStuckJobsAfter: 24 * time.Hour,
		MaxAttempts:          1,
		FetchPollInterval:    250 * time.Millisecond,
		FetchCooldown:        50 * time.Millisecond,
	}
	if st.Dialect() == store.Postgres {
		pool, err := pgxpool.New(ctx, postgresURL)
		if err != nil {
			return nil, nil, fmt.Errorf("river: open postgres pool: %w", err)
		}
		driver := riverpgxv5.New(pool)
		if err := migrateRiver(ctx, driver); err != nil {
			pool.Close()
			return nil, nil, err
		}
		client, err := river.NewClient(driver, cfg)
		if err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("river: new client: %w", err)
		}
		return client, pool.Close, nil
	}
	cfg.PollOnly = true // SQLite has no LISTEN/NOTIFY
	driver := riversqlite.New(st.SQLDB())
	if err := migrateRiver(ctx, driver); err != nil {
		return nil, nil, err
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("river: new client: %w", err)
	}
	return client, func() {}, nil
}

func migrateRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New[TTx](driver, nil)
	if err != nil {
		return fmt.Errorf("river: migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river: migrate: %w", err)
	}
	return nil
}
