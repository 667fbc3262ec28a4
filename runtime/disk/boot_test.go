package disk

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
)

// bootMarker is what the test appliance's service writes to the serial
// console once systemd reached multi-user.target. Nothing else prints it:
// the unit's description differs.
const bootMarker = "REEHUB-DISK-TEST: the appliance booted"

// ovmf is Debian's UEFI firmware for qemu (package ovmf).
const ovmf = "/usr/share/ovmf/OVMF.fd"

// testDockerfile is the test appliance: the base image plus the packages of
// every disk type, a file with an unusual owner and mode, and an enabled
// service that prints bootMarker on the serial console.
func testDockerfile() string {
	pkgs := slices.Concat(Packages(OEM), Packages(ISO))
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)
	return "FROM " + baseimage.Ref("debian_bookworm") + "\n" +
		"RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends " + strings.Join(pkgs, " ") +
		" && apt-get clean && rm -rf /var/lib/apt/lists/*\n" +
		"RUN install -d /srv && install -o 1234 -g 4321 -m 0604 /dev/null /srv/owned && " +
		"printf '[Unit]\\nDescription=reehub test marker\\n\\n[Service]\\nType=oneshot\\nExecStart=/bin/sh -c \"echo %s > /dev/ttyS0\"\\n\\n[Install]\\nWantedBy=multi-user.target\\n' '" + bootMarker + "' " +
		"> /etc/systemd/system/reehub-marker.service && systemctl enable reehub-marker.service\n"
}

// testImage is the built test appliance.
type testImage struct {
	ref   string
	built time.Duration // zero when the image was there already
}

var (
	imageOnce sync.Once
	image     testImage
	imageErr  error
)

// applianceImage builds the test appliance with podman once per tag (the
// hash of its Dockerfile), so that later runs and CI reuse it.
func applianceImage(t *testing.T) testImage {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skipf("podman is not installed: %v", err)
	}
	if _, err := os.Stat("/run/podman/podman.sock"); err != nil {
		t.Skipf("podman service socket absent (run scripts/setup-host.sh): %v", err)
	}
	imageOnce.Do(func() { image, imageErr = buildAppliance(t) })
	require.NoError(t, imageErr)
	return image
}

func buildAppliance(t *testing.T) (testImage, error) {
	ctx := context.Background()
	df := testDockerfile()
	sum := sha256.Sum256([]byte(df))
	ref := "localhost/reehub-disk-test:" + hex.EncodeToString(sum[:6])
	if exec.Command("podman", "image", "exists", ref).Run() == nil {
		return testImage{ref: ref}, nil
	}
	rt, err := podman.Connect(ctx, "unix:///run/podman/podman.sock")
	if err != nil {
		return testImage{}, err
	}
	if _, err := baseimage.Ensure(ctx, rt, "debian_bookworm", baseimage.EnsureOpts{}); err != nil {
		return testImage{}, err
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		return testImage{}, err
	}
	start := time.Now()
	out, err := exec.Command("podman", "build", "--pull=never", "--label", "io.reehub.test=disk", "-t", ref, dir).CombinedOutput()
	if err != nil {
		return testImage{}, fmt.Errorf("podman build: %w: %s", err, tailOf(string(out), 3000))
	}
	return testImage{ref: ref, built: time.Since(start)}, nil
}

// exportRootfs streams the file system of a container of ref (podman export).
func exportRootfs(t *testing.T, ref string) io.ReadCloser {
	t.Helper()
	out, err := exec.Command("podman", "create", ref, "/bin/true").Output()
	require.NoError(t, err, "podman create")
	id := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("podman", "rm", "-f", id).Run() })
	cmd := exec.Command("podman", "export", id)
	rd, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Wait() })
	return rd
}

