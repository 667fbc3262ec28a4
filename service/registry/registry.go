// Package registry is the ViCE image registry (api/registry.yaml): execution
// environments with sealed credentials, images and their files (checked by
// content type, docker images loaded into Podman and served by the OCI
// endpoint), deployments and runtime statistics.
package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/seal"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// MaskedPassword is what responses show in place of a stored password.
const MaskedPassword = "********"

// KeyFile is the file in the data directory that holds the key sealing
// environment credentials; KeyEnv overrides it.
const (
	KeyFile = "registry-secret.key"
	KeyEnv  = "REEHUB_REGISTRY_SECRET_KEY"
)

// Enumerations of the seed.
var (
	runtimeTypes    = []string{"virtualmachine", "container", "application"}
	managementTypes = []string{"basic", "cloudcomputing", "containercluster", "jobscheduler"}
	imageTypes      = []string{"implicit", "declarative"}
	contentTypes    = []string{ContentDiskRaw, ContentDiskQcow2, ContentDiskVmdk, ContentDockerFile, ContentDockerImage, ContentPackerfile}
)

// Content types of an image's file.
const (
	ContentDiskRaw     = "disk-raw"
	ContentDiskQcow2   = "disk-qcow2"
	ContentDiskVmdk    = "disk-vmdk"
	ContentDockerFile  = "docker-file"
	ContentDockerImage = "docker-image"
	ContentPackerfile  = "packerfile"
)

// BlobImages counts the registry's blobs in usage reports (GET /api/system/usage).
const BlobImages job.BlobKind = "images"

// Config tunes the registry.
type Config struct {
	// DataDir holds the credential key and the cache of converted disks.
	DataDir string
	// QemuImg is the qemu-img binary. Defaults to "qemu-img" on PATH.
	QemuImg string
	// Engine runs deployments and reports its queues for the runtime
	// statistics. Required to deploy; nil reports zeros.
	Engine *job.Engine
}

// Service is the registry.
type Service struct {
	st    *store.Store
	blobs *blob.Store
	rt    *podman.Runtime
	box   *seal.Box
	cfg   Config
	log   *slog.Logger
	// used is when each registry image in the local Podman was last asked for.
	used lastUse
}

