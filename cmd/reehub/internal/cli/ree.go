package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/reehub/reehub/gen/client"
)

// finalStates are the states a process does not leave.
var finalStates = map[client.ReeProcessState]bool{
	client.ReeProcessStateProcessed: true,
	client.ReeProcessStateFailed:    true,
	client.ReeProcessStateCancelled: true,
}

// processID parses a process id argument.
func processID(arg string) (uuid.UUID, error) {
	id, err := uuid.Parse(arg)
	if err != nil {
		return uuid.UUID{}, Usage(fmt.Errorf("%q is not a process id (a UUID)", arg))
	}
	return id, nil
}

func (c *app) recordCommand() *cobra.Command {
	var tag, dockerfile string
	var keep, keepImage, wait, follow bool
	cmd := &cobra.Command{
		Use:   "record DIR|ZIP",
		Short: "Record the build of a project: every download is kept, so the build replays offline",
		Long: "Uploads the project (a directory, zipped here honouring its .dockerignore, or a zip) and starts\n" +
			"a recording. Prints the process id; --wait waits until it ends, --follow also streams its log.",
		Args: UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			path, cleanup, err := projectZip(args[0], dockerfile)
			if err != nil {
				return err
			}
			defer cleanup()
			fields := [][2]string{{"dockerfile", dockerfile}}
			if tag != "" {
				fields = append(fields, [2]string{"tag", tag})
			}
			if keep {
				fields = append(fields, [2]string{"keep", "true"})
			}
			if keepImage {
				fields = append(fields, [2]string{"keep_image", "true"})
			}
			return c.startProcess(cmd.Context(), "record", path, fields, wait, follow,
				func(ctx context.Context, s *session, ct string, body io.Reader) (*client.ReeProcessStarted, error) {
					resp, err := s.api.ReeRecordingCreateWithBodyWithResponse(ctx, ct, body)
					if err := s.check(ctx, "record", err, resp, http.StatusOK); err != nil {
						return nil, err
					}
					return resp.JSON200, nil
				})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tag, "tag", "", "a name for the process")
	f.StringVar(&dockerfile, "dockerfile", "Dockerfile", "path of the Dockerfile inside the project")
	f.BoolVar(&keep, "keep", false, "spare the process from retention")
	f.BoolVar(&keepImage, "keep-image", false, "keep the built image in the server's Podman storage")
	f.BoolVar(&wait, "wait", false, "wait until the process ends; exit 1 if it fails")
	f.BoolVar(&follow, "follow", false, "stream the log until the process ends (implies --wait)")
	return cmd
}

func (c *app) replayCommand() *cobra.Command {
	var tag string
	var wait, follow bool
	cmd := &cobra.Command{
		Use:   "replay REE.zip",
		Short: "Rebuild a defined REE offline from its recording",
		Args:  UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			if err := checkZip(args[0]); err != nil {
				return err
			}
			var fields [][2]string
			if tag != "" {
				fields = append(fields, [2]string{"tag", tag})
			}
			return c.startProcess(cmd.Context(), "replay", args[0], fields, wait, follow,
				func(ctx context.Context, s *session, ct string, body io.Reader) (*client.ReeProcessStarted, error) {
					resp, err := s.api.ReeReplayCreateWithBodyWithResponse(ctx, ct, body)
					if err := s.check(ctx, "replay", err, resp, http.StatusOK); err != nil {
						return nil, err
					}
					return resp.JSON200, nil
				})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tag, "tag", "", "a name for the process")
	f.BoolVar(&wait, "wait", false, "wait until the process ends; exit 1 if it fails")
	f.BoolVar(&follow, "follow", false, "stream the log until the process ends (implies --wait)")
	return cmd
}

// startProcess uploads path with fields through start, prints the started
// process, and waits for (or follows) it when asked.
func (c *app) startProcess(ctx context.Context, what, path string, fields [][2]string, wait, follow bool,
	start func(context.Context, *session, string, io.Reader) (*client.ReeProcessStarted, error)) error {
	s, err := c.connect()
	if err != nil {
		return err
	}
	ct, body, err := c.multipartFile(fields, "file", path)
	if err != nil {
		return err
	}
	started, err := start(ctx, s, ct, body)
	if err != nil {
		return err
	}
	if !wait && !follow {
		return c.print(started, func(w io.Writer) error {
			_, err := fmt.Fprintln(w, started.Uuid)
			return err
		})
	}
	c.note("%s started: %s", what, started.Uuid)
	if follow {
		if err := c.followLog(ctx, s, started.Uuid); err != nil {
			return err
		}
	}
	st, err := c.waitProcess(ctx, s, started.Uuid, false)
	if err != nil {
		return err
	}
	return c.printStatus(st)
}

