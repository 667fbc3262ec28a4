package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/reehub/reehub/gen/client"
)

// studioBuild is what the Studio family answers in JSON for a running or a
// finished build (the fields the commands show).
type studioBuild struct {
	ID          int64  `json:"id"`
	State       string `json:"state"`
	Percent     int    `json:"percent,omitempty"`
	Message     string `json:"message,omitempty"`
	TimeElapsed int64  `json:"time_elapsed,omitempty"`
	Version     string `json:"version,omitempty"`
	ImageType   string `json:"image_type,omitempty"`
	SizeBytes   int64  `json:"image_size_bytes,omitempty"`
	DownloadURL string `json:"download_url,omitempty"`
	Checksum    *struct {
		SHA256 string `json:"sha256,omitempty"`
	} `json:"checksum,omitempty"`
}

// studioJSON asks a Studio operation for its JSON form (XML is its default).
func studioJSON(_ context.Context, req *http.Request) error {
	req.Header.Set("Accept", "application/json")
	return nil
}

func (c *app) appliancesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "appliances",
		Aliases: []string{"appliance", "studio"},
		Short:   "Studio appliances: build one, follow the build, download the image",
	}
	cmd.AddCommand(c.applianceBuildCommand(), c.applianceStatusCommand(), c.applianceDownloadCommand())
	return cmd
}

func (c *app) applianceBuildCommand() *cobra.Command {
	var version, imageType string
	var force, follow bool
	cmd := &cobra.Command{
		Use:   "build APPLIANCE_ID",
		Short: "Start a build of an appliance (POST /api/v1/user/running_builds); print the build id",
		Long: "Starts a build of --type (oci, docker, rootfs, oem, vmx, iso, qcow2) and --version. --force\n" +
			"replaces a finished build of the same version and type. --follow waits until the build ends and\n" +
			"exits 1 unless it finished.",
		Args: UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			app, err := studioID("appliance", args[0])
			if err != nil {
				return err
			}
			s, err := c.connect()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			p := client.StudioRunningBuildStartParams{ApplianceId: app}
			if version != "" {
				p.Version = &version
			}
			if imageType != "" {
				p.ImageType = &imageType
			}
			if force {
				p.Force = &force
			}
			var b studioBuild
			resp, err := s.raw.StudioRunningBuildStart(ctx, &p, studioJSON)
			if err := s.decodeStudio(ctx, "start the build", resp, err, &b); err != nil {
				return err
			}
			if follow {
				return c.followBuild(ctx, s, b.ID)
			}
			return c.print(b, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, b.ID)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&version, "version", "", "appliance version (default: the server's, 0.0.1)")
	f.StringVarP(&imageType, "type", "t", "", "image type: oci, docker, rootfs, oem, vmx, iso, qcow2 (default: oci)")
	f.BoolVar(&force, "force", false, "replace a finished build of the same version and type")
	f.BoolVar(&follow, "follow", false, "wait until the build ends; exit 1 unless it finished")
	return cmd
}

func (c *app) applianceStatusCommand() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "status BUILD_ID",
		Short: "Show a build: its state and percent while it runs, version, type, size and sha256 once finished",
		Long:  "Exits 1 when the build failed or was cancelled (the server no longer lists it).",
		Args:  UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			id, err := studioID("build", args[0])
			if err != nil {
				return err
			}
			s, err := c.connect()
			if err != nil {
				return err
			}
			if follow {
				return c.followBuild(cmd.Context(), s, id)
			}
			b, err := s.studioBuild(cmd.Context(), id)
			if err != nil {
				return err
			}
			return c.printBuild(b)
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "wait until the build ends, printing each change of its state")
	return cmd
}

