package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// RegistryEnvironment is an execution environment of the ViCE registry. The
// password is sealed by the service before it reaches the store.
type RegistryEnvironment struct {
	ID             string `gorm:"primaryKey"`
	OwnerID        int64
	Title          string
	Location       string
	Username       string
	PasswordSealed string
	Specifics      string
	RtType         string
	RtSoftware     string
	RtVersion      string
	MlType         string
	MlSoftware     string
	MlVersion      string
	CreatedAt      time.Time
}

// TableName is the registry family's table.
func (RegistryEnvironment) TableName() string { return "registry_environments" }

// RegistryImage is an image of the ViCE registry and what reehub knows of
// its file.
type RegistryImage struct {
	ID                   string `gorm:"primaryKey"`
	OwnerID              int64
	Title                string
	ImageType            string
	ContentType          string
	Imported             bool
	Origin               string
	EnvironmentReference string
	Specifics            string
	FileDigest           string
	FileSize             int64
	FileFormat           string
	// ArchiveDigest is the sha256 of the OCI archive served for an image
	// kept only as blobs (FileDigest empty), when it was computed.
	ArchiveDigest string
	PodmanRef     string
	SBOMDigest    string `gorm:"column:sbom_digest"`
	// Packages is the SBOM's components as "\nname@version\n" lines, lower-case
	// names, so that a package search is a LIKE on one column.
	Packages  string
	ProcessID string
	CreatedAt time.Time
	// StoredAt is when its file (or a registered image's blobs) was last
	// stored: deleting the image frees blobs not stored again since.
	StoredAt *time.Time
}

// TableName is the registry family's table.
func (RegistryImage) TableName() string { return "registry_images" }

// RegistryDeployment is a deployment of an image into an environment.
type RegistryDeployment struct {
	ID            string `gorm:"primaryKey"`
	OwnerID       int64
	Title         string
	ImageID       string
	EnvironmentID string
	JobID         string
	ContainerID   string
	State         string
	ExitCode      int
	Message       string
	CreatedAt     time.Time
}

// TableName is the registry family's table.
func (RegistryDeployment) TableName() string { return "registry_deployments" }

// RegistryManifest is a manifest of the OCI endpoint, by repository and
// reference (a tag or its digest).
type RegistryManifest struct {
	Repo         string `gorm:"primaryKey"`
	Ref          string `gorm:"primaryKey"`
	Digest       string
	MediaType    string
	ArtifactType string
	Subject      string
	Body         string
	CreatedAt    time.Time
}

// TableName is the registry family's table.
func (RegistryManifest) TableName() string { return "registry_manifests" }

// SaveRegistryEnvironment inserts or replaces an environment.
func (s *Store) SaveRegistryEnvironment(ctx context.Context, e *RegistryEnvironment) error {
	return translate(s.db.WithContext(ctx).Save(e).Error, "environment "+e.ID)
}

// RegistryEnvironmentOf returns environment id of ownerID; another user's is not found.
func (s *Store) RegistryEnvironmentOf(ctx context.Context, ownerID int64, id string) (RegistryEnvironment, error) {
	var e RegistryEnvironment
	err := s.db.WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Take(&e).Error
	return e, translate(err, "environment "+id)
}

// RegistryEnvironments lists the environments of ownerID, oldest first;
// empty filters match any type.
func (s *Store) RegistryEnvironments(ctx context.Context, ownerID int64, mlType, rtType string) ([]RegistryEnvironment, error) {
	q := s.db.WithContext(ctx).Where("owner_id = ?", ownerID)
	if mlType != "" {
		q = q.Where("ml_type = ?", mlType)
	}
	if rtType != "" {
		q = q.Where("rt_type = ?", rtType)
	}
	var es []RegistryEnvironment
	err := q.Order("created_at, id").Find(&es).Error
	return es, translate(err, "list environments")
}

// DeleteRegistryEnvironment deletes environment id of ownerID.
func (s *Store) DeleteRegistryEnvironment(ctx context.Context, ownerID int64, id string) error {
	res := s.db.WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Delete(&RegistryEnvironment{})
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNoRows, "environment "+id)
	}
	return translate(res.Error, "environment "+id)
}

// SaveRegistryImage inserts or replaces an image.
func (s *Store) SaveRegistryImage(ctx context.Context, im *RegistryImage) error {
	return translate(s.db.WithContext(ctx).Save(im).Error, "image "+im.ID)
}

// RegistryImageOf returns image id of ownerID; another user's is not found.
func (s *Store) RegistryImageOf(ctx context.Context, ownerID int64, id string) (RegistryImage, error) {
	var im RegistryImage
	err := s.db.WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Take(&im).Error
	return im, translate(err, "image "+id)
}

