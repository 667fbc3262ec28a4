package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/disk"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/registry"
	"github.com/reehub/reehub/service/studio"
)

// studioDisks is the Studio family's seam to runtime/disk: the boot packages
// a disk image type needs in the appliance and the assembly of the disk from
// the build's exported root file system. Disks are amd64 only (runtime/disk
// links GRUB's i386-pc and x86_64-efi images); the Studio service refuses
// disk builds of other architectures before anything runs.
func studioDisks() *studio.Disks {
	return &studio.Disks{
		BootPackages: func(imageType, arch string) []string {
			t, err := disk.ParseType(imageType)
			if err != nil || arch != "amd64" {
				return nil
			}
			return disk.Packages(t)
		},
		Assemble: func(ctx context.Context, req studio.DiskRequest) (string, error) {
			t, err := disk.ParseType(req.ImageType)
			if err != nil {
				return "", err
			}
			if req.Arch != "amd64" {
				return "", fmt.Errorf("assemble a %s disk: architecture %s: disks are amd64 only", t, req.Arch)
			}
			in, err := os.Open(req.RootFS)
			if err != nil {
				return "", fmt.Errorf("assemble a %s disk: %w", t, err)
			}
			defer in.Close()
			out := filepath.Join(req.Dir, "disk."+string(t))
			_, err = disk.Assemble(ctx, t, in, out, disk.Opts{WorkDir: req.Dir, Log: req.Log, Progress: func(p disk.Progress) {
				if req.Progress != nil {
					req.Progress((p.Step-1)*100/p.Steps, fmt.Sprintf("Assembling the %s disk: %s (%d/%d)", t, p.Phase, p.Step, p.Steps))
				}
			}})
			if err != nil {
				return "", err
			}
			return out, nil
		},
	}
}

// studioRegistered is the Studio family's hook into the registry: a
// finished appliance build's image was registered by its recording (as every
// process's image is, with the recording's provenance); the hook names it
// after the appliance and adds the appliance and build to that provenance.
func studioRegistered(reg *registry.Service) func(ctx context.Context, b studio.FinishedBuild) error {
	return func(ctx context.Context, b studio.FinishedBuild) error {
		title := fmt.Sprintf("%s %s (Studio appliance %d, build %d)", b.ApplianceName, b.Build.Version, b.Build.ApplianceID, b.Build.ID)
		return reg.AnnotateProduced(ctx, b.Build.ProcessID, title, map[string]any{
			"studio": map[string]any{
				"appliance_id": b.Build.ApplianceID, "appliance_name": b.ApplianceName, "build_id": b.Build.ID,
				"version": b.Build.Version, "image_type": b.Build.ImageType, "image_sha256": b.Build.SHA256,
			},
		})
	}
}

// studioArchBase names the catalogue's base image for a template base image
// and a foreign Debian architecture: <base>_<arch> when the catalogue has it
// with that architecture (debian_bookworm_i386).
func studioArchBase(base, arch string) (string, bool) {
	d, err := baseimage.Lookup(base + "_" + arch)
	return d.Name, err == nil && d.Arch == arch
}

// studioEnsureBase builds an on-demand base image (debootstrap --arch=i386)
// in the data directory's tmp, as `reehub base-images` does for the others.
func studioEnsureBase(rt *podman.Runtime, dataDir string) func(ctx context.Context, name string) error {
	return func(ctx context.Context, name string) error {
		_, err := baseimage.Ensure(ctx, rt, name, baseimage.EnsureOpts{WorkDir: filepath.Join(dataDir, "tmp")})
		return err
	}
}
