package reana_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/reana"
)

const validSpec = `{
  "version": "0.9.0",
  "inputs": {"files": ["code/gen.py", "/data/input.txt"], "directories": ["data"],
             "parameters": {"events": 1000, "ratio": 0.5, "label": "run A", "debug": true},
             "options": {"CACHE": false}},
  "workflow": {"type": "serial", "specification": {"steps": [
    {"name": "gen", "environment": "python_3_11", "kubernetes_memory_limit": "256Mi",
     "compute_backend": "kubernetes", "kubernetes_uid": 1000,
     "commands": ["python3 code/gen.py --events $events --ratio ${ratio} > results/data.txt", "echo $$HOME $label $debug"]},
    {"environment": "docker.io/library/python:3.11-slim", "commands": ["wc -l results/data.txt"]}
  ]}},
  "outputs": {"files": ["results/data.txt"]}
}`

func TestParseJSONValid(t *testing.T) {
	t.Parallel()
	s, err := reana.ParseJSON([]byte(validSpec))
	require.NoError(t, err)
	require.Equal(t, "0.9.0", s.Version)
	require.Equal(t, "serial", s.Type)
	require.Equal(t, []string{"code/gen.py", "/data/input.txt"}, s.Inputs.Files)
	require.Equal(t, map[string]string{"events": "1000", "ratio": "0.5", "label": "run A", "debug": "True"}, s.Inputs.Parameters)
	require.Equal(t, "off", s.Inputs.Options["CACHE"])
	require.Equal(t, []string{"results/data.txt"}, s.Outputs.Files)
	require.Len(t, s.Steps, 2)
	require.Equal(t, "gen", s.Steps[0].Name)
	require.Equal(t, "step2", s.Steps[1].Name, "a step without a name is named by its position")
	require.EqualValues(t, 256<<20, s.Steps[0].MemoryLimit)
	require.Equal(t, 1000, *s.Steps[0].UID)
	require.Equal(t, "kubernetes", s.Steps[0].ComputeBackend)
	require.False(t, s.Steps[0].Network)
	require.JSONEq(t, validSpec, string(s.Raw))

	steps, err := reana.ExpandSteps(s.Steps, s.Inputs.Parameters)
	require.NoError(t, err)
	require.Equal(t, "python3 code/gen.py --events 1000 --ratio 0.5 > results/data.txt", steps[0].Commands[0])
	require.Equal(t, "echo $HOME run A True", steps[0].Commands[1])
	require.Contains(t, s.Steps[0].Commands[0], "$events", "ExpandSteps does not change the spec")
}

func TestParseYAML(t *testing.T) {
	t.Parallel()
	s, err := reana.ParseYAML([]byte(`
inputs:
  parameters:
    n: 3
  options:
    CACHE: false
workflow:
  type: serial
  specification:
    steps:
      - name: one
        environment: python_3_11
        network: true
        commands:
          - seq $n
`))
	require.NoError(t, err)
	require.Equal(t, "3", s.Inputs.Parameters["n"])
	require.Equal(t, "off", s.Inputs.Options["CACHE"], "a boolean option reads as on or off")
	require.True(t, s.Steps[0].Network)

	_, err = reana.ParseYAML([]byte("workflow: [unclosed"))
	require.ErrorIs(t, err, fault.ErrInvalid)
}

