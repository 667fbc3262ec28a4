package tests

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// cliEnv runs the reehub binary as a client of one server, through a
// reverse proxy that validates every response against openapi.yaml.
type cliEnv struct {
	server string // the proxy's URL
	config string // REEHUB_CONFIG of the runs
}

func newCLIEnv(t *testing.T, in *instance) *cliEnv {
	t.Helper()
	return &cliEnv{server: validatingProxy(t, in), config: filepath.Join(t.TempDir(), "reehub", "config.json")}
}

// validatingProxy starts a reverse proxy to in that validates every response
// against openapi.yaml, for clients that are not Go (the CLI binary, the
// TypeScript SDK); a violation answers 502 and fails the test at its end.
func validatingProxy(t *testing.T, in *instance) string {
	t.Helper()
	target, err := url.Parse(in.url)
	require.NoError(t, err)
	var mu sync.Mutex
	var violations []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &validatingTransport{base: http.DefaultTransport, router: specRouter(t)}
	proxy.FlushInterval = -1 // logs and downloads stay streams
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		mu.Lock()
		violations = append(violations, err.Error())
		mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		require.Empty(t, violations, "every response the client got matches openapi.yaml")
	})
	return srv.URL
}

// cliRun is one run of the binary: its output and exit code.
type cliRun struct {
	stdout, stderr string
	code           int
}

// run runs `reehub args...` with stdin and returns what it printed and its exit code.
func (e *cliEnv) run(t *testing.T, stdin string, args ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.bin, args...)
	cmd.Env = append(os.Environ(), "REEHUB_CONFIG="+e.config, "REEHUB_SERVER=", "REEHUB_TOKEN=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return cliRun{stdout: out.String(), stderr: errOut.String(), code: code}
}

// ok runs the binary and requires exit code 0.
func (e *cliEnv) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := e.run(t, "", args...)
	require.Equal(t, 0, r.code, "reehub %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	return r.stdout
}

