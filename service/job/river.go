package job

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/reehub/reehub/store"
)

// newClient migrates River's schema (under the store's migration lock) and
// builds a River client on the store's own *sql.DB: riversqlite on SQLite,
// riverdatabasesql on Postgres. Both take a *sql.Tx, so River inserts in the
// store's transactions. Neither listens for notifications: River polls.
func (e *Engine) newClient(ctx context.Context) (*river.Client[*sql.Tx], error) {
	var driver riverdriver.Driver[*sql.Tx]
	if e.store.Dialect() == store.Postgres {
		driver = riverdatabasesql.New(e.store.SQLDB())
	} else {
		driver = riversqlite.New(e.store.SQLDB())
	}
	err := e.store.WithMigrationLock(ctx, func() error {
		m, err := rivermigrate.New(driver, nil)
		if err != nil {
			return fmt.Errorf("river: migrator: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("river: migrate: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// An API-only engine's client has no queues: it inserts and cancels
	// jobs, and is never started.
	var queues map[string]river.QueueConfig
	if !e.cfg.APIOnly {
		queues = map[string]river.QueueConfig{}
		for name, q := range e.cfg.Queues {
			if len(e.cfg.Serve) == 0 || slices.Contains(e.cfg.Serve, name) {
				queues[name] = river.QueueConfig{MaxWorkers: q.MaxWorkers, FetchPollInterval: e.cfg.pollEvery(name)}
			}
		}
	}
	client, err := river.NewClient(driver, &river.Config{
		Queues:  queues,
		Workers: e.workers,
		Logger:  e.log.With("component", "river"),
		// A build has no natural time limit; cancelling is explicit.
		JobTimeout: -1,
		// The engine recovers interrupted attempts itself (heartbeats); River's
		// rescuer only discards the River jobs of those attempts, much later.
		RescueStuckJobsAfter: 24 * time.Hour,
		MaxAttempts:          1,
		FetchPollInterval:    e.cfg.PollInterval,
		FetchCooldown:        fetchCooldown,
		PollOnly:             true,
	})
	if err != nil {
		return nil, fmt.Errorf("river: new client: %w", err)
	}
	return client, nil
}
