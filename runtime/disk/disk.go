package disk

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reehub/reehub/fault"
)

// ImageType is a kind of bootable image.
type ImageType string

const (
	// OEM is a raw GPT disk that boots on BIOS and UEFI firmware.
	OEM ImageType = "oem"
	// VMX is the OEM disk as a VMDK (monolithic sparse).
	VMX ImageType = "vmx"
	// QCOW2 is the OEM disk as qcow2.
	QCOW2 ImageType = "qcow2"
	// ISO is a hybrid ISO 9660 image with a squashfs root, booted by live-boot.
	ISO ImageType = "iso"
)

// Types returns every image type Assemble makes.
func Types() []ImageType { return []ImageType{OEM, VMX, QCOW2, ISO} }

// UnsupportedTypeError is the error for an image type that is not a disk
// type. It is a fault.ErrInvalid; its message names the supported types.
type UnsupportedTypeError struct {
	// Type is the type that was asked for.
	Type string
}

func (e *UnsupportedTypeError) Error() string {
	names := make([]string, 0, len(Types()))
	for _, t := range Types() {
		names = append(names, string(t))
	}
	return fmt.Sprintf("image type %q is not a disk image type (supported: %s)", e.Type, strings.Join(names, ", "))
}

// Is makes an UnsupportedTypeError a fault.ErrInvalid.
func (e *UnsupportedTypeError) Is(target error) bool { return target == fault.ErrInvalid }

// ParseType returns the image type named s, or an *UnsupportedTypeError.
func ParseType(s string) (ImageType, error) {
	if t := ImageType(s); slices.Contains(Types(), t) {
		return t, nil
	}
	return "", &UnsupportedTypeError{Type: s}
}

// Packages returns the Debian packages an appliance needs in its root file
// system for the image type t to boot: the kernel, the initramfs generator,
// systemd as init, udev, and GRUB's BIOS and EFI modules (which Assemble
// links into the boot loader); iso adds live-boot, oem, vmx and qcow2 add
// e2fsprogs (fsck of the ext4 root). It returns nil for a type that is not a
// disk type.
func Packages(t ImageType) []string {
	base := []string{"linux-image-amd64", "initramfs-tools", "systemd-sysv", "udev", "grub-pc-bin", "grub-efi-amd64-bin"}
	switch t {
	case OEM, VMX, QCOW2:
		return append(base, "e2fsprogs")
	case ISO:
		return append(base, "live-boot")
	}
	return nil
}

// Phase is one step of an assembly, in the order they run.
type Phase string

const (
	// PhaseUnpack unpacks the root file system tar, keeping owners and modes.
	PhaseUnpack Phase = "unpack"
	// PhaseConfigure writes fstab and grub.cfg into the tree.
	PhaseConfigure Phase = "configure"
	// PhaseRootFS makes the root file system image (mke2fs -d, or mksquashfs for iso).
	PhaseRootFS Phase = "rootfs"
	// PhaseBootloader makes GRUB's BIOS and EFI images and the EFI system partition.
	PhaseBootloader Phase = "bootloader"
	// PhaseDisk writes the partition table and the partitions (or the ISO).
	PhaseDisk Phase = "disk"
	// PhaseConvert converts the raw disk to VMDK or qcow2.
	PhaseConvert Phase = "convert"
)

// Phases returns the phases Assemble runs for the image type t, in order.
func Phases(t ImageType) []Phase {
	p := []Phase{PhaseUnpack, PhaseConfigure, PhaseRootFS, PhaseBootloader, PhaseDisk}
	if t == VMX || t == QCOW2 {
		p = append(p, PhaseConvert)
	}
	return p
}

// Progress reports that an assembly entered a phase.
type Progress struct {
	// Phase is the phase that starts.
	Phase Phase
	// Step is the 1-based position of Phase in Phases(type).
	Step int
	// Steps is len(Phases(type)).
	Steps int
}

