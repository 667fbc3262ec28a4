package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// BaseImageArchive is the compressed docker-archive of catalogue base image
// Name with image ID ImageID, kept as blob Digest (Size bytes, zip checksum
// CRC32) by the worker host Host that exported it, for hosts that lack it.
type BaseImageArchive struct {
	Name      string `gorm:"primaryKey"`
	ImageID   string `gorm:"primaryKey"`
	Digest    string
	Size      int64
	CRC32     int64 `gorm:"column:crc32"`
	Host      string
	CreatedAt time.Time
}

// TableName is the base image archives' table.
func (BaseImageArchive) TableName() string { return "base_image_archives" }

// PutBaseImageArchive records a (the first record of a name and image ID is kept).
func (s *Store) PutBaseImageArchive(ctx context.Context, a BaseImageArchive) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.Now()
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&a).Error
	return translate(err, "record the archive of base image "+a.Name)
}

// LatestBaseImageArchive returns the most recent archive of base image name;
// none is fault.ErrNotFound.
func (s *Store) LatestBaseImageArchive(ctx context.Context, name string) (BaseImageArchive, error) {
	var a BaseImageArchive
	err := s.db.WithContext(ctx).Where("name = ?", name).Order("created_at DESC, image_id").Take(&a).Error
	return a, translate(err, "archive of base image "+name)
}
