package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/proxy"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/store"
)

// worker is the engine worker of Kind.
type worker struct{ s *Service }

// Steps are the workflow's steps From..Target, each run by runStep.
func (wk worker) Steps(j job.Job, a Args) []job.StepDef {
	ctx := context.Background()
	row, err := wk.s.st.WorkflowByID(ctx, a.WorkflowID)
	if err != nil {
		return []job.StepDef{{Name: "load", Run: func(context.Context, *job.Work) error { return err }}}
	}
	spec, err := reana.ParseJSON([]byte(row.Spec))
	if err != nil {
		return []job.StepDef{{Name: "load", Run: func(context.Context, *job.Work) error { return err }}}
	}
	var defs []job.StepDef
	for i := a.From; i <= a.Target && i < len(spec.Steps); i++ {
		pos := i
		defs = append(defs, job.StepDef{Name: spec.Steps[i].Name, Run: func(ctx context.Context, w *job.Work) error {
			return wk.s.runStep(ctx, w, a, pos)
		}})
	}
	return defs
}

// Cleanup removes every container of the job's attempts.
func (wk worker) Cleanup(ctx context.Context, id string) error {
	return wk.s.rt.Cleanup(ctx, reana.LabelJob, id)
}

// stepLogPath is where the output of step pos of workflow id is kept (live while it runs).
func (s *Service) stepLogPath(id string, pos int) string {
	return filepath.Join(s.cfg.DataDir, "reana", "logs", id, strconv.Itoa(pos)+".log")
}

