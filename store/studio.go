package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// StudioAppliance is an appliance of the Studio family; the templates are
// appliances without owner.
type StudioAppliance struct {
	ID            int64 `gorm:"primaryKey"`
	UUID          string
	OwnerID       *int64
	Name          string
	Description   string
	Arch          string
	BaseImage     string
	Basesystem    string
	ParentID      *int64
	ParentName    string
	Packages      string // JSON list of {name, version}
	Patterns      string // JSON list of names
	RepositoryIDs string // JSON list of repository ids
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TableName is the Studio family's table.
func (StudioAppliance) TableName() string { return "studio_appliances" }

// StudioRepository is a Debian archive known to Studio; system ones have no owner.
type StudioRepository struct {
	ID         int64 `gorm:"primaryKey"`
	OwnerID    *int64
	Name       string
	Type       string
	BaseSystem string
	BaseURL    string
	Suite      string
	Components string
	CreatedAt  time.Time
}

// TableName is the Studio family's table.
func (StudioRepository) TableName() string { return "studio_repositories" }

// StudioFile is an overlay file of an appliance; its content is a blob.
type StudioFile struct {
	ID          int64 `gorm:"primaryKey"`
	ApplianceID int64
	Filename    string
	Path        string
	Owner       string
	Grp         string
	Permissions string
	Enabled     bool
	Size        int64
	MD5         string `gorm:"column:md5"`
	Digest      string
	CreatedAt   time.Time
}

// TableName is the Studio family's table.
func (StudioFile) TableName() string { return "studio_files" }

// StudioRpm is a user's uploaded package (.deb); its content is a blob.
type StudioRpm struct {
	ID           int64 `gorm:"primaryKey"`
	OwnerID      int64
	Filename     string
	BaseSystem   string
	Size         int64
	MD5          string `gorm:"column:md5"`
	SHA256       string `gorm:"column:sha256"`
	Digest       string
	Package      string
	Version      string
	Architecture string
	Control      string
	CreatedAt    time.Time
}

// TableName is the Studio family's table.
func (StudioRpm) TableName() string { return "studio_rpms" }

// StudioBuild is a build of an appliance, run as a job of the engine.
type StudioBuild struct {
	ID             int64 `gorm:"primaryKey"`
	ApplianceID    int64
	OwnerID        int64
	JobID          string
	ProcessID      string
	Version        string
	ImageType      string
	State          string
	ImageID        string
	Digest         string
	ImageArchive   string
	Size           int64
	CompressedSize int64
	MD5            string `gorm:"column:md5"`
	SHA1           string `gorm:"column:sha1"`
	SHA256         string `gorm:"column:sha256"`
	Installed      string
	CreatedAt      time.Time
	CompletedAt    *time.Time
}

// TableName is the Studio family's table.
func (StudioBuild) TableName() string { return "studio_builds" }

// StudioTemplates returns the appliances without owner, by id.
func (s *Store) StudioTemplates(ctx context.Context) ([]StudioAppliance, error) {
	var out []StudioAppliance
	err := s.db.WithContext(ctx).Where("owner_id IS NULL").Order("id").Find(&out).Error
	return out, translate(err, "templates")
}

// StudioApplianceOf returns appliance id if ownerID owns it or it is a
// template (withTemplates); anything else is not found.
func (s *Store) StudioApplianceOf(ctx context.Context, ownerID, id int64, withTemplates bool) (StudioAppliance, error) {
	var a StudioAppliance
	q := s.db.WithContext(ctx).Where("id = ?", id)
	if withTemplates {
		q = q.Where("owner_id = ? OR owner_id IS NULL", ownerID)
	} else {
		q = q.Where("owner_id = ?", ownerID)
	}
	return a, translate(q.Take(&a).Error, "appliance")
}

// StudioAppliances lists the appliances of ownerID by id.
func (s *Store) StudioAppliances(ctx context.Context, ownerID int64) ([]StudioAppliance, error) {
	var out []StudioAppliance
	err := s.db.WithContext(ctx).Where("owner_id = ?", ownerID).Order("id").Find(&out).Error
	return out, translate(err, "appliances")
}

// CreateStudioAppliance inserts an appliance.
func (s *Store) CreateStudioAppliance(ctx context.Context, a *StudioAppliance) error {
	return translate(s.db.WithContext(ctx).Create(a).Error, "appliance")
}

// SaveStudioAppliance updates every column of an appliance.
func (s *Store) SaveStudioAppliance(ctx context.Context, a *StudioAppliance) error {
	return translate(s.db.WithContext(ctx).Save(a).Error, "appliance")
}

// DeleteStudioAppliance deletes an appliance of ownerID with its files and builds.
func (s *Store) DeleteStudioAppliance(ctx context.Context, ownerID, id int64) error {
	return s.InTx(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if err := db.Where("appliance_id = ?", id).Delete(&StudioFile{}).Error; err != nil {
			return translate(err, "files")
		}
		if err := db.Where("appliance_id = ?", id).Delete(&StudioBuild{}).Error; err != nil {
			return translate(err, "builds")
		}
		res := db.Where("id = ? AND owner_id = ?", id, ownerID).Delete(&StudioAppliance{})
		if res.Error != nil {
			return translate(res.Error, "appliance")
		}
		if res.RowsAffected == 0 {
			return translate(gorm.ErrRecordNotFound, "appliance")
		}
		return nil
	})
}

// StudioRepositories lists the repositories visible to ownerID (the system's
// and their own) by id.
func (s *Store) StudioRepositories(ctx context.Context, ownerID int64) ([]StudioRepository, error) {
	var out []StudioRepository
	err := s.db.WithContext(ctx).Where("owner_id IS NULL OR owner_id = ?", ownerID).Order("id").Find(&out).Error
	return out, translate(err, "repositories")
}

