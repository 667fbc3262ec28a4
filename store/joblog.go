package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"
)

// JobLogChunk is a piece of the log of a running job: Data at byte offset
// Pos of the log, written by the worker that runs it so that every instance
// reads the log live.
type JobLogChunk struct {
	JobID string `gorm:"primaryKey"`
	Pos   int64  `gorm:"primaryKey"`
	Data  []byte
}

// TableName is the log chunks' table.
func (JobLogChunk) TableName() string { return "job_log_chunks" }

// AppendJobLog records data at offset pos of the log of job jobID. A chunk
// already recorded at pos is kept (a repeated write is a no-op).
func (s *Store) AppendJobLog(ctx context.Context, jobID string, pos int64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	c := JobLogChunk{JobID: jobID, Pos: pos, Data: data}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&c).Error
	return translate(err, fmt.Sprintf("append to the log of job %s at %d", jobID, pos))
}

// JobLogSize returns the length of the recorded log of job jobID: the end of
// its last chunk, 0 without any.
func (s *Store) JobLogSize(ctx context.Context, jobID string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&JobLogChunk{}).Where("job_id = ?", jobID).
		Select("COALESCE(MAX(pos + length(data)), 0)").Scan(&n).Error
	return n, translate(err, "size of the log of job "+jobID)
}

// JobLogChunks returns up to limit chunks of the log of job jobID that end
// after byte offset from, in order.
func (s *Store) JobLogChunks(ctx context.Context, jobID string, from int64, limit int) ([]JobLogChunk, error) {
	var cs []JobLogChunk
	err := s.db.WithContext(ctx).Where("job_id = ? AND pos + length(data) > ?", jobID, from).
		Order("pos").Limit(limit).Find(&cs).Error
	return cs, translate(err, "read the log of job "+jobID)
}

// DeleteJobLog removes the chunks of the log of job jobID (once its log is a blob).
func (s *Store) DeleteJobLog(ctx context.Context, jobID string) error {
	err := s.db.WithContext(ctx).Where("job_id = ?", jobID).Delete(&JobLogChunk{}).Error
	return translate(err, "remove the log chunks of job "+jobID)
}