func (c *app) statusCommand() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show the state of a process; exit 1 if it failed or was cancelled",
		Args:  UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			id, err := processID(args[0])
			if err != nil {
				return err
			}
			s, err := c.connect()
			if err != nil {
				return err
			}
			var st *client.ReeProcessStatus
			if follow {
				st, err = c.waitProcess(cmd.Context(), s, id, true)
			} else {
				st, err = s.status(cmd.Context(), id)
			}
			if err != nil {
				return err
			}
			return c.printStatus(st)
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "wait until the process ends, printing each change of state")
	return cmd
}

// status fetches the status of one process.
func (s *session) status(ctx context.Context, id uuid.UUID) (*client.ReeProcessStatus, error) {
	resp, err := s.api.ReeProcessStatusWithResponse(ctx, id)
	if err := s.check(ctx, "status", err, resp, http.StatusOK); err != nil {
		return nil, err
	}
	return resp.JSON200, nil
}

// waitProcess polls the status until it is final; with changes it notes every
// change of state on stderr.
func (c *app) waitProcess(ctx context.Context, s *session, id uuid.UUID, changes bool) (*client.ReeProcessStatus, error) {
	var last client.ReeProcessState
	for {
		st, err := s.status(ctx, id)
		if err != nil {
			return nil, err
		}
		if changes && st.Status != last {
			c.note("%s %s", time.Now().Format(time.TimeOnly), st.Status)
			last = st.Status
		}
		if finalStates[st.Status] {
			return st, nil
		}
		if err := sleep(ctx, c.PollInterval); err != nil {
			return nil, err
		}
	}
}

// printStatus prints a status; a failed or cancelled process is exit code 1.
func (c *app) printStatus(st *client.ReeProcessStatus) error {
	err := c.print(st, func(w io.Writer) error {
		line := st.Uuid.String() + "\t" + string(st.Kind) + "\t" + string(st.Status)
		if st.Reason != nil && *st.Reason != "" {
			line += "\t" + *st.Reason
		}
		_, err := fmt.Fprintln(w, line)
		return err
	})
	if err != nil {
		return err
	}
	if st.Status == client.ReeProcessStateFailed || st.Status == client.ReeProcessStateCancelled {
		reason := ""
		if st.Reason != nil {
			reason = ": " + *st.Reason
		}
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("process %s %s%s", st.Uuid, st.Status, reason)}
	}
	return nil
}

func (c *app) logsCommand() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs ID",
		Short: "Print the log of a process; --follow streams it until the process ends",
		Args:  UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := processID(args[0])
			if err != nil {
				return err
			}
			s, err := c.connect()
			if err != nil {
				return err
			}
			if follow {
				if err := c.followLog(cmd.Context(), s, id); err != nil {
					return err
				}
				st, err := s.status(cmd.Context(), id)
				if err != nil {
					return err
				}
				if st.Status != client.ReeProcessStateProcessed {
					return &ExitError{Code: ExitFailed, Err: fmt.Errorf("process %s %s", id, st.Status)}
				}
				return nil
			}
			_, err = s.copyLog(cmd.Context(), id, 0, c.Stdout)
			return err
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing as the log grows, until the process ends")
	return cmd
}

// copyLog writes the log of id from byte offset on to w and returns how many
// bytes it wrote. The server honours Range on a final log; while the log grows
// it sends the whole log, and the bytes before offset are skipped here.
func (s *session) copyLog(ctx context.Context, id uuid.UUID, offset int64, w io.Writer) (int64, error) {
	editor := func(_ context.Context, req *http.Request) error {
		if offset > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		}
		return nil
	}
	resp, err := s.raw.ReeProcessLog(ctx, id, editor)
	if resp != nil && resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		resp.Body.Close()
		return 0, nil // nothing beyond offset yet
	}
	if err := s.checkRaw(ctx, "log", resp, err, http.StatusOK, http.StatusPartialContent); err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body := io.Reader(resp.Body)
	if resp.StatusCode == http.StatusOK && offset > 0 {
		if _, err := io.CopyN(io.Discard, body, offset); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, nil
			}
			return 0, fmt.Errorf("read the log: %w", err)
		}
	}
	n, err := io.Copy(w, body)
	if err != nil {
		return n, fmt.Errorf("read the log: %w", err)
	}
	return n, nil
}