// TestCLIRecordReplay drives the reehub command-line client against a live
// server: login, record a directory (zipped by the client, honouring
// .dockerignore) while following its log, status, logs, download and an
// interrupted download resumed with Range, ps, cancel of an ended process,
// replay of the downloaded REE, and the documented exit codes.
func TestCLIRecordReplay(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t, suite.main)
	user, password := newPasswordUser(t, suite.main)

	// Usage errors need no server.
	require.Equal(t, 2, e.run(t, "", "status").code)
	require.Equal(t, 2, e.run(t, "", "status", "not-a-uuid").code)
	require.Equal(t, 2, e.run(t, "", "frobnicate").code)
	require.Equal(t, 4, e.run(t, "", "ps").code, "not logged in")

	login := e.run(t, password+"\n", "login", "--server", e.server, "--username", user, "--password-stdin")
	require.Equal(t, 0, login.code, login.stderr)
	require.Contains(t, login.stdout, "logged in to "+e.server+" as "+user)
	info, err := os.Stat(e.config)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the token file is the user's only")
	stored, err := os.ReadFile(e.config)
	require.NoError(t, err)
	require.NotContains(t, string(stored), password, "the password is never stored")
	require.Contains(t, string(stored), `"token": "reeh_`)

	require.Equal(t, 4, e.run(t, "", "--token", "reeh_not-a-token", "ps").code, "a refused token is exit code 4")
	require.Equal(t, 3, e.run(t, "", "--server", "http://127.0.0.1:1", "ps").code, "an unreachable server is exit code 3")
	require.Equal(t, 2, e.run(t, "", "--output", "yaml", "ps").code)

	var images []client.ReeBaseImage
	require.NoError(t, json.Unmarshal([]byte(e.ok(t, "--output", "json", "images")), &images))
	names := map[string]bool{}
	for _, im := range images {
		names[im.Name] = im.Available != nil && *im.Available
	}
	require.True(t, names["python_3_11"], "python_3_11 is available: %+v", images)
	require.Contains(t, e.ok(t, "images"), "python_3_11")

	// A project directory with a .dockerignore.
	dir := t.TempDir()
	files := map[string]string{
		"Dockerfile":        "FROM python_3_11\nCOPY . /ctx\nRUN find /ctx -type f | sort > /listing && cat /listing\n",
		".dockerignore":     "secret\n*.log\n!important.log\n",
		"data/input.txt":    "research data\n",
		"secret/token.txt":  "not for the build\n",
		"debug.log":         "noise\n",
		"important.log":     "kept by the exception\n",
		"src/nested/run.sh": "#!/bin/sh\necho hi\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	rec := e.run(t, "", "record", dir, "--tag", "cli_demo", "--follow")
	require.Equal(t, 0, rec.code, "stdout: %s\nstderr: %s", rec.stdout, rec.stderr)
	require.Contains(t, rec.stdout, "STEP 2/4: COPY . /ctx", "--follow streams the build log")
	require.Contains(t, rec.stdout, "/ctx/important.log")
	require.NotContains(t, rec.stdout, "/ctx/secret/token.txt", ".dockerignore is honoured")
	require.NotContains(t, rec.stdout, "/ctx/debug.log")
	lines := strings.Split(strings.TrimSpace(rec.stdout), "\n")
	last := strings.Split(lines[len(lines)-1], "\t")
	require.Len(t, last, 3, "the closing status line: %q", lines[len(lines)-1])
	id := last[0]
	require.Equal(t, []string{"recording", "processed"}, last[1:])
	require.Contains(t, rec.stderr, "record started: "+id)

	status := e.ok(t, "status", id)
	require.Equal(t, id+"\trecording\tprocessed\n", status)
	var st client.ReeProcessStatus
	require.NoError(t, json.Unmarshal([]byte(e.ok(t, "--output", "json", "status", id, "--follow")), &st))
	require.Equal(t, client.ReeProcessStateProcessed, st.Status)
	require.Contains(t, e.ok(t, "logs", id), "COPY . /ctx")

	// Download, then an interrupted download resumed from its .part.
	out := filepath.Join(t.TempDir(), "ree.zip")
	e.ok(t, "download", id, "-o", out)
	whole, err := os.ReadFile(out)
	require.NoError(t, err)
	zr, err := zip.NewReader(bytes.NewReader(whole), int64(len(whole)))
	require.NoError(t, err)
	var entries []string
	for _, f := range zr.File {
		entries = append(entries, f.Name)
	}
	require.Contains(t, entries, "project/data/input.txt")
	require.Contains(t, entries, "project/important.log")
	require.NotContains(t, entries, "project/secret/token.txt")
	resumed := filepath.Join(t.TempDir(), "resumed.zip")
	half := len(whole) / 2
	require.NoError(t, os.WriteFile(resumed+".part", whole[:half], 0o644))
	var got struct {
		Path    string `json:"path"`
		Bytes   int64  `json:"bytes"`
		SHA256  string `json:"sha256"`
		Resumed int64  `json:"resumed_from"`
	}
	require.NoError(t, json.Unmarshal([]byte(e.ok(t, "--output", "json", "download", id, "-o", resumed)), &got))
	require.Equal(t, int64(half), got.Resumed, "only the rest was asked for")
	require.Equal(t, int64(len(whole)), got.Bytes)
	again, err := os.ReadFile(resumed)
	require.NoError(t, err)
	require.Equal(t, whole, again)
	require.NoFileExists(t, resumed+".part")

	var listed []client.ReeProcessStatus
	require.NoError(t, json.Unmarshal([]byte(e.ok(t, "--output", "json", "ps", "--tag", "cli_demo")), &listed))
	require.Len(t, listed, 1)
	require.Equal(t, id, listed[0].Uuid.String())
	require.Contains(t, e.ok(t, "ps"), id)

	cancel := e.run(t, "", "cancel", id)
	require.Equal(t, 1, cancel.code, "an ended process cannot be cancelled")
	require.Contains(t, cancel.stderr, "409")

	rep := e.run(t, "", "replay", out, "--tag", "cli_replay", "--wait")
	require.Equal(t, 0, rep.code, "stdout: %s\nstderr: %s", rep.stdout, rep.stderr)
	require.Contains(t, rep.stdout, "\treplay\tprocessed")

	// A failing build is exit code 1, with its reason.
	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "Dockerfile"), []byte("FROM python_3_11\nRUN exit 3\n"), 0o644))
	fail := e.run(t, "", "record", bad, "--wait")
	require.Equal(t, 1, fail.code, "stdout: %s\nstderr: %s", fail.stdout, fail.stderr)
	require.Contains(t, fail.stdout, "\tfailed")

	e.ok(t, "logout")
	require.Equal(t, 4, e.run(t, "", "ps").code, "the token is gone after logout")
}

