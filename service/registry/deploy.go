package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
)

// DeploymentLabel marks the containers of deployments with their id.
const DeploymentLabel = "reehub.registry.deployment"

// Deployment is an image deployed into an environment.
type Deployment struct {
	ID, Title, UserID      string
	ImageID, EnvironmentID string
	// ContainerID is the container's id in the environment (environmentReference).
	ContainerID string
	// State is pending, running, exited, failed or removed.
	State    string
	ExitCode *int
	Message  string
}

// connect reaches the Podman service of an environment: the local one when
// it names no location, else the one at credentials.location.
func (s *Service) connect(ctx context.Context, e Environment) (*podman.Runtime, bool, error) {
	if !e.PodmanService() {
		return nil, false, fault.Invalidf("environment %s is %s with a %s management layer; reehub deploys only to container environments with a basic management layer (a Podman service)",
			e.ID, orNone(e.Runtime.Type), orNone(e.Management.Type))
	}
	loc := e.Credentials.Location
	if loc == "" || loc == s.rt.URI() {
		return s.rt, false, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	rt, err := podman.Connect(cctx, loc)
	if err != nil {
		return nil, false, fault.Invalidf("environment %s cannot be reached at %s: %v", e.ID, loc, errors.Unwrap(err))
	}
	return rt, true, nil
}

func orNone(s string) string {
	if s == "" {
		return "no type"
	}
	return s
}

// DeployArgs are the job args of a deployment (its job has the
// deployment's id).
type DeployArgs struct {
	// DeploymentID is the deployment row the job brings up.
	DeploymentID string `json:"deployment_id"`
}

// Kind is the job kind of deployments.
func (DeployArgs) Kind() string { return "vice_deploy" }

// deployer is the worker of deployments.
type deployer struct{ s *Service }

// Steps are "copy" (the image to the environment's Podman service when it
// lacks it) and "start" (create and start the container, labelled with the
// deployment). An attempt interrupted by a restart is rolled back by
// Cleanup and run again from the start, so a deployment ends running or
// failed with nothing of it left, never half done.
func (d *deployer) Steps(j job.Job, a DeployArgs) []job.StepDef {
	var st deployState
	return []job.StepDef{
		{Name: "copy", Run: func(ctx context.Context, w *job.Work) error { return d.s.deployCopy(ctx, w, a, &st) }},
		{Name: "start", Run: func(ctx context.Context, w *job.Work) error { return d.s.deployStart(ctx, w, &st) }},
	}
}

// Cleanup removes the containers an attempt of deployment id left on its
// environment (before a retry, and after a failure or a cancel).
func (d *deployer) Cleanup(ctx context.Context, id string) error {
	row, err := d.s.st.RegistryDeploymentByID(ctx, id)
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return nil
		}
		return err
	}
	rt, _, err := d.s.runtimeOf(ctx, row.OwnerID, row.EnvironmentID)
	if err != nil {
		return nil // an unreachable environment holds nothing we could remove
	}
	return rt.Cleanup(ctx, DeploymentLabel, id)
}

type deployState struct {
	row    store.RegistryDeployment
	img    store.RegistryImage
	rt     *podman.Runtime
	remote bool
	gone   bool // the deployment was deleted before its job started
}

func (s *Service) deployFail(ctx context.Context, st *deployState, err error) error {
	st.row.State, st.row.Message = "failed", err.Error()
	if serr := s.st.UpdateRegistryDeployment(context.WithoutCancel(ctx), &st.row); serr != nil && !errors.Is(serr, fault.ErrNotFound) {
		s.log.WarnContext(ctx, "record a failed deployment", "deployment", st.row.ID, "err", serr)
	}
	return err
}

func (s *Service) deployCopy(ctx context.Context, w *job.Work, a DeployArgs, st *deployState) error {
	row, err := s.st.RegistryDeploymentByID(ctx, a.DeploymentID)
	if errors.Is(err, fault.ErrNotFound) {
		st.gone = true // deleted before its job ran: nothing to bring up
		fmt.Fprintf(w.Log, "registry: deployment %s was deleted before it started\n", a.DeploymentID)
		return nil
	}
	if err != nil {
		return err
	}
	st.row = row
	if st.img, err = s.st.RegistryImageOf(ctx, row.OwnerID, row.ImageID); err != nil {
		return s.deployFail(ctx, st, fmt.Errorf("image %s: %w", row.ImageID, err))
	}
	if st.rt, st.remote, err = s.runtimeOf(ctx, row.OwnerID, row.EnvironmentID); err != nil {
		return s.deployFail(ctx, st, err)
	}
	// The registry's blob copy is the source: the image is loaded into the
	// environment's Podman service (the local one too, where the image may
	// have been released as a cache) streamed from the blob store.
	loaded, err := s.ensureLoaded(ctx, st.rt, st.img)
	if err != nil {
		return s.deployFail(ctx, st, err)
	}
	if loaded {
		fmt.Fprintf(w.Log, "registry: loaded %s into %s from the registry\n", st.img.PodmanRef, st.rt.URI())
	} else {
		fmt.Fprintf(w.Log, "registry: the environment has %s\n", st.img.PodmanRef)
	}
	return nil
}

