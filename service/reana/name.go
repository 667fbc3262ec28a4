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

// RunNumber is REANA's run_number: "N" for the N-th run of a name, "N.M"
// for the M-th restart of that run (reana-db's run_number_major and
// run_number_minor).
func RunNumber(run, restart int) string {
	if restart > 0 {
		return strconv.Itoa(run) + "." + strconv.Itoa(restart)
	}
	return strconv.Itoa(run)
}

// FullName is NAME.N, how REANA names the N-th run of NAME, or NAME.N.M for
// its M-th restart.
func FullName(name string, run, restart int) string { return name + "." + RunNumber(run, restart) }

// Ref is how a request names a workflow: by UUID, by NAME.N or NAME.N.M, or
// by NAME (then its latest run or restart).
type Ref struct {
	// ID is set when the reference is a UUID.
	ID string
	// Name is the name part otherwise.
	Name string
	// Run is the run number, 0 when the reference names no run.
	Run int
	// Restart is the restart number M of NAME.N.M, 0 for NAME.N itself.
	Restart int
}

// ParseRef parses a workflow_id_or_name as reana-db does: a UUID, or NAME
// followed by the run number after the first dot ("N" or "N.M"). NAME.N
// names that run itself, not its restarts. A run number that is not one
// ("x.y.z", "x.1.") makes the whole string a name, which no workflow has
// (names have no dot): not found.
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
	if !nameRe.MatchString(name) {
		return Ref{}, fault.NotFoundf("workflow %s not found", s)
	}
	major, minor, restarted := strings.Cut(run, ".")
	n, err := strconv.Atoi(major)
	if err != nil || n < 1 {
		return Ref{}, fault.NotFoundf("workflow %s not found", s)
	}
	m := 0
	if restarted {
		if m, err = strconv.Atoi(minor); err != nil || m < 0 {
			return Ref{}, fault.NotFoundf("workflow %s not found", s)
		}
	}
	return Ref{Name: name, Run: n, Restart: m}, nil
}