// TestCLIWorkflowsAndUploads runs a REANA workflow and a FOSSology scan with
// the client's family commands.
func TestCLIWorkflowsAndUploads(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t, suite.main)
	user, password := newPasswordUser(t, suite.main)
	login := e.run(t, password+"\n", "login", "--server", e.server, "--username", user, "--password-stdin")
	require.Equal(t, 0, login.code, login.stderr)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "reana.yaml"), []byte(`inputs:
  files: [data/in.txt]
  parameters:
    greeting: hello
workflow:
  type: serial
  specification:
    steps:
      - name: shout
        environment: python_3_11
        commands:
          - mkdir -p results && python3 -c "import sys; print(open('data/in.txt').read().upper().strip(), sys.argv[1])" ${greeting} > results/out.txt
outputs:
  files: [results/out.txt]
`), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data", "in.txt"), []byte("research data\n"), 0o644))
	run := e.run(t, "", "workflows", "run", dir, "--name", "clidemo", "-p", "greeting=bonjour", "--follow")
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	require.Contains(t, run.stdout, "\tfinished")
	name := strings.Split(strings.TrimSpace(run.stdout), "\t")[0]
	require.True(t, strings.HasPrefix(name, "clidemo."), name)
	require.Contains(t, run.stderr, "uploaded data/in.txt")
	require.Equal(t, "RESEARCH DATA bonjour\n", e.ok(t, "workflows", "download", name, "results/out.txt", "-o", "-"))
	require.Contains(t, e.ok(t, "workflows", "logs", name), "==> step shout")
	require.Contains(t, e.ok(t, "workflows", "list"), name)
	require.Equal(t, name+"\tfinished\n", e.ok(t, "workflows", "status", name))

	// A FOSSology scan of a small archive, and its SPDX report.
	archive := makeZip(t,
		zipEntry{name: "src/hello.c", body: "// SPDX-License-Identifier: MIT\n// Copyright (c) 2026 Jane Doe\nint main(void) { return 0; }\n"},
		zipEntry{name: "LICENSE", body: "MIT License\n"})
	scan := e.run(t, "", "--output", "json", "uploads", "scan", archive, "--wait")
	require.Equal(t, 0, scan.code, "stdout: %s\nstderr: %s", scan.stdout, scan.stderr)
	var summary client.FossologyUploadSummary
	require.NoError(t, json.Unmarshal([]byte(scan.stdout), &summary))
	require.Positive(t, summary.TotalLicenses, scan.stdout)
	report := filepath.Join(t.TempDir(), "report.spdx.json")
	e.ok(t, "uploads", "report", strconv.Itoa(summary.Id), "--format", "spdx2json", "-o", report)
	var doc map[string]any
	b, err := os.ReadFile(report)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &doc), string(b))
	require.Equal(t, "SPDX-2.3", doc["spdxVersion"])
	require.Contains(t, string(b), "MIT")
}

// newPasswordUser creates a user and returns its name and password.
func newPasswordUser(t *testing.T, in *instance) (string, string) {
	t.Helper()
	name := "cli" + randomHex(5)
	pw := "pw-" + randomHex(8)
	role := client.AccountRoleUser
	resp, err := admin(t, in).AccountCreateUserWithResponse(context.Background(), client.AccountNewUser{Name: name, Password: &pw, Role: &role})
	require.NoError(t, err)
	require.Equal(t, 201, resp.StatusCode(), string(resp.Body))
	return name, pw
}

