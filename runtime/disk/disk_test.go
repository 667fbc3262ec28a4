package disk

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
)

func TestParseType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ImageType
		ok   bool
	}{
		{"oem", OEM, true}, {"vmx", VMX, true}, {"qcow2", QCOW2, true}, {"iso", ISO, true},
		{"xen", "", false}, {"oci", "", false}, {"", "", false}, {"OEM", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseType(tt.in)
			if tt.ok {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.ErrorIs(t, err, fault.ErrInvalid)
			var ute *UnsupportedTypeError
			require.ErrorAs(t, err, &ute)
			require.Equal(t, tt.in, ute.Type)
			require.Contains(t, err.Error(), "oem, vmx, qcow2, iso")
		})
	}
}

func TestPackages(t *testing.T) {
	t.Parallel()
	for _, typ := range Types() {
		p := Packages(typ)
		for _, want := range []string{"linux-image-amd64", "initramfs-tools", "systemd-sysv", "grub-pc-bin", "grub-efi-amd64-bin"} {
			require.Contains(t, p, want, typ)
		}
		if typ == ISO {
			require.Contains(t, p, "live-boot")
		} else {
			require.NotContains(t, p, "live-boot", typ)
			require.Contains(t, p, "e2fsprogs", typ)
		}
	}
	require.Nil(t, Packages("xen"))
	require.Equal(t, []Phase{PhaseUnpack, PhaseConfigure, PhaseRootFS, PhaseBootloader, PhaseDisk, PhaseConvert}, Phases(QCOW2))
	require.Equal(t, []Phase{PhaseUnpack, PhaseConfigure, PhaseRootFS, PhaseBootloader, PhaseDisk}, Phases(OEM))
}

// fakeCore is a core image of n sectors whose first sector carries
// diskboot.img's default blocklist (start 2, n-1 sectors, segment 0x820).
func fakeCore(n int) []byte {
	core := make([]byte, n*sectorSize)
	binary.LittleEndian.PutUint64(core[blocklistStart:], 2)
	binary.LittleEndian.PutUint16(core[blocklistStart+8:], uint16(n-1))
	binary.LittleEndian.PutUint16(core[blocklistStart+10:], blocklistSegment)
	return core
}

func TestPatchBoot(t *testing.T) {
	t.Parallel()
	boot := bytes.Repeat([]byte{0xaa}, sectorSize)
	first, err := patchBoot(boot, fakeCore(60), 2048)
	require.NoError(t, err)
	require.EqualValues(t, 2048, binary.LittleEndian.Uint64(boot[bootKernelSector:]))
	require.Equal(t, []byte{0x90, 0x90}, boot[bootDriveCheck:bootDriveCheck+2])
	require.EqualValues(t, 2049, binary.LittleEndian.Uint64(first[blocklistStart:]))
	require.EqualValues(t, 59, binary.LittleEndian.Uint16(first[blocklistStart+8:]))

	bad := fakeCore(60)
	binary.LittleEndian.PutUint16(bad[blocklistStart+10:], 0x7c0)
	_, err = patchBoot(boot, bad, 2048)
	require.ErrorContains(t, err, "not a GRUB i386-pc core image")
	short := fakeCore(60)
	binary.LittleEndian.PutUint16(short[blocklistStart+8:], 10)
	_, err = patchBoot(boot, short, 2048)
	require.ErrorContains(t, err, "says 10 sectors")
}

func TestVersionOrder(t *testing.T) {
	t.Parallel()
	require.True(t, versionLess("6.1.0-9-amd64", "6.1.0-28-amd64"))
	require.True(t, versionLess("5.10.0-30-amd64", "6.1.0-1-amd64"))
	require.False(t, versionLess("6.1.0-28-amd64", "6.1.0-28-amd64"))
}

// tarOf is a tar stream of the given regular files.
func tarOf(t *testing.T, files map[string]string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(content))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return &buf
}

func TestAssembleRefusesWhatCannotBoot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		typ   ImageType
		files map[string]string
		want  string
	}{
		{"no kernel", OEM, map[string]string{"etc/os-release": "ID=debian\n"}, "no kernel with an initramfs"},
		{"kernel without initramfs", QCOW2, map[string]string{"boot/vmlinuz-6.1.0-28-amd64": "k"}, "no kernel with an initramfs"},
		{"no grub", OEM, map[string]string{"boot/vmlinuz-6.1.0-28-amd64": "k", "boot/initrd.img-6.1.0-28-amd64": "i"}, "install grub-pc-bin"},
		{"no efi grub", VMX, map[string]string{"boot/vmlinuz-6.1.0-28-amd64": "k", "boot/initrd.img-6.1.0-28-amd64": "i", "usr/lib/grub/i386-pc/normal.mod": "m"}, "install grub-efi-amd64-bin"},
		{"iso without live-boot", ISO, map[string]string{"boot/vmlinuz-6.1.0-28-amd64": "k", "boot/initrd.img-6.1.0-28-amd64": "i",
			"usr/lib/grub/i386-pc/normal.mod": "m", "usr/lib/grub/x86_64-efi/normal.mod": "m"}, "install live-boot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := filepath.Join(dir, "out.img")
			require.NoError(t, os.WriteFile(out, []byte("stale"), 0o644))
			_, err := Assemble(context.Background(), tt.typ, tarOf(t, tt.files), out, Opts{WorkDir: dir})
			require.ErrorIs(t, err, fault.ErrInvalid)
			require.ErrorContains(t, err, tt.want)
			_, err = os.Stat(out)
			require.True(t, errors.Is(err, os.ErrNotExist), "the output is removed after a failure")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries, "the working directory is removed")
		})
	}
}

func TestAssembleUnsupportedType(t *testing.T) {
	t.Parallel()
	_, err := Assemble(context.Background(), "xen", bytes.NewReader(nil), filepath.Join(t.TempDir(), "x"), Opts{})
	var ute *UnsupportedTypeError
	require.ErrorAs(t, err, &ute)
	require.ErrorIs(t, err, fault.ErrInvalid)
}

func TestAssembleCancelled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	defer pw.Close()
	done := make(chan error, 1)
	var phases []Phase
	go func() {
		_, err := Assemble(ctx, OEM, pr, filepath.Join(dir, "out.raw"), Opts{WorkDir: dir, Progress: func(p Progress) { phases = append(phases, p.Phase) }})
		done <- err
	}()
	// The tar stream never ends: only the cancellation stops tar.
	_, err := pw.Write(tarOf(t, map[string]string{"etc/hostname": "x\n"}).Bytes()[:1024])
	require.NoError(t, err)
	cancel()
	err = <-done
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, []Phase{PhaseUnpack}, phases)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing is left behind")
}
