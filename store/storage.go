package store

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/google/uuid"
)

// BlobColumn is a column that holds blob digests: a reference to a blob of
// the content-addressed store. Every domain that stores digests names its
// columns (service/job's garbage collector asks all of them before a blob
// goes), so that a blob is removed only when no column of any domain holds it.
type BlobColumn struct {
	// Table and Column name the column ("job_outputs", "digest").
	Table, Column string
	// JobColumn, when set, is the column of Table that holds the id of the
	// job the reference belongs to ("job_id"); the digests of a job are then
	// known when it is deleted. Empty for references not tied to a job.
	JobColumn string
}

// identifier is what a table or column name may be (they are spliced into SQL).
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func (c BlobColumn) validate() error {
	if !identifier.MatchString(c.Table) || !identifier.MatchString(c.Column) || (c.JobColumn != "" && !identifier.MatchString(c.JobColumn)) {
		return fmt.Errorf("blob column %s.%s (job column %q): names must be lower-case SQL identifiers", c.Table, c.Column, c.JobColumn)
	}
	return nil
}

// refBatch bounds the digests of one IN list.
const refBatch = 500

// ReferencedDigests returns which of digests col holds.
func (s *Store) ReferencedDigests(ctx context.Context, col BlobColumn, digests []string) (map[string]bool, error) {
	if err := col.validate(); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for start := 0; start < len(digests); start += refBatch {
		batch := digests[start:min(start+refBatch, len(digests))]
		var found []string
		err := s.db.WithContext(ctx).Table(col.Table).Distinct(col.Column).Where(col.Column+" IN ?", batch).Pluck(col.Column, &found).Error
		if err != nil {
			return nil, translate(err, "blob references in "+col.Table+"."+col.Column)
		}
		for _, d := range found {
			out[d] = true
		}
	}
	return out, nil
}

// JobDigests returns the digests col holds for job id (none when col is not tied to jobs).
func (s *Store) JobDigests(ctx context.Context, col BlobColumn, id string) ([]string, error) {
	if err := col.validate(); err != nil {
		return nil, err
	}
	if col.JobColumn == "" {
		return nil, nil
	}
	var found []string
	err := s.db.WithContext(ctx).Table(col.Table).Distinct(col.Column).
		Where(col.JobColumn+" = ? AND "+col.Column+" <> ''", id).Pluck(col.Column, &found).Error
	return found, translate(err, "blob references of job "+id+" in "+col.Table)
}

// DeleteJob deletes job id with its steps, outputs and every domain row
// keyed to it (ON DELETE CASCADE); the database leaves a tombstone.
func (s *Store) DeleteJob(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&Job{})
	if res.Error != nil {
		return translate(res.Error, "delete job "+id)
	}
	if res.RowsAffected == 0 {
		return translate(errNoRows, "job "+id)
	}
	return nil
}

// SetJobKeep sets the keep mark of job id.
func (s *Store) SetJobKeep(ctx context.Context, id string, keep bool) error {
	res := s.db.WithContext(ctx).Model(&Job{}).Where("id = ?", id).Update("keep", keep)
	if res.Error != nil {
		return translate(res.Error, "job "+id)
	}
	if res.RowsAffected == 0 {
		return translate(errNoRows, "job "+id)
	}
	return nil
}

// JobsFinishedBefore returns up to limit jobs in one of states that finished
// before cutoff and are not marked to keep, oldest first (for retention).
func (s *Store) JobsFinishedBefore(ctx context.Context, states []string, cutoff time.Time, limit int) ([]Job, error) {
	var js []Job
	err := s.db.WithContext(ctx).Where("state IN ? AND keep = ? AND finished_at IS NOT NULL AND finished_at < ?", states, false, cutoff.UTC()).
		Order("finished_at, id").Limit(limit).Find(&js).Error
	return js, translate(err, "list expired jobs")
}

// JobsByID returns the jobs among ids that exist, by id.
func (s *Store) JobsByID(ctx context.Context, ids []string) (map[string]Job, error) {
	out := map[string]Job{}
	for start := 0; start < len(ids); start += refBatch {
		var js []Job
		if err := s.db.WithContext(ctx).Where("id IN ?", ids[start:min(start+refBatch, len(ids))]).Find(&js).Error; err != nil {
			return nil, translate(err, "look up jobs")
		}
		for _, j := range js {
			out[j.ID] = j
		}
	}
	return out, nil
}

// Tombstone records that a job was deleted.
type Tombstone struct {
	ID        string `gorm:"primaryKey"`
	Family    string
	DeletedAt time.Time
}

// TableName is the tombstones' table.
func (Tombstone) TableName() string { return "job_tombstones" }

// Tombstones returns the tombstones among ids, by id.
func (s *Store) Tombstones(ctx context.Context, ids []string) (map[string]Tombstone, error) {
	out := map[string]Tombstone{}
	for start := 0; start < len(ids); start += refBatch {
		var ts []Tombstone
		if err := s.db.WithContext(ctx).Where("id IN ?", ids[start:min(start+refBatch, len(ids))]).Find(&ts).Error; err != nil {
			return nil, translate(err, "look up tombstones")
		}
		for _, t := range ts {
			out[t.ID] = t
		}
	}
	return out, nil
}

// PruneTombstones removes tombstones older than before and returns how many.
func (s *Store) PruneTombstones(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("deleted_at < ?", before.UTC()).Delete(&Tombstone{})
	return res.RowsAffected, translate(res.Error, "prune tombstones")
}

// InstanceID returns the id of the instance this database belongs to,
// created on first use. Every reehub sharing the database shares it.
func (s *Store) InstanceID(ctx context.Context) (string, error) {
	db := s.db.WithContext(ctx)
	var ids []string
	if err := db.Table("reehub_instance").Order("created_at, id").Limit(1).Pluck("id", &ids).Error; err != nil {
		return "", translate(err, "instance id")
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	id := uuid.NewString()
	// Two instances starting together may both insert: the oldest row wins.
	if err := db.Exec("INSERT INTO reehub_instance (id, created_at) VALUES (?, ?)", id, s.Now()).Error; err != nil {
		return "", translate(err, "create instance id")
	}
	if err := db.Table("reehub_instance").Order("created_at, id").Limit(1).Pluck("id", &ids).Error; err != nil || len(ids) == 0 {
		return "", fmt.Errorf("instance id: %w", err)
	}
	return ids[0], nil
}

// DatabaseBytes returns the size of the database: the SQLite file (with
// its write-ahead log) or pg_database_size of the current database.
func (s *Store) DatabaseBytes(ctx context.Context) (int64, error) {
	if s.dialect == Postgres {
		var n int64
		err := s.db.WithContext(ctx).Raw("SELECT pg_database_size(current_database())").Scan(&n).Error
		return n, translate(err, "database size")
	}
	var file string
	var seq int
	var name string
	row := s.sqlDB.QueryRowContext(ctx, "PRAGMA database_list")
	if err := row.Scan(&seq, &name, &file); err != nil {
		return 0, fmt.Errorf("database size: %w", err)
	}
	var total int64
	for _, p := range []string{file, file + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return total, nil
}