func (c *app) applianceDownloadCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "download BUILD_ID",
		Short: "Download a finished build's image (resumes an interrupted download)",
		Long: "Writes the image to -o FILE (default build-ID.<type>; - for standard output), through FILE.part\n" +
			"as `reehub download` does, and checks it against the build's sha256.",
		Args: UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			id, err := studioID("build", args[0])
			if err != nil {
				return err
			}
			s, err := c.connect()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			b, err := s.studioBuild(ctx, id)
			if err != nil {
				return err
			}
			if b.State != "finished" {
				return &ExitError{Code: ExitFailed, Err: fmt.Errorf("build %d is %s, not finished", id, b.State)}
			}
			if out == "" {
				out = fmt.Sprintf("build-%d.%s", id, b.ImageType)
			}
			res, err := c.fetch(ctx, s, "download", out, func(ctx context.Context, ed client.RequestEditorFn) (*http.Response, error) {
				return s.raw.StudioBuildDownload(ctx, id, ed)
			})
			if err != nil {
				return err
			}
			if b.Checksum != nil && b.Checksum.SHA256 != "" && res.SHA256 != "" && res.SHA256 != b.Checksum.SHA256 {
				return &ExitError{Code: ExitFailed, Err: fmt.Errorf("download: the file's sha256 is %s, the build's %s", res.SHA256, b.Checksum.SHA256)}
			}
			return c.printFetched(res)
		},
	}
	cmd.Flags().StringVarP(&out, "output-file", "o", "", "where to write the image (default build-ID.<type>; - for stdout)")
	return cmd
}

// studioID parses a Studio id (a positive integer).
func studioID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, Usage(fmt.Errorf("%q is not a %s id (a positive integer)", s, what))
	}
	return id, nil
}

// decodeStudio checks a Studio JSON answer for 200 and decodes it into v.
func (s *session) decodeStudio(ctx context.Context, what string, resp *http.Response, err error, v any) error {
	if err := s.checkRaw(ctx, what, resp, err, http.StatusOK); err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v); err != nil {
		return fmt.Errorf("%s: read the answer: %w", what, err)
	}
	return nil
}

// studioBuild returns a build: the running build while it runs, the finished
// build (version, type, size, checksums) once it finished (a cancelled or
// failed build is in neither: not found).
func (s *session) studioBuild(ctx context.Context, id int64) (studioBuild, error) {
	what := "build " + strconv.FormatInt(id, 10)
	var b studioBuild
	resp, err := s.raw.StudioRunningBuildShow(ctx, id, studioJSON)
	if err == nil && resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
	} else {
		if err := s.decodeStudio(ctx, what, resp, err, &b); err != nil {
			return b, err
		}
		if b.State != "finished" {
			return b, nil
		}
	}
	b = studioBuild{}
	resp, err = s.raw.StudioBuildShow(ctx, id, studioJSON)
	if err := s.decodeStudio(ctx, what, resp, err, &b); err != nil {
		return b, err
	}
	return b, nil
}

// followBuild polls a build until it ends, noting each change of state and
// percent, and prints it; it exits 1 unless the build finished.
func (c *app) followBuild(ctx context.Context, s *session, id int64) error {
	var last string
	for {
		b, err := s.studioBuild(ctx, id)
		if err != nil {
			return err
		}
		if now := fmt.Sprintf("%s %d%% %s", b.State, b.Percent, b.Message); now != last {
			c.note("%s build %d: %s", time.Now().Format(time.TimeOnly), id, now)
			last = now
		}
		switch b.State {
		case "finished":
			return c.printBuild(b)
		case "failed", "cancelled":
			_ = c.printBuild(b)
			return &ExitError{Code: ExitFailed, Err: fmt.Errorf("build %d %s: %s", id, b.State, b.Message)}
		}
		if err := sleep(ctx, c.PollInterval); err != nil {
			return err
		}
	}
}

func (c *app) printBuild(b studioBuild) error {
	return c.print(b, func(w io.Writer) error {
		if b.State != "finished" {
			_, err := fmt.Fprintf(w, "%d\t%s\t%d%%\t%s\n", b.ID, b.State, b.Percent, b.Message)
			return err
		}
		sum := ""
		if b.Checksum != nil {
			sum = b.Checksum.SHA256
		}
		_, err := fmt.Fprintf(w, "%d\t%s\t%s %s\t%d bytes\tsha256:%s\n", b.ID, b.State, b.ImageType, b.Version, b.SizeBytes, sum)
		return err
	})
}
