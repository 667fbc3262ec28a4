package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/reehub/reehub/gen/client"
)

// reanaFinal are the REANA statuses a run does not leave by itself.
var reanaFinal = map[client.ReanaStatus]bool{
	client.ReanaStatusFinished: true,
	client.ReanaStatusFailed:   true,
	client.ReanaStatusStopped:  true,
	client.ReanaStatusDeleted:  true,
}

func (c *app) workflowsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "workflows",
		Aliases: []string{"workflow", "wf"},
		Short:   "REANA workflows: run a reana.yaml project, follow it, fetch its results",
	}
	cmd.AddCommand(c.workflowRunCommand(), c.workflowStatusCommand(), c.workflowLogsCommand(),
		c.workflowDownloadCommand(), c.workflowListCommand())
	return cmd
}

func (c *app) workflowRunCommand() *cobra.Command {
	var name, file string
	var params []string
	var follow bool
	cmd := &cobra.Command{
		Use:   "run DIR",
		Short: "Create a workflow from DIR/reana.yaml, upload its inputs, start it",
		Long: "Reads DIR/reana.yaml (a serial workflow; workflow.file is read into the specification as\n" +
			"reana-client does), creates the workflow, uploads inputs.files and inputs.directories from DIR,\n" +
			"and starts it. --follow waits until it ends and exits 1 if it failed or was stopped.",
		Args: UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			dir := args[0]
			spec, err := loadReanaSpec(dir, file)
			if err != nil {
				return err
			}
			overrides, err := parseParams(params)
			if err != nil {
				return err
			}
			s, err := c.connect()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			body, err := json.Marshal(spec)
			if err != nil {
				return err
			}
			cp := client.ReanaWorkflowCreateParams{}
			if name != "" {
				cp.WorkflowName = &name
			}
			created, err := s.api.ReanaWorkflowCreateWithBodyWithResponse(ctx, &cp, "application/json", bytes.NewReader(body))
			if err := s.check(ctx, "create the workflow", err, created, http.StatusCreated); err != nil {
				return err
			}
			wf := created.JSON201.WorkflowName
			c.note("created %s", wf)
			for _, rel := range reanaInputs(spec, dir) {
				if err := c.uploadInput(ctx, s, wf, dir, rel); err != nil {
					return err
				}
			}
			start := client.ReanaStartBody{}
			if len(overrides) > 0 {
				start.InputParameters = &overrides
			}
			started, err := s.api.ReanaWorkflowStartWithResponse(ctx, wf, start)
			if err := s.check(ctx, "start "+wf, err, started, http.StatusOK); err != nil {
				return err
			}
			if !follow {
				return c.print(created.JSON201, func(w io.Writer) error {
					_, err := fmt.Fprintln(w, wf)
					return err
				})
			}
			return c.followWorkflow(ctx, s, wf)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&name, "name", "n", "", "workflow name (default: the server's, workflow)")
	f.StringVarP(&file, "file", "f", "reana.yaml", "the specification inside DIR")
	f.StringArrayVarP(&params, "parameter", "p", nil, "override an input parameter, NAME=VALUE (repeatable)")
	f.BoolVar(&follow, "follow", false, "wait until the workflow ends; exit 1 if it failed or was stopped")
	return cmd
}

// loadReanaSpec reads DIR/file as YAML into the JSON shape reana-client sends.
func loadReanaSpec(dir, file string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, Usage(err)
	}
	var spec map[string]any
	if err := yaml.Unmarshal(b, &spec); err != nil {
		return nil, Usage(fmt.Errorf("%s: %w", file, err))
	}
	wf, _ := spec["workflow"].(map[string]any)
	if wf == nil {
		return nil, Usage(fmt.Errorf("%s has no workflow section", file))
	}
	if wfFile, ok := wf["file"].(string); ok && wf["specification"] == nil {
		rel, err := insideDir(dir, wfFile)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return nil, Usage(fmt.Errorf("workflow.file: %w", err))
		}
		var sub map[string]any
		if err := yaml.Unmarshal(b, &sub); err != nil {
			return nil, Usage(fmt.Errorf("%s: %w", wfFile, err))
		}
		wf["specification"] = sub
	}
	return spec, nil
}