// runStep runs step pos of the workflow of a, recording its status, times,
// exit code and output. With the cache, a step whose key (commands,
// environment digest, workspace file hashes) has an entry is skipped and its
// outputs restored.
func (s *Service) runStep(ctx context.Context, w *job.Work, a Args, pos int) error {
	row, err := s.st.WorkflowByID(ctx, a.WorkflowID)
	if err != nil {
		return err
	}
	spec, err := reana.ParseJSON([]byte(row.Spec))
	if err != nil {
		return err
	}
	var params map[string]string
	if err := json.Unmarshal([]byte(row.Parameters), &params); err != nil {
		return fmt.Errorf("parameters of workflow %s: %w", row.ID, err)
	}
	steps, err := reana.ExpandSteps(spec.Steps, params)
	if err != nil {
		return err
	}
	var envs map[string]reana.Environment
	if err := json.Unmarshal([]byte(row.Environments), &envs); err != nil {
		return fmt.Errorf("environments of workflow %s: %w", row.ID, err)
	}
	step := steps[pos]
	env, ok := envs[step.Environment]
	if !ok {
		return fmt.Errorf("workflow %s: environment %q was not resolved", row.ID, step.Environment)
	}
	ws, err := reana.NewWorkspace(row.Workspace)
	if err != nil {
		return err
	}
	secrets, err := s.openSecrets(ctx, row.OwnerID)
	if err != nil {
		return err
	}
	red := reana.NewRedactor(secrets)
	rec := store.WorkflowStep{WorkflowID: row.ID, Position: pos, Name: step.Name, JobID: w.Job.ID}
	start := s.st.Now()
	rec.StartedAt = &start

	var key string
	var before map[string]string
	if a.Cache {
		if before, err = ws.HashFiles(ctx); err != nil {
			return err
		}
		key = reana.CacheKey(step.Commands, env.Digest, before)
		hit, err := s.restoreCached(ctx, row, ws, key)
		if err != nil {
			return err
		}
		if hit != "" {
			now := s.st.Now()
			rec.Status, rec.FinishedAt = reana.StepCached, &now
			if err := s.st.SaveWorkflowStep(ctx, rec); err != nil {
				return err
			}
			msg := fmt.Sprintf("step %s: cached: its commands, environment and input files are unchanged since workflow %s; its outputs were restored\n", step.Name, hit)
			_ = os.MkdirAll(filepath.Dir(s.stepLogPath(row.ID, pos)), 0o755)
			_ = os.WriteFile(s.stepLogPath(row.ID, pos), []byte(msg), 0o644)
			_, _ = io.WriteString(w.Log, msg)
			w.SetExitCode(0)
			return nil
		}
	}

	rec.Status = reana.StepRunning
	if err := s.st.SaveWorkflowStep(ctx, rec); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.stepLogPath(row.ID, pos)), 0o755); err != nil {
		return fmt.Errorf("step log: %w", err)
	}
	logFile, err := os.Create(s.stepLogPath(row.ID, pos))
	if err != nil {
		return fmt.Errorf("step log: %w", err)
	}
	defer logFile.Close()
	if err := s.resolver.Ensure(ctx, row.OwnerID, env); err != nil {
		rec.Status = reana.StepFailed
		if serr := s.st.SaveWorkflowStep(context.WithoutCancel(ctx), rec); serr != nil {
			s.log.Warn("record step", "workflow", row.ID, "err", serr)
		}
		return fmt.Errorf("step %q: %w", step.Name, err)
	}
	fmt.Fprintf(w.Log, "step %s: started in %s (%s)\n", step.Name, env.Requested, env.Image)
	sec, err := reana.PrepareSecrets(secrets, w.Dir, 0, 0)
	if err != nil {
		return err
	}
	if sec.Dir != "" {
		defer os.RemoveAll(sec.Dir)
	}
	vars := map[string]string{}
	for k, v := range sec.Env {
		vars[k] = v
	}
	var netw *stepNetwork
	run := reana.StepRun{
		JobID: w.Job.ID, WorkflowID: row.ID, Index: pos, Step: step, Image: env.Image, Workspace: ws.Dir(),
		Env: vars, SecretDir: sec.Dir, Redactor: red, Log: logFile,
	}
	if step.Network {
		if netw, err = s.openNetwork(ctx, w.Job.ID, pos, step, ws.Dir(), w.Dir, redacting{w: w.Log, red: red}); err != nil {
			rec.Status = reana.StepFailed
			if serr := s.st.SaveWorkflowStep(context.WithoutCancel(ctx), rec); serr != nil {
				s.log.Warn("record step", "workflow", row.ID, "err", serr)
			}
			return err
		}
		for k, v := range netw.env {
			vars[k] = v
		}
		run.Network, run.AddHosts, run.Mounts = netw.name, netw.hosts, netw.mounts
		fmt.Fprintf(w.Log, "step %s: network through the %s proxy (%s)\n", step.Name, netw.mode, path.Join(NetworkDir, filepath.Base(recordingDir(ws.Dir(), step.Name))))
	}
	run.OnCommand = func(_ int, command, containerID string) {
		rec.Command, rec.ContainerID = command, containerID
		if err := s.st.SaveWorkflowStep(context.WithoutCancel(ctx), rec); err != nil {
			s.log.Warn("record step command", "workflow", row.ID, "err", err)
		}
	}
	res, runErr := s.exec.Run(ctx, run)
	var missed []string
	if netw != nil {
		stats, cerr := netw.close(ctx, s.rt)
		fmt.Fprintf(w.Log, "step %s: the proxy served %d requests (%d recorded, %d replayed, %d not in the recording)\n",
			step.Name, stats.Requests, stats.Recorded, stats.Hits, stats.Misses)
		missed = stats.MissedURLs
		if cerr != nil && runErr == nil && res.Failure == nil {
			runErr = fmt.Errorf("close the recording proxy: %w", cerr)
		}
		if netw.mode == proxy.Record && stats.Errors > 0 && runErr == nil && res.Failure == nil {
			runErr = fmt.Errorf("%d downloads failed or were cut off while recording; the recording would be incomplete", stats.Errors)
		}
	}
	now := s.st.Now()
	rec.FinishedAt = &now
	save := func() {
		if err := s.st.SaveWorkflowStep(context.WithoutCancel(ctx), rec); err != nil {
			s.log.Warn("record step", "workflow", row.ID, "err", err)
		}
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		rec.Status = reana.StepStopped
		save()
		fmt.Fprintf(w.Log, "step %s: stopped\n", step.Name)
		return runErr
	case runErr != nil:
		rec.Status = reana.StepFailed
		save()
		return fault.New(fault.ErrInvalid, red.Redact(fmt.Sprintf("step %q could not run: %v", step.Name, runErr)))
	case res.Failure != nil:
		code := res.Failure.ExitCode
		rec.Status, rec.ExitCode = reana.StepFailed, &code
		w.SetExitCode(code)
		save()
		fmt.Fprintf(w.Log, "step %s: failed with exit code %d after %.1fs\n", step.Name, code, res.FinishedAt.Sub(res.StartedAt).Seconds())
		reason := res.Failure.Error()
		if len(missed) > 0 {
			reason += red.Redact("; requests not in the step's recording: " + strings.Join(missed, ", "))
		}
		return fault.New(fault.ErrInvalid, reason)
	}
	zero := 0
	rec.Status, rec.ExitCode = reana.StepFinished, &zero
	w.SetExitCode(0)
	if err := s.checkQuota(ctx, row.OwnerID); err != nil {
		rec.Status = reana.StepFailed
		save()
		return fault.New(fault.ErrTooLarge, fmt.Sprintf("step %q: %s", step.Name, err.Error()))
	}
	save()
	fmt.Fprintf(w.Log, "step %s: finished with exit code 0 after %.1fs\n", step.Name, res.FinishedAt.Sub(res.StartedAt).Seconds())
	if a.Cache {
		if err := s.storeCached(ctx, row, ws, step.Name, key, before); err != nil {
			s.log.Warn("cache step outputs", "workflow", row.ID, "step", step.Name, "err", err)
		}
	}
	s.registerImages(ctx, w, row, spec, ws, pos, step, env)
	return nil
}

