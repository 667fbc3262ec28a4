// Command reehub is the reehub server and its command-line tools:
//
//	reehub [serve] [flags]      run the server (the default)
//	reehub base-images          build the missing base images and exit
//	reehub sbom PATH|IMAGE      write an SBOM of a directory, archive or image
//	reehub scan PATH            scan a tree for licenses and copyrights
//	reehub version              print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/reehub/reehub/cmd/reehub/internal/sbomcmd"
	"github.com/reehub/reehub/cmd/reehub/internal/scancmd"
	"github.com/reehub/reehub/runtime/podman"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "reehub:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "base-images":
		return buildBaseImages(ctx, args, stderr)
	case "sbom":
		return sbomcmd.Run(ctx, args, stdout, stderr, lazyExporter{})
	case "scan":
		return scancmd.Run(ctx, args, stdout, stderr)
	case "version":
		_, err := fmt.Fprintln(stdout, "reehub", version)
		return err
	default:
		return fmt.Errorf("unknown command %q (serve, base-images, sbom, scan, version)", cmd)
	}
}

// lazyExporter connects to Podman only when an image (not a path) is given to `reehub sbom`.
type lazyExporter struct{}

// ExportImage streams a docker-archive of ref from the local Podman service.
func (lazyExporter) ExportImage(ctx context.Context, ref string, w io.Writer) error {
	socket := os.Getenv("REEHUB_PODMAN_SOCKET")
	if socket == "" {
		socket = "unix:///run/podman/podman.sock"
	}
	rt, err := podman.Connect(ctx, socket)
	if err != nil {
		return err
	}
	return rt.ExportImage(ctx, ref, podman.DockerArchive, w)
}
