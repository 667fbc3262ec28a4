package tests

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// startFreshPodman starts a second Podman service with its own empty storage,
// standing in for another host, and returns its socket URL.
func startFreshPodman(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "reehub-podman-")
	require.NoError(t, err)
	root, runroot, sock := filepath.Join(dir, "root"), filepath.Join(dir, "run"), filepath.Join(dir, "podman.sock")
	cmd := exec.Command("podman", "--root", root, "--runroot", runroot, "system", "service", "--time=0", "unix://"+sock)
	logf, err := os.Create(filepath.Join(dir, "service.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = exec.Command("podman", "--root", root, "--runroot", runroot, "rmi", "-a", "-f").Run()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
		_ = exec.Command("sh", "-c", "grep -o ' "+dir+"[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l").Run()
		_ = os.RemoveAll(dir)
	})
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (netConn, error) {
		var d netDialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := hc.Get("http://d/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "unix://" + sock
			}
		}
	}
	t.Fatalf("second podman service did not start")
	return ""
}

// freshDBOrEmpty returns a new Postgres database when the suite runs on Postgres.
func freshDBOrEmpty(t testing.TB) string {
	t.Helper()
	if suite.postgresURL == "" {
		return ""
	}
	url, err := freshDatabase(os.Getenv("REEHUB_TEST_DATABASE_URL"))
	require.NoError(t, err)
	return url
}

// podmanLeftovers lists networks and containers (build containers included)
// that carry a process id.
func podmanLeftovers(t testing.TB, id string) []string {
	t.Helper()
	var left []string
	out, err := exec.Command("podman", "network", "ls", "--format", "{{.Name}}").Output()
	require.NoError(t, err)
	for _, n := range strings.Fields(string(out)) {
		if strings.Contains(id, strings.TrimPrefix(n, "reehub-")) && strings.HasPrefix(n, "reehub-") {
			left = append(left, "network "+n)
		}
	}
	out, err = exec.Command("podman", "ps", "-a", "--external", "--format", "{{.ID}} {{.Names}} {{.Image}}").Output()
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(line, "working-container") {
			left = append(left, "container "+line)
		}
	}
	return left
}

const slowDockerfile = "FROM debian_bookworm\nRUN echo started && sleep 300\n"

func TestCancelRunningProcess(t *testing.T) {
	ctx := context.Background()
	c := newUser(t, suite.main)
	status, body := c.submit(t, "/api/recording/create", form{filePath: project(t, slowDockerfile)})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)
	waitStatus(t, c, id, client.ReeProcessStateRunning)
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(logOf(t, c, id), "started"); time.Sleep(200 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the slow step never started")
	}
	resp, err := c.ReeProcessCancelWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode(), string(resp.Body))
	final := waitFinal(t, c, id)
	require.Equal(t, client.ReeProcessStateCancelled, final.Status)
	require.Contains(t, deref(final.Reason), "cancelled")
	require.Empty(t, podmanLeftovers(t, id.String()))
	dl, err := c.ReeProcessDownloadWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 409, dl.StatusCode())
}

// TestKillDuringBuild kills reehub with SIGKILL while a build runs, starts it
// again, and checks that the process ends in a definite state, nothing is left
// in Podman or the data directory, and what was stored before is intact.
func TestKillDuringBuild(t *testing.T) {
	ctx := context.Background()
	in, err := startInstance(instanceOpts{name: "kill-" + randomHex(3), database: freshDBOrEmpty(t)})
	require.NoError(t, err)
	defer in.stop()
	c := admin(t, in)

	// Something stored before the crash: a finished process with its output.
	doneID, done := record(t, c, project(t, "FROM debian_bookworm\nRUN echo kept > /kept\n"), [2]string{"tag", "before-crash"})
	require.Equal(t, client.ReeProcessStateProcessed, done.Status, deref(done.Reason))
	before := download(t, c, doneID)

	status, body := c.submit(t, "/api/recording/create", form{filePath: project(t, slowDockerfile)})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)
	waitStatus(t, c, id, client.ReeProcessStateRunning)
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(logOf(t, c, id), "started"); time.Sleep(200 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the slow step never started")
	}
	in.kill()
	// What exists now includes the killed build's network and working
	// container (other packages' tests may build at the same time; their
	// containers end with their builds).
	orphans := podmanLeftovers(t, id.String())
	require.NotEmpty(t, orphans, "the killed build left its network and container behind for recovery to find")
	require.NoError(t, in.start())

	final := waitFinal(t, c, id)
	require.Equal(t, client.ReeProcessStateFailed, final.Status)
	require.Contains(t, deref(final.Reason), "stopped")
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		still := intersect(orphans, podmanLeftovers(t, id.String()))
		if len(still) == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "left behind after recovery: %v", still)
	}
	_, err = os.Stat(filepath.Join(in.dataDir, "work", id.String()))
	require.True(t, os.IsNotExist(err), "the work directory of the killed process is removed")

	after := download(t, c, doneID)
	require.Equal(t, fileSHA(t, before), fileSHA(t, after), "the output stored before the crash is intact")
	st, err := c.ReeProcessStatusWithResponse(ctx, doneID)
	require.NoError(t, err)
	require.Equal(t, client.ReeProcessStateProcessed, st.JSON200.Status)
}

func TestFourConcurrentRecordings(t *testing.T) {
	c := newUser(t, suite.main)
	var wg sync.WaitGroup
	results := make([]client.ReeProcessStatus, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			df := fmt.Sprintf("FROM debian_bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends hello && echo build-%d > /which\n", i)
			status, body := c.submit(t, "/api/recording/create", form{filePath: project(t, df), fields: [][2]string{{"tag", fmt.Sprintf("concurrent-%d", i)}}})
			if status != 200 {
				t.Errorf("submit %d: %d %s", i, status, body)
				return
			}
			results[i] = waitFinal(t, c, startedID(t, body))
		}()
	}
	wg.Wait()
	for i, r := range results {
		require.Equal(t, client.ReeProcessStateProcessed, r.Status, "recording %d: %s", i, deref(r.Reason))
	}
	list, err := c.ReeProcessListWithResponse(context.Background(), &listParams{Status: ptrTo(client.ReeProcessStateProcessed)})
	require.NoError(t, err)
	require.Equal(t, 4, list.JSON200.Total)
}

func ptrTo[T any](v T) *T { return &v }

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
			}
		}
	}
	return out
}