// followLog prints the log of id as it grows until the process has ended and
// its final log is printed whole.
func (c *app) followLog(ctx context.Context, s *session, id uuid.UUID) error {
	var printed int64
	for {
		st, err := s.status(ctx, id)
		if err != nil {
			return err
		}
		n, err := s.copyLog(ctx, id, printed, c.Stdout)
		printed += n
		if err != nil {
			return err
		}
		if finalStates[st.Status] {
			// The status was read before the log: one more read takes what the
			// process wrote between the two.
			_, err := s.copyLog(ctx, id, printed, c.Stdout)
			return err
		}
		if err := sleep(ctx, c.PollInterval); err != nil {
			return err
		}
	}
}

func (c *app) cancelCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a queued or running process",
		Args:  UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			id, err := processID(args[0])
			if err != nil {
				return err
			}
			s, err := c.connect()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			resp, err := s.api.ReeProcessCancelWithResponse(ctx, id)
			if err := s.check(ctx, "cancel", err, resp, http.StatusOK); err != nil {
				return err
			}
			return c.print(resp.JSON200, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, resp.JSON200.Uuid.String()+"\t"+string(resp.JSON200.Status))
				return err
			})
		},
	}
}

func (c *app) imagesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "images",
		Short: "List the base images that a Dockerfile may name in FROM",
		Args:  UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			resp, err := s.api.ReeImageListWithResponse(ctx)
			if err := s.check(ctx, "images", err, resp, http.StatusOK); err != nil {
				return err
			}
			images := *resp.JSON200
			return c.print(images, func(w io.Writer) error {
				rows := make([][]string, 0, len(images))
				for _, im := range images {
					rows = append(rows, []string{im.Name, yesNo(im.Available), short(deref(im.Digest), 19), deref(im.Description)})
				}
				return table(w, []string{"NAME", "AVAILABLE", "DIGEST", "DESCRIPTION"}, rows)
			})
		},
	}
}

func (c *app) psCommand() *cobra.Command {
	var status, kind, tag string
	var limit int
	var all bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List your processes, newest first",
		Args:  UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			params := client.ReeProcessListParams{Limit: &limit}
			if status != "" {
				st := client.ReeProcessState(status)
				params.Status = &st
			}
			if kind != "" {
				k := client.ReeProcessKind(kind)
				params.Kind = &k
			}
			if tag != "" {
				params.Tag = &tag
			}
			var items []client.ReeProcessStatus
			for offset := 0; ; {
				params.Offset = &offset
				resp, err := s.api.ReeProcessListWithResponse(ctx, &params)
				if err := s.check(ctx, "ps", err, resp, http.StatusOK); err != nil {
					return err
				}
				page := resp.JSON200
				items = append(items, page.Items...)
				offset += len(page.Items)
				if !all || len(page.Items) == 0 || offset >= page.Total {
					break
				}
			}
			return c.print(items, func(w io.Writer) error {
				rows := make([][]string, 0, len(items))
				for _, p := range items {
					rows = append(rows, []string{p.Uuid.String(), string(p.Kind), string(p.Status), deref(p.Tag), p.CreatedAt.Local().Format(time.DateTime)})
				}
				return table(w, []string{"ID", "KIND", "STATUS", "TAG", "CREATED"}, rows)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "only processes in this state (queued, running, processed, failed, cancelled)")
	f.StringVar(&kind, "kind", "", "only processes of this kind (recording, replay, sbom_define, sbom_build)")
	f.StringVar(&tag, "tag", "", "only processes with this tag")
	f.IntVar(&limit, "limit", 50, "processes per page (1 to 200)")
	f.BoolVar(&all, "all", false, "every page, not only the first")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"queued", "running", "processed", "failed", "cancelled"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions([]string{"recording", "replay", "sbom_define", "sbom_build"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func yesNo(b *bool) string {
	if b != nil && *b {
		return "yes"
	}
	return "no"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// short cuts s to n characters.
func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// trimQuotes strips the quotes of an ETag.
func trimQuotes(s string) string { return strings.Trim(strings.TrimPrefix(s, "W/"), `"`) }
