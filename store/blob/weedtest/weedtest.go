// Package weedtest starts SeaweedFS (`weed server -s3`, built into bin/weed
// by scripts/build-weed.sh) on loopback for the tests that run the blob
// store on a real S3 service.
package weedtest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Binary returns the weed binary the tests start: REEHUB_TEST_WEED, or
// bin/weed under the repository root root; "" when that is missing.
func Binary(root string) string {
	if bin := os.Getenv("REEHUB_TEST_WEED"); bin != "" {
		return bin
	}
	bin, err := filepath.Abs(filepath.Join(root, "bin", "weed"))
	if err != nil {
		return ""
	}
	if _, err := os.Stat(bin); err != nil {
		return ""
	}
	return bin
}

// Required reports whether the tests must have an S3 server
// (REEHUB_TEST_REQUIRE_S3=1, as CI sets), rather than skip without one.
func Required() bool { return os.Getenv("REEHUB_TEST_REQUIRE_S3") == "1" }

// Server is a running SeaweedFS.
type Server struct {
	// Endpoint is the S3 endpoint's URL (http://127.0.0.1:port).
	Endpoint string
	// Log is the file its output goes to.
	Log string
	cmd *exec.Cmd
	log *os.File
	dir string
}

// Start starts bin as one SeaweedFS server (master, volume, filer and S3)
// on loopback ports, with its data in a new directory under dir, and waits
// up to wait for its S3 endpoint to answer. Any credentials are accepted;
// Start sets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the SDK,
// which needs some.
func Start(bin, dir string, wait time.Duration) (*Server, error) {
	data, err := os.MkdirTemp(dir, "reehub-weed-")
	if err != nil {
		return nil, fmt.Errorf("weed: %w", err)
	}
	// weed's gRPC ports are its HTTP ports plus 10000: take HTTP ports below 55535.
	var ports [4]int
	for i := range ports {
		for ports[i] == 0 {
			p, err := freePort()
			if err != nil {
				return nil, fmt.Errorf("weed: %w", err)
			}
			if p < 55535 {
				ports[i] = p
			}
		}
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", ports[3]), Log: filepath.Join(data, "weed.log"), dir: data}
	if s.log, err = os.Create(s.Log); err != nil {
		return nil, fmt.Errorf("weed: %w", err)
	}
	s.cmd = exec.Command(bin, "server", "-dir="+filepath.Join(data, "data"), "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		fmt.Sprintf("-master.port=%d", ports[0]), fmt.Sprintf("-volume.port=%d", ports[1]),
		"-filer", fmt.Sprintf("-filer.port=%d", ports[2]), "-s3", fmt.Sprintf("-s3.port=%d", ports[3]),
		"-volume.max=0", "-master.volumeSizeLimitMB=64")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := os.MkdirAll(filepath.Join(data, "data"), 0o750); err != nil {
		return nil, fmt.Errorf("weed: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		_ = s.log.Close()
		return nil, fmt.Errorf("weed: %w", err)
	}
	for deadline := time.Now().Add(wait); ; time.Sleep(250 * time.Millisecond) {
		if resp, err := http.Get(s.Endpoint + "/"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode < 500 {
				break
			}
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(s.Log)
			s.Stop()
			return nil, fmt.Errorf("weed's S3 endpoint did not come up in %s:\n%s", wait, out)
		}
	}
	if err := os.Setenv("AWS_ACCESS_KEY_ID", "reehub"); err != nil {
		return nil, err
	}
	if err := os.Setenv("AWS_SECRET_ACCESS_KEY", "reehub-test"); err != nil {
		return nil, err
	}
	return s, nil
}

// Stop kills the server and its children and removes its data.
func (s *Server) Stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	_ = s.log.Close()
	_ = os.RemoveAll(s.dir)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