// Opts configures Assemble. The zero value uses the defaults.
type Opts struct {
	// WorkDir is where the root file system is unpacked and the intermediate
	// images are made (about three times the unpacked size), in a fresh
	// directory that is removed again. Defaults to os.TempDir().
	WorkDir string
	// Progress, when set, is called as each phase starts.
	Progress func(Progress)
	// Log receives the output of the tools. Nil discards it.
	Log io.Writer
	// FreeSpace is how many bytes the root file system of a disk has free
	// beyond its content. Defaults to 256 MiB.
	FreeSpace int64
	// KernelArgs are appended to the kernel command line, after root=UUID=... ro (or,
	// for iso, boot=live), console=tty0 console=ttyS0,115200 and
	// no_timer_check (which keeps a slow virtual machine, such as qemu
	// without KVM on a busy host, from panicking in the IO-APIC timer check,
	// as Fedora's cloud images do).
	KernelArgs []string
}

func (o Opts) withDefaults() Opts {
	if o.WorkDir == "" {
		o.WorkDir = os.TempDir()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.FreeSpace <= 0 {
		o.FreeSpace = 256 << 20
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
	return o
}

// Result describes an assembled image.
type Result struct {
	// Type is the image type.
	Type ImageType
	// Path is the image file (Assemble's outPath).
	Path string
	// Size is the image file's size in bytes (its apparent size; raw disks are sparse).
	Size int64
	// Kernel is the kernel version booted, such as "6.1.0-28-amd64".
	Kernel string
	// RootUUID is the root file system's UUID (empty for iso).
	RootUUID string
	// RootPartUUID is the root partition's GPT unique GUID (empty for iso).
	RootPartUUID string
}

// Assemble makes an image of type t at outPath from rootfs, a tar stream of
// a Debian root file system that contains the packages Packages(t) names.
// It must run as root (to keep the tar's owners). Cancelling ctx kills the
// running tool; Assemble then returns even while a read from rootfs blocks
// (the caller closes rootfs to end that read). On
// any failure, including cancellation of ctx, it removes outPath and its
// working directory and returns the error: an *UnsupportedTypeError for a
// type that is not a disk type, a fault.ErrInvalid error for a root file
// system that lacks what the type needs.
func Assemble(ctx context.Context, t ImageType, rootfs io.Reader, outPath string, opts Opts) (res Result, err error) {
	if _, err := ParseType(string(t)); err != nil {
		return Result{}, err
	}
	opts = opts.withDefaults()
	work, err := os.MkdirTemp(opts.WorkDir, "reehub-disk-")
	if err != nil {
		return Result{}, fmt.Errorf("assemble %s: working directory: %w", t, err)
	}
	defer os.RemoveAll(work)
	defer func() {
		if err != nil {
			os.Remove(outPath)
			err = fmt.Errorf("assemble %s image: %w", t, err)
		}
	}()
	a := &assembly{typ: t, work: work, opts: opts, phases: Phases(t)}
	a.phase(PhaseUnpack)
	tree := filepath.Join(work, "root")
	if err := unpack(ctx, rootfs, tree, opts.Log); err != nil {
		return Result{}, err
	}
	boot, err := findBoot(tree)
	if err != nil {
		return Result{}, err
	}
	if t == ISO {
		res, err = a.iso(ctx, tree, boot, outPath)
	} else {
		res, err = a.disk(ctx, tree, boot, outPath)
	}
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	st, err := os.Stat(outPath)
	if err != nil {
		return Result{}, fmt.Errorf("stat the image: %w", err)
	}
	res.Type, res.Path, res.Size, res.Kernel = t, outPath, st.Size(), boot.version
	return res, nil
}

// assembly is the state of one Assemble call.
type assembly struct {
	typ    ImageType
	work   string
	opts   Opts
	phases []Phase
}

func (a *assembly) phase(p Phase) {
	a.opts.Progress(Progress{Phase: p, Step: slices.Index(a.phases, p) + 1, Steps: len(a.phases)})
}

// disk makes the raw GPT disk and, for vmx and qcow2, converts it.
func (a *assembly) disk(ctx context.Context, tree string, boot bootFiles, outPath string) (Result, error) {
	raw := outPath
	if a.typ != OEM {
		raw = filepath.Join(a.work, "disk.raw")
	}
	res, err := a.rawDisk(ctx, tree, boot, raw)
	if err != nil {
		return Result{}, err
	}
	if a.typ == OEM {
		return res, nil
	}
	a.phase(PhaseConvert)
	if err := convert(ctx, a.typ, raw, outPath, a.opts.Log); err != nil {
		return Result{}, err
	}
	return res, nil
}
