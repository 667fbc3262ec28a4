package reana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/reehub/reehub/fault"
)

// WorkflowTypeSerial is the only workflow type reehub runs.
const WorkflowTypeSerial = "serial"

// knownTypes are the REANA workflow types that are refused by name.
var knownTypes = []string{"cwl", "yadage", "snakemake"}

// ComputeBackendKubernetes is the compute backend reehub accepts in a step
// (besides none): such steps run on the local Podman service, so that
// reana.yaml files written for a REANA cluster run unchanged.
const ComputeBackendKubernetes = "kubernetes"

// ComputeBackends lists the compute backends a step may name (what GET
// /api/info reports; reana-client checks steps against it at create).
func ComputeBackends() []string { return []string{ComputeBackendKubernetes} }

// Spec is a parsed reana.yaml. Raw keeps the document as submitted (as JSON),
// which GET .../specification returns unchanged.
type Spec struct {
	// Version is the specification's version string, if any.
	Version string
	// Inputs are the declared inputs.
	Inputs Inputs
	// Outputs are the declared outputs.
	Outputs Outputs
	// Type is the workflow type (always serial once validated).
	Type string
	// Steps are the serial steps, in order, with parameters not yet expanded.
	Steps []Step
	// Raw is the submitted document as JSON.
	Raw json.RawMessage
}

// Inputs are the files, directories, parameters and options of a spec.
type Inputs struct {
	// Files are workspace-relative paths the client uploads.
	Files []string
	// Directories are workspace-relative directories the client uploads.
	Directories []string
	// Parameters are the default parameter values, already rendered as the
	// strings commands receive (see FormatParameter).
	Parameters map[string]string
	// Options are the default operational options (FROM, TARGET, CACHE).
	Options map[string]string
}

// Outputs are the declared results of a workflow.
type Outputs struct {
	// Files are workspace-relative paths.
	Files []string
	// Directories are workspace-relative directories.
	Directories []string
}

// Step is one step of a serial workflow.
type Step struct {
	// Name is the step's name ("step1", "step2", ... when the spec gives none).
	Name string
	// Environment is the image reference as written in the spec.
	Environment string
	// Commands are the step's commands, each run with bash -c.
	Commands []string
	// ComputeBackend is "" or "kubernetes".
	ComputeBackend string
	// MemoryLimit is kubernetes_memory_limit in bytes; 0 means none.
	MemoryLimit int64
	// UID is kubernetes_uid: the user the commands run as; nil means the
	// owner of the workspace.
	UID *int
	// Network is reehub's extension: when true the step's containers reach
	// the network through the recording proxy; by default they have none.
	Network bool
	// Images is reehub's extension: workspace paths of image archives
	// (docker-archive or OCI archive TARs) the step writes; once the step
	// has succeeded, each is registered in the image registry with its
	// provenance (docs/reana.md, "Steps that produce images").
	Images []string
}

var stepKeys = map[string]bool{
	"name": true, "environment": true, "commands": true, "compute_backend": true,
	"kubernetes_memory_limit": true, "kubernetes_uid": true, "kubernetes_job_timeout": true,
	"kerberos": true, "voms_proxy": true, "rucio": true, "unpacked_image": true, "unpacked_img": true,
	"htcondor_max_runtime": true, "htcondor_accounting_group": true, "slurm_partition": true,
	"slurm_time": true, "c4p_cpu_cores": true, "c4p_memory_limit": true, "c4p_additional_requirements": true,
	"network": true, "images": true,
}

// ParseYAML parses a reana.yaml document (YAML 1.2 or JSON text), as the
// seed's spec parameter carries it.
func ParseYAML(doc []byte) (*Spec, error) {
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return nil, fault.Invalidf("reana.yaml is not valid YAML: %s", oneLine(err.Error()))
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, fault.Invalidf("reana.yaml: keys must be strings: %s", oneLine(err.Error()))
	}
	return ParseJSON(js)
}