func assemble(t *testing.T, ref string, typ ImageType, out string) (Result, []Phase, time.Duration) {
	t.Helper()
	rd := exportRootfs(t, ref)
	defer rd.Close()
	var phases []Phase
	var log strings.Builder
	start := time.Now()
	// panic=-1: a kernel that panics reboots, and qemu -no-reboot exits, so
	// the boot fails at once with the panic on the console.
	res, err := Assemble(context.Background(), typ, rd, out, Opts{WorkDir: t.TempDir(), Log: &log, KernelArgs: []string{"panic=-1"}, Progress: func(p Progress) {
		require.Equal(t, len(Phases(typ)), p.Steps)
		require.Equal(t, len(phases)+1, p.Step)
		phases = append(phases, p.Phase)
	}})
	require.NoError(t, err, "assemble %s; tool output:\n%s", typ, tailOf(log.String(), 3000))
	return res, phases, time.Since(start)
}

// needQemu skips the test when qemu-system-x86_64 is not installed.
func needQemu(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skipf("qemu-system-x86_64 is not installed (package qemu-system-x86, group test of scripts/packages.txt): %v", err)
	}
}

// bootTimeout bounds one boot under TCG: REEHUB_DISK_BOOT_TIMEOUT (a Go
// duration), else 10 minutes. An idle 2-core machine boots in about two; the
// shared test machine, with a load of 50, took five.
func bootTimeout(t *testing.T) time.Duration {
	t.Helper()
	if s := os.Getenv("REEHUB_DISK_BOOT_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		require.NoError(t, err, "REEHUB_DISK_BOOT_TIMEOUT")
		return d
	}
	return 10 * time.Minute
}

// boot starts qemu (TCG, no KVM needed) on the image and waits until the
// serial console shows bootMarker, failing after bootTimeout. qemu is
// killed when boot returns.
func boot(t *testing.T, uefi bool, media ...string) time.Duration {
	t.Helper()
	timeout := bootTimeout(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"-machine", "pc", "-accel", "tcg", "-m", "1024", "-smp", "1", "-no-user-config", "-nodefaults",
		"-display", "none", "-serial", "stdio", "-no-reboot", "-snapshot"}
	if uefi {
		args = append(args, "-bios", ovmf)
	}
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", append(args, media...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	start := time.Now()
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	var console strings.Builder
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			console.WriteString(line + "\n")
			if strings.Contains(line, bootMarker) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if ok {
			return time.Since(start)
		}
		t.Fatalf("qemu ended without the marker on the serial console:\n%s", tailOf(console.String(), 6000))
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-found
		t.Fatalf("no marker on the serial console within %s:\n%s", timeout, tailOf(console.String(), 6000))
	}
	return 0
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// debugfsStat returns `debugfs -R "stat PATH"` of the ext4 image.
func debugfsStat(t *testing.T, img, path string) string {
	t.Helper()
	out, err := exec.Command("debugfs", "-R", "stat "+path, img).CombinedOutput()
	require.NoError(t, err, string(out))
	return string(out)
}

// rootPartition copies partition 3 of the oem disk into a file.
func rootPartition(t *testing.T, raw string) string {
	t.Helper()
	out, err := exec.Command("sgdisk", "-i", "3", raw).Output()
	require.NoError(t, err)
	var first, last int64
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "First sector:") {
			_, err = fmt.Sscanf(line, "First sector: %d", &first)
			require.NoError(t, err)
		}
		if strings.HasPrefix(line, "Last sector:") {
			_, err = fmt.Sscanf(line, "Last sector: %d", &last)
			require.NoError(t, err)
		}
	}
	require.EqualValues(t, rootStart, first)
	in, err := os.Open(raw)
	require.NoError(t, err)
	defer in.Close()
	part := filepath.Join(t.TempDir(), "root.ext4")
	f, err := os.Create(part)
	require.NoError(t, err)
	defer f.Close()
	_, err = io.Copy(f, io.NewSectionReader(in, first*sectorSize, (last-first+1)*sectorSize))
	require.NoError(t, err)
	return part
}