// insideDir cleans a path relative to dir and refuses one that leaves it.
func insideDir(dir, rel string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(rel))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", Usage(fmt.Errorf("%q is outside %s", rel, dir))
	}
	return clean, nil
}

// reanaInputs lists the files to upload: inputs.files, and every file under
// inputs.directories, relative to dir, sorted.
func reanaInputs(spec map[string]any, dir string) []string {
	inputs, _ := spec["inputs"].(map[string]any)
	seen := map[string]bool{}
	for _, v := range asStrings(inputs["files"]) {
		seen[filepath.ToSlash(filepath.Clean(v))] = true
	}
	for _, d := range asStrings(inputs["directories"]) {
		root := filepath.Join(dir, filepath.Clean(d))
		_ = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return nil
			}
			if rel, err := filepath.Rel(dir, path); err == nil {
				seen[filepath.ToSlash(rel)] = true
			}
			return nil
		})
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// parseParams reads NAME=VALUE overrides.
func parseParams(kvs []string) (map[string]any, error) {
	out := map[string]any{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, Usage(fmt.Errorf("--parameter %q: want NAME=VALUE", kv))
		}
		out[k] = v
	}
	return out, nil
}

// uploadInput streams one input file into the workspace.
func (c *app) uploadInput(ctx context.Context, s *session, wf, dir, rel string) error {
	clean, err := insideDir(dir, rel)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, clean))
	if err != nil {
		return Usage(fmt.Errorf("input %s: %w", rel, err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	bar := c.progress(info.Size(), rel)
	params := client.ReanaWorkspaceUploadParams{FileName: filepath.ToSlash(clean)}
	resp, err := s.api.ReanaWorkspaceUploadWithBodyWithResponse(ctx, wf, &params, "application/octet-stream", counting(f, bar))
	if err := s.check(ctx, "upload "+rel, err, resp, http.StatusOK); err != nil {
		return err
	}
	finish(bar)
	c.note("uploaded %s", rel)
	return nil
}

// workflowStatus fetches the status of a workflow.
func (s *session) workflowStatus(ctx context.Context, wf string) (*client.ReanaWorkflowStatus, error) {
	resp, err := s.api.ReanaWorkflowStatusWithResponse(ctx, wf)
	if err := s.check(ctx, "status of "+wf, err, resp, http.StatusOK); err != nil {
		return nil, err
	}
	return resp.JSON200, nil
}

// followWorkflow waits for the run to end, noting each change, and prints it.
func (c *app) followWorkflow(ctx context.Context, s *session, wf string) error {
	var last client.ReanaStatus
	for {
		st, err := s.workflowStatus(ctx, wf)
		if err != nil {
			return err
		}
		if st.Status != last {
			c.note("%s %s", wf, st.Status)
			last = st.Status
		}
		if reanaFinal[st.Status] {
			return c.printWorkflow(st)
		}
		if err := sleep(ctx, c.PollInterval); err != nil {
			return err
		}
	}
}

// printWorkflow prints a status; failed and stopped are exit code 1.
func (c *app) printWorkflow(st *client.ReanaWorkflowStatus) error {
	if err := c.print(st, func(w io.Writer) error {
		line := st.Name + "\t" + string(st.Status)
		if st.Logs != "" && st.Status == client.ReanaStatusFailed {
			line += "\t" + st.Logs
		}
		_, err := fmt.Fprintln(w, line)
		return err
	}); err != nil {
		return err
	}
	if st.Status == client.ReanaStatusFailed || st.Status == client.ReanaStatusStopped {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("workflow %s %s", st.Name, st.Status)}
	}
	return nil
}

func (c *app) workflowStatusCommand() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show the status of a workflow (NAME.N or its id); exit 1 if it failed or was stopped",
		Args:  UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.session()
			if err != nil {
				return err
			}
			if follow {
				return c.followWorkflow(cmd.Context(), s, args[0])
			}
			st, err := s.workflowStatus(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return c.printWorkflow(st)
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "wait until the workflow ends")
	return cmd
}

