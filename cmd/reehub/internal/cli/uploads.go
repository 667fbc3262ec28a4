package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/reehub/reehub/gen/client"
)

func (c *app) uploadsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "uploads",
		Aliases: []string{"upload"},
		Short:   "FOSSology uploads: scan a file for licenses and copyrights, fetch its reports",
	}
	cmd.AddCommand(c.uploadScanCommand(), c.uploadReportCommand())
	return cmd
}

// fossologyAgents are the agents `uploads scan` runs, with the deciders that
// conclude from their findings.
func fossologyAgents() client.FossologyScanOptions {
	yes := true
	var o client.FossologyScanOptions
	o.Analysis = &struct {
		Bucket               *bool `json:"bucket,omitempty"`
		CopyrightEmailAuthor *bool `json:"copyright_email_author,omitempty"`
		Ecc                  *bool `json:"ecc,omitempty"`
		Keyword              *bool `json:"keyword,omitempty"`
		Mime                 *bool `json:"mime,omitempty"`
		Mimetype             *bool `json:"mimetype,omitempty"`
		Monk                 *bool `json:"monk,omitempty"`
		Nomos                *bool `json:"nomos,omitempty"`
		Ojo                  *bool `json:"ojo,omitempty"`
		Package              *bool `json:"package,omitempty"`
	}{CopyrightEmailAuthor: &yes, Monk: &yes, Nomos: &yes, Ojo: &yes, Package: &yes, Mimetype: &yes}
	o.Decider = &struct {
		BulkReused *bool `json:"bulk_reused,omitempty"`
		NewScanner *bool `json:"new_scanner,omitempty"`
		NomosMonk  *bool `json:"nomos_monk,omitempty"`
		OjoDecider *bool `json:"ojo_decider,omitempty"`
	}{NomosMonk: &yes, OjoDecider: &yes}
	return o
}

