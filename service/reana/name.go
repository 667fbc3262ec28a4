package reana

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
)

// DefaultName is the name of a workflow created without one.
const DefaultName = "workflow"

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// ValidateName checks a new workflow's name as reana-client and REANA do: no
// dot (the run number follows one), not a UUID, letters, digits, _ and -,
// at most 100 characters. An empty name gives DefaultName.
func ValidateName(name string) (string, error) {
	if name == "" {
		return DefaultName, nil
	}
	if strings.Contains(name, ".") {
		return "", fault.Invalidf("workflow name %q must not contain a dot (reehub adds the run number after one)", name)
	}
	if _, err := uuid.Parse(name); err == nil {
		return "", fault.Invalidf("workflow name %q must not be a UUID", name)
	}
	if !nameRe.MatchString(name) {
		return "", fault.Invalidf("workflow name %q may only contain letters, digits, _ and - (at most 100)", name)
	}
	return name, nil
}

// FullName is NAME.N, how REANA names the N-th run of NAME.
func FullName(name string, run int) string { return name + "." + strconv.Itoa(run) }

// Ref is how a request names a workflow: by UUID, by NAME.N, or by NAME
// (then its latest run).
type Ref struct {
	// ID is set when the reference is a UUID.
	ID string
	// Name is the name part otherwise.
	Name string
	// Run is the run number, 0 when the reference names no run.
	Run int
}

// ParseRef parses a workflow_id_or_name.
func ParseRef(s string) (Ref, error) {
	if s == "" {
		return Ref{}, fault.Invalidf("workflow_id_or_name: empty")
	}
	if id, err := uuid.Parse(s); err == nil {
		return Ref{ID: id.String()}, nil
	}
	name, run, found := strings.Cut(s, ".")
	if !found {
		if !nameRe.MatchString(name) {
			return Ref{}, fault.NotFoundf("workflow %s not found", s)
		}
		return Ref{Name: name}, nil
	}
	n, err := strconv.Atoi(run)
	if err != nil || n < 1 || !nameRe.MatchString(name) {
		return Ref{}, fault.NotFoundf("workflow %s not found", s)
	}
	return Ref{Name: name, Run: n}, nil
}