// TestOEMBoots assembles an oem disk from a real appliance and boots it on
// BIOS and UEFI firmware in qemu; it converts the same root file system to
// vmx and qcow2 and checks them with qemu-img.
func TestOEMBoots(t *testing.T) {
	t.Parallel()
	img := applianceImage(t)
	dir := t.TempDir()
	raw := filepath.Join(dir, "disk.raw")
	res, phases, took := assemble(t, img.ref, OEM, raw)
	require.Equal(t, Phases(OEM), phases)
	require.NotEmpty(t, res.Kernel)
	t.Logf("oem assembled in %s: %d bytes, kernel %s", took.Round(time.Millisecond), res.Size, res.Kernel)
	if img.built > 0 {
		t.Logf("figure: oem assembly %s / podman build of the appliance %s = %.2f", took.Round(time.Millisecond), img.built.Round(time.Millisecond), took.Seconds()/img.built.Seconds())
	}

	// The partition table and the root file system.
	out, err := exec.Command("sgdisk", "-v", raw).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "No problems found")
	part := rootPartition(t, raw)
	out, err = exec.Command("e2fsck", "-fn", part).CombinedOutput()
	require.NoError(t, err, string(out))
	owned := debugfsStat(t, part, "/srv/owned")
	require.Regexp(t, `User:\s+1234\s+Group:\s+4321`, owned)
	require.Regexp(t, `Mode:\s+0604`, owned)
	require.Regexp(t, `Mode:\s+04755`, debugfsStat(t, part, "/usr/bin/passwd"), "setuid kept")
	require.Regexp(t, `Group:\s+42\s`, debugfsStat(t, part, "/etc/shadow"), "group shadow kept")
	fstab, err := exec.Command("debugfs", "-R", "cat /etc/fstab", part).Output()
	require.NoError(t, err)
	require.Contains(t, string(fstab), "UUID="+res.RootUUID+" / ext4")

	needQemu(t)
	t.Run("bios", func(t *testing.T) {
		t.Parallel()
		t.Logf("booted to the marker in %s", boot(t, false, "-drive", "file="+raw+",format=raw,if=ide").Round(time.Second))
	})
	t.Run("uefi", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat(ovmf); err != nil {
			t.Skipf("UEFI firmware absent (package ovmf): %v", err)
		}
		t.Logf("booted to the marker in %s", boot(t, true, "-drive", "file="+raw+",format=raw,if=ide").Round(time.Second))
	})

	for _, tt := range []struct {
		typ    ImageType
		format string
	}{{VMX, "vmdk"}, {QCOW2, "qcow2"}} {
		t.Run(string(tt.typ), func(t *testing.T) {
			p := filepath.Join(dir, "disk."+string(tt.typ))
			res, phases, took := assemble(t, img.ref, tt.typ, p)
			require.Equal(t, Phases(tt.typ), phases)
			out, err := exec.Command("qemu-img", "info", "--output=json", p).Output()
			require.NoError(t, err)
			require.Contains(t, string(out), `"format": "`+tt.format+`"`)
			out, err = exec.Command("qemu-img", "check", p).CombinedOutput()
			require.NoError(t, err, string(out))
			require.Contains(t, string(out), "No errors were found")
			t.Logf("%s assembled in %s: %d bytes", tt.typ, took.Round(time.Millisecond), res.Size)
		})
	}
}

// TestISOBoots assembles an iso from a real appliance and boots it from a
// CD drive on BIOS and UEFI firmware in qemu.
func TestISOBoots(t *testing.T) {
	t.Parallel()
	img := applianceImage(t)
	iso := filepath.Join(t.TempDir(), "live.iso")
	res, phases, took := assemble(t, img.ref, ISO, iso)
	require.Equal(t, Phases(ISO), phases)
	t.Logf("iso assembled in %s: %d bytes, kernel %s", took.Round(time.Millisecond), res.Size, res.Kernel)
	out, err := exec.Command("xorriso", "-indev", iso, "-report_el_torito", "plain").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "El Torito boot img :   1  BIOS")
	require.Contains(t, string(out), "El Torito boot img :   2  UEFI")

	needQemu(t)
	t.Run("bios", func(t *testing.T) {
		t.Parallel()
		t.Logf("booted to the marker in %s", boot(t, false, "-cdrom", iso, "-boot", "d").Round(time.Second))
	})
	t.Run("uefi", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat(ovmf); err != nil {
			t.Skipf("UEFI firmware absent (package ovmf): %v", err)
		}
		t.Logf("booted to the marker in %s", boot(t, true, "-cdrom", iso, "-boot", "d").Round(time.Second))
	})
}
