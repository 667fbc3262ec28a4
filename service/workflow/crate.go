package workflow

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/reana"
)

// Names inside a crate.
const (
	crateMetadata = "ro-crate-metadata.json"
	crateSpec     = "reana.yaml"
)

// Profiles a crate conforms to (Workflow Run Crate 0.5).
var crateProfiles = []string{
	"https://w3id.org/ro/wfrun/process/0.5",
	"https://w3id.org/ro/wfrun/workflow/0.5",
	"https://w3id.org/workflowhub/workflow-ro-crate/1.0",
}

// CrateContext is the crate's JSON-LD context: RO-Crate 1.1 plus the terms
// of the Workflow Run Crate profiles that RO-Crate 1.1 does not define.
func CrateContext() []any {
	return []any{
		"https://w3id.org/ro/crate/1.1/context",
		map[string]string{
			"wrterm":         "https://w3id.org/ro/terms/workflow-run#",
			"ContainerImage": "wrterm:ContainerImage",
			"containerImage": "wrterm:containerImage",
			"exitCode":       "wrterm:exitCode",
			"sha256":         "wrterm:sha256",
		},
	}
}

type crateFile struct {
	name   string
	size   int64
	sha256 string
}

type ref struct {
	ID string `json:"@id"`
}

func refs(ids []string) []ref {
	out := make([]ref, len(ids))
	for i, id := range ids {
		out[i] = ref{id}
	}
	return out
}

// Crate returns the workflow and a function writing its run as a Workflow
// Run RO-Crate zip: ro-crate-metadata.json, reana.yaml (the specification with
// the parameters the run used), its input and its output files. Only a
// finished or failed run has one.
func (s *Service) Crate(ctx context.Context, owner Owner, wfRef string) (Workflow, func(context.Context, io.Writer) error, error) {
	w, ws, err := s.workspace(ctx, owner, wfRef)
	if err != nil {
		return Workflow{}, nil, err
	}
	if w.Status != reana.StatusFinished && w.Status != reana.StatusFailed {
		return Workflow{}, nil, fault.Conflictf("workflow %s is %s; a run has a crate once it has finished or failed", w.FullName(), w.Status)
	}
	inputs, err := s.collect(ctx, ws, w.Spec.Inputs.Files, w.Spec.Inputs.Directories)
	if err != nil {
		return Workflow{}, nil, err
	}
	outputs, err := s.collect(ctx, ws, w.Spec.Outputs.Files, w.Spec.Outputs.Directories)
	if err != nil {
		return Workflow{}, nil, err
	}
	// The specification as run: its parameters are the ones the run used.
	var raw map[string]any
	if err := json.Unmarshal(w.Spec.Raw, &raw); err != nil {
		return Workflow{}, nil, fmt.Errorf("specification of %s: %w", w.FullName(), err)
	}
	in, _ := raw["inputs"].(map[string]any)
	if in == nil {
		in = map[string]any{}
	}
	in["parameters"] = paramsAny(w.Parameters)
	raw["inputs"] = in
	specText, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return Workflow{}, nil, err
	}
	meta, err := s.crateMetadata(w, specText, inputs, outputs)
	if err != nil {
		return Workflow{}, nil, err
	}
	write := func(ctx context.Context, out io.Writer) error {
		zw := zip.NewWriter(out)
		for _, f := range []struct {
			name string
			b    []byte
		}{{crateMetadata, meta}, {crateSpec, specText}} {
			fw, err := zw.Create(f.name)
			if err != nil {
				return err
			}
			if _, err := fw.Write(f.b); err != nil {
				return err
			}
		}
		seen := map[string]bool{}
		for _, f := range append(append([]crateFile{}, inputs...), outputs...) {
			if seen[f.name] {
				continue
			}
			seen[f.name] = true
			if err := ctx.Err(); err != nil {
				return err
			}
			src, err := ws.Open(f.name)
			if err != nil {
				return err
			}
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: w.Created})
			if err == nil {
				_, err = io.Copy(fw, src)
			}
			src.Close()
			if err != nil {
				return fmt.Errorf("crate file %s: %w", f.name, err)
			}
		}
		return zw.Close()
	}
	return w, write, nil
}

