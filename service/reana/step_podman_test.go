package reana_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/reana"
)

// podmanSetup connects to the real Podman service and resolves python_3_11
// from the catalogue, skipping when either is missing.
func podmanSetup(t *testing.T) (*podman.Runtime, reana.Environment, context.Context) {
	t.Helper()
	uri := os.Getenv("REEHUB_PODMAN_SOCKET")
	if uri == "" {
		uri = podman.DefaultURI
	}
	if _, err := os.Stat(strings.TrimPrefix(uri, "unix://")); err != nil {
		t.Skipf("podman service socket absent (run scripts/setup-host.sh): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	rt, err := podman.Connect(ctx, uri)
	require.NoError(t, err)
	if _, err := rt.InspectImage(ctx, baseimage.Ref("python_3_11")); err != nil {
		t.Skipf("base image python_3_11 is not built here: %v", err)
	}
	res := reana.NewResolver(rt, fakeCatalogue{"python_3_11"}, nil, map[string]string{"docker.io/library/python:3.11-slim": "python_3_11"})
	env, err := res.Resolve(ctx, 1, "docker.io/library/python:3.11-slim")
	require.NoError(t, err)
	require.Equal(t, reana.EnvCatalogue, env.Source)
	return rt, env, ctx
}

func noContainersLeft(t *testing.T, ctx context.Context, rt *podman.Runtime, job string) {
	t.Helper()
	list, err := rt.ListContainers(ctx, map[string]string{reana.LabelJob: job})
	require.NoError(t, err)
	require.Empty(t, list, "no container of the job is left")
}

func TestExecutorOnPodman(t *testing.T) {
	t.Parallel()
	rt, env, ctx := podmanSetup(t)
	ws, err := reana.NewWorkspace(filepath.Join(t.TempDir(), "ws"))
	require.NoError(t, err)
	require.NoError(t, os.Chown(ws.Dir(), 1234, 2345))
	job := "test-job-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	ex := reana.NewExecutor(rt, reana.ExecutorConfig{})

	spec, err := reana.ParseJSON([]byte(`{
	  "inputs": {"parameters": {"n": 5, "out": "results/data.txt"}},
	  "workflow": {"type": "serial", "specification": {"steps": [
	    {"name": "generate", "environment": "docker.io/library/python:3.11-slim", "commands": [
	      "mkdir -p results",
	      "python3 -c 'import sys; n=int(sys.argv[1]); open(sys.argv[2], \"w\").write(\"\\n\".join(str(i*i) for i in range(n)) + \"\\n\")' $n ${out}",
	      "echo uid=$$(id -u) gid=$$(id -g) net=$$(ls /sys/class/net | tr '\\n' ' ') token=$$TOKEN"
	    ]},
	    {"name": "summarise", "environment": "python_3_11", "commands": [
	      "python3 -c 'print(\"sum\", sum(int(l) for l in open(\"${out}\")))' | tee results/summary.txt"
	    ]},
	    {"name": "broken", "environment": "python_3_11", "commands": [
	      "echo before; python3 -c 'raise SystemExit(\"bad input\")'"
	    ]}
	  ]}}}`))
	require.NoError(t, err)
	params, err := reana.MergeParameters(spec.Inputs.Parameters, map[string]any{"n": "4"})
	require.NoError(t, err)
	steps, err := reana.ExpandSteps(spec.Steps, params)
	require.NoError(t, err)
	secrets := []reana.Secret{{Name: "TOKEN", Type: reana.SecretEnv, Value: []byte("tok-very-secret")}}

	run := func(i int) (reana.StepResult, string, error) {
		var log bytes.Buffer
		res, err := ex.Run(ctx, reana.StepRun{
			JobID: job, WorkflowID: "3d6bc1d9-4f8f-4c0a-8c3e-0b1b2a3c4d5e", Index: i, Step: steps[i],
			Image: env.Image, Workspace: ws.Dir(), Env: map[string]string{"TOKEN": "tok-very-secret"},
			Redactor: reana.NewRedactor(secrets), Log: &log,
		})
		return res, log.String(), err
	}

	res, log, err := run(0)
	require.NoError(t, err)
	require.Nil(t, res.Failure, log)
	require.Equal(t, 3, res.Commands)
	require.Contains(t, log, "uid=1234 gid=2345", "the step runs as the workspace's owner")
	require.Contains(t, log, "net=lo ", "no network but loopback")
	require.Contains(t, log, "token=[secret TOKEN]")
	require.NotContains(t, log, "tok-very-secret")
	b, err := os.ReadFile(filepath.Join(ws.Dir(), "results/data.txt"))
	require.NoError(t, err)
	require.Equal(t, "0\n1\n4\n9\n", string(b), "the overridden parameter n=4 was used")
	files, _, err := ws.List(ctx, reana.ListOpts{Glob: "results/*"})
	require.NoError(t, err)
	require.Equal(t, []string{"results/data.txt"}, names(files))

	res, log, err = run(1)
	require.NoError(t, err)
	require.Nil(t, res.Failure, log)
	require.Equal(t, "sum 14\n", log, "the second step read the first's file")
	b, err = os.ReadFile(filepath.Join(ws.Dir(), "results/summary.txt"))
	require.NoError(t, err)
	require.Equal(t, "sum 14\n", string(b))

	res, log, err = run(2)
	require.NoError(t, err)
	require.NotNil(t, res.Failure)
	require.Equal(t, 1, res.Failure.ExitCode)
	require.Equal(t, "before\nbad input", res.Failure.Tail)
	require.Contains(t, res.Failure.Error(), `step "broken" failed: command "echo before; python3 -c 'raise SystemExit(\"bad input\")'" exited with code 1`)
	require.Contains(t, log, "bad input")
	noContainersLeft(t, ctx, rt, job)
}

func TestExecutorStopOnPodman(t *testing.T) {
	t.Parallel()
	rt, env, ctx := podmanSetup(t)
	ws, err := reana.NewWorkspace(filepath.Join(t.TempDir(), "ws"))
	require.NoError(t, err)
	job := "test-stop-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	ex := reana.NewExecutor(rt, reana.ExecutorConfig{})
	stepCtx, stop := context.WithCancel(ctx)
	defer stop()
	var log syncBuffer
	done := make(chan error, 1)
	var res reana.StepResult
	go func() {
		var err error
		res, err = ex.Run(stepCtx, reana.StepRun{
			JobID: job, WorkflowID: "5e6bc1d9-4f8f-4c0a-8c3e-0b1b2a3c4d5e", Step: reana.Step{Name: "long", Commands: []string{"echo started; sleep 300"}},
			Image: env.Image, Workspace: ws.Dir(), Log: &log,
		})
		done <- err
	}()
	require.Eventually(t, func() bool { return strings.Contains(log.String(), "started") }, time.Minute, 50*time.Millisecond, "live output arrives while the step runs")
	list, err := rt.ListContainers(ctx, map[string]string{reana.LabelJob: job})
	require.NoError(t, err)
	require.Len(t, list, 1, "the running step is found by its job label")
	require.Equal(t, "0", list[0].Labels[reana.LabelStep])
	t0 := time.Now()
	stop()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(30 * time.Second):
		t.Fatal("the stopped step did not end")
	}
	require.Less(t, time.Since(t0), 10*time.Second, "a stop kills the container at once")
	require.NotEmpty(t, res.ContainerID)
	noContainersLeft(t, ctx, rt, job)
	_, err = rt.InspectImage(ctx, "localhost/reehub-no-such:never")
	require.ErrorIs(t, err, fault.ErrNotFound)
}
