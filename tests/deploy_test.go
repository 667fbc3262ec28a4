package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDeployUnits checks the unit files of deploy/ (docs/deploy.md) the way
// systemd would read them, on a machine whose PID 1 need not be systemd:
// systemd-analyze verify finds nothing to say about deploy/reehub.service
// (with ExecStart pointed at the binary under test), and the quadlet
// generator of the Podman module reehub builds with turns
// deploy/reehub.container into a service that runs localhost/reehub with the
// host's network and PID namespace, the Podman socket and the data directory
// at its own path, which systemd-analyze verify accepts as well.
func TestDeployUnits(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (scripts/setup-packages.sh test installs systemd): " + err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	verify := func(unit string) {
		t.Helper()
		out, err := exec.CommandContext(ctx, analyze, "verify", "--man=no", unit).CombinedOutput()
		require.NoError(t, err, "systemd-analyze verify %s:\n%s", unit, out)
		require.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify %s has warnings", unit)
	}

	unit, err := os.ReadFile("../deploy/reehub.service")
	require.NoError(t, err)
	require.Contains(t, string(unit), "ExecStart=/usr/local/bin/reehub serve\n")
	service := filepath.Join(dir, "reehub.service")
	require.NoError(t, os.WriteFile(service, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/reehub", suite.bin)), 0o644))
	verify(service)

	// Quadlet is not in Debian 12's Podman (4.3.1): build the generator from
	// the Podman module of go.mod.
	quadlet := filepath.Join(dir, "quadlet")
	build := exec.CommandContext(ctx, "go", "build", "-o", quadlet, "github.com/containers/podman/v5/cmd/quadlet")
	build.Env = append(os.Environ(), "CGO_ENABLED=0",
		"GOFLAGS=-tags=remote,containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build quadlet:\n%s", out)
	units, err := filepath.Abs("../deploy")
	require.NoError(t, err)
	gen := exec.CommandContext(ctx, quadlet, "-dryrun")
	gen.Env = append(os.Environ(), "QUADLET_UNIT_DIRS="+units)
	var stdout, stderr strings.Builder
	gen.Stdout, gen.Stderr = &stdout, &stderr
	require.NoError(t, gen.Run(), "quadlet -dryrun: %s", stderr.String())
	require.NotContains(t, stderr.String(), "unsupported", "quadlet knows every key")
	generated, ok := strings.CutPrefix(stdout.String(), "---reehub.service---\n")
	require.True(t, ok, "quadlet generated reehub.service:\n%s%s", stdout.String(), stderr.String())
	var execStart string
	for _, line := range strings.Split(generated, "\n") {
		if s, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execStart = s
		}
	}
	for _, want := range []string{"/usr/bin/podman run ", "--name reehub ", "--network host ", "--pid=host ",
		"-v /run/podman/podman.sock:/run/podman/podman.sock ", "-v /var/lib/reehub:/var/lib/reehub ",
		"--env-file /etc/reehub/reehub.env ", " localhost/reehub:latest serve"} {
		require.Contains(t, execStart, want, "the generated ExecStart")
	}
	generatedUnit := filepath.Join(dir, "reehub-quadlet.service")
	require.NoError(t, os.WriteFile(generatedUnit, []byte(generated), 0o644))
	verify(generatedUnit)
}
