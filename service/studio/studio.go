// Package studio is the SUSE Studio family for Debian appliances: appliances
// cloned from templates (the catalogue's base images), their Debian
// repositories, packages and patterns resolved against the archives' Packages
// indexes, overlay files, the users' own .deb packages in a local archive, and
// builds that render the appliance into a Dockerfile and record it as an REE
// (so every build has a defined REE that replays offline to the same image).
package studio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/apt"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/process"
	"github.com/reehub/reehub/service/ree"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// Error is an error with Studio's error code (invalid_appliance_id, ...).
// Its kind (Unwrap) sets the status: invalid input (400, also for a locked
// image: the contract declares no 409 for Studio), not found (404).
type Error struct {
	Code string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the error's kind.
func (e *Error) Unwrap() error { return e.Err }

func coded(code string, err error) error { return &Error{Code: code, Err: err} }

func notFound(code, format string, args ...any) error {
	return coded(code, fault.NotFoundf(format, args...))
}

func invalid(code, format string, args ...any) error {
	return coded(code, fault.Invalidf(format, args...))
}

// Config tunes the service.
type Config struct {
	// CacheDir keeps the Debian indexes. Required.
	CacheDir string
	// StagingDir is where build contexts are rendered. Required.
	StagingDir string
	// QuotaBytes is the disk quota the account shows. Defaults to 15 GiB.
	QuotaBytes int64
	// Disks assembles the disk image types (oem, vmx, iso, qcow2); nil
	// refuses them with invalid_image_type.
	Disks *Disks
	// OnFinished, when set, is called once a build has finished (the
	// registry registers the build's image there). Its error is logged; the
	// build stays finished.
	OnFinished func(ctx context.Context, b FinishedBuild) error
	// ArchBaseImage names the base image of a template's base image for a
	// Debian architecture other than amd64 (debian_bookworm and i386:
	// debian_bookworm_i386); ok is false when there is none. Nil: i686
	// appliances are refused with invalid_architecture when they build.
	ArchBaseImage func(base, arch string) (name string, ok bool)
	// EnsureBaseImage builds a base image that is built on demand (the
	// i386 one) when it is absent; builds call it before rendering. Required
	// with ArchBaseImage.
	EnsureBaseImage func(ctx context.Context, name string) error
}

// Service is the Studio domain service.
type Service struct {
	cfg    Config
	store  *store.Store
	blobs  *blob.Store
	engine *job.Engine
	procs  *process.Service
	ree    *ree.Service
	rt     *podman.Runtime
	apt    *apt.Client
	log    *slog.Logger
}

// New returns the service and registers the build kind with engine.
func New(st *store.Store, blobs *blob.Store, engine *job.Engine, procs *process.Service, reeSvc *ree.Service, rt *podman.Runtime, log *slog.Logger, cfg Config) (*Service, error) {
	if cfg.CacheDir == "" || cfg.StagingDir == "" {
		return nil, errors.New("studio service: CacheDir and StagingDir are required")
	}
	if cfg.QuotaBytes <= 0 {
		cfg.QuotaBytes = 15 << 30
	}
	if (cfg.ArchBaseImage == nil) != (cfg.EnsureBaseImage == nil) {
		return nil, errors.New("studio service: ArchBaseImage and EnsureBaseImage go together")
	}
	if cfg.Disks != nil && (cfg.Disks.Assemble == nil || cfg.Disks.BootPackages == nil) {
		return nil, errors.New("studio service: Disks needs BootPackages and Assemble")
	}
	c, err := apt.NewClient(apt.Config{CacheDir: cfg.CacheDir})
	if err != nil {
		return nil, fmt.Errorf("studio service: %w", err)
	}
	s := &Service{cfg: cfg, store: st, blobs: blobs, engine: engine, procs: procs, ree: reeSvc, rt: rt, apt: c, log: log}
	// Overlay files and uploaded packages are inputs of builds; images are outputs.
	if err := engine.RegisterBlobRefs(job.BlobInputs, store.BlobColumn{Table: "studio_files", Column: "digest"},
		store.BlobColumn{Table: "studio_rpms", Column: "digest"}); err != nil {
		return nil, fmt.Errorf("studio service: %w", err)
	}
	if err := engine.RegisterBlobRefs(job.BlobOutputs, store.BlobColumn{Table: "studio_builds", Column: "digest"},
		store.BlobColumn{Table: "studio_builds", Column: "image_archive"}); err != nil {
		return nil, fmt.Errorf("studio service: %w", err)
	}
	if err := job.Register[BuildArgs](engine, job.KindOpts{Family: job.FamilyStudio, Queue: job.QueueAppliances, MaxAttempts: 1}, &builder{s}); err != nil {
		return nil, fmt.Errorf("studio service: %w", err)
	}
	return s, nil
}

// Basesystem is the Debian release of every template.
const Basesystem = "bookworm"

// Package is a selected package with an optional version.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// Appliance is an appliance (or a template: OwnerID nil).
type Appliance struct {
	ID                                int64
	UUID                              string
	OwnerID                           *int64
	Name, Description                 string
	Arch                              string
	BaseImage, Basesystem             string
	ParentID                          *int64
	ParentName                        string
	Packages                          []Package
	Patterns                          []string
	RepositoryIDs                     []int64
	CreatedAt, LastEdited             time.Time
	Builds                            []Build
	EstimatedRaw, EstimatedCompressed int64
}

func fromRow(r store.StudioAppliance) Appliance {
	a := Appliance{ID: r.ID, UUID: r.UUID, OwnerID: r.OwnerID, Name: r.Name, Description: r.Description, Arch: r.Arch,
		BaseImage: r.BaseImage, Basesystem: r.Basesystem, ParentID: r.ParentID, ParentName: r.ParentName,
		CreatedAt: r.CreatedAt, LastEdited: r.UpdatedAt}
	_ = json.Unmarshal([]byte(r.Packages), &a.Packages)
	_ = json.Unmarshal([]byte(r.Patterns), &a.Patterns)
	_ = json.Unmarshal([]byte(r.RepositoryIDs), &a.RepositoryIDs)
	return a
}

func (a Appliance) row() store.StudioAppliance {
	pk, _ := json.Marshal(nonNil(a.Packages))
	pt, _ := json.Marshal(nonNil(a.Patterns))
	rp, _ := json.Marshal(nonNil(a.RepositoryIDs))
	return store.StudioAppliance{ID: a.ID, UUID: a.UUID, OwnerID: a.OwnerID, Name: a.Name, Description: a.Description, Arch: a.Arch,
		BaseImage: a.BaseImage, Basesystem: a.Basesystem, ParentID: a.ParentID, ParentName: a.ParentName,
		Packages: string(pk), Patterns: string(pt), RepositoryIDs: string(rp), CreatedAt: a.CreatedAt, UpdatedAt: a.LastEdited}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// TemplateSet groups templates.
type TemplateSet struct {
	Name, Description string
	Templates         []Appliance
}

// TemplateSets returns the template sets: "default" holds every template.
func (s *Service) TemplateSets(ctx context.Context) ([]TemplateSet, error) {
	rows, err := s.store.StudioTemplates(ctx)
	if err != nil {
		return nil, err
	}
	set := TemplateSet{Name: "default", Description: "Debian 12 (bookworm) templates"}
	for _, r := range rows {
		set.Templates = append(set.Templates, fromRow(r))
	}
	return []TemplateSet{set}, nil
}

// TemplateSet returns one template set by name.
func (s *Service) TemplateSet(ctx context.Context, name string) (TemplateSet, error) {
	sets, err := s.TemplateSets(ctx)
	if err != nil {
		return TemplateSet{}, err
	}
	for _, t := range sets {
		if t.Name == name {
			return t, nil
		}
	}
	return TemplateSet{}, notFound("invalid_template_set", "template set %q not found", name)
}

// Appliances lists the user's appliances.
func (s *Service) Appliances(ctx context.Context, ownerID int64) ([]Appliance, error) {
	rows, err := s.store.StudioAppliances(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	out := make([]Appliance, 0, len(rows))
	for _, r := range rows {
		a := fromRow(r)
		if a.Builds, err = s.finishedBuilds(ctx, a.ID); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// appliance returns an appliance of ownerID (a template too when withTemplates).
func (s *Service) appliance(ctx context.Context, ownerID, id int64, withTemplates bool) (Appliance, error) {
	r, err := s.store.StudioApplianceOf(ctx, ownerID, id, withTemplates)
	if errors.Is(err, fault.ErrNotFound) {
		return Appliance{}, notFound("invalid_appliance_id", "appliance %d not found", id)
	}
	if err != nil {
		return Appliance{}, err
	}
	return fromRow(r), nil
}

// Appliance returns one appliance of the user with its finished builds.
func (s *Service) Appliance(ctx context.Context, ownerID, id int64) (Appliance, error) {
	a, err := s.appliance(ctx, ownerID, id, false)
	if err != nil {
		return a, err
	}
	a.Builds, err = s.finishedBuilds(ctx, a.ID)
	return a, err
}

// archOf maps Studio's architectures to Debian's.
func archOf(arch string) (string, error) {
	switch arch {
	case "x86_64":
		return "amd64", nil
	case "i686":
		return "i386", nil
	}
	return "", invalid("invalid_architecture", "architecture %q is not supported; use x86_64 or i686", arch)
}

// baseImageOf returns the base image an appliance's builds start from: the
// template's for x86_64, its i386 counterpart (built on demand) for i686.
func (s *Service) baseImageOf(a Appliance) (string, error) {
	arch, err := archOf(a.Arch)
	if err != nil {
		return "", err
	}
	if arch == "amd64" {
		return a.BaseImage, nil
	}
	if s.cfg.ArchBaseImage == nil {
		return "", invalid("invalid_architecture", "this server builds x86_64 appliances only: no base image builder for %s (debootstrap --arch=%s) is configured", arch, arch)
	}
	name, ok := s.cfg.ArchBaseImage(a.BaseImage, arch)
	if !ok {
		return "", invalid("invalid_architecture", "the template base image %s has no %s counterpart; %s appliances are built from the Debian template (debian_bookworm) only", a.BaseImage, arch, a.Arch)
	}
	return name, nil
}

// Create clones a template or one of the user's appliances. arch defaults to i686 as in Studio.
func (s *Service) Create(ctx context.Context, ownerID, cloneFrom int64, name, arch string) (Appliance, error) {
	if arch == "" {
		arch = "i686"
	}
	if _, err := archOf(arch); err != nil {
		return Appliance{}, err
	}
	src, err := s.appliance(ctx, ownerID, cloneFrom, true)
	if err != nil {
		return Appliance{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = fmt.Sprintf("%s (clone %s)", src.Name, time.Now().UTC().Format("20060102-150405"))
	}
	if len(name) > 128 || strings.ContainsAny(name, "\x00\n\r") {
		return Appliance{}, invalid("invalid_name", "name must be 1 to 128 characters on one line")
	}
	now := time.Now().UTC().Truncate(time.Second)
	a := Appliance{UUID: uuid.NewString(), OwnerID: &ownerID, Name: name, Description: src.Description, Arch: arch,
		BaseImage: src.BaseImage, Basesystem: src.Basesystem, ParentID: &src.ID, ParentName: src.Name,
		Packages: src.Packages, Patterns: src.Patterns, RepositoryIDs: src.RepositoryIDs, CreatedAt: now, LastEdited: now}
	if src.OwnerID == nil { // a template: its default repositories
		repos, err := s.store.StudioRepositories(ctx, ownerID)
		if err != nil {
			return Appliance{}, err
		}
		for _, r := range repos {
			if r.OwnerID == nil && r.BaseSystem == src.Basesystem {
				a.RepositoryIDs = append(a.RepositoryIDs, r.ID)
			}
		}
	}
	row := a.row()
	if err := s.store.CreateStudioAppliance(ctx, &row); err != nil {
		return Appliance{}, err
	}
	a.ID = row.ID
	if src.OwnerID != nil { // clone the overlay files too
		files, err := s.store.StudioFiles(ctx, src.ID)
		if err != nil {
			return Appliance{}, err
		}
		for _, f := range files {
			f.ID, f.ApplianceID = 0, a.ID
			if err := s.store.SaveStudioFile(ctx, &f); err != nil {
				return Appliance{}, err
			}
		}
	}
	return a, nil
}

// Delete deletes an appliance with its files and builds.
func (s *Service) Delete(ctx context.Context, ownerID, id int64) error {
	if _, err := s.appliance(ctx, ownerID, id, false); err != nil {
		return err
	}
	builds, err := s.store.StudioBuilds(ctx, id)
	if err != nil {
		return err
	}
	for _, b := range builds {
		if j, err := s.engine.Get(ctx, ownerID, b.JobID); err == nil && !j.State.Final() {
			return coded("image_is_locked", fault.Invalidf("appliance %d has a running build (%d); cancel it first", id, b.ID))
		}
	}
	for _, b := range builds {
		s.removeBuildFiles(ctx, b)
	}
	return s.store.DeleteStudioAppliance(ctx, ownerID, id)
}

func (s *Service) save(ctx context.Context, a *Appliance) error {
	a.LastEdited = time.Now().UTC().Truncate(time.Second)
	row := a.row()
	return s.store.SaveStudioAppliance(ctx, &row)
}
