package disk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/google/uuid"
)

// The GPT layout of an oem disk, in 512-byte sectors.
const (
	sectorSize = 512
	// biosStart..biosEnd is the BIOS boot partition (1 MiB) that holds GRUB's core image.
	biosStart = 2048
	biosEnd   = 4095
	// espStart..espEnd is the EFI system partition (64 MiB, FAT32).
	espStart = 4096
	espSize  = 64 << 20
	espEnd   = espStart + espSize/sectorSize - 1
	// rootStart is where the root partition begins (66 MiB).
	rootStart = espEnd + 1
	// tailSectors are left after the root partition for the backup GPT (1 MiB).
	tailSectors = 2048
)

// GRUB's i386-pc boot.img and diskboot.img offsets (grub/include/grub/i386/pc/boot.h
// and grub-core/boot/i386/pc/diskboot.S), which grub-bios-setup patches.
const (
	// mbrCodeSize is how much of boot.img goes into the MBR: everything
	// before the disk signature and partition table.
	mbrCodeSize = 0x1b8
	// bootKernelSector is where boot.img keeps the LBA of the core image's
	// first sector (8 bytes, little-endian).
	bootKernelSector = 0x5c
	// bootDriveCheck is the 2-byte jump that grub-bios-setup replaces by two
	// NOPs for hard disks (a workaround for BIOSes that pass a wrong drive).
	bootDriveCheck = 0x66
	// blocklistStart is diskboot.img's blocklist entry (start LBA u64, length
	// u16, segment u16) at the end of the core image's first sector.
	blocklistStart = sectorSize - 12
	// blocklistSegment is the load segment of the blocklist entry (0x820).
	blocklistSegment = 0x820
)

// ids are the identifiers of one oem disk.
type ids struct {
	diskGUID, rootPartUUID, rootUUID string
	espVolID                         uint32
}

func newIDs() (ids, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ids{}, fmt.Errorf("random volume id: %w", err)
	}
	return ids{diskGUID: uuid.NewString(), rootPartUUID: uuid.NewString(), rootUUID: uuid.NewString(), espVolID: binary.LittleEndian.Uint32(b[:])}, nil
}

// espID is the ESP's volume id as blkid, fstab and GRUB write it: XXXX-XXXX.
func (i ids) espID() string {
	s := fmt.Sprintf("%08X", i.espVolID)
	return s[:4] + "-" + s[4:]
}

