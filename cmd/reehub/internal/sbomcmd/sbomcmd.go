// Package sbomcmd implements "reehub sbom PATH|IMAGE [-o FORMAT]": an SBOM of
// a directory, an image archive, or a Podman image, written to stdout.
package sbomcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/fault"
)

// ImageExporter writes an image, named as Podman names it, as a
// docker-archive stream.
type ImageExporter interface {
	// ExportImage writes the image ref to w as a docker-archive TAR.
	ExportImage(ctx context.Context, ref string, w io.Writer) error
}

// Formats lists the accepted -o values.
var formats = []string{"cyclonedx-json", "spdx-json", "spdx-tv"}

const usage = `usage: reehub sbom PATH|IMAGE [-o cyclonedx-json|spdx-json|spdx-tv]

PATH is a directory (an unpacked root file system) or an image archive
(docker-archive, OCI archive or a root file system TAR). Anything else is
taken as the name of a Podman image. The SBOM is written to stdout.
`

// Run parses args (without the "sbom" word) and writes the SBOM to stdout.
// images may be nil, in which case only paths are accepted.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, images ImageExporter) error {
	fsFlags := flag.NewFlagSet("sbom", flag.ContinueOnError)
	fsFlags.SetOutput(stderr)
	fsFlags.Usage = func() { fmt.Fprint(stderr, usage) }
	format := fsFlags.String("o", "cyclonedx-json", "output format: cyclonedx-json, spdx-json or spdx-tv")
	fsFlags.StringVar(format, "output", "cyclonedx-json", "same as -o")
	var targets []string
	rest := args
	for {
		if err := fsFlags.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return fault.Invalidf("sbom: %v", err)
		}
		if fsFlags.NArg() == 0 {
			break
		}
		targets = append(targets, fsFlags.Arg(0))
		rest = fsFlags.Args()[1:]
	}
	if len(targets) != 1 {
		fmt.Fprint(stderr, usage)
		return fault.Invalidf("sbom: expected one PATH or IMAGE, got %d", len(targets))
	}
	write, err := writer(*format)
	if err != nil {
		return err
	}
	src, cleanup, err := open(ctx, targets[0], images)
	if err != nil {
		return err
	}
	defer cleanup()
	doc, err := sbom.Scan(ctx, src, nil)
	if err != nil {
		return err
	}
	return write(doc, stdout)
}

func writer(format string) (func(*sbom.SBOM, io.Writer) error, error) {
	switch format {
	case "cyclonedx-json", "cyclonedx", "cdx":
		return (*sbom.SBOM).WriteCycloneDX, nil
	case "spdx-json":
		return (*sbom.SBOM).WriteSPDXJSON, nil
	case "spdx-tv", "spdx-tag-value", "spdx":
		return (*sbom.SBOM).WriteSPDXTagValue, nil
	}
	return nil, fault.Invalidf("sbom: unknown output format %q (want one of %s)", format, strings.Join(formats, ", "))
}

// open turns the target into a Source: a directory, an archive, or an image
// exported to a temporary archive.
func open(ctx context.Context, target string, images ImageExporter) (rootfs.Source, func(), error) {
	keep := &rootfs.ArchiveOptions{Keep: sbom.Keep(nil)}
	fi, err := os.Stat(target)
	switch {
	case err == nil && fi.IsDir():
		src, err := rootfs.OpenDir(target)
		if err != nil {
			return nil, nil, err
		}
		return src, func() { _ = src.Close() }, nil
	case err == nil:
		src, err := rootfs.OpenArchive(ctx, target, keep)
		if err != nil {
			return nil, nil, err
		}
		return src, func() { _ = src.Close() }, nil
	case !os.IsNotExist(err):
		return nil, nil, fmt.Errorf("sbom: %w", err)
	}
	if images == nil {
		return nil, nil, fault.NotFoundf("sbom: %s is not a file or directory, and images are not available here", target)
	}
	tmp, err := os.CreateTemp("", "reehub-sbom-*.tar")
	if err != nil {
		return nil, nil, fmt.Errorf("sbom: %w", err)
	}
	remove := func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }
	if err := images.ExportImage(ctx, target, tmp); err != nil {
		remove()
		return nil, nil, fmt.Errorf("sbom: export image %s: %w", target, err)
	}
	if err := tmp.Close(); err != nil {
		remove()
		return nil, nil, fmt.Errorf("sbom: %w", err)
	}
	src, err := rootfs.OpenArchive(ctx, tmp.Name(), keep)
	if err != nil {
		remove()
		return nil, nil, err
	}
	return src, func() { _ = src.Close(); remove() }, nil
}
