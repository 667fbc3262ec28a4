// Command reehub is the reehub server, its command-line tools, and a
// command-line client of the reehub API:
//
//	reehub [serve] [flags]      run the server (the default; --workers 0: API only)
//	reehub worker [flags]       run jobs only, no API (one Postgres, many instances)
//	reehub base-images          build the missing base images and exit
//	reehub gc [flags]           collect garbage (and apply retention) once
//	reehub sbom PATH|IMAGE      write an SBOM of a directory, archive or image
//	reehub scan PATH            scan a tree for licenses and copyrights
//	reehub login                store a server URL and an API token
//	reehub record DIR|ZIP       record a build (and replay, status, logs, download, ps, ...)
//	reehub completion SHELL     print a shell completion script
//	reehub version              print the version (also --version)
//
// The client commands are in internal/cli; docs/cli.md describes them and
// their exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/reehub/reehub/cmd/reehub/internal/cli"
	"github.com/reehub/reehub/cmd/reehub/internal/sbomcmd"
	"github.com/reehub/reehub/cmd/reehub/internal/scancmd"
	"github.com/reehub/reehub/runtime/podman"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "reehub:", err)
		os.Exit(cli.ExitCode(err))
	}
}

// stdio are the streams of one run.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// serverCommands are the commands that run on the server's machine; they
// parse their own flags (reehub help NAME lists them).
var serverCommands = []string{"serve", "worker", "base-images", "gc", "sbom", "scan"}

func run(ctx context.Context, args []string, std stdio) error {
	root := newRoot(ctx, std)
	root.SetArgs(defaultToServe(root, args))
	return root.ExecuteContext(ctx)
}

// defaultToServe keeps `reehub` and `reehub --addr ...` meaning `reehub
// serve`: with no command among the arguments and no help or version flag,
// the arguments are the server's.
func defaultToServe(root *cobra.Command, args []string) []string {
	if len(args) == 0 {
		return []string{"serve"}
	}
	if !strings.HasPrefix(args[0], "-") {
		return args
	}
	for _, a := range args {
		switch a {
		case "-h", "--help", "-help", "-v", "--version", "-version":
			return args
		}
		for _, c := range root.Commands() {
			if c.Name() == a || c.HasAlias(a) {
				return args
			}
		}
	}
	return append([]string{"serve"}, args...)
}

// newRoot builds the command tree.
func newRoot(ctx context.Context, std stdio) *cobra.Command {
	root := &cobra.Command{
		Use:   "reehub",
		Short: "reehub records and replays reproducible execution environments",
		Long: "reehub records every download a container build makes and rebuilds the image offline from that\n" +
			"recording, pins environments by SBOM, runs workflows, scans software for licenses, and keeps images.\n\n" +
			"Run with no command (or serve) it is the server; `reehub help serve` lists the server's flags.\n" +
			"The client commands talk to a server: start with `reehub login --server URL`.",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.Usage(fmt.Errorf("unknown command %q (reehub --help lists them)", args[0]))
			}
			return cmd.Help()
		},
	}
	root.SetIn(std.in)
	root.SetOut(std.out)
	root.SetErr(std.err)
	root.SetVersionTemplate("reehub {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.Usage(err) })
	root.AddGroup(&cobra.Group{ID: "server", Title: "Server commands (on the server's machine):"})
	for _, name := range serverCommands {
		root.AddCommand(serverCommand(ctx, name, std))
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version (also --version)",
		Args:  cli.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(std.out, "reehub", version)
			return err
		},
	})
	cli.AddCommands(root, cli.Options{
		Stdin:  std.in,
		Stdout: std.out,
		Stderr: std.err,
		IsTerminal: func(w io.Writer) bool {
			f, ok := w.(*os.File)
			return ok && term.IsTerminal(int(f.Fd()))
		},
	})
	return root
}

// serverShort are the one-line descriptions of the server commands.
var serverShort = map[string]string{
	"serve":       "Run the server (the default when no command is given); --workers 0 serves the API only",
	"worker":      "Run jobs only, without the API (several instances share one Postgres database and blob store)",
	"base-images": "Build the missing base images and exit",
	"gc":          "Collect garbage once: unreferenced blobs, work directories, temporary files, images and networks of deleted processes; with --retention, expired processes first",
	"sbom":        "Write an SBOM of a directory, archive or image",
	"scan":        "Scan a tree for licenses and copyrights",
}

// serverCommand wraps one server command, which parses its own flags.
func serverCommand(ctx context.Context, name string, std stdio) *cobra.Command {
	runIt := func(args []string) error {
		switch name {
		case "serve":
			return serve(ctx, args, std.err)
		case "worker":
			return work(ctx, args, std.err)
		case "base-images":
			return buildBaseImages(ctx, args, std.err)
		case "gc":
			return collectGarbage(ctx, args, std.out, std.err)
		case "sbom":
			return sbomcmd.Run(ctx, args, std.out, std.err, lazyExporter{})
		default:
			return scancmd.Run(ctx, args, std.out, std.err)
		}
	}
	cmd := &cobra.Command{
		Use:                name + " [flags]",
		Short:              serverShort[name],
		GroupID:            "server",
		DisableFlagParsing: true,
		RunE:               func(_ *cobra.Command, args []string) error { return runIt(args) },
	}
	// `reehub help NAME` prints the command's own flags.
	cmd.SetHelpFunc(func(*cobra.Command, []string) {
		switch name {
		case "serve", "worker", "base-images", "gc":
			_, _ = parseConfig(name, []string{"-h"}, std.out)
		default:
			_ = runIt([]string{"-h"})
		}
	})
	return cmd
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
