package store

import (
	"context"
)

// Process is the row the REE API adds to a job of the engine (table
// ree_processes, keyed by the job's id). The job's state, times and outputs
// are in jobs.
type Process struct {
	ID          string `gorm:"primaryKey"`
	Tag         *string
	Dockerfile  string
	InputDigest string
	// Identical is set when a replay ends: whether it rebuilt the recorded image ID.
	Identical *bool
}

// TableName is the REE family's table.
func (Process) TableName() string { return "ree_processes" }

// ProcessJob is a process with its job, as the REE API reads them together.
type ProcessJob struct {
	Job         `gorm:"embedded"`
	Tag         *string
	Dockerfile  string
	InputDigest string
	Identical   *bool
}

// CreateProcess inserts the REE row of a job (in the job's transaction).
func (s *Store) CreateProcess(ctx context.Context, p *Process) error {
	return translate(s.db.WithContext(ctx).Create(p).Error, "process "+p.ID)
}

const processColumns = "jobs.*, ree_processes.tag, ree_processes.dockerfile, ree_processes.input_digest, ree_processes.identical"

// SetProcessIdentical records whether the replay id rebuilt the recorded image ID.
func (s *Store) SetProcessIdentical(ctx context.Context, id string, identical bool) error {
	res := s.db.WithContext(ctx).Model(&Process{}).Where("id = ?", id).Update("identical", identical)
	if res.Error != nil {
		return translate(res.Error, "process "+id)
	}
	if res.RowsAffected == 0 {
		return translate(errNoRows, "process "+id)
	}
	return nil
}

// ProcessOf returns process id of ownerID with its job; another user's process
// and a job of another family are not found.
func (s *Store) ProcessOf(ctx context.Context, ownerID int64, id string) (ProcessJob, error) {
	var p ProcessJob
	err := s.read().WithContext(ctx).Table("jobs").Select(processColumns).
		Joins("JOIN ree_processes ON ree_processes.id = jobs.id").
		Where("jobs.id = ? AND jobs.owner_id = ?", id, ownerID).Take(&p).Error
	return p, translate(err, "process "+id)
}

// ProcessFilter selects processes of one owner. States and Kinds are job
// states and kinds; empty means any.
type ProcessFilter struct {
	OwnerID int64
	Tag     *string
	States  []string
	Kinds   []string
	Limit   int
	Offset  int
}

// ListProcesses returns a page of matching processes, newest first, and the
// total count. Only jobs with an REE row are processes.
func (s *Store) ListProcesses(ctx context.Context, f ProcessFilter) ([]ProcessJob, int64, error) {
	q := s.db.WithContext(ctx).Table("jobs").Joins("JOIN ree_processes ON ree_processes.id = jobs.id").
		Where("jobs.owner_id = ?", f.OwnerID)
	if f.Tag != nil {
		q = q.Where("ree_processes.tag = ?", *f.Tag)
	}
	if len(f.States) > 0 {
		q = q.Where("jobs.state IN ?", f.States)
	}
	if len(f.Kinds) > 0 {
		q = q.Where("jobs.kind IN ?", f.Kinds)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "count processes")
	}
	var ps []ProcessJob
	err := q.Select(processColumns).Order("jobs.created_at DESC, jobs.id").Limit(f.Limit).Offset(f.Offset).Find(&ps).Error
	return ps, total, translate(err, "list processes")
}
