package disk

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/reehub/reehub/fault"
)

// isoVolume is the ISO's volume id.
const isoVolume = "REEHUB_LIVE"

// iso makes the hybrid ISO: the tree as /live/filesystem.squashfs, the
// kernel and initramfs as /live/vmlinuz and /live/initrd.img, GRUB for BIOS
// (El Torito, no emulation, and an MBR for USB sticks) and UEFI (an El
// Torito FAT image that is also an appended EFI system partition).
func (a *assembly) iso(ctx context.Context, tree string, boot bootFiles, out string) (Result, error) {
	biosMods, err := requireGrub(tree, "i386-pc", "grub-pc-bin")
	if err != nil {
		return Result{}, err
	}
	efiMods, err := requireGrub(tree, "x86_64-efi", "grub-efi-amd64-bin")
	if err != nil {
		return Result{}, err
	}
	if _, err := os.Stat(filepath.Join(tree, "usr", "share", "initramfs-tools", "scripts", "live")); err != nil {
		return Result{}, fault.Invalidf("the root file system has no live-boot initramfs scripts (/usr/share/initramfs-tools/scripts/live), which an iso boots with (install live-boot)")
	}
	stamp, err := randomHex(8)
	if err != nil {
		return Result{}, err
	}
	// The EFI image finds the ISO's file system by this file: it starts on
	// the El Torito FAT image, not on the ISO.
	marker := "/boot/grub/reehub-" + stamp

	a.phase(PhaseConfigure)
	cd := filepath.Join(a.work, "iso")
	args := append([]string{"boot=live", "console=tty0", "console=ttyS0,115200", "no_timer_check"}, a.opts.KernelArgs...)
	search := "search --no-floppy --file --set=root " + marker
	for p, content := range map[string][]byte{
		"/boot/grub/grub.cfg": grubConfig(search, "/live/vmlinuz", "/live/initrd.img", args),
		marker:                []byte("reehub live image\n"),
	} {
		if err := writeFile(cd, p, content, 0o644); err != nil {
			return Result{}, err
		}
	}
	for dst, src := range map[string]string{"i386-pc": biosMods, "x86_64-efi": efiMods} {
		if err := copyTree(src, filepath.Join(cd, "boot", "grub", dst)); err != nil {
			return Result{}, err
		}
	}
	for dst, src := range map[string]string{"vmlinuz": boot.kernel, "initrd.img": boot.initrd} {
		data, err := os.ReadFile(filepath.Join(tree, src))
		if err != nil {
			return Result{}, fmt.Errorf("copy %s: %w", src, err)
		}
		if err := writeFile(cd, "/live/"+dst, data, 0o644); err != nil {
			return Result{}, err
		}
	}

	a.phase(PhaseRootFS)
	sq := exec.CommandContext(ctx, "mksquashfs", tree, filepath.Join(cd, "live", "filesystem.squashfs"),
		"-noappend", "-no-progress", "-comp", "gzip", "-xattrs")
	if err := run(ctx, sq, a.opts.Log); err != nil {
		return Result{}, fmt.Errorf("make the squashfs root: %w", err)
	}

	a.phase(PhaseBootloader)
	early := filepath.Join(a.work, "early.cfg")
	if err := os.WriteFile(early, []byte(fmt.Sprintf("%s\nset prefix=($root)/boot/grub\n", search)), 0o644); err != nil {
		return Result{}, fmt.Errorf("write GRUB's early config: %w", err)
	}
	bios := filepath.Join(cd, "boot", "grub", "bios.img")
	mkBIOS := exec.CommandContext(ctx, "grub-mkimage", "-O", "i386-pc-eltorito", "-d", biosMods, "-c", early, "-p", "/boot/grub", "-o", bios,
		"biosdisk", "iso9660", "search", "search_fs_file")
	if err := run(ctx, mkBIOS, a.opts.Log); err != nil {
		return Result{}, fmt.Errorf("make GRUB's El Torito image: %w", err)
	}
	efi := filepath.Join(a.work, "BOOTX64.EFI")
	mkEFI := exec.CommandContext(ctx, "grub-mkimage", "-O", "x86_64-efi", "-d", efiMods, "-c", early, "-p", "/boot/grub", "-o", efi,
		"iso9660", "part_gpt", "part_msdos", "fat", "search", "search_fs_file")
	if err := run(ctx, mkEFI, a.opts.Log); err != nil {
		return Result{}, fmt.Errorf("make GRUB's EFI image: %w", err)
	}
	st, err := os.Stat(efi)
	if err != nil {
		return Result{}, fmt.Errorf("make GRUB's EFI image: %w", err)
	}
	volID, err := randomHex(4)
	if err != nil {
		return Result{}, err
	}
	espImg := filepath.Join(cd, "boot", "grub", "efi.img")
	if err := makeESP(ctx, espImg, roundUp(st.Size()+2<<20, 1<<20), false, volID, efi, a.opts.Log); err != nil {
		return Result{}, err
	}

	a.phase(PhaseDisk)
	xo := exec.CommandContext(ctx, "xorriso", "-as", "mkisofs", "-quiet", "-o", out, "-iso-level", "3", "-r", "-V", isoVolume,
		"-b", "boot/grub/bios.img", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "--grub2-boot-info",
		"--grub2-mbr", filepath.Join(biosMods, "boot_hybrid.img"),
		"--efi-boot", "boot/grub/efi.img", "-efi-boot-part", "--efi-boot-image", "--protective-msdos-label", cd)
	if err := run(ctx, xo, a.opts.Log); err != nil {
		return Result{}, fmt.Errorf("make the ISO: %w", err)
	}
	return Result{}, nil
}
