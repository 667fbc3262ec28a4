// Package benchserver starts and stops the reehub servers that the benches
// (bench/ree, bench/repro) drive, on loopback ports with their own data
// directories, and gives each an API client authenticated as its admin.
package benchserver

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

// AdminPassword is the password of the admin user of every server the bench starts.
const AdminPassword = "bench-pw"

// Server is one reehub server process started by a bench on a loopback port.
type Server struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // the exit status, valid once done is closed
	// LogPath is the file that holds the server's output.
	LogPath string
	// Base is the server's URL.
	Base string
	// API is a client authenticated as the admin.
	API *client.ClientWithResponses
	// Auth is the admin's Authorization header value.
	Auth string
}

// Opts configures a reehub server started by a bench.
type Opts struct {
	// Bin is the reehub binary.
	Bin string
	// DataDir is the server's data directory.
	DataDir string
	// Env holds extra REEHUB_* settings.
	Env []string
}

// Start starts reehub on a free loopback port and waits until it answers /api/ping.
func Start(ctx context.Context, o Opts) (*Server, error) {
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
	cmd.Env = append(os.Environ(), "REEHUB_ADMIN_PASSWORD="+AdminPassword, "REEHUB_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, o.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start reehub: %w", err)
	}
	r := &Server{
		cmd: cmd, done: make(chan struct{}), LogPath: logPath, Base: "http://" + addr,
		Auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+AdminPassword)),
	}
	go func() {
		r.waitErr = cmd.Wait()
		close(r.done)
	}()
	// run.sh stops the server from this file if the bench itself is killed.
	if err := os.WriteFile(o.DataDir+".pid", []byte(strconv.Itoa(cmd.Process.Pid)), 0o640); err != nil {
		r.Stop()
		return nil, err
	}
	r.API, err = client.NewClientWithResponses(r.Base, client.WithRequestEditorFn(r.Authorize))
	if err != nil {
		r.Stop()
		return nil, err
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if res, err := r.API.SystemPingWithResponse(ctx); err == nil && res.StatusCode() == http.StatusOK {
			return r, nil
		}
		select {
		case <-r.done:
			return nil, fmt.Errorf("reehub exited at start (%v); log:\n%s", r.waitErr, Tail(logPath, 20))
		case <-ctx.Done():
			r.Stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.Stop()
			return nil, fmt.Errorf("reehub did not answer /api/ping within 3 minutes; log:\n%s", Tail(logPath, 20))
		}
	}
}

// Authorize adds the admin's Basic credentials to a request.
func (r *Server) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", r.Auth)
	return nil
}

// PID is the server's process ID.
func (r *Server) PID() int { return r.cmd.Process.Pid }

// Stop sends SIGTERM, waits up to 40 s for a graceful exit, then kills. It
// may be called more than once.
func (r *Server) Stop() {
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

// Tail returns the last n lines of a file, for error messages.
func Tail(path string, n int) string {
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

// ErrExited reports that the server ended while the bench needed it.
var ErrExited = errors.New("reehub exited")

// Alive returns ErrExited (with the log tail) if the server process has ended.
func (r *Server) Alive() error {
	select {
	case <-r.done:
		return fmt.Errorf("%w (%v); log:\n%s", ErrExited, r.waitErr, Tail(r.LogPath, 20))
	default:
		return nil
	}
}

// CreateToken creates a personal token with the read scope for the admin.
func (r *Server) CreateToken(ctx context.Context) (string, error) {
	res, err := r.API.AccountCreateTokenWithResponse(ctx, client.AccountNewToken{Name: "bench", Scopes: []client.AccountScope{client.AccountScopeRead}})
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	if res.JSON201 == nil {
		return "", fmt.Errorf("create token: HTTP %d: %s", res.StatusCode(), res.Body)
	}
	return res.JSON201.Token, nil
}
