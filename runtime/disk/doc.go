// Package disk assembles bootable disk images of Debian appliances from an
// exported root file system (the tar stream of `podman export`), with tools
// that need no loop device, no mount and no privileges beyond writing files
// as root: tar, mke2fs -d, mkfs.vfat -C and mtools, sgdisk, grub-mkimage,
// mksquashfs, xorriso and qemu-img.
//
// The root file system brings its own kernel, initramfs and boot loader
// modules: Packages says which Debian packages a disk type needs in the
// appliance, so the boot chain is part of the appliance's recorded build.
// Only grub-mkimage runs from the host, and it links the root file system's
// own GRUB modules (/usr/lib/grub/i386-pc and x86_64-efi).
//
// The image types:
//
//   - oem: a raw GPT disk. Partition 1 is a BIOS boot partition holding GRUB's
//     i386-pc core image (the MBR boot code is GRUB's boot.img, patched here as
//     grub-bios-setup would), partition 2 an EFI system partition with GRUB as
//     \EFI\BOOT\BOOTX64.EFI (made with mkfs.vfat -C and mtools), partition 3
//     the ext4 root file system made with mke2fs -d from the unpacked tree.
//     GRUB finds the root by file system UUID; the kernel gets
//     root=PARTUUID=... and console=ttyS0. It boots on BIOS (SeaBIOS) and UEFI
//     (OVMF) firmware.
//   - vmx: the oem disk converted to a monolithic sparse VMDK.
//   - qcow2: the oem disk converted to qcow2.
//   - iso: a hybrid ISO 9660 image for BIOS (El Torito) and UEFI whose root
//     file system is a squashfs at /live/filesystem.squashfs, mounted at boot
//     by Debian's live-boot initramfs scripts (with a tmpfs overlay), so the
//     appliance needs the live-boot package.
//
// Assemble writes one image and reports its phases through a callback; it
// stops when its context is cancelled and leaves nothing behind on failure.
package disk
