package podman

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Stopping RUN steps.
//
// A 4.3.1 service does not stop a build when its client disconnects: the
// running RUN step goes on to its end, and only then does the build notice
// and abort. The API has no call to stop a build. Each RUN step is a runc
// container named buildah-buildahNNN whose bundle holds the step's hosts
// file and hostname (the working container's short ID). reehub marks each
// build with extra /etc/hosts entries that name a per-build nonce and each of
// its labels, so that, when the service is on this host, a cancelled build's
// steps can be found with "runc list" and killed. /etc/hosts is bind-mounted
// during RUN steps and never enters the image. A build whose steps join a
// fixed UTS namespace (BuildOpts.UTSNamespace) has empty hostname files: its
// steps are still found and killed, but not tied to their working
// containers, which the service removes itself (forcerm) once the build
// fails; only the forced removal when the service does not let go within
// the caller's context is lost for such builds.

// markAddr is the address marker host entries resolve to (TEST-NET-1, never
// routed).
const markAddr = "192.0.2.1"

// buildMarker returns the host name that marks a build's RUN steps.
func buildMarker(nonce string) string { return "reehub-build-" + nonce }

// labelMarker returns the host name that marks RUN steps of builds that
// carry the label key=value.
func labelMarker(key, value string) string {
	sum := sha256.Sum256([]byte(key + "=" + value))
	return "reehub-label-" + hex.EncodeToString(sum[:8])
}

// runcStep is a running RUN step.
type runcStep struct {
	id        string // runc container ID
	container string // short ID of the buildah working container
}

// isLocal reports whether the service runs on this host, so that its RUN
// steps are visible to runc here.
func (r *Runtime) isLocal() bool { return strings.HasPrefix(r.uri, "unix://") }

// findSteps returns the running RUN steps whose hosts file names marker.
// It returns nothing when the service is remote or runc is not installed.
func (r *Runtime) findSteps(ctx context.Context, marker string) []runcStep {
	if !r.isLocal() {
		return nil
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, runc, "list", "--format", "json").Output()
	if err != nil {
		return nil
	}
	var list []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Bundle string `json:"bundle"`
	}
	if json.Unmarshal(out, &list) != nil {
		return nil
	}
	var steps []runcStep
	for _, c := range list {
		if !strings.HasPrefix(c.ID, "buildah-") || c.Bundle == "" {
			continue
		}
		hosts, err := os.ReadFile(filepath.Join(c.Bundle, "hosts"))
		if err != nil || !hasHost(string(hosts), marker) {
			continue
		}
		hostname, _ := os.ReadFile(filepath.Join(c.Bundle, "hostname"))
		steps = append(steps, runcStep{id: c.ID, container: strings.TrimSpace(string(hostname))})
	}
	return steps
}

func hasHost(hosts, name string) bool {
	for _, line := range strings.Split(hosts, "\n") {
		fields := strings.Fields(line)
		for _, f := range fields[min(1, len(fields)):] {
			if f == name {
				return true
			}
		}
	}
	return false
}

// killSteps kills the RUN steps marked with marker and returns them.
func (r *Runtime) killSteps(ctx context.Context, marker string) []runcStep {
	steps := r.findSteps(ctx, marker)
	if runc, err := exec.LookPath("runc"); err == nil {
		for _, s := range steps {
			_ = exec.CommandContext(ctx, runc, "kill", s.id, "KILL").Run() // it may have ended already
		}
	}
	// runc's listing fails or misses containers while others are created and
	// deleted; the processes themselves are found through their root's
	// /etc/hosts, which carries the marker.
	if r.isLocal() {
		for _, p := range procSteps(marker) {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
			steps = append(steps, runcStep{id: "pid-" + strconv.Itoa(p.pid), container: p.container})
		}
	}
	return steps
}

// procStep is a process of a RUN step found through /proc.
type procStep struct {
	pid       int
	container string // short ID of the working container (the step's hostname)
}

// procSteps returns the processes whose root file system's /etc/hosts names
// marker: the processes of the RUN steps of one build.
func procSteps(marker string) []procStep {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []procStep
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		root := filepath.Join("/proc", e.Name(), "root")
		hosts, err := os.ReadFile(filepath.Join(root, "etc", "hosts"))
		if err != nil || !hasHost(string(hosts), marker) {
			continue
		}
		hostname, _ := os.ReadFile(filepath.Join(root, "etc", "hostname"))
		out = append(out, procStep{pid: pid, container: strings.TrimSpace(string(hostname))})
	}
	return out
}
