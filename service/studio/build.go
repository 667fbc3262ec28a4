package studio

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
)

// BuildArgs are the job args of a Studio build.
type BuildArgs struct {
	// ApplianceID is the appliance built; the build row is found by the job's id.
	ApplianceID int64 `json:"appliance_id"`
}

// Kind is the job kind of Studio builds.
func (BuildArgs) Kind() string { return "studio_build" }

// Build is a build of an appliance.
type Build struct {
	ID, ApplianceID      int64
	JobID, ProcessID     string
	Version, ImageType   string
	State                string // queued, running, finished, failed, cancelled
	Percent              int
	Message              string
	TimeElapsed          time.Duration
	Size, CompressedSize int64
	MD5, SHA1, SHA256    string
	ImageID              string
	CreatedAt            time.Time
	CompletedAt          *time.Time
}

func stateOf(j job.State) string {
	switch j {
	case job.StateSucceeded:
		return "finished"
	case job.StateFailed:
		return "failed"
	case job.StateCancelled:
		return "cancelled"
	}
	return string(j)
}

func (s *Service) view(ctx context.Context, r store.StudioBuild) Build {
	b := Build{ID: r.ID, ApplianceID: r.ApplianceID, JobID: r.JobID, ProcessID: r.ProcessID, Version: r.Version, ImageType: r.ImageType,
		State: r.State, Size: r.Size, CompressedSize: r.CompressedSize, MD5: r.MD5, SHA1: r.SHA1, SHA256: r.SHA256, ImageID: r.ImageID,
		CreatedAt: r.CreatedAt, CompletedAt: r.CompletedAt}
	if j, err := s.engine.Get(ctx, r.OwnerID, r.JobID); err == nil {
		b.State, b.Percent, b.Message = stateOf(j.State), j.Progress.Percent, j.Progress.Message
		if j.State == job.StateSucceeded && r.State != "finished" {
			b.State = "running" // the last step's row update is not yet visible
		}
		if j.Reason != "" && j.State.Final() && j.State != job.StateSucceeded {
			b.Message = j.Reason
		}
		if j.StartedAt != nil {
			end := time.Now()
			if j.FinishedAt != nil {
				end = *j.FinishedAt
			}
			b.TimeElapsed = end.Sub(*j.StartedAt)
		}
	}
	if b.State == "finished" {
		b.Percent = 100
	}
	return b
}

func (s *Service) finishedBuilds(ctx context.Context, applianceID int64) ([]Build, error) {
	rows, err := s.store.StudioBuilds(ctx, applianceID, "finished")
	if err != nil {
		return nil, err
	}
	out := make([]Build, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.view(ctx, r))
	}
	return out, nil
}

// Builds lists the finished builds of an appliance.
func (s *Service) Builds(ctx context.Context, ownerID, applianceID int64) ([]Build, error) {
	if _, err := s.appliance(ctx, ownerID, applianceID, false); err != nil {
		return nil, err
	}
	return s.finishedBuilds(ctx, applianceID)
}

// RunningBuilds lists the builds of an appliance that have not ended.
func (s *Service) RunningBuilds(ctx context.Context, ownerID, applianceID int64) ([]Build, error) {
	if _, err := s.appliance(ctx, ownerID, applianceID, false); err != nil {
		return nil, err
	}
	rows, err := s.store.StudioBuilds(ctx, applianceID, "queued", "running")
	if err != nil {
		return nil, err
	}
	var out []Build
	for _, r := range rows {
		if b := s.view(ctx, r); b.State == "queued" || b.State == "running" {
			out = append(out, b)
		}
	}
	return out, nil
}

func (s *Service) buildRow(ctx context.Context, ownerID, id int64, code string) (store.StudioBuild, error) {
	r, err := s.store.StudioBuildOf(ctx, ownerID, id)
	if errors.Is(err, fault.ErrNotFound) {
		return r, notFound(code, "build %d not found", id)
	}
	return r, err
}

// Build returns one build (running or finished).
func (s *Service) Build(ctx context.Context, ownerID, id int64, code string) (Build, error) {
	r, err := s.buildRow(ctx, ownerID, id, code)
	if err != nil {
		return Build{}, err
	}
	return s.view(ctx, r), nil
}

// StartOpts describes a build to start.
type StartOpts struct {
	Force              bool
	Version, ImageType string
}

// Start checks the appliance and starts its build.
func (s *Service) Start(ctx context.Context, ownerID, applianceID int64, o StartOpts) (Build, error) {
	a, err := s.appliance(ctx, ownerID, applianceID, false)
	if err != nil {
		return Build{}, err
	}
	if o.Version == "" {
		o.Version = "0.0.1"
	}
	if o.ImageType == "" {
		o.ImageType = "oci"
	}
	if err := s.checkImageType(o.ImageType); err != nil {
		return Build{}, err
	}
	if len(o.Version) > 32 || strings.ContainsAny(o.Version, " /\\\x00") {
		return Build{}, invalid("invalid_version", "version %q is invalid", o.Version)
	}
	if _, err := s.baseImageOf(a); err != nil {
		return Build{}, err
	}
	if a.Arch != "x86_64" && slices.Contains(DiskImageTypes, o.ImageType) {
		return Build{}, invalid("invalid_architecture", "disk images (%s) are built for x86_64 appliances only: the boot chain is GRUB's i386-pc and x86_64-efi with linux-image-amd64", strings.Join(DiskImageTypes, ", "))
	}
	issues, err := s.Status(ctx, ownerID, applianceID)
	if err != nil {
		return Build{}, err
	}
	if len(issues) > 0 {
		return Build{}, invalid("configuration_error", "the appliance has issues (see its status): %s", issues[0].Text)
	}
	rows, err := s.store.StudioBuilds(ctx, applianceID)
	if err != nil {
		return Build{}, err
	}
	for _, r := range rows {
		if r.Version != o.Version || r.ImageType != o.ImageType {
			continue
		}
		v := s.view(ctx, r)
		if v.State == "failed" || v.State == "cancelled" {
			continue
		}
		if !o.Force || v.State != "finished" {
			return Build{}, invalid("image_already_exists", "a build of version %s and type %s already exists (build %d); set force=true to replace it", o.Version, o.ImageType, r.ID)
		}
		s.removeBuildFiles(ctx, r)
		if err := s.store.DeleteStudioBuild(ctx, r.ID); err != nil {
			return Build{}, err
		}
	}
	var row store.StudioBuild
	_, err = s.engine.Submit(ctx, BuildArgs{ApplianceID: applianceID}, job.SubmitOpts{OwnerID: ownerID, InTx: func(ctx context.Context, tx *store.Store, j job.Job) error {
		row = store.StudioBuild{ApplianceID: applianceID, OwnerID: ownerID, JobID: j.ID, Version: o.Version, ImageType: o.ImageType,
			State: "queued", Installed: "[]", CreatedAt: time.Now().UTC()}
		return tx.SaveStudioBuild(ctx, &row)
	}})
	if err != nil {
		return Build{}, err
	}
	return s.view(ctx, row), nil
}