func TestParseJSONRefusals(t *testing.T) {
	t.Parallel()
	step := func(body string) string {
		return `{"workflow": {"type": "serial", "specification": {"steps": [` + body + `]}}}`
	}
	tests := []struct {
		name, doc, want string
	}{
		{"not an object", `[1]`, "must be a JSON object"},
		{"no workflow", `{"inputs": {}}`, "workflow: missing"},
		{"no type", `{"workflow": {"specification": {"steps": []}}}`, `the supported type is "serial"`},
		{"cwl", `{"workflow": {"type": "cwl", "file": "main.cwl"}}`, `workflow.type "cwl" is not supported here; the supported type is "serial"`},
		{"yadage", `{"workflow": {"type": "yadage"}}`, `"yadage" is not supported here; the supported type is "serial"`},
		{"snakemake", `{"workflow": {"type": "snakemake"}}`, `"snakemake" is not supported here; the supported type is "serial"`},
		{"unknown type", `{"workflow": {"type": "bogus"}}`, `"bogus" is unknown; the supported type is "serial"`},
		{"file instead of inline", `{"workflow": {"type": "serial", "file": "w.yaml"}}`, "inline"},
		{"no steps", `{"workflow": {"type": "serial", "specification": {"steps": []}}}`, "at least one step"},
		{"no specification", `{"workflow": {"type": "serial"}}`, "specification: missing"},
		{"step without commands", step(`{"name": "a", "environment": "python_3_11"}`), `step "a": commands is missing or empty`},
		{"empty commands", step(`{"name": "a", "environment": "python_3_11", "commands": []}`), "commands is missing or empty"},
		{"blank command", step(`{"name": "a", "environment": "python_3_11", "commands": [" "]}`), "command 1 must be a non-empty string"},
		{"no environment", step(`{"name": "a", "commands": ["true"]}`), "environment (the image the commands run in) is missing"},
		{"unknown field", step(`{"name": "a", "environment": "e", "commands": ["true"], "bogus": 1}`), `unknown field "bogus"`},
		{"duplicate names", step(`{"name": "a", "environment": "e", "commands": ["true"]}, {"name": "a", "environment": "e", "commands": ["true"]}`), `name "a" is also the name of step 0`},
		{"undefined parameter", step(`{"name": "a", "environment": "e", "commands": ["echo $missing"]}`), `parameter "missing" is not defined`},
		{"invalid placeholder", step(`{"name": "a", "environment": "e", "commands": ["echo $(date)"]}`), "invalid placeholder at line 1, column 6"},
		{"htcondor", step(`{"name": "a", "environment": "e", "commands": ["true"], "compute_backend": "htcondorcern"}`), `compute_backend "htcondorcern" is not available here; the supported backend is "kubernetes"`},
		{"bad memory", step(`{"name": "a", "environment": "e", "commands": ["true"], "kubernetes_memory_limit": "lots"}`), `"lots" is not a memory size`},
		{"bad uid", step(`{"name": "a", "environment": "e", "commands": ["true"], "kubernetes_uid": -1}`), "kubernetes_uid must be a non-negative integer"},
		{"input escapes", `{"inputs": {"files": ["../etc/passwd"]}, "workflow": {"type": "serial", "specification": {"steps": [{"environment": "e", "commands": ["true"]}]}}}`, "leaves the workspace"},
		{"bad parameter name", `{"inputs": {"parameters": {"a-b": 1}}, "workflow": {"type": "serial", "specification": {"steps": [{"environment": "e", "commands": ["true"]}]}}}`, `"a-b" is not a valid parameter name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := reana.ParseJSON([]byte(tc.doc))
			require.Error(t, err)
			require.True(t, errors.Is(err, fault.ErrInvalid), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseMemory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"268435456", 268435456, true},
		{"256Mi", 256 << 20, true},
		{"1Gi", 1 << 30, true},
		{"1.5G", 1_500_000_000, true},
		{"500M", 500_000_000, true},
		{"2Ki", 2048, true},
		{"1.5", 0, false},
		{"12mb", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, err := reana.ParseMemory(tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	params := map[string]string{"a": "1", "name_2": "x y", "_u": "U"}
	tests := []struct{ in, want, err string }{
		{"echo $a", "echo 1", ""},
		{"echo ${a}b", "echo 1b", ""},
		{"echo $ab", "", `parameter "ab" is not defined`},
		{"echo $name_2/$_u", "echo x y/U", ""},
		{"cost $$5 and $$a", "cost $5 and $a", ""},
		{"echo $", "", "invalid placeholder at line 1, column 6"},
		{"x\necho ${1}", "", "invalid placeholder at line 2, column 6"},
		{"no placeholders", "no placeholders", ""},
	}
	for _, tc := range tests {
		got, err := reana.Expand(tc.in, params)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestMergeParameters(t *testing.T) {
	t.Parallel()
	def := map[string]string{"events": "1000", "label": "a"}
	got, err := reana.MergeParameters(def, map[string]any{"events": "10"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"events": "10", "label": "a"}, got)
	require.Equal(t, "1000", def["events"], "the defaults are not changed")

	got, err = reana.MergeParameters(def, map[string]any{"events": 5.0, "label": false})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"events": "5", "label": "False"}, got)

	_, err = reana.MergeParameters(def, map[string]any{"bogus": "1", "other": "2"})
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, `"bogus", "other" are not declared in inputs.parameters`)
}