// registerImages registers the image archives a succeeded step marked as
// its images (reehub's step key images) in the image registry, with the
// step's provenance. A failure is written to the workflow log and does not
// fail the step, as for the images of REE processes.
func (s *Service) registerImages(ctx context.Context, w *job.Work, row store.Workflow, spec *reana.Spec, ws *reana.Workspace, pos int, step reana.Step, env reana.Environment) {
	if len(step.Images) == 0 {
		return
	}
	if s.cfg.RegisterImage == nil {
		fmt.Fprintf(w.Log, "step %s: images are not registered here (no image registry)\n", step.Name)
		return
	}
	inputs := map[string]string{}
	for _, name := range spec.Inputs.Files {
		if sum, err := hashWorkspaceFile(ws, name); err == nil {
			inputs[name] = sum
		}
	}
	specSum := sha256.Sum256([]byte(row.Spec))
	full := reana.FullName(row.Name, row.Run, row.RunMinor)
	for _, p := range step.Images {
		id, err := s.registerImage(ctx, ws, p, StepImage{
			OwnerID: row.OwnerID, JobID: w.Job.ID, Key: fmt.Sprintf("%d:%s", pos, p),
			Title: fmt.Sprintf("%s %s: %s", full, step.Name, p),
			Provenance: map[string]any{
				"process_kind": w.Job.Kind, "workflow_id": row.ID, "workflow": full, "step": step.Name, "path": p,
				"commands": step.Commands, "environment": env.Requested, "base_images": map[string]string{env.Requested: env.Digest},
				"input_digests": inputs, "specification_sha256": "sha256:" + hex.EncodeToString(specSum[:]), "reehub_version": s.cfg.Version,
			},
		})
		if err != nil {
			fmt.Fprintf(w.Log, "step %s: image %s was not registered: %v\n", step.Name, p, err)
			continue
		}
		fmt.Fprintf(w.Log, "step %s: registered image %s as registry-%s (GET /v1/image/%s)\n", step.Name, p, id, id)
	}
}

// registerImage hands the archive at workspace path p to the registry.
func (s *Service) registerImage(ctx context.Context, ws *reana.Workspace, p string, img StepImage) (string, error) {
	f, err := ws.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// The open file, read through /proc: the path cannot lead out of the
	// workspace, whatever links the step left.
	img.File = fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	return s.cfg.RegisterImage(ctx, img)
}

