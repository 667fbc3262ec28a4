package sbomcmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/cmd/reehub/internal/sbomcmd"
	"github.com/reehub/reehub/fault"
)

func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"etc/os-release":      "ID=debian\nVERSION_ID=\"12\"\n",
		"var/lib/dpkg/status": "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\n",
	} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

func TestRunFormats(t *testing.T) {
	t.Parallel()
	dir := tree(t)
	tarPath := filepath.Join(t.TempDir(), "rootfs.tar")
	out, err := exec.Command("tar", "-C", dir, "-cf", tarPath, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "default cyclonedx", args: []string{dir}, want: `"specVersion": "1.6"`},
		{name: "spdx json after path", args: []string{dir, "-o", "spdx-json"}, want: `"spdxVersion": "SPDX-2.3"`},
		{name: "spdx tag-value", args: []string{"-o", "spdx-tv", dir}, want: "SPDXVersion: SPDX-2.3"},
		{name: "archive", args: []string{"--output=cyclonedx-json", tarPath}, want: "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64\\u0026distro=debian-12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			require.NoError(t, sbomcmd.Run(context.Background(), tt.args, &stdout, &stderr, nil))
			require.Contains(t, stdout.String(), tt.want)
			require.Contains(t, stdout.String(), "bash")
		})
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	dir := tree(t)
	tests := []struct {
		name string
		args []string
		kind error
	}{
		{name: "no target", args: nil, kind: fault.ErrInvalid},
		{name: "two targets", args: []string{dir, dir}, kind: fault.ErrInvalid},
		{name: "bad format", args: []string{dir, "-o", "xml"}, kind: fault.ErrInvalid},
		{name: "unknown flag", args: []string{"--nope", dir}, kind: fault.ErrInvalid},
		{name: "image without exporter", args: []string{"localhost/none:latest"}, kind: fault.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := sbomcmd.Run(context.Background(), tt.args, io.Discard, io.Discard, nil)
			require.ErrorIs(t, err, tt.kind)
		})
	}
}

// podmanExporter exports images with the real podman CLI.
type podmanExporter struct{}

func (podmanExporter) ExportImage(ctx context.Context, ref string, w io.Writer) error {
	cmd := exec.CommandContext(ctx, "podman", "save", "-q", "--format", "docker-archive", ref)
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return &exportError{msg: strings.TrimSpace(stderr.String()), err: err}
	}
	return nil
}

type exportError struct {
	msg string
	err error
}

func (e *exportError) Error() string { return e.msg + ": " + e.err.Error() }

func TestRunPodmanImage(t *testing.T) {
	t.Parallel()
	const image = "localhost/debian_bookworm"
	if exec.Command("podman", "image", "exists", image).Run() != nil {
		t.Skip(image + " is not built on this machine")
	}
	var stdout bytes.Buffer
	require.NoError(t, sbomcmd.Run(context.Background(), []string{image, "-o", "cyclonedx-json"}, &stdout, io.Discard, podmanExporter{}))
	var bom struct {
		Metadata struct {
			Component struct{ Type, Name string }
		}
		Components []struct{ Name, Purl string }
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &bom))
	require.Equal(t, "container", bom.Metadata.Component.Type)
	require.Greater(t, len(bom.Components), 50)
	names := map[string]bool{}
	for _, c := range bom.Components {
		names[c.Name] = true
	}
	require.True(t, names["bash"])
	require.True(t, names["libc6"])

	err := sbomcmd.Run(context.Background(), []string{"localhost/does-not-exist-xyz"}, io.Discard, io.Discard, podmanExporter{})
	require.Error(t, err)
}
