package reana_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/reana"
)

func TestStatusTransitions(t *testing.T) {
	t.Parallel()
	require.Len(t, reana.Statuses(), 8)
	for _, s := range reana.Statuses() {
		got, err := reana.ParseStatus(string(s))
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
	_, err := reana.ParseStatus("done")
	require.ErrorIs(t, err, fault.ErrInvalid)

	allowed := map[[2]reana.Status]bool{
		{reana.StatusCreated, reana.StatusQueued}: true, {reana.StatusQueued, reana.StatusRunning}: true,
		{reana.StatusQueued, reana.StatusPending}: true, {reana.StatusPending, reana.StatusRunning}: true,
		{reana.StatusRunning, reana.StatusFinished}: true, {reana.StatusRunning, reana.StatusFailed}: true,
		{reana.StatusRunning, reana.StatusStopped}: true, {reana.StatusQueued, reana.StatusStopped}: true,
		{reana.StatusFailed, reana.StatusQueued}: true, {reana.StatusFinished, reana.StatusDeleted}: true,
	}
	for pair := range allowed {
		require.True(t, reana.CanTransition(pair[0], pair[1]), "%s -> %s", pair[0], pair[1])
	}
	for _, bad := range [][2]reana.Status{
		{reana.StatusCreated, reana.StatusRunning}, {reana.StatusFinished, reana.StatusRunning},
		{reana.StatusDeleted, reana.StatusQueued}, {reana.StatusRunning, reana.StatusDeleted},
		{reana.StatusRunning, reana.StatusCreated},
	} {
		require.False(t, reana.CanTransition(bad[0], bad[1]), "%s -> %s", bad[0], bad[1])
	}
}

func TestStatusChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status               reana.Status
		start, restart, stop bool
		del                  bool
	}{
		{reana.StatusCreated, true, true, false, true},
		{reana.StatusQueued, false, false, true, false},
		{reana.StatusPending, false, false, true, false},
		{reana.StatusRunning, false, false, true, false},
		{reana.StatusFinished, false, true, false, true},
		{reana.StatusFailed, false, true, false, true},
		{reana.StatusStopped, false, false, false, true},
		{reana.StatusDeleted, false, false, false, false},
	}
	check := func(t *testing.T, ok bool, err error) {
		t.Helper()
		if ok {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, fault.ErrConflict)
			require.Contains(t, err.Error(), "w.1")
		}
	}
	for _, tc := range tests {
		t.Run(string(tc.status), func(t *testing.T) {
			check(t, tc.start, reana.CheckStart("w.1", tc.status, false))
			check(t, tc.restart, reana.CheckStart("w.1", tc.status, true))
			check(t, tc.stop, reana.CheckStop("w.1", tc.status))
			check(t, tc.del, reana.CheckDelete("w.1", tc.status))
		})
	}
}

func TestFormatTime(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 12, 1, 22, 5, 9, 123456789, time.FixedZone("CET", 3600))
	require.Equal(t, "2026-12-01T21:05:09", reana.FormatTime(ts))
	_, err := time.Parse(reana.TimeLayout, reana.FormatTime(time.Now()))
	require.NoError(t, err)
}

func TestProgress(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 12, 1, 21, 0, 0, 5, time.UTC)
	p := reana.NewProgress([]reana.StepState{
		{Name: "a", JobID: "j1", Status: reana.StepCached},
		{Name: "b", JobID: "j2", Status: reana.StepFinished},
		{Name: "c", JobID: "j3", Status: reana.StepRunning, Command: "python3 x.py"},
		{Name: "d", JobID: "j4", Status: reana.StepCreated},
	}, &started, nil, nil)
	require.Equal(t, 4, p.Total.Total)
	require.Equal(t, 2, p.Finished.Total)
	require.Equal(t, []string{"j1", "j2"}, p.Finished.JobIDs)
	require.Equal(t, 1, p.Cached.Total)
	require.Equal(t, 1, p.Running.Total)
	require.Equal(t, 0, p.Failed.Total)
	require.NotNil(t, p.Failed.JobIDs, "empty lists, never null")
	require.Equal(t, "c", *p.CurrentStepName)
	require.Equal(t, "python3 x.py", *p.CurrentCommand)
	require.Equal(t, "2026-12-01T21:00:00", *p.RunStartedAt)
	require.Nil(t, p.RunFinishedAt)

	zero := time.Time{}
	p = reana.NewProgress(nil, &zero, nil, nil)
	require.Nil(t, p.RunStartedAt, "a zero time is not reached")
	require.Nil(t, p.CurrentStepName)
}

