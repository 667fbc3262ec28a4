package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// HostCleanup is a clean-up a worker host owes: the attempt Attempt of job
// JobID (of kind Kind) ran on Host and was interrupted there, and the job was
// queued again for any host; only Host can remove what the attempt left on
// its Podman service.
type HostCleanup struct {
	Host      string `gorm:"primaryKey"`
	JobID     string `gorm:"primaryKey"`
	Kind      string
	Attempt   int
	CreatedAt time.Time
}

// TableName is the host clean-ups' table.
func (HostCleanup) TableName() string { return "job_host_cleanups" }

// AddHostCleanup records c (a second record of the same host and job keeps
// the first: one clean-up removes every attempt's leftovers of a job).
func (s *Store) AddHostCleanup(ctx context.Context, c HostCleanup) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.Now()
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&c).Error
	return translate(err, "record the clean-up of job "+c.JobID+" on host "+c.Host)
}

// HostCleanups returns the clean-ups host owes, oldest first; with jobID
// set, only that job's.
func (s *Store) HostCleanups(ctx context.Context, host, jobID string) ([]HostCleanup, error) {
	var out []HostCleanup
	q := s.db.WithContext(ctx).Where("host = ?", host)
	if jobID != "" {
		q = q.Where("job_id = ?", jobID)
	}
	if err := q.Order("created_at, job_id").Find(&out).Error; err != nil {
		return nil, translate(err, "list the clean-ups of host "+host)
	}
	return out, nil
}

// DoneHostCleanup removes the clean-up of job on host.
func (s *Store) DoneHostCleanup(ctx context.Context, host, jobID string) error {
	err := s.db.WithContext(ctx).Where("host = ? AND job_id = ?", host, jobID).Delete(&HostCleanup{}).Error
	return translate(err, "remove the clean-up of job "+jobID+" on host "+host)
}

// singletonLockBase is the first Postgres advisory lock key of TryExclusive.
const singletonLockBase int64 = 0x7265656875620100

// TryExclusive runs fn unless another instance on this database is running
// fn of the same key (a small number naming the task, such as periodic
// garbage collection), and reports whether it ran. On Postgres it is a
// session advisory lock taken without waiting (pg_try_advisory_lock) on a
// dedicated connection; on SQLite (one instance per file) fn always runs.
func (s *Store) TryExclusive(ctx context.Context, key int64, fn func() error) (bool, error) {
	if s.dialect != Postgres {
		return true, fn()
	}
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("exclusive task %d: %w", key, err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", singletonLockBase+key).Scan(&got); err != nil {
		return false, fmt.Errorf("exclusive task %d: %w", key, err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", singletonLockBase+key)
	}()
	return true, fn()
}