// TestCLIRegistry drives the registry group: push a local Podman image
// (exported by the client) with the image record created on the way, list
// it, pull its file (whole, then resumed from a .part with Range, checked
// against the image's digest), pull it into Podman under a new name, and
// deploy it into an environment on the local Podman service, following the
// deployment until it leaves pending.
func TestCLIRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newCLIEnv(t, suite.main)
	user, password := newPasswordUser(t, suite.main)
	login := e.run(t, password+"\n", "login", "--server", e.server, "--username", user, "--password-stdin")
	require.Equal(t, 0, login.code, login.stderr)
	c := newClient(t, suite.main, basic(user, password))

	// Usage errors.
	require.Equal(t, 2, e.run(t, "", "registry", "push").code, "neither a file nor --podman")
	require.Equal(t, 2, e.run(t, "", "registry", "push", "/nonexistent.tar").code)
	require.Equal(t, 2, e.run(t, "", "registry", "push", "--contenttype", "iso", "--podman", "x").code)
	require.Equal(t, 2, e.run(t, "", "registry", "deploy", "some-image").code, "no --env")
	require.Equal(t, 2, e.run(t, "", "registry", "pull", "some-image", "--format", "zip").code)

	// A file the server refuses: exit 1, and no empty image is left.
	notImage := filepath.Join(t.TempDir(), "notes.tar")
	require.NoError(t, os.WriteFile(notImage, []byte("not an archive"), 0o644))
	bad := e.run(t, "", "registry", "push", notImage)
	require.Equal(t, 1, bad.code, "stdout: %s\nstderr: %s", bad.stdout, bad.stderr)
	require.Contains(t, bad.stderr, "removed")
	none, err := c.ViceImageListWithResponse(ctx, &client.ViceImageListParams{})
	require.NoError(t, err)
	require.Empty(t, *none.JSON200, "the refused push left no image")

	// push --podman: the client exports the image and uploads it.
	push := e.run(t, "", "--output", "json", "registry", "push", "--podman", "localhost/debian_bookworm:latest", "--title", "cli-bookworm")
	require.Equal(t, 0, push.code, "stdout: %s\nstderr: %s", push.stdout, push.stderr)
	var im client.ViceImage
	require.NoError(t, json.Unmarshal([]byte(push.stdout), &im), push.stdout)
	id := deref(im.Id)
	t.Cleanup(func() {
		_, _ = c.ViceImageDeleteWithResponse(context.Background(), id)
	})
	require.True(t, *im.Imported, "the server checked the archive: %s", push.stdout)
	require.Equal(t, client.ViceImageContenttypeDockerImage, *im.Contenttype)
	require.True(t, strings.HasPrefix(deref(im.Digest), "sha256:"), push.stdout)
	require.Positive(t, *im.Size)
	require.Contains(t, push.stderr, "image "+id+" created")

	require.Contains(t, e.ok(t, "registry", "images"), id+"  cli-bookworm")
	var listed []client.ViceImage
	require.NoError(t, json.Unmarshal([]byte(e.ok(t, "--output", "json", "registry", "images", "-q", "cli-bookworm")), &listed))
	require.Len(t, listed, 1)
	require.Equal(t, id, deref(listed[0].Id))

	// pull to a file, then resume a cut download from its .part.
	type pulled struct {
		Path    string `json:"path"`
		Bytes   int64  `json:"bytes"`
		SHA256  string `json:"sha256"`
		Resumed int64  `json:"resumed_from"`
		Tag     string `json:"tag"`
	}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.tar")
	var p pulled
	require.NoError(t, json.Unmarshal([]byte(e.ok(t, "--output", "json", "registry", "pull", id, "-o", whole)), &p))
	require.Equal(t, *im.Size, p.Bytes)
	require.Equal(t, strings.TrimPrefix(*im.Digest, "sha256:"), p.SHA256, "the file is the image's")
	b, err := os.ReadFile(whole)
	require.NoError(t, err)
	resumed := filepath.Join(dir, "resumed.tar")
	half := int64(len(b) / 2)
	require.NoError(t, os.WriteFile(resumed+".part", b[:half], 0o644))
	require.NoError(t, json.Unmarshal([]byte(e.ok(t, "--output", "json", "registry", "pull", id, "-o", resumed)), &p))
	require.Equal(t, half, p.Resumed, "only the rest was asked for")
	require.Equal(t, strings.TrimPrefix(*im.Digest, "sha256:"), p.SHA256)
	_, err = os.Stat(resumed + ".part")
	require.True(t, os.IsNotExist(err), "the .part became the file")

	// pull --podman: loaded into the local Podman under the given name.
	tag := "localhost/cli-pulled-" + randomHex(4) + ":latest"
	t.Cleanup(func() { _ = exec.Command("podman", "rmi", tag).Run() })
	var loaded pulled
	require.NoError(t, json.Unmarshal([]byte(e.ok(t, "--output", "json", "registry", "pull", id, "--podman", "--tag", tag, "-o", filepath.Join(dir, "load.tar"))), &loaded))
	require.Equal(t, tag, loaded.Tag)
	require.NoError(t, exec.Command("podman", "image", "exists", tag).Run(), "the pulled image is in Podman as %s", tag)

	// deploy into the local Podman service, following the state.
	env, err := c.ViceEnvironmentCreateWithResponse(ctx, client.ViceEnvironment{Title: ptrTo("local podman"),
		Credentials:       &client.ViceCredentials{Location: ptrTo("unix:///run/podman/podman.sock")},
		Runtimetechnology: &client.ViceRuntimeTechnology{Type: ptrTo(client.ViceRuntimeTechnologyTypeContainer), Software: ptrTo("podman")},
		Managementlayer:   &client.ViceManagementLayer{Type: ptrTo(client.ViceManagementLayerTypeBasic)}})
	require.NoError(t, err)
	require.Equal(t, 201, env.StatusCode(), string(env.Body))
	envID := *env.JSON201.Id
	t.Cleanup(func() {
		// Whatever deployment a failed run left, then the environment.
		if list, err := c.ViceDeploymentListWithResponse(context.Background()); err == nil && list.JSON200 != nil {
			for _, d := range *list.JSON200 {
				_, _ = c.ViceDeploymentDeleteWithResponse(context.Background(), deref(d.Id))
			}
		}
		_, _ = c.ViceEnvironmentDeleteWithResponse(context.Background(), envID)
	})

	dep := e.run(t, "", "--output", "json", "registry", "deploy", id, "--env", envID, "--title", "cli-web")
	require.Equal(t, 0, dep.code, "stdout: %s\nstderr: %s", dep.stdout, dep.stderr)
	var d client.ViceDeployment
	require.NoError(t, json.Unmarshal([]byte(dep.stdout), &d), dep.stdout)
	require.Contains(t, dep.stderr, "deployment "+deref(d.Id)+" created")
	require.Contains(t, dep.stderr, " pending\n", "the change of state is followed")
	// debian_bookworm's command (bash, no terminal) ends at once: running, or exited with 0.
	require.Contains(t, []client.ViceDeploymentState{client.ViceDeploymentStateRunning, client.ViceDeploymentStateExited}, *d.State, dep.stdout)
	require.NotEmpty(t, deref(d.EnvironmentReference), "the container's id")
	ps, err := exec.Command("podman", "ps", "-aq", "--filter", "label=reehub.registry.deployment="+deref(d.Id)).CombinedOutput()
	require.NoError(t, err, string(ps))
	require.NotEmpty(t, strings.TrimSpace(string(ps)), "the deployment's container exists in Podman")

	detached := e.run(t, "", "--output", "json", "registry", "deploy", id, "--env", envID, "--detach")
	require.Equal(t, 0, detached.code, detached.stderr)
	var pending client.ViceDeployment
	require.NoError(t, json.Unmarshal([]byte(detached.stdout), &pending))
	require.Equal(t, client.ViceDeploymentStatePending, *pending.State, "--detach does not wait")
	// Let its job finish before deleting it: a deployment deleted while
	// pending can still get its container from the job (service/registry).
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		g, err := c.ViceDeploymentGetWithResponse(ctx, deref(pending.Id))
		require.NoError(t, err)
		require.Equal(t, 200, g.StatusCode(), string(g.Body))
		if *g.JSON200.State != client.ViceDeploymentStatePending {
			break
		}
	}
	for _, dep := range []string{deref(d.Id), deref(pending.Id)} {
		del, err := c.ViceDeploymentDeleteWithResponse(ctx, dep)
		require.NoError(t, err)
		require.Equal(t, 200, del.StatusCode(), string(del.Body))
		ps, err := exec.Command("podman", "ps", "-aq", "--filter", "label=reehub.registry.deployment="+dep).CombinedOutput()
		require.NoError(t, err, string(ps))
		require.Empty(t, strings.TrimSpace(string(ps)), "no container is left of deployment %s", dep)
	}

	refused := e.run(t, "", "registry", "deploy", id, "--env", "no-such-environment")
	require.Equal(t, 1, refused.code, "an unknown environment is refused (405): %s", refused.stderr)
	require.Contains(t, refused.stderr, "environmentId")
}

