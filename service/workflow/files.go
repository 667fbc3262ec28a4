package workflow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/store"
)

// workspace returns the workspace of the owner's workflow ref; a deleted
// workspace is not found.
func (s *Service) workspace(ctx context.Context, owner Owner, ref string) (Workflow, *reana.Workspace, error) {
	w, err := s.Get(ctx, owner, ref)
	if err != nil {
		return Workflow{}, nil, err
	}
	if _, err := os.Stat(w.row.Workspace); err != nil {
		return Workflow{}, nil, fault.NotFoundf("the workspace of workflow %s was deleted", w.FullName())
	}
	ws, err := reana.NewWorkspace(w.row.Workspace)
	return w, ws, err
}

// Files lists the workspace's files.
func (s *Service) Files(ctx context.Context, owner Owner, ref string, o reana.ListOpts) ([]reana.File, int, error) {
	_, ws, err := s.workspace(ctx, owner, ref)
	if err != nil {
		return nil, 0, err
	}
	return ws.List(ctx, o)
}

// Upload streams r into the workspace at name; going over the owner's disk
// quota is too large (and leaves nothing).
func (s *Service) Upload(ctx context.Context, owner Owner, ref, name string, r io.Reader) (string, int64, error) {
	_, ws, err := s.workspace(ctx, owner, ref)
	if err != nil {
		return "", 0, err
	}
	clean, err := reana.CleanPath(name)
	if err != nil {
		return "", 0, err
	}
	room := int64(-1)
	if s.cfg.QuotaBytes > 0 {
		used, err := s.usage(ctx, owner.ID)
		if err != nil {
			return "", 0, err
		}
		if old, err := ws.Stat(clean); err == nil && !old.Dir {
			used -= old.Size // replaced
		}
		room = max(s.cfg.QuotaBytes-used, 0)
	}
	n, err := ws.Upload(ctx, clean, r, room)
	if errors.Is(err, fault.ErrTooLarge) {
		return "", 0, fault.TooLargef("uploading %s would exceed the disk quota of %s", clean, reana.HumanSize(s.cfg.QuotaBytes))
	}
	return clean, n, err
}

// Download is an entry of the workspace to send: a file, or a directory (as a zip).
type Download struct {
	// Entry describes it.
	Entry reana.Entry
	// File is the open file (nil for a directory); the caller closes it.
	File *os.File
	// Zip writes a directory as a zip.
	Zip func(ctx context.Context, w io.Writer) error
}

// Open opens name of the workspace for download.
func (s *Service) Open(ctx context.Context, owner Owner, ref, name string) (Download, error) {
	_, ws, err := s.workspace(ctx, owner, ref)
	if err != nil {
		return Download{}, err
	}
	e, err := ws.Stat(name)
	if err != nil {
		return Download{}, err
	}
	if e.Dir {
		return Download{Entry: e, Zip: func(ctx context.Context, w io.Writer) error { return ws.WriteZip(ctx, e.Name, w) }}, nil
	}
	f, err := ws.Open(e.Name)
	if err != nil {
		return Download{}, err
	}
	return Download{Entry: e, File: f}, nil
}

// DeleteFiles deletes a file, a directory or a glob of files of a workflow
// that is not running.
func (s *Service) DeleteFiles(ctx context.Context, owner Owner, ref, name string) (map[string]int64, map[string]string, error) {
	w, ws, err := s.workspace(ctx, owner, ref)
	if err != nil {
		return nil, nil, err
	}
	if w.Status.Active() {
		return nil, nil, fault.Conflictf("workflow %s is %s; its workspace changes only when it is not running", w.FullName(), w.Status)
	}
	return ws.Delete(ctx, name)
}

// Move renames source to target in the workspace of a workflow that is not running.
func (s *Service) Move(ctx context.Context, owner Owner, ref, source, target string) (Workflow, error) {
	w, ws, err := s.workspace(ctx, owner, ref)
	if err != nil {
		return Workflow{}, err
	}
	if w.Status.Active() {
		return Workflow{}, fault.Conflictf("workflow %s is %s; its workspace changes only when it is not running", w.FullName(), w.Status)
	}
	return w, ws.Move(source, target)
}

// Usage is the disk usage of a workspace: each file (search filters), or
// with summarize only the total, named ".".
func (s *Service) Usage(ctx context.Context, owner Owner, ref, search string, summarize bool) (Workflow, []reana.File, error) {
	w, ws, err := s.workspace(ctx, owner, ref)
	if err != nil {
		return Workflow{}, nil, err
	}
	files, _, err := ws.List(ctx, reana.ListOpts{Search: search})
	if err != nil {
		return Workflow{}, nil, err
	}
	if summarize {
		var total int64
		for _, f := range files {
			total += f.Size
		}
		return w, []reana.File{{Name: ".", Size: total}}, nil
	}
	return w, files, nil
}