// RegistryImageByID returns image id whoever owns it (for the OCI endpoint
// and the REE catalogue, which check access themselves).
func (s *Store) RegistryImageByID(ctx context.Context, id string) (RegistryImage, error) {
	var im RegistryImage
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&im).Error
	return im, translate(err, "image "+id)
}

// RegistryImageFilter selects images of one owner.
type RegistryImageFilter struct {
	// OwnerID is the owner.
	OwnerID int64
	// Text, when set, must be contained (case-insensitive) in the title or the content type.
	Text string
	// Package, when set, must be a component name of the image's SBOM (lower case).
	Package string
}

// RegistryImages lists the images matching f, oldest first.
func (s *Store) RegistryImages(ctx context.Context, f RegistryImageFilter) ([]RegistryImage, error) {
	q := s.db.WithContext(ctx).Where("owner_id = ?", f.OwnerID)
	if f.Text != "" {
		like := "%" + escapeLike(strings.ToLower(f.Text)) + "%"
		q = q.Where("(LOWER(title) LIKE ? ESCAPE '\\' OR LOWER(content_type) LIKE ? ESCAPE '\\')", like, like)
	}
	if f.Package != "" {
		q = q.Where("packages LIKE ? ESCAPE '\\'", "%\n"+escapeLike(f.Package)+"@%")
	}
	var ims []RegistryImage
	err := q.Order("created_at, id").Find(&ims).Error
	return ims, translate(err, "list images")
}

// RegistryImageByProcess returns the image registered for a process, if any.
func (s *Store) RegistryImageByProcess(ctx context.Context, processID string) (RegistryImage, error) {
	var im RegistryImage
	err := s.db.WithContext(ctx).Where("process_id = ?", processID).Take(&im).Error
	return im, translate(err, "image of process "+processID)
}

// DeleteRegistryImage deletes image id of ownerID.
func (s *Store) DeleteRegistryImage(ctx context.Context, ownerID int64, id string) error {
	res := s.db.WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Delete(&RegistryImage{})
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNoRows, "image "+id)
	}
	return translate(res.Error, "image "+id)
}

// CountRegistryImagesWithDigest counts the images whose file is blob digest.
func (s *Store) CountRegistryImagesWithDigest(ctx context.Context, digest string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&RegistryImage{}).Where("file_digest = ? OR sbom_digest = ?", digest, digest).Count(&n).Error
	return n, translate(err, "count images")
}

// SaveRegistryDeployment inserts or replaces a deployment.
func (s *Store) SaveRegistryDeployment(ctx context.Context, d *RegistryDeployment) error {
	return translate(s.db.WithContext(ctx).Save(d).Error, "deployment "+d.ID)
}

// RegistryDeploymentOf returns deployment id of ownerID.
// UpdateRegistryDeployment saves d only if its row still exists, so that
// a deployment's job cannot bring back a deployment deleted while it ran:
// fault.ErrNotFound when the row is gone.
func (s *Store) UpdateRegistryDeployment(ctx context.Context, d *RegistryDeployment) error {
	res := s.db.WithContext(ctx).Model(&RegistryDeployment{}).Where("id = ?", d.ID).
		Updates(map[string]any{"container_id": d.ContainerID, "state": d.State, "exit_code": d.ExitCode, "message": d.Message})
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNoRows, "deployment "+d.ID)
	}
	return translate(res.Error, "deployment "+d.ID)
}

// RegistryDeploymentOf returns deployment id of ownerID.
func (s *Store) RegistryDeploymentOf(ctx context.Context, ownerID int64, id string) (RegistryDeployment, error) {
	var d RegistryDeployment
	err := s.db.WithContext(ctx).Where("id = ? AND owner_id = ?", id, ownerID).Take(&d).Error
	return d, translate(err, "deployment "+id)
}

// RegistryDeploymentByID returns deployment id (for its job).
func (s *Store) RegistryDeploymentByID(ctx context.Context, id string) (RegistryDeployment, error) {
	var d RegistryDeployment
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&d).Error
	return d, translate(err, "deployment "+id)
}

// RegistryDeployments lists the deployments of ownerID, oldest first.
func (s *Store) RegistryDeployments(ctx context.Context, ownerID int64) ([]RegistryDeployment, error) {
	var ds []RegistryDeployment
	err := s.db.WithContext(ctx).Where("owner_id = ?", ownerID).Order("created_at, id").Find(&ds).Error
	return ds, translate(err, "list deployments")
}

// CountLiveRegistryDeployments counts the deployments into an environment
// that are not removed.
func (s *Store) CountLiveRegistryDeployments(ctx context.Context, environmentID string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&RegistryDeployment{}).Where("environment_id = ? AND state <> ?", environmentID, "removed").Count(&n).Error
	return n, translate(err, "count deployments")
}

// DeleteRegistryDeployment deletes deployment id.
func (s *Store) DeleteRegistryDeployment(ctx context.Context, id string) error {
	return translate(s.db.WithContext(ctx).Where("id = ?", id).Delete(&RegistryDeployment{}).Error, "deployment "+id)
}