// ParseJSON parses and validates a reana.yaml sent as JSON (what
// reana-client sends as the body of POST /api/workflows). Every error wraps
// fault.ErrInvalid with a message that names the offending field.
func ParseJSON(doc []byte) (*Spec, error) {
	var top map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, fault.Invalidf("the REANA specification must be a JSON object")
	}
	s := &Spec{Raw: append(json.RawMessage(nil), doc...)}
	if v, ok := top["version"]; ok && v != nil {
		s.Version = scalarString(v)
	}
	if err := s.parseInputs(top["inputs"]); err != nil {
		return nil, err
	}
	if err := s.parseOutputs(top["outputs"]); err != nil {
		return nil, err
	}
	wf, ok := top["workflow"].(map[string]any)
	if !ok {
		return nil, fault.Invalidf("workflow: missing; a REANA specification needs workflow.type and workflow.specification")
	}
	typ, _ := wf["type"].(string)
	switch {
	case typ == WorkflowTypeSerial:
	case typ == "":
		return nil, fault.Invalidf("workflow.type: missing; the supported type is %q", WorkflowTypeSerial)
	case contains(knownTypes, strings.ToLower(typ)):
		return nil, fault.Invalidf("workflow.type %q is not supported here; the supported type is %q", typ, WorkflowTypeSerial)
	default:
		return nil, fault.Invalidf("workflow.type %q is unknown; the supported type is %q", typ, WorkflowTypeSerial)
	}
	s.Type = typ
	if _, ok := wf["file"]; ok && wf["specification"] == nil {
		return nil, fault.Invalidf("workflow.file: a serial workflow must be given inline in workflow.specification (reana-client sends it so)")
	}
	body, ok := wf["specification"].(map[string]any)
	if !ok {
		return nil, fault.Invalidf("workflow.specification: missing; a serial workflow needs specification.steps")
	}
	rawSteps, ok := body["steps"].([]any)
	if !ok || len(rawSteps) == 0 {
		return nil, fault.Invalidf("workflow.specification.steps: a serial workflow needs at least one step")
	}
	seen := map[string]int{}
	for i, rs := range rawSteps {
		st, err := parseStep(i, rs)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[st.Name]; dup {
			return nil, fault.Invalidf("workflow.specification.steps[%d]: name %q is also the name of step %d", i, st.Name, j)
		}
		seen[st.Name] = i
		s.Steps = append(s.Steps, st)
	}
	// Every placeholder must name a parameter, as REANA's serial engine
	// requires (string.Template.substitute).
	for _, st := range s.Steps {
		for j, c := range st.Commands {
			if _, err := Expand(c, s.Inputs.Parameters); err != nil {
				return nil, fault.Invalidf("step %q command %d: %s", st.Name, j+1, err.Error())
			}
		}
	}
	return s, nil
}

func (s *Spec) parseInputs(v any) error {
	if v == nil {
		s.Inputs.Parameters = map[string]string{}
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fault.Invalidf("inputs: must be an object with files, directories and parameters")
	}
	var err error
	if s.Inputs.Files, err = stringList("inputs.files", m["files"]); err != nil {
		return err
	}
	if s.Inputs.Directories, err = stringList("inputs.directories", m["directories"]); err != nil {
		return err
	}
	s.Inputs.Parameters = map[string]string{}
	if p, ok := m["parameters"]; ok && p != nil {
		pm, ok := p.(map[string]any)
		if !ok {
			return fault.Invalidf("inputs.parameters: must be an object of name: value")
		}
		for k, val := range pm {
			if !identifier.MatchString(k) {
				return fault.Invalidf("inputs.parameters: %q is not a valid parameter name (letters, digits and _, not starting with a digit)", k)
			}
			s.Inputs.Parameters[k] = FormatParameter(val)
		}
	}
	if o, ok := m["options"]; ok && o != nil {
		om, ok := o.(map[string]any)
		if !ok {
			return fault.Invalidf("inputs.options: must be an object")
		}
		s.Inputs.Options = map[string]string{}
		for k, val := range om {
			// YAML 1.1 (PyYAML in reana-client) reads CACHE: off as false.
			if b, ok := val.(bool); ok {
				s.Inputs.Options[k] = map[bool]string{true: "on", false: "off"}[b]
				continue
			}
			s.Inputs.Options[k] = scalarString(val)
		}
	}
	for _, f := range append(append([]string(nil), s.Inputs.Files...), s.Inputs.Directories...) {
		if _, err := CleanPath(f); err != nil {
			return fault.Invalidf("inputs: %s", err.Error())
		}
	}
	return nil
}

func (s *Spec) parseOutputs(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fault.Invalidf("outputs: must be an object with files and directories")
	}
	var err error
	if s.Outputs.Files, err = stringList("outputs.files", m["files"]); err != nil {
		return err
	}
	if s.Outputs.Directories, err = stringList("outputs.directories", m["directories"]); err != nil {
		return err
	}
	return nil
}

