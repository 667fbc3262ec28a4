package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/reehub/reehub/gen/client"
)

// adminPassword is the password of the admin user of every server the bench starts.
const adminPassword = "bench-pw"

// reehub is one reehub server process started by the bench on a loopback port
// (the same helper as bench/ree's).
type reehub struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // the exit status, valid once done is closed
	logPath string
	base    string
	api     *client.ClientWithResponses
	auth    string
}

// serverOpts configures a reehub server started by the bench.
type serverOpts struct {
	// Bin is the reehub binary.
	Bin string
	// DataDir is the server's data directory.
	DataDir string
	// Env holds extra REEHUB_* settings.
	Env []string
}

// startServer starts reehub on a free loopback port and waits until it answers /api/ping.
func startServer(ctx context.Context, o serverOpts) (*reehub, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return nil, err
	}
	logPath := o.DataDir + ".log"
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(o.Bin, "serve", "--data-dir", o.DataDir, "--addr", addr)
	cmd.Env = append(os.Environ(), "REEHUB_ADMIN_PASSWORD="+adminPassword, "REEHUB_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, o.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start reehub: %w", err)
	}
	r := &reehub{
		cmd: cmd, done: make(chan struct{}), logPath: logPath, base: "http://" + addr,
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+adminPassword)),
	}
	go func() {
		r.waitErr = cmd.Wait()
		close(r.done)
	}()
	// run.sh stops the server from this file if the bench itself is killed.
	if err := os.WriteFile(o.DataDir+".pid", []byte(strconv.Itoa(cmd.Process.Pid)), 0o640); err != nil {
		r.stop()
		return nil, err
	}
	r.api, err = client.NewClientWithResponses(r.base, client.WithRequestEditorFn(r.authorize))
	if err != nil {
		r.stop()
		return nil, err
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if res, err := r.api.SystemPingWithResponse(ctx); err == nil && res.StatusCode() == http.StatusOK {
			return r, nil
		}
		select {
		case <-r.done:
			return nil, fmt.Errorf("reehub exited at start (%v); log:\n%s", r.waitErr, tail(logPath, 20))
		case <-ctx.Done():
			r.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("reehub did not answer /api/ping within 3 minutes; log:\n%s", tail(logPath, 20))
		}
	}
}

// authorize adds the admin's Basic credentials to a request.
func (r *reehub) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", r.auth)
	return nil
}

// stop sends SIGTERM, waits up to 40 s for a graceful exit, then kills. It
// may be called more than once.
func (r *reehub) stop() {
	if r == nil || r.cmd.Process == nil {
		return
	}
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(40 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errExited reports that the server ended while the bench needed it.
var errExited = errors.New("reehub exited")

// alive returns errExited (with the log tail) if the server process has ended.
func (r *reehub) alive() error {
	select {
	case <-r.done:
		return fmt.Errorf("%w (%v); log:\n%s", errExited, r.waitErr, tail(r.logPath, 20))
	default:
		return nil
	}
}
