// Package cli is reehub's command-line client: the subcommands of the reehub
// binary that drive a reehub server through its API with the generated Go
// client (gen/client), such as `reehub login`, `reehub record DIR` and
// `reehub download ID`. It holds no server code: everything it does, a user
// could do with curl.
//
// Exit codes are documented in docs/cli.md: 0 done, 1 a process failed or the
// server refused the request, 2 usage, 3 the server cannot be reached, 4 the
// credentials are missing or refused.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes of the client commands.
const (
	ExitOK          = 0 // the command did what was asked
	ExitFailed      = 1 // a process failed, or the server refused the request
	ExitUsage       = 2 // bad command line
	ExitUnreachable = 3 // the server cannot be reached
	ExitAuth        = 4 // no credentials, or the server refused them
)

// ExitError is an error with the exit code the command ends with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the exit code for err: ExitOK for nil, the code of an
// ExitError, ExitFailed for anything else.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailed
}

// Usage wraps err as a usage error (exit code 2).
func Usage(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// UsageArgs wraps a cobra argument check so that its failures are usage errors.
func UsageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return Usage(err)
		}
		return nil
	}
}

// Options are what the client commands read and write besides the server.
type Options struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (REEHUB_SERVER, REEHUB_TOKEN, REEHUB_CONFIG).
	Getenv func(string) string
	// IsTerminal tells whether w is a terminal (progress bars and prompts only then).
	IsTerminal func(w io.Writer) bool
	// PollInterval is how often --follow asks the server; one second when zero.
	PollInterval time.Duration
}

// flags are the persistent flags every client command shares.
type flags struct {
	server string
	token  string
	output string
}

// app is the state of one invocation: its options and flags.
type app struct {
	Options
	flags flags
}

// AddCommands adds the client commands and their persistent flags to root.
func AddCommands(root *cobra.Command, o Options) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.IsTerminal == nil {
		o.IsTerminal = func(io.Writer) bool { return false }
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	c := &app{Options: o}
	pf := root.PersistentFlags()
	pf.StringVar(&c.flags.server, "server", "", "reehub server URL (default: $REEHUB_SERVER, then the one reehub login stored)")
	pf.StringVar(&c.flags.token, "token", "", "API token (default: $REEHUB_TOKEN, then the one reehub login stored)")
	pf.StringVar(&c.flags.output, "output", "text", "output format: text or json")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))

	root.AddGroup(&cobra.Group{ID: "ree", Title: "Reproducible execution environments:"},
		&cobra.Group{ID: "families", Title: "Other API families:"})
	for _, cmd := range []*cobra.Command{
		c.loginCommand(), c.logoutCommand(), c.recordCommand(), c.replayCommand(), c.statusCommand(),
		c.logsCommand(), c.downloadCommand(), c.imagesCommand(), c.psCommand(), c.cancelCommand(),
	} {
		cmd.GroupID = "ree"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.workflowsCommand(), c.uploadsCommand(), c.registryCommand(), c.appliancesCommand()} {
		cmd.GroupID = "families"
		root.AddCommand(cmd)
	}
}

// validateOutput checks --output before a command talks to the server.
func (c *app) validateOutput() error {
	switch c.flags.output {
	case "text", "json":
		return nil
	}
	return Usage(fmt.Errorf("--output %q: want text or json", c.flags.output))
}
