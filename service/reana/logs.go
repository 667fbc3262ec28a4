package reana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// JobLog is one step's entry in the logs REANA serves. Only the keys
// reana-client knows are emitted: its text mode fails on any other non-empty
// key.
type JobLog struct {
	// JobID is the key of the entry in job_logs.
	JobID string
	// WorkflowUUID is the workflow's id.
	WorkflowUUID string
	// JobName is the step's name.
	JobName string
	// ComputeBackend is where the step runs ("Podman").
	ComputeBackend string
	// BackendJobID identifies the step's container (the last one that ran).
	BackendJobID string
	// DockerImg is the environment as the spec names it, with the image ID.
	DockerImg string
	// Cmd is the step's commands as run, joined by newlines.
	Cmd string
	// Status is the step's status (StepCreated, StepRunning, ...).
	Status string
	// Logs is the step's output so far (secrets redacted).
	Logs string
	// StartedAt and FinishedAt are nil until reached.
	StartedAt, FinishedAt *time.Time
}

// LogsDoc is what GET .../logs encodes into its `logs` string.
type LogsDoc struct {
	// WorkflowLogs is the engine's own log of the run (which steps ran,
	// were cached or skipped, the failure reason).
	WorkflowLogs string
	// Jobs are the steps' entries, in step order.
	Jobs []JobLog
	// EngineSpecific is extra engine output ("" when none).
	EngineSpecific string
}

// Encode returns the JSON text reana-client json.loads(): an object with
// workflow_logs, job_logs (in step order) and engine_specific.
func (d LogsDoc) Encode() (string, error) {
	var b bytes.Buffer
	b.WriteString(`{"workflow_logs":`)
	if err := writeJSON(&b, d.WorkflowLogs); err != nil {
		return "", err
	}
	b.WriteString(`,"job_logs":{`)
	for i, j := range d.Jobs {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSON(&b, j.JobID); err != nil {
			return "", err
		}
		b.WriteByte(':')
		entry := struct {
			WorkflowUUID   string  `json:"workflow_uuid"`
			JobName        string  `json:"job_name"`
			ComputeBackend string  `json:"compute_backend"`
			BackendJobID   string  `json:"backend_job_id"`
			DockerImg      string  `json:"docker_img"`
			Cmd            string  `json:"cmd"`
			Status         string  `json:"status"`
			Logs           string  `json:"logs"`
			StartedAt      *string `json:"started_at"`
			FinishedAt     *string `json:"finished_at"`
		}{j.WorkflowUUID, j.JobName, j.ComputeBackend, j.BackendJobID, j.DockerImg, j.Cmd, j.Status, j.Logs,
			formatTimePtr(j.StartedAt), formatTimePtr(j.FinishedAt)}
		if err := writeJSON(&b, entry); err != nil {
			return "", err
		}
	}
	b.WriteString(`},"engine_specific":`)
	if err := writeJSON(&b, d.EngineSpecific); err != nil {
		return "", err
	}
	b.WriteByte('}')
	return b.String(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode logs: %w", err)
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// Page returns the jobs of page (1-based) of the given size; size 0 means
// all of them.
func (d LogsDoc) Page(page, size int) LogsDoc {
	if size <= 0 {
		return d
	}
	if page < 1 {
		page = 1
	}
	lo := (page - 1) * size
	if lo > len(d.Jobs) {
		lo = len(d.Jobs)
	}
	hi := min(lo+size, len(d.Jobs))
	d.Jobs = d.Jobs[lo:hi]
	return d
}

// Steps returns the jobs whose step name is in names (all when names is
// empty), keeping their order.
func (d LogsDoc) Steps(names []string) LogsDoc {
	if len(names) == 0 {
		return d
	}
	var out []JobLog
	for _, j := range d.Jobs {
		if contains(names, j.JobName) {
			out = append(out, j)
		}
	}
	d.Jobs = out
	return d
}
