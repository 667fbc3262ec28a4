package reana

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/reehub/reehub/fault"
)

var identifier = regexp.MustCompile(`^[_A-Za-z][_A-Za-z0-9]*$`)

// placeholder matches what Python's string.Template recognises: $$, $name,
// ${name}, and any other $ (invalid).
var placeholder = regexp.MustCompile(`\$(?:(\$)|([_A-Za-z][_A-Za-z0-9]*)|\{([_A-Za-z][_A-Za-z0-9]*)\}|())`)

// Expand substitutes parameters into a command as REANA's serial engine does
// (Python's string.Template.substitute): $name and ${name} are replaced by the
// parameter's value, $$ is a literal $, and a placeholder naming no parameter
// or a $ followed by anything else is an error that names it.
func Expand(command string, params map[string]string) (string, error) {
	var b strings.Builder
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(command, -1) {
		b.WriteString(command[last:m[0]])
		last = m[1]
		switch {
		case m[2] >= 0:
			b.WriteByte('$')
		case m[4] >= 0 || m[6] >= 0:
			name := ""
			if m[4] >= 0 {
				name = command[m[4]:m[5]]
			} else {
				name = command[m[6]:m[7]]
			}
			v, ok := params[name]
			if !ok {
				return "", fmt.Errorf("parameter %q is not defined in inputs.parameters (write $$ for a literal $)", name)
			}
			b.WriteString(v)
		default:
			line := strings.Count(command[:m[0]], "\n") + 1
			col := m[0] - strings.LastIndex(command[:m[0]], "\n")
			return "", fmt.Errorf("invalid placeholder at line %d, column %d: a $ must start $name or ${name} (write $$ for a literal $)", line, col)
		}
	}
	b.WriteString(command[last:])
	return b.String(), nil
}

// MergeParameters returns the spec's parameters with overrides applied (the
// input_parameters of a start). An override naming no declared parameter is
// refused, as reana-client drops such names before sending.
func MergeParameters(defaults map[string]string, overrides map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(defaults))
	for k, v := range defaults {
		out[k] = v
	}
	var unknown []string
	for k, v := range overrides {
		if _, ok := defaults[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		out[k] = FormatParameter(v)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fault.Invalidf("input_parameters: %s not declared in inputs.parameters", quoteList(unknown))
	}
	return out, nil
}

// ExpandSteps returns the steps with every command expanded with params.
func ExpandSteps(steps []Step, params map[string]string) ([]Step, error) {
	out := make([]Step, len(steps))
	for i, st := range steps {
		st.Commands = append([]string(nil), st.Commands...)
		for j, c := range st.Commands {
			e, err := Expand(c, params)
			if err != nil {
				return nil, fault.Invalidf("step %q command %d: %s", st.Name, j+1, err.Error())
			}
			st.Commands[j] = e
		}
		out[i] = st
	}
	return out, nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0] + " is"
	}
	return strings.Join(q, ", ") + " are"
}