// Logs returns the workflow and its logs in REANA's shape (JSON text), live
// while a step runs; steps keeps the named steps, page and size page them.
func (s *Service) Logs(ctx context.Context, owner Owner, ref string, steps []string, page, size int) (Workflow, string, error) {
	w, err := s.Get(ctx, owner, ref)
	if err != nil {
		return Workflow{}, "", err
	}
	doc := reana.LogsDoc{}
	if w.row.JobID != "" {
		rc, err := s.eng.OpenLog(ctx, w.row.JobID)
		if err != nil {
			return Workflow{}, "", err
		}
		b, err := io.ReadAll(io.LimitReader(rc, 4<<20))
		rc.Close()
		if err != nil {
			return Workflow{}, "", fmt.Errorf("read log of %s: %w", w.FullName(), err)
		}
		doc.WorkflowLogs = string(b)
	}
	if w.Status == reana.StatusFailed && w.Reason != "" {
		doc.WorkflowLogs += w.Reason + "\n"
	}
	var envs map[string]reana.Environment
	_ = jsonUnmarshal(w.row.Environments, &envs)
	expanded, err := reana.ExpandSteps(w.Spec.Steps, w.Parameters)
	if err != nil {
		expanded = w.Spec.Steps
	}
	for _, st := range w.steps {
		if st.Status == reana.StepCreated || st.JobID == "" {
			continue
		}
		text, _ := os.ReadFile(s.stepLogPath(w.ID, st.Position))
		jl := reana.JobLog{
			JobID: stepJobID(st), WorkflowUUID: w.ID, JobName: st.Name, ComputeBackend: s.exec.ComputeBackend(),
			BackendJobID: st.ContainerID, Status: st.Status, Logs: string(text), StartedAt: st.StartedAt, FinishedAt: st.FinishedAt,
		}
		if jl.Status == reana.StepRunning && w.Status != reana.StatusRunning {
			jl.Status = reana.StepStopped
		}
		if st.Position < len(expanded) {
			step := expanded[st.Position]
			jl.DockerImg = step.Environment
			if e, ok := envs[step.Environment]; ok && e.Image != "" {
				jl.DockerImg = step.Environment + "@" + e.Digest
			}
			jl.Cmd = joinLines(step.Commands)
		}
		doc.Jobs = append(doc.Jobs, jl)
	}
	doc = doc.Steps(steps).Page(page, size)
	text, err := doc.Encode()
	if err != nil {
		return Workflow{}, "", err
	}
	return w, text, nil
}

func joinLines(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "\n"
		}
		out += s
	}
	return out
}

// SecretInfo is a secret's name and type (never its value).
type SecretInfo struct {
	// Name is the secret's name.
	Name string
	// Type is env or file.
	Type reana.SecretType
}

// AddSecrets stores secrets encrypted; an existing name is a conflict unless overwrite.
func (s *Service) AddSecrets(ctx context.Context, owner Owner, secrets []reana.Secret, overwrite bool) error {
	existing, err := s.st.Secrets(ctx, owner.ID)
	if err != nil {
		return err
	}
	if !overwrite {
		for _, sec := range secrets {
			if slices.ContainsFunc(existing, func(e store.Secret) bool { return e.Name == sec.Name }) {
				return fault.Conflictf("secret %s already exists; add it with overwrite to replace it", sec.Name)
			}
		}
	}
	id := strconv.FormatInt(owner.ID, 10)
	return s.st.InTx(ctx, func(tx *store.Store) error {
		for _, sec := range secrets {
			sealed := base64.StdEncoding.EncodeToString(s.box.Seal(id, sec.Name, sec.Value))
			if err := tx.PutSecret(ctx, store.Secret{OwnerID: owner.ID, Name: sec.Name, Type: string(sec.Type), Sealed: sealed}, overwrite); err != nil {
				return err
			}
		}
		return nil
	})
}

// Secrets lists the owner's secrets' names and types.
func (s *Service) Secrets(ctx context.Context, owner Owner) ([]SecretInfo, error) {
	rows, err := s.st.Secrets(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	out := make([]SecretInfo, len(rows))
	for i, r := range rows {
		out[i] = SecretInfo{Name: r.Name, Type: reana.SecretType(r.Type)}
	}
	return out, nil
}

// DeleteSecrets deletes the named secrets. When one does not exist nothing
// is deleted and the missing names are returned.
func (s *Service) DeleteSecrets(ctx context.Context, owner Owner, names []string) (missing []string, err error) {
	rows, err := s.st.Secrets(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if !slices.ContainsFunc(rows, func(r store.Secret) bool { return r.Name == n }) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return missing, nil
	}
	_, err = s.st.DeleteSecrets(ctx, owner.ID, names)
	return nil, err
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