func (c *app) workflowLogsCommand() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print the logs of a workflow and of each step",
		Args:  UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			printed := map[string]int{} // bytes of each log already printed
			for {
				st, err := s.workflowStatus(ctx, args[0])
				if err != nil {
					return err
				}
				// No step names: the logs of every step.
				resp, err := s.api.ReanaWorkflowLogsWithResponse(ctx, args[0], &client.ReanaWorkflowLogsParams{}, client.ReanaWorkflowLogsJSONRequestBody{})
				if err := s.check(ctx, "logs of "+args[0], err, resp, http.StatusOK); err != nil {
					return err
				}
				if c.flags.output == "json" && !follow {
					return c.print(resp.JSON200, nil)
				}
				if err := c.printWorkflowLogs(resp.JSON200.Logs, printed); err != nil {
					return err
				}
				if !follow || reanaFinal[st.Status] {
					return nil
				}
				if err := sleep(ctx, c.PollInterval); err != nil {
					return err
				}
			}
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing as the logs grow, until the workflow ends")
	return cmd
}

// printWorkflowLogs prints what is new in REANA's logs document (the
// workflow's log, then each job's) since the counts in printed.
func (c *app) printWorkflowLogs(doc string, printed map[string]int) error {
	var logs struct {
		WorkflowLogs string `json:"workflow_logs"`
		JobLogs      map[string]struct {
			JobName string `json:"job_name"`
			Logs    string `json:"logs"`
		} `json:"job_logs"`
	}
	if err := json.Unmarshal([]byte(doc), &logs); err != nil {
		return fmt.Errorf("read the logs: %w", err)
	}
	// printed holds a key once its header is out, so that a step with no
	// output still shows up, once.
	emit := func(key, header, text string) {
		done, seen := printed[key]
		if !seen {
			if header != "" {
				fmt.Fprintln(c.Stdout, header)
			}
			printed[key] = 0
		}
		if len(text) > done {
			fmt.Fprint(c.Stdout, text[done:])
			printed[key] = len(text)
		}
	}
	emit("", "", logs.WorkflowLogs)
	ids := make([]string, 0, len(logs.JobLogs))
	for id := range logs.JobLogs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		j := logs.JobLogs[id]
		emit(id, "==> step "+j.JobName, j.Logs)
	}
	return nil
}

func (c *app) workflowDownloadCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "download NAME PATH",
		Short: "Download a file (or a directory, as a zip) from a workflow's workspace",
		Args:  UsageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.session()
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Base(filepath.Clean(args[1]))
			}
			res, err := c.fetch(cmd.Context(), s, "download", out, func(ctx context.Context, ed client.RequestEditorFn) (*http.Response, error) {
				return s.raw.ReanaWorkspaceDownload(ctx, args[0], args[1], &client.ReanaWorkspaceDownloadParams{}, ed)
			})
			if err != nil {
				return err
			}
			return c.printFetched(res)
		},
	}
	cmd.Flags().StringVarP(&out, "output-file", "o", "", "where to write the file (default: its base name; - for stdout)")
	return cmd
}

func (c *app) workflowListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your workflows, newest first",
		Args:  UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			resp, err := s.api.ReanaWorkflowListWithResponse(ctx, &client.ReanaWorkflowListParams{})
			if err := s.check(ctx, "list workflows", err, resp, http.StatusOK); err != nil {
				return err
			}
			items := resp.JSON200.Items
			return c.print(items, func(w io.Writer) error {
				rows := make([][]string, 0, len(items))
				for _, it := range items {
					rows = append(rows, []string{it.Name, string(it.Status), it.Created, it.Id.String()})
				}
				return table(w, []string{"NAME", "STATUS", "CREATED", "ID"}, rows)
			})
		},
	}
}