// rawDisk makes the raw GPT disk at out.
func (a *assembly) rawDisk(ctx context.Context, tree string, boot bootFiles, out string) (Result, error) {
	biosMods, err := requireGrub(tree, "i386-pc", "grub-pc-bin")
	if err != nil {
		return Result{}, err
	}
	efiMods, err := requireGrub(tree, "x86_64-efi", "grub-efi-amd64-bin")
	if err != nil {
		return Result{}, err
	}
	id, err := newIDs()
	if err != nil {
		return Result{}, err
	}

	a.phase(PhaseConfigure)
	fstab := fmt.Sprintf("# /etc/fstab: written by reehub when it assembled this disk.\n"+
		"UUID=%s / ext4 errors=remount-ro 0 1\n"+
		"UUID=%s /boot/efi vfat umask=0077,nofail 0 2\n", id.rootUUID, id.espID())
	if err := writeFile(tree, "/etc/fstab", []byte(fstab), 0o644); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(filepath.Join(tree, "boot", "efi"), 0o755); err != nil {
		return Result{}, fmt.Errorf("make /boot/efi: %w", err)
	}
	args := append([]string{"root=UUID=" + id.rootUUID, "ro", "console=tty0", "console=ttyS0,115200", "no_timer_check"}, a.opts.KernelArgs...)
	search := "search --no-floppy --fs-uuid --set=root " + id.rootUUID
	if err := writeFile(tree, "/boot/grub/grub.cfg", grubConfig(search, boot.kernel, boot.initrd, args), 0o644); err != nil {
		return Result{}, err
	}
	for dst, src := range map[string]string{"i386-pc": biosMods, "x86_64-efi": efiMods} {
		if err := copyTree(src, filepath.Join(tree, "boot", "grub", dst)); err != nil {
			return Result{}, err
		}
	}

	a.phase(PhaseRootFS)
	use, err := measure(tree)
	if err != nil {
		return Result{}, err
	}
	// ext4 metadata (inode tables, journal, group descriptors) takes about a
	// tenth of a small file system; a quarter more than the data is ample.
	rootBytes := roundUp(use.bytes+use.bytes/4+use.inodes*256+a.opts.FreeSpace, 1<<20)
	inodes := use.inodes + use.inodes/2 + 16384
	rootImg := filepath.Join(a.work, "root.ext4")
	mk := exec.CommandContext(ctx, "mke2fs", "-q", "-F", "-t", "ext4", "-O", "^orphan_file,^metadata_csum_seed",
		"-L", "root", "-U", id.rootUUID, "-N", strconv.FormatInt(inodes, 10), "-d", tree, rootImg, strconv.FormatInt(rootBytes/1024, 10)+"k")
	if err := run(ctx, mk, a.opts.Log); err != nil {
		return Result{}, fmt.Errorf("make the root file system: %w", err)
	}

	a.phase(PhaseBootloader)
	early := filepath.Join(a.work, "early.cfg")
	earlyCfg := fmt.Sprintf("search.fs_uuid %s root\nset prefix=($root)/boot/grub\n", id.rootUUID)
	if err := os.WriteFile(early, []byte(earlyCfg), 0o644); err != nil {
		return Result{}, fmt.Errorf("write GRUB's early config: %w", err)
	}
	core := filepath.Join(a.work, "core.img")
	mkCore := exec.CommandContext(ctx, "grub-mkimage", "-O", "i386-pc", "-d", biosMods, "-c", early, "-p", "/boot/grub", "-o", core,
		"biosdisk", "part_gpt", "ext2", "search_fs_uuid")
	if err := run(ctx, mkCore, a.opts.Log); err != nil {
		return Result{}, fmt.Errorf("make GRUB's BIOS core image: %w", err)
	}
	efi := filepath.Join(a.work, "BOOTX64.EFI")
	mkEFI := exec.CommandContext(ctx, "grub-mkimage", "-O", "x86_64-efi", "-d", efiMods, "-c", early, "-p", "/boot/grub", "-o", efi,
		"part_gpt", "ext2", "fat", "search_fs_uuid")
	if err := run(ctx, mkEFI, a.opts.Log); err != nil {
		return Result{}, fmt.Errorf("make GRUB's EFI image: %w", err)
	}
	esp := filepath.Join(a.work, "esp.vfat")
	if err := makeESP(ctx, esp, espSize, true, fmt.Sprintf("%08X", id.espVolID), efi, a.opts.Log); err != nil {
		return Result{}, err
	}

	a.phase(PhaseDisk)
	rootSectors := rootBytes / sectorSize
	rootEnd := rootStart + rootSectors - 1
	total := (rootEnd + 1 + tailSectors) * sectorSize
	f, err := os.OpenFile(out, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return Result{}, fmt.Errorf("create the disk: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(total); err != nil {
		return Result{}, fmt.Errorf("size the disk: %w", err)
	}
	sg := exec.CommandContext(ctx, "sgdisk", "--clear", "--disk-guid="+id.diskGUID,
		fmt.Sprintf("--new=1:%d:%d", biosStart, biosEnd), "--typecode=1:EF02", "--change-name=1:BIOS boot",
		fmt.Sprintf("--new=2:%d:%d", espStart, espEnd), "--typecode=2:EF00", "--change-name=2:EFI system",
		fmt.Sprintf("--new=3:%d:%d", rootStart, rootEnd), "--typecode=3:8304", "--partition-guid=3:"+id.rootPartUUID, "--change-name=3:root",
		out)
	if err := run(ctx, sg, a.opts.Log); err != nil {
		return Result{}, fmt.Errorf("write the partition table: %w", err)
	}
	for _, part := range []struct {
		path  string
		at    int64
		limit int64
	}{
		{core, biosStart, biosEnd},
		{esp, espStart, espEnd},
		{rootImg, rootStart, rootEnd},
	} {
		if err := copyAt(ctx, f, part.path, part.at*sectorSize, (part.limit-part.at+1)*sectorSize); err != nil {
			return Result{}, err
		}
	}
	if err := installMBR(f, filepath.Join(biosMods, "boot.img"), core, biosStart); err != nil {
		return Result{}, err
	}
	if err := f.Sync(); err != nil {
		return Result{}, fmt.Errorf("write the disk: %w", err)
	}
	return Result{RootUUID: id.rootUUID, RootPartUUID: id.rootPartUUID}, f.Close()
}

// makeESP makes an EFI system partition image of size bytes at path (FAT32
// when fat32 is set, else what mkfs.vfat picks for the size) with GRUB at the removable-media path \EFI\BOOT\BOOTX64.EFI, which
// firmware boots without any boot entry.
func makeESP(ctx context.Context, path string, size int64, fat32 bool, volID, efi string, log io.Writer) error {
	args := []string{"-C", "-n", "EFI", "-i", volID}
	if fat32 {
		args = append(args, "-F", "32", "-s", "1")
	}
	mk := exec.CommandContext(ctx, "mkfs.vfat", append(args, path, strconv.FormatInt(size/1024, 10))...)
	if err := run(ctx, mk, log); err != nil {
		return fmt.Errorf("make the EFI system partition: %w", err)
	}
	md := exec.CommandContext(ctx, "mmd", "-i", path, "::/EFI", "::/EFI/BOOT")
	md.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if err := run(ctx, md, log); err != nil {
		return fmt.Errorf("make the EFI system partition: %w", err)
	}
	cp := exec.CommandContext(ctx, "mcopy", "-i", path, efi, "::/EFI/BOOT/BOOTX64.EFI")
	cp.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if err := run(ctx, cp, log); err != nil {
		return fmt.Errorf("make the EFI system partition: %w", err)
	}
	return nil
}

// copyAt writes the file src into f at offset, refusing a file longer than
// limit and skipping blocks of zeros, so that the disk stays as sparse as
// the image was.
func copyAt(ctx context.Context, f *os.File, src string, offset, limit int64) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("write %s into the disk: %w", filepath.Base(src), err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("write %s into the disk: %w", filepath.Base(src), err)
	}
	if st.Size() > limit {
		return fmt.Errorf("write %s into the disk: %d bytes do not fit its %d-byte partition", filepath.Base(src), st.Size(), limit)
	}
	buf := make([]byte, 1<<20)
	zero := make([]byte, len(buf))
	for pos := int64(0); ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(in, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, werr := f.WriteAt(buf[:n], offset+pos); werr != nil {
				return fmt.Errorf("write %s into the disk: %w", filepath.Base(src), werr)
			}
		}
		pos += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("write %s into the disk: %w", filepath.Base(src), err)
		}
	}
}

