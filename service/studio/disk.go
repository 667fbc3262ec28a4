package studio

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ContainerImageTypes are the image types built from the recorded image
// itself: oci and docker (image archives) and rootfs (the root file system as
// a tar.gz).
var ContainerImageTypes = []string{"oci", "docker", "rootfs"}

// DiskImageTypes are the bootable disk image types, assembled by Disks from
// the exported root file system: oem (a raw disk), vmx (VMDK), iso and qcow2.
var DiskImageTypes = []string{"oem", "vmx", "iso", "qcow2"}

// DiskRequest is one disk image to assemble.
type DiskRequest struct {
	// ImageType is one of DiskImageTypes.
	ImageType string
	// RootFS is the path of the build's root file system, an uncompressed tar
	// exported from the built image (with the boot packages installed).
	RootFS string
	// Dir is a work directory of the build, removed after it; the disk file
	// is written there.
	Dir string
	// Arch is the Debian architecture (amd64 or i386).
	Arch string
	// Name and Version name the appliance (volume labels, file names).
	Name, Version string
	// Log receives the tools' output for the build log.
	Log io.Writer
	// Progress reports the assembly's progress, 0 to 100 within the step.
	Progress func(percent int, message string)
}

// Disks is the seam for disk images (package runtime/disk implements it and
// cmd/reehub wires it in). Without it, the disk image types are refused with
// invalid_image_type.
type Disks struct {
	// BootPackages returns the Debian packages a disk of imageType needs in
	// the root file system (a kernel, a boot loader, systemd as init...), for
	// arch (amd64 or i386). They are added to the appliance's packages
	// (resolved and pinned like the others) in the rendered Dockerfile.
	BootPackages func(imageType, arch string) []string
	// Assemble writes the disk file of req under req.Dir and returns its path.
	Assemble func(ctx context.Context, req DiskRequest) (string, error)
}

// FinishedBuild is what the registry hook receives for a finished build.
type FinishedBuild struct {
	// Build is the build as the API shows it.
	Build Build
	// OwnerID is the owner of the appliance.
	OwnerID int64
	// ApplianceName is the appliance's name.
	ApplianceName string
	// ImageArchive is the path of the build's image as a docker-archive (in
	// the blob store; read it, do not move it).
	ImageArchive string
}

// imageTypes are the image types this service builds.
func (s *Service) imageTypes() []string {
	if s.cfg.Disks == nil {
		return ContainerImageTypes
	}
	return append(slices.Clone(ContainerImageTypes), DiskImageTypes...)
}

func (s *Service) checkImageType(t string) error {
	if slices.Contains(s.imageTypes(), t) {
		return nil
	}
	if slices.Contains(DiskImageTypes, t) {
		return invalid("invalid_image_type", "image type %q is a disk image, which this server does not assemble yet (no disk assembler is configured); it builds %s", t, strings.Join(s.imageTypes(), ", "))
	}
	return invalid("invalid_image_type", "image type %q is not supported; this server builds %s", t, strings.Join(s.imageTypes(), ", "))
}

// ImageFileName is the file name of a build's image download.
func ImageFileName(b Build) string {
	ext := map[string]string{"oci": ".oci.tar", "docker": ".docker.tar", "rootfs": ".rootfs.tar.gz", "oem": ".raw", "vmx": ".vmdk", "iso": ".iso", "qcow2": ".qcow2"}[b.ImageType]
	return fmt.Sprintf("appliance-%d-%s-build-%d%s", b.ApplianceID, b.Version, b.ID, ext)
}

// Quota is the account's disk quota as Studio showed it.
type Quota struct {
	// Available is the quota, e.g. 15GB.
	Available string
	// Used is the share used, e.g. 4%.
	Used string
}

// Quota measures what the user's builds, overlay files and packages take
// against the configured quota.
func (s *Service) Quota(ctx context.Context, ownerID int64) (Quota, error) {
	used, err := s.store.StudioUsage(ctx, ownerID)
	if err != nil {
		return Quota{}, err
	}
	q := s.cfg.QuotaBytes
	pct := int64(0)
	if q > 0 {
		pct = (used*100 + q - 1) / q
	}
	return Quota{Available: fmt.Sprintf("%dGB", q>>30), Used: fmt.Sprintf("%d%%", pct)}, nil
}
