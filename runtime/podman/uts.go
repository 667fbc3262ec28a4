package podman

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// A fixed hostname for RUN steps.
//
// Podman 4.3.1's build API cannot set a RUN step's hostname: each step gets
// a UTS namespace of its own named after the short ID of its working
// container, a random value that `hostname`, `uname -n`, /etc/hostname and
// $HOSTNAME show to the build. The API does take namespace options, and a
// RUN step can join an existing UTS namespace by path (like `podman build
// --uts PATH`). PrepareUTSNamespace makes such a namespace, persistent
// (bind-mounted onto a file) and with a fixed hostname, on this host.

// PrepareUTSNamespace makes path a persistent UTS namespace whose hostname is
// hostname, unless it already is one: path's directory becomes a private
// bind mount of itself (a namespace can only be bind-mounted below a mount
// that does not propagate), and util-linux's unshare creates the namespace
// and mounts it onto path. It needs root on the Podman service's host (the
// service reads path there), and util-linux's unshare, nsenter and mount.
func PrepareUTSNamespace(ctx context.Context, path, hostname string) error {
	if !filepath.IsAbs(path) || hostname == "" || strings.ContainsAny(hostname, " \t\n/") {
		return fmt.Errorf("UTS namespace %q with hostname %q: need an absolute path and a plain hostname", path, hostname)
	}
	if got, err := UTSHostname(ctx, path); err == nil {
		if got == hostname {
			return nil
		}
		return fmt.Errorf("UTS namespace %s has hostname %q, not %q (remove it with umount %s)", path, got, hostname, path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("UTS namespace: %w", err)
	}
	if !isMountPoint(dir) {
		if err := runCmd(exec.CommandContext(ctx, "mount", "--bind", dir, dir)); err != nil {
			return fmt.Errorf("UTS namespace: %w", err)
		}
	}
	if err := runCmd(exec.CommandContext(ctx, "mount", "--make-private", dir)); err != nil {
		return fmt.Errorf("UTS namespace: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return fmt.Errorf("UTS namespace: %w", err)
	}
	_ = f.Close()
	if err := runCmd(exec.CommandContext(ctx, "unshare", "--uts="+path, "hostname", hostname)); err != nil {
		return fmt.Errorf("UTS namespace: %w", err)
	}
	got, err := UTSHostname(ctx, path)
	if err != nil {
		return fmt.Errorf("UTS namespace: %w", err)
	}
	if got != hostname {
		return fmt.Errorf("UTS namespace %s: hostname %q after setting %q", path, got, hostname)
	}
	return nil
}

// UTSHostname returns the hostname of the persistent UTS namespace at path;
// an error when path is not one.
func UTSHostname(ctx context.Context, path string) (string, error) {
	out, err := exec.CommandContext(ctx, "nsenter", "--uts="+path, "hostname").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("nsenter --uts=%s: %s", path, bytes.TrimSpace(ee.Stderr))
		}
		return "", fmt.Errorf("nsenter --uts=%s: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// isMountPoint reports whether dir is the mount point of a mount in this
// process's mount namespace.
func isMountPoint(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// runCmd runs cmd and puts its output into the error when it fails.
func runCmd(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