func (s *Service) deployStart(ctx context.Context, w *job.Work, st *deployState) error {
	if st.gone {
		return nil
	}
	id := st.row.ID
	cid, err := st.rt.CreateContainer(ctx, podman.ContainerOpts{Name: "reehub-deploy-" + id[:8], Image: st.img.PodmanRef, Labels: map[string]string{DeploymentLabel: id}})
	if err != nil {
		return s.deployFail(ctx, st, fmt.Errorf("create the container: %w", err))
	}
	// A deployment deleted while its job ran takes its container with it:
	// DELETE removes the row and then every container with its label, and
	// the job checks the row after creating the container and again when it
	// records the start, so one of the two sees the other.
	if _, err := s.st.RegistryDeploymentByID(ctx, id); errors.Is(err, fault.ErrNotFound) {
		return s.dropDeleted(ctx, w, st.rt, cid)
	}
	if err := st.rt.StartContainer(ctx, cid); err != nil {
		return s.deployFail(ctx, st, fmt.Errorf("start the container: %w", err))
	}
	st.row.ContainerID, st.row.State, st.row.Message = cid, "running", ""
	if err := s.st.UpdateRegistryDeployment(ctx, &st.row); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return s.dropDeleted(ctx, w, st.rt, cid)
		}
		return err
	}
	fmt.Fprintf(w.Log, "registry: container %s started\n", cid)
	return nil
}

// dropDeleted removes the container of a deployment that was deleted while
// its job created it; the job then ends with nothing left behind.
func (s *Service) dropDeleted(ctx context.Context, w *job.Work, rt *podman.Runtime, cid string) error {
	fmt.Fprintf(w.Log, "registry: the deployment was deleted; removing container %s\n", cid)
	if err := rt.RemoveContainer(context.WithoutCancel(ctx), cid); err != nil && !errors.Is(err, fault.ErrNotFound) {
		return fmt.Errorf("remove the container of a deleted deployment: %w", err)
	}
	return nil
}

// Deploy checks the image (a loaded docker-image of the caller) and the
// environment (of a kind reehub deploys to, and reachable), then submits
// the deployment's job and answers with the deployment, pending. An unknown
// image or environment is invalid input (the seed's 405).
func (s *Service) Deploy(ctx context.Context, by auth.Principal, d Deployment) (Deployment, error) {
	if s.cfg.Engine == nil {
		return Deployment{}, errors.New("registry: no job engine to deploy with")
	}
	img, err := s.st.RegistryImageOf(ctx, by.User.ID, d.ImageID)
	if errors.Is(err, fault.ErrNotFound) {
		return Deployment{}, fault.Invalidf("imageid: image %q not found", d.ImageID)
	}
	if err != nil {
		return Deployment{}, err
	}
	env, err := s.environmentSecret(ctx, by.User.ID, d.EnvironmentID)
	if errors.Is(err, fault.ErrNotFound) {
		return Deployment{}, fault.Invalidf("environmentId: environment %q not found", d.EnvironmentID)
	}
	if err != nil {
		return Deployment{}, err
	}
	if img.PodmanRef == "" {
		return Deployment{}, fault.Invalidf("imageid: image %s is not a loaded container image (contenttype docker-image with its file uploaded)", img.ID)
	}
	if _, _, err := s.connect(ctx, env); err != nil {
		return Deployment{}, err
	}
	row := store.RegistryDeployment{ID: uuid.NewString(), OwnerID: by.User.ID, Title: d.Title, ImageID: img.ID, EnvironmentID: env.ID, State: "pending", CreatedAt: time.Now().UTC()}
	row.JobID = row.ID
	_, err = s.cfg.Engine.Submit(ctx, DeployArgs{DeploymentID: row.ID}, job.SubmitOpts{ID: row.ID, OwnerID: by.User.ID,
		InTx: func(ctx context.Context, tx *store.Store, _ job.Job) error {
			return tx.SaveRegistryDeployment(ctx, &row)
		}})
	if err != nil {
		return Deployment{}, fmt.Errorf("submit deployment: %w", err)
	}
	return s.deploymentOut(ctx, by, row), nil
}

// Deployment returns deployment id of the caller with its container's state.
func (s *Service) Deployment(ctx context.Context, by auth.Principal, id string) (Deployment, error) {
	row, err := s.st.RegistryDeploymentOf(ctx, by.User.ID, id)
	if err != nil {
		return Deployment{}, err
	}
	return s.deploymentOut(ctx, by, row), nil
}

// Deployments lists the caller's deployments with their containers' states.
func (s *Service) Deployments(ctx context.Context, by auth.Principal) ([]Deployment, error) {
	rows, err := s.st.RegistryDeployments(ctx, by.User.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Deployment, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.deploymentOut(ctx, by, r))
	}
	return out, nil
}