func paramsAny(p map[string]string) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// collect returns the files (and the files under the directories) that exist
// in the workspace, with their sha256.
func (s *Service) collect(ctx context.Context, ws *reana.Workspace, files, dirs []string) ([]crateFile, error) {
	var names []string
	for _, f := range files {
		if c, err := reana.CleanPath(f); err == nil {
			names = append(names, c)
		}
	}
	for _, d := range dirs {
		c, err := reana.CleanPath(d)
		if err != nil {
			continue
		}
		list, _, err := ws.List(ctx, reana.ListOpts{Glob: c + "/**"})
		if err != nil {
			return nil, err
		}
		for _, f := range list {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var out []crateFile
	for _, n := range names {
		f, err := ws.Open(n)
		if err != nil {
			if errors.Is(err, fault.ErrNotFound) {
				continue // declared, not produced
			}
			return nil, err
		}
		h := sha256.New()
		size, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("hash %s: %w", n, err)
		}
		out = append(out, crateFile{name: n, size: size, sha256: hex.EncodeToString(h.Sum(nil))})
	}
	return out, nil
}

// crateMetadata is the ro-crate-metadata.json of a run (Workflow Run Crate).
func (s *Service) crateMetadata(w Workflow, specText []byte, inputs, outputs []crateFile) ([]byte, error) {
	var envs map[string]reana.Environment
	_ = jsonUnmarshal(w.row.Environments, &envs)
	steps, err := reana.ExpandSteps(w.Spec.Steps, w.Parameters)
	if err != nil {
		steps = w.Spec.Steps
	}
	stamp := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return t.UTC().Format(time.RFC3339)
	}
	status := func(ok bool) ref {
		if ok {
			return ref{"http://schema.org/CompletedActionStatus"}
		}
		return ref{"http://schema.org/FailedActionStatus"}
	}
	runID := "#run-" + w.ID
	var graph []map[string]any
	add := func(e map[string]any) { graph = append(graph, e) }
	var parts []string
	fileEntity := func(f crateFile) map[string]any {
		return map[string]any{"@id": f.name, "@type": "File", "name": path.Base(f.name), "contentSize": f.size, "sha256": f.sha256}
	}
	add(map[string]any{"@id": crateMetadata, "@type": "CreativeWork", "conformsTo": ref{"https://w3id.org/ro/crate/1.1"}, "about": ref{"./"}})
	for _, p := range crateProfiles {
		add(map[string]any{"@id": p, "@type": "CreativeWork", "name": strings.TrimPrefix(p, "https://w3id.org/"), "version": path.Base(p)})
	}
	var inIDs, outIDs []string
	for _, f := range inputs {
		inIDs = append(inIDs, f.name)
	}
	for _, f := range outputs {
		outIDs = append(outIDs, f.name)
	}
	parts = append(append(append(parts, crateSpec), inIDs...), outIDs...)
	var params, values []string
	for _, name := range sortedKeys(w.Parameters) {
		params = append(params, "#param-"+name)
		values = append(values, "#pv-"+name)
		add(map[string]any{"@id": "#param-" + name, "@type": "FormalParameter", "name": name, "additionalType": "Text",
			"conformsTo": ref{"https://bioschemas.org/profiles/FormalParameter/1.0-RELEASE"}})
		add(map[string]any{"@id": "#pv-" + name, "@type": "PropertyValue", "name": name, "value": w.Parameters[name], "exampleOfWork": ref{"#param-" + name}})
	}
	var howTo, controls []string
	images := map[string]bool{}
	for i, st := range steps {
		tool := fmt.Sprintf("#tool-%d", i)
		howTo = append(howTo, fmt.Sprintf("#step-%d", i))
		add(map[string]any{"@id": fmt.Sprintf("#step-%d", i), "@type": "HowToStep", "name": st.Name, "position": i, "workExample": ref{tool}})
		add(map[string]any{"@id": tool, "@type": "SoftwareApplication", "name": st.Name, "description": strings.Join(st.Commands, "\n")})
		if i >= len(w.steps) || w.steps[i].JobID == "" {
			continue // never ran
		}
		rec := w.steps[i]
		action := map[string]any{"@id": fmt.Sprintf("#steprun-%d", i), "@type": "CreateAction", "name": "step " + st.Name,
			"instrument": ref{tool}, "description": strings.Join(st.Commands, "\n"),
			"startTime": stamp(rec.StartedAt), "endTime": stamp(rec.FinishedAt),
			"actionStatus": status(rec.Status == reana.StepFinished || rec.Status == reana.StepCached)}
		if rec.ExitCode != nil {
			action["exitCode"] = *rec.ExitCode
		}
		if e, ok := envs[st.Environment]; ok {
			img := "#image-" + strings.TrimPrefix(e.Digest, "sha256:")
			action["containerImage"] = ref{img}
			if !images[img] {
				images[img] = true
				add(map[string]any{"@id": img, "@type": "ContainerImage", "name": e.Requested,
					"additionalType": ref{"https://w3id.org/ro/terms/workflow-run#DockerImage"}, "sha256": strings.TrimPrefix(e.Digest, "sha256:")})
			}
		}
		add(action)
		controls = append(controls, fmt.Sprintf("#control-%d", i))
		add(map[string]any{"@id": fmt.Sprintf("#control-%d", i), "@type": "ControlAction", "name": "orchestrate " + st.Name,
			"instrument": ref{fmt.Sprintf("#step-%d", i)}, "object": ref{fmt.Sprintf("#steprun-%d", i)}})
	}
	add(map[string]any{"@id": "#reehub", "@type": "SoftwareApplication", "name": "reehub", "url": ref{"https://github.com/reehub/reehub"}})
	add(map[string]any{"@id": "#orchestrate-" + w.ID, "@type": "OrganizeAction", "name": "reehub runs " + w.FullName(),
		"instrument": ref{"#reehub"}, "object": refs(controls), "result": ref{runID}})
	add(map[string]any{"@id": "#reana-serial", "@type": "ComputerLanguage", "name": "REANA serial workflow", "url": ref{"https://docs.reana.io/running-workflows/supported-systems/serial/"}})
	add(map[string]any{"@id": crateSpec, "@type": []string{"File", "SoftwareSourceCode", "ComputationalWorkflow"}, "name": w.Name,
		"programmingLanguage": ref{"#reana-serial"}, "input": refs(params), "step": refs(howTo), "contentSize": len(specText),
		"sha256": hexSHA(specText)})
	var started, ended *time.Time
	if w.job != nil {
		started, ended = w.job.StartedAt, w.job.FinishedAt
	}
	add(map[string]any{"@id": runID, "@type": "CreateAction", "name": "Run of " + w.FullName(), "instrument": ref{crateSpec},
		"object": refs(append(append([]string{}, inIDs...), values...)), "result": refs(outIDs),
		"startTime": stamp(started), "endTime": stamp(ended), "actionStatus": status(w.Status == reana.StatusFinished)})
	for _, f := range inputs {
		add(fileEntity(f))
	}
	for _, f := range outputs {
		if !slices.Contains(inIDs, f.name) {
			add(fileEntity(f))
		}
	}
	root := map[string]any{"@id": "./", "@type": "Dataset", "name": w.FullName(), "datePublished": time.Now().UTC().Format(time.RFC3339),
		"description": "The REANA workflow run " + w.FullName() + " on reehub: its specification, inputs, outputs and steps.",
		"conformsTo":  refs(crateProfiles), "mainEntity": ref{crateSpec}, "hasPart": refs(slices.Compact(parts)), "mentions": ref{runID},
		"license": ref{"https://spdx.org/licenses/CC-BY-4.0"}}
	graph = append([]map[string]any{graph[0], root}, graph[1:]...)
	return json.MarshalIndent(map[string]any{"@context": CrateContext(), "@graph": graph}, "", "  ")
}

func hexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CreateFromCrate creates a run of the crate's reana.yaml (with the
// parameters the crate's run used) and puts the crate's input files into its
// workspace; the crate's output hashes are kept, and the run's status tells,
// once it has ended, which outputs match. name "" takes the crate run's name.
func (s *Service) CreateFromCrate(ctx context.Context, owner Owner, name string, body io.Reader) (Workflow, error) {
	tmp, err := os.CreateTemp(s.tmpDir(), "crate-*.zip")
	if err != nil {
		return Workflow{}, fmt.Errorf("stage crate: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := io.Copy(tmp, body)
	if err != nil {
		return Workflow{}, fmt.Errorf("stage crate: %w", err)
	}
	zr, err := zip.NewReader(tmp, size)
	if err != nil {
		return Workflow{}, fault.Invalidf("the body is not a zip archive: %v", err)
	}
	read := func(n string) ([]byte, error) {
		f, err := zr.Open(n)
		if err != nil {
			return nil, fault.Invalidf("the crate has no %s", n)
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, 8<<20))
	}
	metaText, err := read(crateMetadata)
	if err != nil {
		return Workflow{}, err
	}
	specText, err := read(crateSpec)
	if err != nil {
		return Workflow{}, err
	}
	var meta struct {
		Graph []struct {
			ID     string          `json:"@id"`
			Type   json.RawMessage `json:"@type"`
			Name   string          `json:"name"`
			SHA256 string          `json:"sha256"`
			Object json.RawMessage `json:"object"`
			Result json.RawMessage `json:"result"`
			Instr  *ref            `json:"instrument"`
		} `json:"@graph"`
	}
	if err := json.Unmarshal(metaText, &meta); err != nil {
		return Workflow{}, fault.Invalidf("%s: %v", crateMetadata, err)
	}
	hashes := map[string]string{}
	var inputs, outputs []string
	runName := ""
	for _, e := range meta.Graph {
		if e.SHA256 != "" {
			hashes[e.ID] = e.SHA256
		}
		if string(e.Type) == `"CreateAction"` && e.Instr != nil && e.Instr.ID == crateSpec {
			inputs, outputs = refIDs(e.Object), refIDs(e.Result)
			runName = strings.TrimPrefix(e.Name, "Run of ")
		}
	}
	if name == "" {
		name, _, _ = strings.Cut(runName, ".")
	}
	spec, err := reana.ParseYAML(specText)
	if err != nil {
		return Workflow{}, err
	}
	expected := map[string]string{}
	for _, o := range outputs {
		if h, ok := hashes[o]; ok {
			expected[o] = h
		}
	}
	ej, _ := json.Marshal(expected)
	w, err := s.create(ctx, owner, name, spec, string(ej))
	if err != nil {
		return Workflow{}, err
	}
	if err := s.fillFromCrate(ctx, owner, w, zr, inputs, hashes); err != nil {
		// Nothing half made stays: the run is deleted with its workspace.
		if _, derr := s.Delete(context.WithoutCancel(ctx), owner, w.ID, false, true); derr != nil {
			s.log.Warn("delete the run of a refused crate", "workflow", w.ID, "err", derr)
		}
		return Workflow{}, err
	}
	return w, nil
}

// fillFromCrate puts the crate's input files into the run's workspace, within the owner's quota.
func (s *Service) fillFromCrate(ctx context.Context, owner Owner, w Workflow, zr *zip.Reader, inputs []string, hashes map[string]string) error {
	ws, err := reana.NewWorkspace(w.row.Workspace)
	if err != nil {
		return err
	}
	for _, in := range inputs {
		if _, ok := hashes[in]; !ok {
			continue // a parameter value, not a file
		}
		f, err := zr.Open(in)
		if err != nil {
			return fault.Invalidf("the crate lists input %s but does not hold it", in)
		}
		room := int64(-1)
		if s.cfg.QuotaBytes > 0 {
			used, err := s.usage(ctx, owner.ID)
			if err != nil {
				f.Close()
				return err
			}
			room = max(s.cfg.QuotaBytes-used, 0)
		}
		_, err = ws.Upload(ctx, in, f, room)
		f.Close()
		if errors.Is(err, fault.ErrTooLarge) {
			return fault.TooLargef("the crate's input %s would exceed the disk quota of %s", in, reana.HumanSize(s.cfg.QuotaBytes))
		}
		if err != nil {
			return fmt.Errorf("crate input %s: %w", in, err)
		}
	}
	return nil
}

func refIDs(raw json.RawMessage) []string {
	var many []ref
	if json.Unmarshal(raw, &many) == nil {
		out := make([]string, len(many))
		for i, r := range many {
			out[i] = r.ID
		}
		return out
	}
	var one ref
	if json.Unmarshal(raw, &one) == nil && one.ID != "" {
		return []string{one.ID}
	}
	return nil
}

func (s *Service) tmpDir() string {
	d := s.cfg.DataDir + "/reana/tmp"
	_ = os.MkdirAll(d, 0o750)
	return d
}

// OutputsMatch tells, for a run created from a crate that has ended, whether
// each of the crate's outputs has the same sha256 in the workspace now; nil
// otherwise.
func (s *Service) OutputsMatch(ctx context.Context, w Workflow) map[string]bool {
	var expected map[string]string
	if jsonUnmarshal(w.row.ExpectedOutputs, &expected) != nil || len(expected) == 0 || !w.Status.Ended() {
		return nil
	}
	ws, err := reana.NewWorkspace(w.row.Workspace)
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for p, want := range expected {
		f, err := ws.Open(p)
		if err != nil {
			out[p] = false
			continue
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		out[p] = err == nil && hex.EncodeToString(h.Sum(nil)) == want
	}
	return out
}
