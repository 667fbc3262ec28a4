// Command reehub is the reehub server and its command-line tools:
//
//	reehub [serve] [flags]      run the server (the default)
//	reehub base-images          build the missing base images and exit
//	reehub gc [flags]           collect garbage (and apply retention) once
//	reehub sbom PATH|IMAGE      write an SBOM of a directory, archive or image
//	reehub scan PATH            scan a tree for licenses and copyrights
//	reehub version              print the version (also --version)
//	reehub help                 print this usage (also --help)
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
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			return usage(stdout, args[1:])
		case "-v", "-version", "--version", "version":
			_, err := fmt.Fprintln(stdout, "reehub", version)
			return err
		}
		if len(args[0]) > 0 && args[0][0] != '-' {
			cmd, args = args[0], args[1:]
		}
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "base-images":
		return buildBaseImages(ctx, args, stderr)
	case "gc":
		return collectGarbage(ctx, args, stdout, stderr)
	case "sbom":
		return sbomcmd.Run(ctx, args, stdout, stderr, lazyExporter{})
	case "scan":
		return scancmd.Run(ctx, args, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q (serve, base-images, gc, sbom, scan, version, help)", cmd)
	}
}

const commands = `reehub records and replays reproducible execution environments.

usage: reehub [command] [flags]

commands:
  serve        run the server (the default when no command is given)
  base-images  build the missing base images and exit
  gc           collect garbage once: unreferenced blobs, work directories, temporary files,
               images and networks of deleted processes; with --retention, expired processes first
  sbom         write an SBOM of a directory, archive or image (reehub sbom -h)
  scan         scan a tree for licenses and copyrights (reehub scan -h)
  version      print the version (also --version)
  help         print this help; "reehub help serve" prints the server's flags

`

// usage prints the commands, then the server's flags (or those of the command named in args).
func usage(stdout io.Writer, args []string) error {
	name := "serve"
	if len(args) > 0 {
		name = args[0]
	}
	switch name {
	case "serve", "base-images", "gc":
		if len(args) == 0 {
			if _, err := io.WriteString(stdout, commands); err != nil {
				return err
			}
		}
		_, err := parseConfig(name, []string{"-h"}, stdout)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	case "sbom", "scan":
		return run(context.Background(), []string{name, "-h"}, stdout, stdout)
	default:
		return fmt.Errorf("unknown command %q (serve, base-images, gc, sbom, scan, version, help)", name)
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