// TestCLIAppliances drives `reehub appliances`: a build of an appliance
// cloned from the Debian template (rootfs, no packages: the quickest build)
// followed to its end, its status, its download checked against the build's
// sha256, and a build id that does not exist.
func TestCLIAppliances(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t, suite.main)
	user, password := newPasswordUser(t, suite.main)
	login := e.run(t, password+"\n", "login", "--server", e.server, "--username", user, "--password-stdin")
	require.Equal(t, 0, login.code, login.stderr)
	hc := &http.Client{Transport: &validatingTransport{base: http.DefaultTransport, router: specRouter(t)}}
	c := &studioClient{t: t, base: suite.main.url, hc: hc, user: user, pass: password}
	var app stApp
	c.ok(http.MethodPost, "/api/v1/user/appliances?clone_from=1&name=cli-appliance&arch=x86_64", &app)

	run := e.run(t, "", "--output", "json", "appliances", "build", strconv.FormatInt(app.ID, 10), "--type", "rootfs", "--version", "0.1.0", "--follow")
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	var built struct {
		ID        int64  `json:"id"`
		State     string `json:"state"`
		ImageType string `json:"image_type"`
		Checksum  struct {
			SHA256 string `json:"sha256"`
		} `json:"checksum"`
	}
	require.NoError(t, json.Unmarshal([]byte(run.stdout), &built), run.stdout)
	require.Equal(t, "finished", built.State)
	require.Equal(t, "rootfs", built.ImageType)
	require.Contains(t, run.stderr, "running")
	id := strconv.FormatInt(built.ID, 10)
	require.Contains(t, e.ok(t, "appliances", "status", id), "\tfinished\trootfs 0.1.0\t")

	out := filepath.Join(t.TempDir(), "rootfs.tar.gz")
	e.ok(t, "appliances", "download", id, "-o", out)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	require.Equal(t, built.Checksum.SHA256, hex.EncodeToString(sum[:]))

	// The same build again is refused (image_already_exists), a missing build not found.
	again := e.run(t, "", "appliances", "build", strconv.FormatInt(app.ID, 10), "--type", "rootfs", "--version", "0.1.0")
	require.Equal(t, 1, again.code, again.stderr)
	require.Contains(t, again.stderr, "already exists")
	missing := e.run(t, "", "appliances", "status", "999999")
	require.Equal(t, 1, missing.code, missing.stderr)
	require.Contains(t, missing.stderr, "999999")
	bad := e.run(t, "", "appliances", "status", "x")
	require.Equal(t, 2, bad.code, bad.stderr)
}