// hashWorkspaceFile returns "sha256:<hex>" of the workspace file name.
func hashWorkspaceFile(ws *reana.Workspace, name string) (string, error) {
	f, err := ws.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// restoreCached restores the outputs of the cache entry of key, returning the
// workflow (NAME.N) that made them, or "" when there is no entry.
func (s *Service) restoreCached(ctx context.Context, row store.Workflow, ws *reana.Workspace, key string) (string, error) {
	e, err := s.st.CacheEntryOf(ctx, row.OwnerID, key)
	if errors.Is(err, fault.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var outputs map[string]string
	if err := json.Unmarshal([]byte(e.Outputs), &outputs); err != nil {
		return "", nil
	}
	for _, digest := range outputs {
		if _, err := s.blobs.Stat(ctx, digest); err != nil {
			return "", nil // an output is gone: run the step
		}
	}
	for p, digest := range outputs {
		f, err := s.blobs.Open(ctx, digest)
		if err != nil {
			return "", err
		}
		_, err = ws.Upload(ctx, p, f, -1)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("restore cached %s: %w", p, err)
		}
	}
	made := e.WorkflowID
	if src, err := s.st.WorkflowByID(ctx, e.WorkflowID); err == nil {
		made = reana.FullName(src.Name, src.Run, src.RunMinor)
	}
	return made, nil
}

// storeCached records the files the step wrote or changed as its cache entry.
func (s *Service) storeCached(ctx context.Context, row store.Workflow, ws *reana.Workspace, step, key string, before map[string]string) error {
	after, err := ws.HashFiles(ctx)
	if err != nil {
		return err
	}
	changed, _ := reana.Changed(before, after)
	outputs := map[string]string{}
	for _, p := range changed {
		f, err := ws.Open(p)
		if err != nil {
			return err
		}
		ref, err := s.blobs.Put(ctx, f)
		f.Close()
		if err != nil {
			return err
		}
		outputs[p] = ref.Digest
	}
	oj, _ := json.Marshal(outputs)
	return s.st.PutCacheEntry(ctx, store.CacheEntry{OwnerID: row.OwnerID, CacheKey: key, WorkflowID: row.ID, Step: step, Outputs: string(oj)})
}

// openSecrets decrypts the owner's secrets.
func (s *Service) openSecrets(ctx context.Context, ownerID int64) ([]reana.Secret, error) {
	rows, err := s.st.Secrets(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	owner := strconv.FormatInt(ownerID, 10)
	out := make([]reana.Secret, 0, len(rows))
	for _, r := range rows {
		sealed, err := base64.StdEncoding.DecodeString(r.Sealed)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", r.Name, err)
		}
		v, err := s.box.Open(owner, r.Name, sealed)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", r.Name, err)
		}
		out = append(out, reana.Secret{Name: r.Name, Type: reana.SecretType(r.Type), Value: v})
	}
	return out, nil
}

// usage is the bytes the owner's workspaces take.
func (s *Service) usage(ctx context.Context, ownerID int64) (int64, error) {
	rows, err := s.st.Workflows(ctx, ownerID, "")
	if err != nil {
		return 0, err
	}
	var total int64
	counted := map[string]bool{} // a run and its restarts share one workspace
	for _, r := range rows {
		if counted[r.Workspace] {
			continue
		}
		counted[r.Workspace] = true
		if _, err := os.Stat(r.Workspace); err != nil {
			continue
		}
		ws, err := reana.NewWorkspace(r.Workspace)
		if err != nil {
			continue
		}
		n, err := ws.Usage(ctx)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// checkQuota fails when the owner's workspaces exceed the quota.
func (s *Service) checkQuota(ctx context.Context, ownerID int64) error {
	if s.cfg.QuotaBytes <= 0 {
		return nil
	}
	used, err := s.usage(ctx, ownerID)
	if err != nil {
		return err
	}
	if used > s.cfg.QuotaBytes {
		return fmt.Errorf("the disk quota of %s is exceeded: the workspaces take %s", reana.HumanSize(s.cfg.QuotaBytes), reana.HumanSize(used))
	}
	return nil
}

// Quota is a user's disk usage and limit (0: none).
type Quota struct {
	// Used is the bytes the user's workspaces take.
	Used int64
	// Limit is the quota, 0 for none.
	Limit int64
	// CPU is the time the user's steps ran.
	CPU time.Duration
}

// QuotaOf returns the owner's usage and quota.
func (s *Service) QuotaOf(ctx context.Context, owner Owner) (Quota, error) {
	used, err := s.usage(ctx, owner.ID)
	if err != nil {
		return Quota{}, err
	}
	q := Quota{Used: used, Limit: s.cfg.QuotaBytes}
	rows, err := s.st.Workflows(ctx, owner.ID, "")
	if err != nil {
		return Quota{}, err
	}
	for _, r := range rows {
		steps, err := s.st.WorkflowSteps(ctx, r.ID)
		if err != nil {
			return Quota{}, err
		}
		for _, st := range steps {
			if st.StartedAt != nil && st.FinishedAt != nil && st.Status != reana.StepCached {
				q.CPU += st.FinishedAt.Sub(*st.StartedAt)
			}
		}
	}
	return q, nil
}
