package fossology

import (
	"strconv"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/agent"
)

// Step is one step of a scan job, in the order the job runs them.
type Step string

// The steps besides the agents (whose step names are their agent names).
const (
	StepNomosMonk  Step = "nomos_monk"
	StepOjoDecider Step = "ojo_decider"
	StepBulkReused Step = "bulk_reused"
	StepNewScanner Step = "new_scanner"
	StepReuse      Step = "reuse"
)

// Analysis is the analysis part of POST /jobs: which agents run.
type Analysis struct {
	Bucket, CopyrightEmailAuthor, Ecc, Keyword, Mime, Mimetype, Monk, Nomos, Ojo, Package bool
}

// Decider is the decider part of POST /jobs.
type Decider struct {
	NomosMonk, BulkReused, NewScanner, OjoDecider bool
}

// Reuse is the reuse part of POST /jobs.
type Reuse struct {
	// Upload is the earlier upload whose decisions are copied.
	Upload int64
	// Group names the group of that upload (an id or a name); empty means
	// the caller's group.
	Group                             string
	Main, Enhanced, Report, Copyright bool
}

// ScanOptions is the body of POST /jobs.
type ScanOptions struct {
	Analysis Analysis
	Decider  Decider
	// Reuse is nil when the request has no reuse object, or when its
	// reuse_upload is 0, FOSSology's "no upload to reuse" (NoReuse is then set).
	Reuse *Reuse
	// NoReuse records a reuse object whose reuse_upload is 0.
	NoReuse bool
}

// Plan is a validated scan job: the agents to run and every step in order.
type Plan struct {
	// Agents are the agents, in agent.Agents order.
	Agents []agent.Agent
	// Steps are the agents, then the deciders, then reuse.
	Steps []Step
	// Reuse is the reuse request, if any.
	Reuse *Reuse
}

// NewPlan validates scan options and orders the steps: the agents first
// (in agent.Agents order), then reuse (so that the deciders see the reused
// decisions), then nomos_monk, ojo_decider, bulk_reused and new_scanner.
// bucket is declined (agent.ErrBucketDeclined); a decider without the
// agents it needs, and a job with nothing to do, are fault.ErrInvalid.
func NewPlan(o ScanOptions) (*Plan, error) {
	a := o.Analysis
	if a.Bucket {
		return nil, agent.ErrBucketDeclined
	}
	want := map[agent.Agent]bool{
		agent.Nomos: a.Nomos, agent.Monk: a.Monk, agent.Ojo: a.Ojo, agent.Copyright: a.CopyrightEmailAuthor,
		agent.Ecc: a.Ecc, agent.Keyword: a.Keyword, agent.Mimetype: a.Mime || a.Mimetype, agent.Package: a.Package,
	}
	p := &Plan{Reuse: o.Reuse}
	for _, ag := range agent.Agents() {
		if want[ag] {
			p.Agents = append(p.Agents, ag)
			p.Steps = append(p.Steps, Step(ag))
		}
	}
	d := o.Decider
	switch {
	case d.NomosMonk && !(a.Nomos && a.Monk):
		return nil, fault.Invalidf("decider nomos_monk needs the nomos and monk agents in the same job")
	case d.OjoDecider && !a.Ojo:
		return nil, fault.Invalidf("decider ojo_decider needs the ojo agent in the same job")
	case d.BulkReused && o.Reuse == nil:
		return nil, fault.Invalidf("decider bulk_reused needs a reuse object naming the upload to reuse")
	}
	if o.Reuse != nil {
		if o.Reuse.Upload <= 0 {
			return nil, fault.Invalidf("reuse needs reuse_upload, the id of an earlier upload")
		}
		p.Steps = append(p.Steps, StepReuse)
	}
	for _, s := range []struct {
		on   bool
		step Step
	}{{d.NomosMonk, StepNomosMonk}, {d.OjoDecider, StepOjoDecider}, {d.BulkReused, StepBulkReused}, {d.NewScanner, StepNewScanner}} {
		if s.on {
			p.Steps = append(p.Steps, s.step)
		}
	}
	if len(p.Steps) == 0 {
		return nil, fault.Invalidf("the job schedules no agent, decider or reuse")
	}
	return p, nil
}

// JobStatus is FOSSology's job status vocabulary.
type JobStatus string

// The job statuses fossology-python accepts.
const (
	JobQueued     JobStatus = "Queued"
	JobProcessing JobStatus = "Processing"
	JobCompleted  JobStatus = "Completed"
	JobFailed     JobStatus = "Failed"
)

// ETA estimates the seconds a job has left from the files done and to do
// and the time spent on the done ones: FOSSology's eta, from the measured
// rate rather than a guess. It is 0 when nothing is left and -1 while
// nothing has been measured yet (no file done).
func ETA(done, total int, elapsed time.Duration) int {
	switch {
	case total <= done:
		return 0
	case done <= 0 || elapsed <= 0:
		return -1
	}
	perFile := elapsed.Seconds() / float64(done)
	return int(perFile*float64(total-done) + 0.999)
}

// ParseBool reads a FOSSology boolean from a header, query parameter or
// form field: true/false in any case (Python sends True/False), 1/0, and
// the empty string as def.
func ParseBool(s string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def, nil
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, fault.Invalidf("%q is not a boolean; use true or false", s)
}

// Timestamp formats t as FOSSology does in uploaddate and queueDate
// ("2019-04-25 11:36:20.903254+05:30").
func Timestamp(t time.Time) string {
	return t.Format("2006-01-02 15:04:05.000000-07:00")
}

// UpperHex is how FOSSology spells digests in upload hashes.
func UpperHex(s string) string { return strings.ToUpper(s) }

// TokenExpiry returns when a token asked to expire on the day expire
// (YYYY-MM-DD) stops being valid: 23:59:59 of that day in loc. The day
// must be 1 to maxDays days after now's day (maxDays 0 means 30).
func TokenExpiry(expire string, now time.Time, loc *time.Location, maxDays int) (time.Time, error) {
	if maxDays <= 0 {
		maxDays = 30
	}
	if loc == nil {
		loc = time.UTC
	}
	day, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(expire), loc)
	if err != nil {
		return time.Time{}, fault.Invalidf("token_expire %q is not a date (YYYY-MM-DD)", expire)
	}
	n := now.In(loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	days := int(day.Sub(today).Hours()/24 + 0.5)
	if days < 1 || days > maxDays {
		return time.Time{}, fault.Invalidf("token_expire must be 1 to %d days from today (%s), not %s", maxDays, today.Format("2006-01-02"), expire)
	}
	return time.Date(day.Year(), day.Month(), day.Day(), 23, 59, 59, 0, loc), nil
}

// ParseID reads a numeric id from a header or message ("11").
func ParseID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.Invalidf("%s %q is not a positive integer", what, s)
	}
	return id, nil
}