func TestStepFailureMessage(t *testing.T) {
	t.Parallel()
	f := &reana.StepFailure{Step: "fit", Command: "python3 fit.py", ExitCode: 2, Tail: "Traceback\nValueError: bad"}
	require.Equal(t, "step \"fit\" failed: command \"python3 fit.py\" exited with code 2; last lines of its output:\nTraceback\nValueError: bad", f.Error())
	f = &reana.StepFailure{Step: "s", Command: "sleep 9", ExitCode: 137}
	require.Contains(t, f.Error(), "killed")
}

func TestNames(t *testing.T) {
	t.Parallel()
	n, err := reana.ValidateName("")
	require.NoError(t, err)
	require.Equal(t, "workflow", n)
	for _, bad := range []string{"a.b", "3d6bc1d9-4f8f-4c0a-8c3e-0b1b2a3c4d5e", "a b", "ä"} {
		_, err := reana.ValidateName(bad)
		require.ErrorIs(t, err, fault.ErrInvalid, bad)
	}
	n, err = reana.ValidateName("my-analysis_2")
	require.NoError(t, err)
	require.Equal(t, "my-analysis_2.3", reana.FullName(n, 3, 0))
	require.Equal(t, "my-analysis_2.3.2", reana.FullName(n, 3, 2), "the second restart of run 3, as REANA names it")
	require.Equal(t, "3.2", reana.RunNumber(3, 2))
	require.Equal(t, "3", reana.RunNumber(3, 0))

	tests := []struct {
		in   string
		want reana.Ref
	}{
		{"3D6BC1D9-4F8F-4C0A-8C3E-0B1B2A3C4D5E", reana.Ref{ID: "3d6bc1d9-4f8f-4c0a-8c3e-0b1b2a3c4d5e"}},
		{"analysis.12", reana.Ref{Name: "analysis", Run: 12}},
		{"analysis", reana.Ref{Name: "analysis"}},
		{"analysis.1.2", reana.Ref{Name: "analysis", Run: 1, Restart: 2}},
		{"analysis.1.0", reana.Ref{Name: "analysis", Run: 1}}, // reana-db's split_run_number("1.0")
	}
	for _, tc := range tests {
		got, err := reana.ParseRef(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
	for _, bad := range []string{"analysis.0", "analysis.x", "a/b.1", "analysis.1.x", "analysis.1.2.3", "analysis.1.", "analysis.1.-1"} {
		_, err := reana.ParseRef(bad)
		require.ErrorIs(t, err, fault.ErrNotFound, bad)
	}
}

func TestLogsEncode(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	end := start.Add(3 * time.Second)
	doc := reana.LogsDoc{
		WorkflowLogs: "step gen: cached\n",
		Jobs: []reana.JobLog{
			{JobID: "z-first", WorkflowUUID: "w", JobName: "gen", ComputeBackend: "Podman", BackendJobID: "c1", DockerImg: "python_3_11", Cmd: "echo <a&b>", Status: "finished", Logs: "ok\n", StartedAt: &start, FinishedAt: &end},
			{JobID: "a-second", WorkflowUUID: "w", JobName: "sum", Status: "created"},
		},
	}
	s, err := doc.Encode()
	require.NoError(t, err)
	require.Contains(t, s, `"cmd":"echo <a&b>"`, "no HTML escaping")
	require.Less(t, indexOf(s, "z-first"), indexOf(s, "a-second"), "job logs keep step order")

	var got struct {
		WorkflowLogs   string                    `json:"workflow_logs"`
		JobLogs        map[string]map[string]any `json:"job_logs"`
		EngineSpecific string                    `json:"engine_specific"`
	}
	require.NoError(t, json.Unmarshal([]byte(s), &got))
	require.Equal(t, "step gen: cached\n", got.WorkflowLogs)
	first := got.JobLogs["z-first"]
	require.Equal(t, "2026-12-01T21:00:00", first["started_at"])
	require.Equal(t, "2026-12-01T21:00:03", first["finished_at"])
	// reana-client's text mode accepts only these keys (job_name and logs
	// are printed apart).
	known := map[string]bool{"workflow_uuid": true, "compute_backend": true, "backend_job_id": true, "docker_img": true, "cmd": true, "status": true, "started_at": true, "finished_at": true, "job_name": true, "logs": true}
	for k := range first {
		require.True(t, known[k], "key %q breaks reana-client logs", k)
	}
	require.Nil(t, got.JobLogs["a-second"]["started_at"])

	require.Len(t, doc.Page(2, 1).Jobs, 1)
	require.Equal(t, "sum", doc.Page(2, 1).Jobs[0].JobName)
	require.Empty(t, doc.Page(3, 1).Jobs)
	require.Len(t, doc.Page(1, 0).Jobs, 2)
	require.Equal(t, []reana.JobLog{doc.Jobs[1]}, doc.Steps([]string{"sum"}).Jobs)
	empty, err := reana.LogsDoc{}.Encode()
	require.NoError(t, err)
	require.JSONEq(t, `{"workflow_logs":"","job_logs":{},"engine_specific":""}`, empty)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