func parseStep(i int, v any) (Step, error) {
	where := fmt.Sprintf("workflow.specification.steps[%d]", i)
	m, ok := v.(map[string]any)
	if !ok {
		return Step{}, fault.Invalidf("%s: must be an object with environment and commands", where)
	}
	for k := range m {
		if !stepKeys[k] {
			return Step{}, fault.Invalidf("%s: unknown field %q", where, k)
		}
	}
	st := Step{Name: fmt.Sprintf("step%d", i+1)}
	if n, ok := m["name"]; ok {
		name, ok := n.(string)
		if !ok || strings.TrimSpace(name) == "" {
			return Step{}, fault.Invalidf("%s.name: must be a non-empty string", where)
		}
		st.Name = name
		where = fmt.Sprintf("step %q", name)
	}
	env, ok := m["environment"].(string)
	if !ok || strings.TrimSpace(env) == "" {
		return Step{}, fault.Invalidf("%s: environment (the image the commands run in) is missing", where)
	}
	st.Environment = strings.TrimSpace(env)
	cmds, ok := m["commands"].([]any)
	if !ok || len(cmds) == 0 {
		return Step{}, fault.Invalidf("%s: commands is missing or empty; a step needs at least one command", where)
	}
	for j, c := range cmds {
		cs, ok := c.(string)
		if !ok || strings.TrimSpace(cs) == "" {
			return Step{}, fault.Invalidf("%s: command %d must be a non-empty string", where, j+1)
		}
		st.Commands = append(st.Commands, cs)
	}
	if cb, ok := m["compute_backend"]; ok && cb != nil {
		b, _ := cb.(string)
		if !strings.EqualFold(b, ComputeBackendKubernetes) {
			return Step{}, fault.Invalidf("%s: compute_backend %q is not available here; the supported backend is %q (run on the local Podman service)", where, scalarString(cb), ComputeBackendKubernetes)
		}
		st.ComputeBackend = ComputeBackendKubernetes
	}
	if ml, ok := m["kubernetes_memory_limit"]; ok && ml != nil {
		n, err := ParseMemory(scalarString(ml))
		if err != nil {
			return Step{}, fault.Invalidf("%s: kubernetes_memory_limit: %s", where, err.Error())
		}
		st.MemoryLimit = n
	}
	if u, ok := m["kubernetes_uid"]; ok && u != nil {
		n, err := strconv.Atoi(scalarString(u))
		if err != nil || n < 0 {
			return Step{}, fault.Invalidf("%s: kubernetes_uid must be a non-negative integer", where)
		}
		st.UID = &n
	}
	if nw, ok := m["network"]; ok && nw != nil {
		b, ok := nw.(bool)
		if !ok {
			return Step{}, fault.Invalidf("%s: network must be true or false", where)
		}
		st.Network = b
	}
	if im, ok := m["images"]; ok && im != nil {
		list, ok := im.([]any)
		if !ok {
			return Step{}, fault.Invalidf("%s: images must be a list of workspace paths of image archives", where)
		}
		for i, v := range list {
			p, ok := v.(string)
			if !ok || strings.TrimSpace(p) == "" {
				return Step{}, fault.Invalidf("%s: images[%d] must be a workspace path of an image archive", where, i)
			}
			clean := path.Clean(strings.TrimLeft(p, "/"))
			if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
				return Step{}, fault.Invalidf("%s: images[%d] %q is not a path inside the workspace", where, i, p)
			}
			st.Images = append(st.Images, clean)
		}
	}
	return st, nil
}

var memoryRe = regexp.MustCompile(`^(?:(\d+)|((?:\d+\.)?\d+)([EPTGMK])(i?))$`)

// ParseMemory parses a Kubernetes memory quantity as REANA accepts it
// ("268435456", "256Mi", "1.5G") into bytes.
func ParseMemory(s string) (int64, error) {
	m := memoryRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a memory size such as 256Mi, 1Gi or 500M", s)
	}
	if m[1] != "" {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is too large", s)
		}
		return n, nil
	}
	v, err := strconv.ParseFloat(m[2], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a memory size", s)
	}
	base := 1000.0
	if m[4] == "i" {
		base = 1024
	}
	exp := strings.Index("KMGTPE", m[3]) + 1
	for range exp {
		v *= base
	}
	if v > 1<<62 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(v), nil
}

func stringList(where string, v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fault.Invalidf("%s: must be a list of paths", where)
	}
	out := make([]string, 0, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, fault.Invalidf("%s[%d]: must be a non-empty string", where, i)
		}
		out = append(out, s)
	}
	return out, nil
}

// FormatParameter renders a parameter value as REANA's Python engine would
// put it into a command (str(value)): strings as they are, numbers in their
// shortest form, booleans as True and False, null as None, lists and objects
// as JSON.
func FormatParameter(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

func scalarString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return FormatParameter(v)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
