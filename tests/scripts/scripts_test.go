// Package scripts_test checks the developer entry points that are not Go:
// the Makefile's data directory and scripts/setup-host.sh's Podman service.
package scripts_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if os.Getenv("REEHUB_FAKE_PODMAN") == "1" {
		os.Exit(fakePodmanService(os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

// repoRoot is the module root: two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	return root
}

// TestMakeRunHonoursDataDir: `make run` and `make base-images` use
// REEHUB_DATA_DIR when DATA_DIR is not given, and DATA_DIR wins over it.
func TestMakeRunHonoursDataDir(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed (scripts/packages.txt, group ci)")
	}
	dry := func(env []string, args ...string) string {
		cmd := exec.Command("make", append([]string{"-n", "-C", repoRoot(t)}, args...)...)
		cmd.Env = env
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "DATA_DIR=") && !strings.HasPrefix(kv, "REEHUB_DATA_DIR=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	data := filepath.Join(t.TempDir(), "reehub-data")

	out := dry([]string{"REEHUB_DATA_DIR=" + data}, "run")
	require.Contains(t, out, "serve --data-dir "+data, "make run ignores REEHUB_DATA_DIR")
	require.Contains(t, out, "dev-credentials.sh "+data)
	require.NotContains(t, out, "./data")

	out = dry([]string{"REEHUB_DATA_DIR=" + data}, "base-images")
	require.Contains(t, out, "base-images --data-dir "+data)

	out = dry([]string{"REEHUB_DATA_DIR=" + data}, "run", "DATA_DIR=/elsewhere")
	require.Contains(t, out, "serve --data-dir /elsewhere", "DATA_DIR on the command line wins")

	out = dry([]string{"REEHUB_DATA_DIR=" + data, "DATA_DIR=/from-env"}, "run")
	require.Contains(t, out, "serve --data-dir /from-env", "DATA_DIR in the environment wins")

	out = dry(nil, "run")
	require.Contains(t, out, "serve --data-dir ./data", "the default stays ./data")
}

// TestSetupHostServiceSurvivesCallerGroup: the Podman service that
// setup-host.sh starts is in a session of its own, so that stopping the
// caller's process group (Ctrl-C of `make run`, a supervisor stopping its job)
// leaves it running. A fake podman on PATH stands for the service, on a socket
// path of its own: the host's real service is not touched.
func TestSetupHostServiceSurvivesCallerGroup(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("setup-host.sh runs as root (make setup uses sudo)")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	pidFile := filepath.Join(dir, "podman.pid")
	sock := filepath.Join(dir, "run", "podman.sock")
	// The fake service: `podman system service --time=0 unix://PATH` listens
	// on PATH (so that curl's _ping finds it) and stays until killed.
	fake := "#!/bin/sh\n" +
		"[ \"$1 $2\" = 'system service' ] || exit 0\n" +
		"echo $$ > " + pidFile + "\n" +
		"exec " + os.Args[0] + " \"${4#unix://}\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "podman"), []byte(fake), 0o755))

	// The caller: setup-host.sh, then a long job in the same process group (make run).
	caller := exec.Command("bash", "-c", "bash scripts/setup-host.sh && exec sleep 300")
	caller.Dir = root
	caller.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "REEHUB_PODMAN_SOCKET_PATH="+sock, "REEHUB_FAKE_PODMAN=1")
	caller.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out strings.Builder
	caller.Stdout, caller.Stderr = &out, &out
	require.NoError(t, caller.Start())
	pgid := caller.Process.Pid
	done := make(chan error, 1)
	go func() { done <- caller.Wait() }()
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })

	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && strings.Contains(out.String(), "podman ready")
	}, 60*time.Second, 100*time.Millisecond, "setup-host.sh did not start the service: %s", &out)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

	sid, err := unix.Getsid(pid)
	require.NoError(t, err)
	callerSid, err := unix.Getsid(pgid)
	require.NoError(t, err)
	require.NotEqual(t, callerSid, sid, "the service runs in the caller's session")

	// Stop the caller's whole process group, as Ctrl-C or a supervisor does.
	require.NoError(t, syscall.Kill(-pgid, syscall.SIGTERM))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the caller did not stop on SIGTERM")
	}
	time.Sleep(300 * time.Millisecond)
	c, err := net.Dial("unix", sock)
	require.NoError(t, err, "the Podman service died with the caller's process group")
	_ = c.Close()
}

// fakePodmanService is the fake `podman system service` of
// TestSetupHostServiceSurvivesCallerGroup (the test binary run again with
// REEHUB_FAKE_PODMAN=1): it answers setup-host.sh's _ping on the socket
// given as its last argument, until killed.
func fakePodmanService(sock string) int {
	l, err := net.Listen("unix", sock)
	if err != nil {
		return 2
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return 3
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 4096)
			_, _ = c.Read(buf)
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"))
		}(c)
	}
}