// PutRegistryManifest inserts or replaces a manifest.
func (s *Store) PutRegistryManifest(ctx context.Context, m *RegistryManifest) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "repo"}, {Name: "ref"}},
		DoUpdates: clause.AssignmentColumns([]string{"digest", "media_type", "artifact_type", "subject", "body", "created_at"}),
	}).Create(m).Error
	return translate(err, "manifest "+m.Repo+":"+m.Ref)
}

// RegistryManifest returns the manifest of repo by reference.
func (s *Store) RegistryManifest(ctx context.Context, repo, ref string) (RegistryManifest, error) {
	var m RegistryManifest
	err := s.db.WithContext(ctx).Where("repo = ? AND ref = ?", repo, ref).Take(&m).Error
	return m, translate(err, "manifest "+ref)
}

// DeleteRegistryManifestRefs deletes the rows of repo whose reference or
// digest is ref (a digest takes its tags with it) and reports how many went.
func (s *Store) DeleteRegistryManifestRefs(ctx context.Context, repo, ref string, byDigest bool) (int64, error) {
	q := s.db.WithContext(ctx).Where("repo = ?", repo)
	if byDigest {
		q = q.Where("digest = ?", ref)
	} else {
		q = q.Where("ref = ?", ref)
	}
	res := q.Delete(&RegistryManifest{})
	return res.RowsAffected, translate(res.Error, "delete manifest "+ref)
}

// RegistryTags lists the tags of repo (references that are not digests), in
// lexical order, after last, at most n (n <= 0: all).
func (s *Store) RegistryTags(ctx context.Context, repo, last string, n int) ([]string, error) {
	q := s.db.WithContext(ctx).Model(&RegistryManifest{}).Where("repo = ? AND ref <> digest", repo)
	if last != "" {
		q = q.Where("ref > ?", last)
	}
	if n > 0 {
		q = q.Limit(n)
	}
	var tags []string
	err := q.Order("ref").Pluck("ref", &tags).Error
	return tags, translate(err, "list tags")
}

// RegistryReferrers lists the manifests of repo (by digest) whose subject is digest.
func (s *Store) RegistryReferrers(ctx context.Context, repo, digest, artifactType string) ([]RegistryManifest, error) {
	q := s.db.WithContext(ctx).Where("repo = ? AND subject = ? AND ref = digest", repo, digest)
	if artifactType != "" {
		q = q.Where("artifact_type = ?", artifactType)
	}
	var ms []RegistryManifest
	err := q.Order("created_at, ref").Find(&ms).Error
	return ms, translate(err, "list referrers")
}

// RegistryRepoExists reports whether repo has any manifest or blob.
func (s *Store) RegistryRepoExists(ctx context.Context, repo string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&RegistryManifest{}).Where("repo = ?", repo).Count(&n).Error; err != nil {
		return false, translate(err, "repository "+repo)
	}
	if n > 0 {
		return true, nil
	}
	err := s.db.WithContext(ctx).Model(&RegistryBlobLink{}).Where("repo = ?", repo).Count(&n).Error
	return n > 0, translate(err, "repository "+repo)
}

// RegistryBlobLink says that a repository holds a blob.
type RegistryBlobLink struct {
	Repo      string `gorm:"primaryKey"`
	Digest    string `gorm:"primaryKey"`
	CreatedAt time.Time
}

// TableName is the registry family's table.
func (RegistryBlobLink) TableName() string { return "registry_blob_links" }

// LinkRegistryBlob records that repo holds blob digest (idempotent).
func (s *Store) LinkRegistryBlob(ctx context.Context, repo, digest string) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&RegistryBlobLink{Repo: repo, Digest: digest, CreatedAt: s.now().UTC()}).Error
	return translate(err, "link blob "+digest)
}

// RegistryBlobLinked reports whether repo holds blob digest.
func (s *Store) RegistryBlobLinked(ctx context.Context, repo, digest string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&RegistryBlobLink{}).Where("repo = ? AND digest = ?", repo, digest).Count(&n).Error
	return n > 0, translate(err, "blob "+digest)
}

// UnlinkRegistryBlob removes blob digest from repo; not linked is not found.
func (s *Store) UnlinkRegistryBlob(ctx context.Context, repo, digest string) error {
	res := s.db.WithContext(ctx).Where("repo = ? AND digest = ?", repo, digest).Delete(&RegistryBlobLink{})
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNoRows, "blob "+digest)
	}
	return translate(res.Error, "blob "+digest)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// RegistryBlobLinks lists the digests of the blobs repo holds.
func (s *Store) RegistryBlobLinks(ctx context.Context, repo string) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Model(&RegistryBlobLink{}).Where("repo = ?", repo).Order("digest").Pluck("digest", &out).Error
	return out, translate(err, "blobs of "+repo)
}