func (c *app) uploadScanCommand() *cobra.Command {
	var folder int
	var description string
	var wait bool
	cmd := &cobra.Command{
		Use:   "scan FILE",
		Short: "Upload a file (an archive or a single file) and scan it with nomos, monk, ojo and copyright",
		Long: "Uploads FILE into --folder (default: your root folder), schedules the license, copyright and\n" +
			"package agents with the deciders, and prints the upload id. --wait waits for the scan and prints\n" +
			"the upload's summary; it exits 1 if the scan failed.",
		Args: UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if folder == 0 {
				me, err := s.api.FossologyGetSelfWithResponse(ctx, &client.FossologyGetSelfParams{})
				if err := s.check(ctx, "find your root folder", err, me, http.StatusOK); err != nil {
					return err
				}
				if me.JSON200.RootFolderId == nil {
					return fmt.Errorf("the server names no root folder; pass --folder")
				}
				folder = *me.JSON200.RootFolderId
			}
			ct, body, err := c.multipartFile(nil, "fileInput", args[0])
			if err != nil {
				return err
			}
			kind := client.FossologyUploadType("file")
			params := client.FossologyCreateUploadParams{FolderId: folder, UploadType: &kind}
			if description != "" {
				params.UploadDescription = &description
			}
			created, err := s.api.FossologyCreateUploadWithBodyWithResponse(ctx, &params, ct, body)
			if err := s.check(ctx, "upload", err, created, http.StatusCreated); err != nil {
				return err
			}
			upload := created.JSON201.Message
			c.note("upload %d created", upload)
			// Scans are scheduled once the upload is unpacked: until then the
			// server answers 503 with Retry-After, as FOSSology does.
			var jobs *client.FossologyScheduleJobsResponse
			for {
				jobs, err = s.api.FossologyScheduleJobsWithResponse(ctx, &client.FossologyScheduleJobsParams{FolderId: folder, UploadId: upload}, fossologyAgents())
				if err != nil || jobs.StatusCode() != http.StatusServiceUnavailable {
					break
				}
				if err := sleep(ctx, c.PollInterval); err != nil {
					return err
				}
			}
			if err := s.check(ctx, "schedule the scan", err, jobs, http.StatusCreated); err != nil {
				return err
			}
			job := jobs.JSON201.Message
			if !wait {
				out := struct {
					Upload int `json:"upload"`
					Job    int `json:"job"`
				}{upload, job}
				return c.print(out, func(w io.Writer) error {
					_, err := fmt.Fprintln(w, upload)
					return err
				})
			}
			if err := c.waitFossologyJob(ctx, s, job); err != nil {
				return err
			}
			sum, err := s.api.FossologyGetUploadSummaryWithResponse(ctx, upload, &client.FossologyGetUploadSummaryParams{})
			if err := s.check(ctx, "summary", err, sum, http.StatusOK); err != nil {
				return err
			}
			v := sum.JSON200
			return c.print(v, func(w io.Writer) error {
				return table(w, []string{"UPLOAD", "NAME", "MAIN LICENSE", "LICENSES", "UNIQUE", "COPYRIGHTS"},
					[][]string{{strconv.Itoa(v.Id), v.UploadName, deref(v.MainLicense), strconv.Itoa(v.TotalLicenses),
						strconv.Itoa(v.UniqueLicenses), strconv.Itoa(v.CopyrightCount)}})
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&folder, "folder", 0, "folder id (default: your root folder)")
	f.StringVar(&description, "description", "", "upload description")
	f.BoolVar(&wait, "wait", false, "wait for the scan and print the summary")
	return cmd
}

// waitFossologyJob polls a job until it is Completed (nil) or Failed (exit 1).
func (c *app) waitFossologyJob(ctx context.Context, s *session, id int) error {
	var last client.FossologyJobStatus
	for {
		resp, err := s.api.FossologyGetJobWithResponse(ctx, id, &client.FossologyGetJobParams{})
		if err := s.check(ctx, "job "+strconv.Itoa(id), err, resp, http.StatusOK); err != nil {
			return err
		}
		st := resp.JSON200.Status
		if st != last {
			c.note("job %d %s", id, st)
			last = st
		}
		switch st {
		case client.FossologyJobStatusCompleted:
			return nil
		case client.FossologyJobStatusFailed:
			return &ExitError{Code: ExitFailed, Err: fmt.Errorf("job %d failed", id)}
		}
		if err := sleep(ctx, c.PollInterval); err != nil {
			return err
		}
	}
}

// reportID is the id at the end of the report URL that report generation answers.
var reportID = regexp.MustCompile(`/report/([0-9]+)$`)

func (c *app) uploadReportCommand() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "report UPLOAD",
		Short: "Generate a report of a scanned upload and download it",
		Long:  "Formats: spdx2, spdx2tv, spdx2json, cyclonedx, dep5, readmeoss, unifiedreport.",
		Args:  UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			upload, err := strconv.Atoi(args[0])
			if err != nil || upload < 1 {
				return Usage(fmt.Errorf("%q is not an upload id", args[0]))
			}
			s, err := c.connect()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var gen *client.FossologyGenerateReportResponse
			for {
				gen, err = s.api.FossologyGenerateReportWithResponse(ctx, &client.FossologyGenerateReportParams{UploadId: upload, ReportFormat: client.FossologyReportFormat(format)})
				if err == nil && gen.StatusCode() == http.StatusServiceUnavailable {
					// The upload's scans still run: a report is never partial.
					if err := sleep(ctx, c.PollInterval); err != nil {
						return err
					}
					continue
				}
				break
			}
			if err := s.check(ctx, "generate the report", err, gen, http.StatusCreated); err != nil {
				return err
			}
			m := reportID.FindStringSubmatch(gen.JSON201.Message)
			if m == nil {
				return fmt.Errorf("report: the server answered %q, not a report URL", gen.JSON201.Message)
			}
			id, _ := strconv.Atoi(m[1])
			if out == "" {
				out = fmt.Sprintf("upload-%d-%s", upload, format)
			}
			for {
				resp, err := s.raw.FossologyDownloadReport(ctx, id, &client.FossologyDownloadReportParams{})
				if err == nil && resp.StatusCode == http.StatusServiceUnavailable {
					resp.Body.Close()
					if err := sleep(ctx, c.PollInterval); err != nil {
						return err
					}
					continue
				}
				if err == nil {
					resp.Body.Close()
				}
				break
			}
			res, err := c.fetch(ctx, s, "report", out, func(ctx context.Context, ed client.RequestEditorFn) (*http.Response, error) {
				return s.raw.FossologyDownloadReport(ctx, id, &client.FossologyDownloadReportParams{}, ed)
			})
			if err != nil {
				return err
			}
			return c.printFetched(res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "spdx2json", "report format")
	f.StringVarP(&out, "output-file", "o", "", "where to write the report (default upload-ID-FORMAT; - for stdout)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"spdx2", "spdx2tv", "spdx2json", "cyclonedx", "dep5", "readmeoss", "unifiedreport"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