// StudioRepositoryOf returns a repository visible to ownerID.
func (s *Store) StudioRepositoryOf(ctx context.Context, ownerID, id int64) (StudioRepository, error) {
	var r StudioRepository
	err := s.db.WithContext(ctx).Where("id = ? AND (owner_id IS NULL OR owner_id = ?)", id, ownerID).Take(&r).Error
	return r, translate(err, "repository")
}

// CreateStudioRepository inserts a repository.
func (s *Store) CreateStudioRepository(ctx context.Context, r *StudioRepository) error {
	return translate(s.db.WithContext(ctx).Create(r).Error, "repository")
}

// StudioFiles lists the overlay files of an appliance by id.
func (s *Store) StudioFiles(ctx context.Context, applianceID int64) ([]StudioFile, error) {
	var out []StudioFile
	err := s.db.WithContext(ctx).Where("appliance_id = ?", applianceID).Order("id").Find(&out).Error
	return out, translate(err, "files")
}

// StudioFileOf returns an overlay file of an appliance of ownerID.
func (s *Store) StudioFileOf(ctx context.Context, ownerID, id int64) (StudioFile, error) {
	var f StudioFile
	err := s.db.WithContext(ctx).Where("id = ? AND appliance_id IN (?)", id,
		s.db.Model(&StudioAppliance{}).Select("id").Where("owner_id = ?", ownerID)).Take(&f).Error
	return f, translate(err, "file")
}

// SaveStudioFile inserts or updates an overlay file.
func (s *Store) SaveStudioFile(ctx context.Context, f *StudioFile) error {
	return translate(s.db.WithContext(ctx).Save(f).Error, "file")
}

// DeleteStudioFile deletes an overlay file.
func (s *Store) DeleteStudioFile(ctx context.Context, id int64) error {
	return translate(s.db.WithContext(ctx).Delete(&StudioFile{}, id).Error, "file")
}

// StudioRpms lists the packages of ownerID (of one base system unless empty).
func (s *Store) StudioRpms(ctx context.Context, ownerID int64, baseSystem string) ([]StudioRpm, error) {
	var out []StudioRpm
	q := s.db.WithContext(ctx).Where("owner_id = ?", ownerID)
	if baseSystem != "" {
		q = q.Where("base_system = ?", baseSystem)
	}
	return out, translate(q.Order("id").Find(&out).Error, "rpms")
}

// StudioRpmOf returns a package of ownerID.
func (s *Store) StudioRpmOf(ctx context.Context, ownerID, id int64) (StudioRpm, error) {
	var r StudioRpm
	err := s.db.WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Take(&r).Error
	return r, translate(err, "rpm")
}

// SaveStudioRpm inserts or updates a package.
func (s *Store) SaveStudioRpm(ctx context.Context, r *StudioRpm) error {
	return translate(s.db.WithContext(ctx).Save(r).Error, "rpm")
}

// DeleteStudioRpm deletes a package.
func (s *Store) DeleteStudioRpm(ctx context.Context, id int64) error {
	return translate(s.db.WithContext(ctx).Delete(&StudioRpm{}, id).Error, "rpm")
}

// StudioBuilds lists the builds of an appliance in the given states (any when empty) by id.
func (s *Store) StudioBuilds(ctx context.Context, applianceID int64, states ...string) ([]StudioBuild, error) {
	var out []StudioBuild
	q := s.db.WithContext(ctx).Where("appliance_id = ?", applianceID)
	if len(states) > 0 {
		q = q.Where("state IN ?", states)
	}
	return out, translate(q.Order("id").Find(&out).Error, "builds")
}

// StudioBuildOf returns a build of ownerID.
func (s *Store) StudioBuildOf(ctx context.Context, ownerID, id int64) (StudioBuild, error) {
	var b StudioBuild
	err := s.db.WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Take(&b).Error
	return b, translate(err, "build")
}

// StudioBuildByJob returns the build of a job (for its worker).
func (s *Store) StudioBuildByJob(ctx context.Context, jobID string) (StudioBuild, error) {
	var b StudioBuild
	return b, translate(s.db.WithContext(ctx).Where("job_id = ?", jobID).Take(&b).Error, "build")
}

// SaveStudioBuild inserts or updates a build.
func (s *Store) SaveStudioBuild(ctx context.Context, b *StudioBuild) error {
	return translate(s.db.WithContext(ctx).Save(b).Error, "build")
}

// DeleteStudioBuild deletes a build.
func (s *Store) DeleteStudioBuild(ctx context.Context, id int64) error {
	return translate(s.db.WithContext(ctx).Delete(&StudioBuild{}, id).Error, "build")
}

// StudioUsage is the bytes a user's Studio builds, overlay files and uploaded
// packages take.
func (s *Store) StudioUsage(ctx context.Context, ownerID int64) (int64, error) {
	var total int64
	for _, q := range []struct{ table, where string }{
		{"studio_builds", "owner_id = ?"},
		{"studio_rpms", "owner_id = ?"},
		{"studio_files", "appliance_id IN (SELECT id FROM studio_appliances WHERE owner_id = ?)"},
	} {
		var n int64
		err := s.db.WithContext(ctx).Table(q.table).Where(q.where, ownerID).Select("COALESCE(SUM(size), 0)").Scan(&n).Error
		if err != nil {
			return 0, translate(err, "studio usage")
		}
		total += n
	}
	return total, nil
}