// installMBR does what grub-bios-setup does for a core image embedded at
// LBA coreLBA: it writes boot.img's code into the MBR (keeping the
// partition table sgdisk wrote) pointing at the core image's first sector,
// and points the blocklist of the core image's first sector (diskboot.img)
// at the rest of it.
func installMBR(f *os.File, bootImg, coreImg string, coreLBA int64) error {
	boot, err := os.ReadFile(bootImg)
	if err != nil {
		return fmt.Errorf("install GRUB in the MBR: %w", err)
	}
	if len(boot) != sectorSize {
		return fmt.Errorf("install GRUB in the MBR: %s has %d bytes, want %d", bootImg, len(boot), sectorSize)
	}
	core, err := os.ReadFile(coreImg)
	if err != nil {
		return fmt.Errorf("install GRUB in the MBR: %w", err)
	}
	first, err := patchBoot(boot, core, coreLBA)
	if err != nil {
		return fmt.Errorf("install GRUB in the MBR: %w", err)
	}
	if _, err := f.WriteAt(boot[:mbrCodeSize], 0); err != nil {
		return fmt.Errorf("install GRUB in the MBR: %w", err)
	}
	if _, err := f.WriteAt(first, coreLBA*sectorSize); err != nil {
		return fmt.Errorf("install GRUB in the MBR: %w", err)
	}
	return nil
}

// patchBoot patches boot (boot.img, in place) to load the core image from
// coreLBA and returns the core image's first sector patched to load the
// remaining sectors from coreLBA+1.
func patchBoot(boot, core []byte, coreLBA int64) ([]byte, error) {
	if len(core) < 2*sectorSize {
		return nil, fmt.Errorf("the core image has %d bytes, too few for GRUB", len(core))
	}
	first := bytes.Clone(core[:sectorSize])
	if seg := binary.LittleEndian.Uint16(first[blocklistStart+10:]); seg != blocklistSegment {
		return nil, fmt.Errorf("the core image's blocklist has segment %#x, want %#x: not a GRUB i386-pc core image", seg, blocklistSegment)
	}
	rest := (len(core) - sectorSize + sectorSize - 1) / sectorSize
	if got := int(binary.LittleEndian.Uint16(first[blocklistStart+8:])); got != rest {
		return nil, fmt.Errorf("the core image's blocklist says %d sectors, the image has %d", got, rest)
	}
	binary.LittleEndian.PutUint64(first[blocklistStart:], uint64(coreLBA+1))
	binary.LittleEndian.PutUint64(boot[bootKernelSector:], uint64(coreLBA))
	boot[bootDriveCheck], boot[bootDriveCheck+1] = 0x90, 0x90
	return first, nil
}

// convert converts the raw disk to a VMDK (vmx) or qcow2 image with qemu-img.
func convert(ctx context.Context, t ImageType, raw, out string, log io.Writer) error {
	args := []string{"convert", "-q", "-f", "raw"}
	switch t {
	case VMX:
		args = append(args, "-O", "vmdk", "-o", "subformat=monolithicSparse,adapter_type=lsilogic")
	case QCOW2:
		args = append(args, "-O", "qcow2")
	default:
		return fmt.Errorf("convert to %s: %w", t, &UnsupportedTypeError{Type: string(t)})
	}
	if err := run(ctx, exec.CommandContext(ctx, "qemu-img", append(args, raw, out)...), log); err != nil {
		return fmt.Errorf("convert the disk to %s: %w", t, err)
	}
	return nil
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// randomHex returns n random bytes in hex.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}
