// Package tests is reehub's end-to-end suite: it builds the real binary,
// starts it on loopback ports with temporary data directories, and drives it
// with the generated Go client. Every response is validated against
// openapi.yaml. Builds run on the real Podman service; the database is SQLite,
// or Postgres when REEHUB_TEST_DATABASE_URL is set (a fresh database per run).
package tests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reehub/reehub/store/storetest"
)

// env is what TestMain prepares for every test.
type env struct {
	bin         string // the reehub binary
	work        string // temp dir of the run
	postgresURL string // admin URL of a fresh database, or "" for SQLite
	issuer      *testIssuer
	tlsOrigin   *tlsOrigin
	main        *instance // the shared server
}

var suite env

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code(m))
}

func setup() (func(*testing.M) int, error) {
	work, err := os.MkdirTemp("", "reehub-e2e-")
	if err != nil {
		return nil, err
	}
	suite.work = work
	suite.bin = filepath.Join(work, "reehub")
	build := exec.Command("go", "build", "-o", suite.bin, "../cmd/reehub")
	build.Env = append(os.Environ(), "CGO_ENABLED=0",
		"GOFLAGS=-tags=remote,containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build reehub: %v\n%s", err, out)
	}
	// Base images are built once per machine (about 3 minutes the first time).
	bases := exec.Command(suite.bin, "base-images", "--data-dir", filepath.Join(work, "bases"))
	if out, err := bases.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("base images: %v\n%s", err, out)
	}
	if url := os.Getenv("REEHUB_TEST_DATABASE_URL"); url != "" {
		if suite.postgresURL, err = freshDatabase(url); err != nil {
			return nil, err
		}
	}
	if suite.issuer, err = startIssuer(); err != nil {
		return nil, err
	}
	if suite.tlsOrigin, err = startTLSOrigin(work); err != nil {
		return nil, err
	}
	suite.main, err = startInstance(instanceOpts{name: "main", database: suite.postgresURL,
		extraEnv: []string{"REEHUB_OIDC_ISSUER=" + suite.issuer.URL(), "REEHUB_UPSTREAM_CA_FILE=" + suite.tlsOrigin.caFile}})
	if err != nil {
		return nil, err
	}
	return func(m *testing.M) int {
		code := m.Run()
		suite.main.stop()
		if reanaIn != nil { // the REANA tests' own instance, started once
			reanaIn.stop()
		}
		if fossE != nil { // the FOSSology tests' own instance and servers, started once
			fossE.close()
		}
		if reanaOrigin != nil {
			reanaOrigin.Close()
		}
		suite.issuer.Close()
		suite.tlsOrigin.Close()
		if code == 0 {
			_ = os.RemoveAll(work)
		} else {
			fmt.Fprintln(os.Stderr, "e2e: kept", work, "for inspection")
		}
		return code
	}, nil
}

// freshDatabase creates a new database on the server of baseURL and returns
// its URL.
func freshDatabase(baseURL string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return storetest.CreatePostgres(ctx, baseURL, "reehub_e2e")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// instance is one running reehub process.
type instance struct {
	name     string
	url      string
	dataDir  string
	password string
	cmd      *exec.Cmd
	logPath  string
	env      []string
	args     []string
}

type instanceOpts struct {
	name     string
	database string
	dataDir  string
	extraEnv []string
}

// startInstance starts reehub on a free loopback port and waits until it answers.
func startInstance(o instanceOpts) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	in := &instance{name: o.name, url: fmt.Sprintf("http://127.0.0.1:%d", port), password: "pw-" + randomHex(8)}
	in.dataDir = o.dataDir
	if in.dataDir == "" {
		in.dataDir = filepath.Join(suite.work, o.name+"-data")
	}
	in.logPath = filepath.Join(suite.work, o.name+".log")
	in.env = append(os.Environ(), "REEHUB_ADMIN_PASSWORD="+in.password, "REEHUB_BUILD_BASE_IMAGES=false", "REEHUB_LOG_LEVEL=debug",
		"REEHUB_POLL_INTERVAL=60ms") // jobs of every queue start within 240 ms
	if o.database != "" {
		in.env = append(in.env, "REEHUB_DATABASE_URL="+o.database)
	}
	in.env = append(in.env, o.extraEnv...)
	in.args = []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", in.dataDir}
	return in, in.start()
}

func (in *instance) start() error {
	logf, err := os.OpenFile(in.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	in.cmd = exec.Command(suite.bin, in.args...)
	in.cmd.Env = in.env
	in.cmd.Stdout, in.cmd.Stderr = logf, logf
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := in.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", in.name, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(in.url + "/api/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if in.cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(in.logPath)
	return fmt.Errorf("%s did not answer on %s:\n%s", in.name, in.url, tail(string(log), 30))
}

// stop ends the instance gracefully.
func (in *instance) stop() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = in.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = in.cmd.Process.Kill()
		<-done
	}
}

// kill ends the instance with SIGKILL, as a crash would.
func (in *instance) kill() {
	_ = in.cmd.Process.Kill()
	_ = in.cmd.Wait()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