// New returns the registry over the store, the blob store and the local
// Podman service.
func New(st *store.Store, blobs *blob.Store, rt *podman.Runtime, log *slog.Logger, cfg Config) (*Service, error) {
	if cfg.QemuImg == "" {
		cfg.QemuImg = "qemu-img"
	}
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("registry: DataDir is required")
	}
	box, err := seal.Load(cfg.DataDir, KeyFile, KeyEnv)
	if err != nil {
		return nil, fmt.Errorf("registry credentials key: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "registry-conversions"), 0o750); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	s := &Service{st: st, blobs: blobs, rt: rt, box: box, cfg: cfg, log: log}
	if cfg.Engine != nil {
		opts := job.KindOpts{Family: job.FamilyVice, Queue: job.QueueDeployments}
		if err := job.Register[DeployArgs](cfg.Engine, opts, &deployer{s}); err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		// The registry's blobs (image files, SBOMs, the OCI endpoint's layers
		// and configs) stay while a row names them; a registered image's go
		// with its process (a trigger deletes the image with the job).
		// Its images in the local Podman are a cache that GC releases when idle.
		cfg.Engine.RegisterResources(loadedImages{s})
		if err := cfg.Engine.RegisterBlobRefs(BlobImages,
			store.BlobColumn{Table: "registry_images", Column: "file_digest", JobColumn: "process_id"},
			store.BlobColumn{Table: "registry_images", Column: "sbom_digest", JobColumn: "process_id"},
			store.BlobColumn{Table: "registry_blob_links", Column: "digest"},
		); err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
	}
	return s, nil
}

// Credentials say how to reach an environment.
type Credentials struct {
	Location  string
	Username  string
	Password  string
	Specifics map[string]any
}

// Layer is a runtime technology or a management layer: a type of the seed's
// enumeration, software and version.
type Layer struct {
	Type     string
	Software string
	Version  string
}

// Environment is an execution environment.
type Environment struct {
	ID          string
	Title       string
	UserID      string
	Credentials Credentials
	Runtime     Layer
	Management  Layer
}

// PodmanService reports whether reehub deploys to the environment through
// the Podman bindings (a container runtime with a basic management layer).
func (e Environment) PodmanService() bool {
	return e.Runtime.Type == "container" && e.Management.Type == "basic"
}

func checkEnum(field, v string, allowed []string) error {
	if v != "" && !slices.Contains(allowed, v) {
		return fault.Invalidf("%s: %q is not one of %s", field, v, strings.Join(allowed, ", "))
	}
	return nil
}

func (e Environment) check() error {
	if err := checkEnum("runtimetechnology.type", e.Runtime.Type, runtimeTypes); err != nil {
		return err
	}
	if err := checkEnum("managementlayer.type", e.Management.Type, managementTypes); err != nil {
		return err
	}
	if e.PodmanService() && e.Credentials.Location != "" {
		loc := e.Credentials.Location
		if !strings.HasPrefix(loc, "unix://") && !strings.HasPrefix(loc, "tcp://") && !strings.HasPrefix(loc, "ssh://") {
			return fault.Invalidf("credentials.location: a Podman service is reached at a unix://, tcp:// or ssh:// URL, not %q", loc)
		}
	}
	return nil
}

func sealAD(id string) string { return "reehub-registry-environment\x00" + id }

// CreateEnvironment stores a new environment of the caller.
func (s *Service) CreateEnvironment(ctx context.Context, by auth.Principal, e Environment) (Environment, error) {
	if err := e.check(); err != nil {
		return Environment{}, err
	}
	e.ID = uuid.NewString()
	row, err := s.envRow(by, e, "")
	if err != nil {
		return Environment{}, err
	}
	if err := s.st.SaveRegistryEnvironment(ctx, &row); err != nil {
		return Environment{}, err
	}
	return s.envOut(by, row)
}

// UpdateEnvironment replaces environment e.ID of the caller. An empty or
// masked password keeps the stored one.
func (s *Service) UpdateEnvironment(ctx context.Context, by auth.Principal, e Environment) (Environment, error) {
	if e.ID == "" {
		return Environment{}, fault.NotFoundf("environment without an id not found")
	}
	old, err := s.st.RegistryEnvironmentOf(ctx, by.User.ID, e.ID)
	if err != nil {
		return Environment{}, err
	}
	if err := e.check(); err != nil {
		return Environment{}, err
	}
	keep := ""
	if e.Credentials.Password == "" || e.Credentials.Password == MaskedPassword {
		keep = old.PasswordSealed
	}
	row, err := s.envRow(by, e, keep)
	if err != nil {
		return Environment{}, err
	}
	row.CreatedAt = old.CreatedAt
	if err := s.st.SaveRegistryEnvironment(ctx, &row); err != nil {
		return Environment{}, err
	}
	return s.envOut(by, row)
}

// Environment returns environment id of the caller, password masked.
func (s *Service) Environment(ctx context.Context, by auth.Principal, id string) (Environment, error) {
	row, err := s.st.RegistryEnvironmentOf(ctx, by.User.ID, id)
	if err != nil {
		return Environment{}, err
	}
	return s.envOut(by, row)
}

// Environments lists the caller's environments; empty filters match any type.
func (s *Service) Environments(ctx context.Context, by auth.Principal, mlType, rtType string) ([]Environment, error) {
	rows, err := s.st.RegistryEnvironments(ctx, by.User.ID, mlType, rtType)
	if err != nil {
		return nil, err
	}
	out := make([]Environment, 0, len(rows))
	for _, r := range rows {
		e, err := s.envOut(by, r)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// DeleteEnvironment deletes environment id of the caller; one with live
// deployments is a conflict.
func (s *Service) DeleteEnvironment(ctx context.Context, by auth.Principal, id string) error {
	if _, err := s.st.RegistryEnvironmentOf(ctx, by.User.ID, id); err != nil {
		return err
	}
	n, err := s.st.CountLiveRegistryDeployments(ctx, id)
	if err != nil {
		return err
	}
	if n > 0 {
		return fault.Conflictf("environment %s has %d deployments; delete them first", id, n)
	}
	return s.st.DeleteRegistryEnvironment(ctx, by.User.ID, id)
}

// environmentSecret returns an environment of its owner with its password
// in clear, for reaching it.
func (s *Service) environmentSecret(ctx context.Context, ownerID int64, id string) (Environment, error) {
	row, err := s.st.RegistryEnvironmentOf(ctx, ownerID, id)
	if err != nil {
		return Environment{}, err
	}
	e := envFromRow(row)
	if row.PasswordSealed != "" {
		pw, err := s.box.Open(sealAD(row.ID), row.PasswordSealed)
		if err != nil {
			return Environment{}, fmt.Errorf("environment %s credentials: %w", id, err)
		}
		e.Credentials.Password = string(pw)
	}
	return e, nil
}

func (s *Service) envRow(by auth.Principal, e Environment, keepSealed string) (store.RegistryEnvironment, error) {
	spec, err := json.Marshal(nonNilMap(e.Credentials.Specifics))
	if err != nil {
		return store.RegistryEnvironment{}, fault.Invalidf("credentials.specifics: %v", err)
	}
	row := store.RegistryEnvironment{
		ID: e.ID, OwnerID: by.User.ID, Title: e.Title, Location: e.Credentials.Location, Username: e.Credentials.Username,
		PasswordSealed: keepSealed, Specifics: string(spec),
		RtType: e.Runtime.Type, RtSoftware: e.Runtime.Software, RtVersion: e.Runtime.Version,
		MlType: e.Management.Type, MlSoftware: e.Management.Software, MlVersion: e.Management.Version,
		CreatedAt: time.Now().UTC(),
	}
	if keepSealed == "" && e.Credentials.Password != "" && e.Credentials.Password != MaskedPassword {
		row.PasswordSealed = s.box.Seal(sealAD(e.ID), []byte(e.Credentials.Password))
	}
	return row, nil
}

func envFromRow(r store.RegistryEnvironment) Environment {
	var spec map[string]any
	_ = json.Unmarshal([]byte(r.Specifics), &spec)
	return Environment{
		ID: r.ID, Title: r.Title,
		Credentials: Credentials{Location: r.Location, Username: r.Username, Specifics: nonNilMap(spec)},
		Runtime:     Layer{Type: r.RtType, Software: r.RtSoftware, Version: r.RtVersion},
		Management:  Layer{Type: r.MlType, Software: r.MlSoftware, Version: r.MlVersion},
	}
}

func (s *Service) envOut(by auth.Principal, r store.RegistryEnvironment) (Environment, error) {
	e := envFromRow(r)
	e.UserID = by.User.UUID
	if r.PasswordSealed != "" {
		e.Credentials.Password = MaskedPassword
	}
	return e, nil
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