// deploymentOut asks the environment for the container's real state; when
// the environment does not answer, the recorded state is shown with why.
func (s *Service) deploymentOut(ctx context.Context, by auth.Principal, r store.RegistryDeployment) Deployment {
	d := Deployment{ID: r.ID, Title: r.Title, UserID: by.User.UUID, ImageID: r.ImageID, EnvironmentID: r.EnvironmentID,
		ContainerID: r.ContainerID, State: r.State, Message: r.Message}
	if r.State == "pending" && r.JobID != "" && s.cfg.Engine != nil {
		if j, err := s.cfg.Engine.Get(ctx, r.OwnerID, r.JobID); err == nil && (j.State == job.StateFailed || j.State == job.StateCancelled) {
			d.State, d.Message = "failed", j.Reason
		}
	}
	if r.ContainerID == "" || r.State == "failed" || r.State == "removed" {
		return d
	}
	rt, _, err := s.runtimeOf(ctx, r.OwnerID, r.EnvironmentID)
	if err != nil {
		d.Message = "the environment does not answer: " + err.Error()
		return d
	}
	cs, err := rt.ListContainers(ctx, map[string]string{DeploymentLabel: r.ID})
	switch {
	case err != nil:
		d.Message = "the environment does not answer: " + err.Error()
	case len(cs) == 0:
		d.State, d.Message = "removed", "the container is gone from the environment"
	case cs[0].State == "running":
		d.State = "running"
	default:
		d.State = "exited"
		d.Message = "container state: " + cs[0].State
	}
	return d
}

func (s *Service) runtimeOf(ctx context.Context, ownerID int64, envID string) (*podman.Runtime, bool, error) {
	env, err := s.environmentSecret(ctx, ownerID, envID)
	if err != nil {
		return nil, false, err
	}
	return s.connect(ctx, env)
}

// DeploymentLogs writes the container's stdout and stderr to w.
func (s *Service) DeploymentLogs(ctx context.Context, by auth.Principal, id string, w io.Writer) error {
	row, err := s.st.RegistryDeploymentOf(ctx, by.User.ID, id)
	if err != nil {
		return err
	}
	if row.ContainerID == "" {
		_, err := io.WriteString(w, row.Message)
		return err
	}
	rt, _, err := s.runtimeOf(ctx, row.OwnerID, row.EnvironmentID)
	if err != nil {
		return err
	}
	return rt.ContainerLogs(ctx, row.ContainerID, podman.LogsOpts{}, w)
}

// DeleteDeployment stops and removes the deployment's container and forgets it.
func (s *Service) DeleteDeployment(ctx context.Context, by auth.Principal, id string) error {
	row, err := s.st.RegistryDeploymentOf(ctx, by.User.ID, id)
	if err != nil {
		return err
	}
	rt, _, rerr := s.runtimeOf(ctx, row.OwnerID, row.EnvironmentID)
	if row.ContainerID != "" {
		if rerr != nil {
			return rerr
		}
		if err := rt.StopContainer(ctx, row.ContainerID, 10*time.Second); err != nil && !errors.Is(err, fault.ErrNotFound) {
			return fmt.Errorf("stop deployment %s: %w", id, err)
		}
	}
	// The row goes first, then every container with the deployment's label:
	// a job still bringing the deployment up either sees the row gone and
	// removes its own container, or created it before and it is removed here
	// (see deployStart).
	if err := s.st.DeleteRegistryDeployment(ctx, id); err != nil {
		return err
	}
	if rerr != nil {
		return nil // a pending deployment on an unreachable environment created nothing there
	}
	if err := rt.Cleanup(context.WithoutCancel(ctx), DeploymentLabel, id); err != nil {
		return fmt.Errorf("remove the containers of deployment %s: %w", id, err)
	}
	return nil
}

// Stats are the counters of GET /v1/runtimestats.
type Stats struct {
	ImportsPending, ImportWorker int64
	ExportsPending, ExportWorker int64
	StorePending, StoreWorker    int64
}

// Stats reads the engine's queues: imports are the builds queue (the
// recordings, replays and SBOM builds whose images are registered), exports
// the deployments queue, stores the scans queue (the analyses attached to
// images).
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	var out Stats
	if s.cfg.Engine == nil {
		return out, nil
	}
	qs, err := s.cfg.Engine.QueueStats(ctx)
	if err != nil {
		return out, err
	}
	for _, q := range qs {
		switch q.Queue {
		case job.QueueBuilds:
			out.ImportsPending, out.ImportWorker = q.Pending, int64(q.Workers)
		case job.QueueDeployments:
			out.ExportsPending, out.ExportWorker = q.Pending, int64(q.Workers)
		case job.QueueScans:
			out.StorePending, out.StoreWorker = q.Pending, int64(q.Workers)
		}
	}
	return out, nil
}
