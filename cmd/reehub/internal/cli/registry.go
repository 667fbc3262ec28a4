package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reehub/reehub/gen/client"
)

// The registry group drives the ViCE family (/v1): images with their files,
// deployments into environments. Podman is run only for --podman (export a
// local image for push, load a pulled one): the server is never asked to
// reach the user's Podman.

func (c *app) registryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "The image registry (ViCE): list, push and pull images, deploy them into environments",
	}
	cmd.AddCommand(c.registryImagesCommand(), c.registryPushCommand(), c.registryPullCommand(), c.registryDeployCommand())
	return cmd
}

// contentTypes are the values of --contenttype.
var contentTypes = []string{"docker-image", "docker-file", "disk-raw", "disk-qcow2", "disk-vmdk", "packerfile"}

func (c *app) registryImagesCommand() *cobra.Command {
	var q, pkg, version string
	cmd := &cobra.Command{
		Use:   "images",
		Short: "List your images in the registry (search by words, or by a package of their SBOM)",
		Args:  UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version != "" && pkg == "" {
				return Usage(errors.New("--version needs --package"))
			}
			s, err := c.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var params client.ViceImageListParams
			if q != "" {
				params.Q = &q
			}
			if pkg != "" {
				params.Package = &pkg
			}
			if version != "" {
				params.Version = &version
			}
			resp, err := s.api.ViceImageListWithResponse(ctx, &params)
			if err := s.check(ctx, "registry images", err, resp, http.StatusOK); err != nil {
				return err
			}
			images := *resp.JSON200
			return c.print(images, func(w io.Writer) error {
				rows := make([][]string, 0, len(images))
				for _, im := range images {
					size := ""
					if im.Size != nil {
						size = strconv.FormatInt(*im.Size, 10)
					}
					ct := ""
					if im.Contenttype != nil {
						ct = string(*im.Contenttype)
					}
					rows = append(rows, []string{deref(im.Id), deref(im.Title), ct, yesNo(im.Imported), size, short(strings.TrimPrefix(deref(im.Digest), "sha256:"), 12)})
				}
				return table(w, []string{"ID", "TITLE", "CONTENTTYPE", "IMPORTED", "SIZE", "DIGEST"}, rows)
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&q, "query", "q", "", "words the title or the contenttype contain")
	f.StringVar(&pkg, "package", "", "only images whose SBOM lists this package")
	f.StringVar(&version, "version", "", "with --package: a version range (3.0.x, \">=3.0.0 <3.1.0\", 3.0.2)")
	return cmd
}

func (c *app) registryPushCommand() *cobra.Command {
	var title, contentType, image, podmanRef, podmanURL string
	cmd := &cobra.Command{
		Use:   "push [FILE]",
		Short: "Upload a file into the registry as a new image (or into --image ID)",
		Long: "Creates an image record (POST /v1/images) and uploads FILE as its file, with a progress bar.\n" +
			"FILE is a docker or OCI archive for --contenttype docker-image (the default), or a Dockerfile,\n" +
			"a disk image or a Packer template for the other content types. --podman NAME exports the local\n" +
			"Podman image NAME (podman image save --format docker-archive) and pushes that instead of FILE.\n" +
			"The server checks the file against the content type; a docker-image is then loaded into its\n" +
			"Podman and served at /v2/ID. Prints the image.",
		Args: UsageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (podmanRef != "") {
				return Usage(errors.New("name either a FILE or --podman IMAGE"))
			}
			if podmanRef != "" && contentType != "docker-image" {
				return Usage(errors.New("--podman pushes a docker-image"))
			}
			if !validContentType(contentType) {
				return Usage(fmt.Errorf("--contenttype %q: want one of %s", contentType, strings.Join(contentTypes, ", ")))
			}
			path := ""
			if len(args) == 1 {
				path = args[0]
				if _, err := os.Stat(path); err != nil {
					return Usage(err)
				}
			}
			s, err := c.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if podmanRef != "" {
				dir, err := os.MkdirTemp("", "reehub-push-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				path = filepath.Join(dir, "image.tar")
				c.note("exporting %s from Podman", podmanRef)
				if _, err := c.podman(ctx, podmanURL, "image", "save", "--format", "docker-archive", "-o", path, podmanRef); err != nil {
					return err
				}
				if title == "" {
					title = podmanRef
				}
			}
			if title == "" {
				title = filepath.Base(path)
			}
			created := image == ""
			if created {
				ct := client.ViceImageContenttype(contentType)
				cr, err := s.api.ViceImageCreateWithResponse(ctx, client.ViceImage{Title: &title, Contenttype: &ct})
				if err := s.check(ctx, "create the image", err, cr, http.StatusCreated); err != nil {
					return err
				}
				image = deref(cr.JSON201.Id)
				c.note("image %s created", image)
			}
			ct, body, err := c.multipartFile(nil, "upfile", path)
			if err != nil {
				return err
			}
			up, err := s.api.ViceImageUploadWithBodyWithResponse(ctx, image, ct, body)
			if err := s.check(ctx, "upload "+path, err, up, http.StatusOK); err != nil {
				if created {
					// A refused file leaves no empty record behind.
					if del, derr := s.api.ViceImageDeleteWithResponse(context.WithoutCancel(ctx), image); derr == nil && del.StatusCode() == http.StatusOK {
						c.note("image %s removed", image)
					}
				}
				return err
			}
			got, err := s.api.ViceImageGetWithResponse(ctx, image)
			if err := s.check(ctx, "get the image", err, got, http.StatusOK); err != nil {
				return err
			}
			im := got.JSON200
			return c.print(im, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s\t%s\t%d bytes\n", deref(im.Id), deref(im.Digest), derefInt64(im.Size))
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&title, "title", "", "the image's title (default: the file's name, or the Podman image's)")
	f.StringVar(&contentType, "contenttype", "docker-image", "what the file is: "+strings.Join(contentTypes, ", "))
	f.StringVar(&image, "image", "", "upload into this existing image instead of creating one")
	f.StringVar(&podmanRef, "podman", "", "push this local Podman image (exported as a docker-archive)")
	f.StringVar(&podmanURL, "podman-url", "", "the Podman service to export from (podman --url; default: podman's own)")
	_ = cmd.RegisterFlagCompletionFunc("contenttype", cobra.FixedCompletions(contentTypes, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func validContentType(s string) bool {
	for _, ct := range contentTypes {
		if s == ct {
			return true
		}
	}
	return false
}

func (c *app) registryPullCommand() *cobra.Command {
	var out, format, tag, podmanURL string
	var load bool
	cmd := &cobra.Command{
		Use:   "pull IMAGE",
		Short: "Download an image's file (resumes an interrupted download), or load it into local Podman",
		Long: "Writes the image's file to -o FILE (default IMAGE.tar, or IMAGE.<format> for disk images; - for\n" +
			"standard output). An interrupted download leaves FILE.part and the next run asks only for the\n" +
			"rest (Range); the file is checked against the sha256 of its ETag. --format converts a disk image\n" +
			"(raw, qcow2, vmdk) on the server. --podman loads the downloaded archive into the local Podman\n" +
			"(podman load) and tags it --tag (default localhost/registry-IMAGE:latest).",
		Args: UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			switch format {
			case "", "raw", "qcow2", "vmdk":
			default:
				return Usage(fmt.Errorf("--format %q: want raw, qcow2 or vmdk", format))
			}
			if load && out == "-" {
				return Usage(errors.New("--podman loads a file: -o - does not go with it"))
			}
			s, err := c.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var params client.ViceImageDownloadParams
			if format != "" {
				f := client.ViceImageDownloadParamsFormat(format)
				params.Format = &f
			}
			if out == "" {
				ext := ".tar"
				if format != "" {
					ext = "." + format
				}
				out = id + ext
			}
			res, err := c.fetch(ctx, s, "pull", out, func(ctx context.Context, ed client.RequestEditorFn) (*http.Response, error) {
				return s.raw.ViceImageDownload(ctx, id, &params, ed)
			})
			if err != nil {
				return err
			}
			if !load {
				return c.printFetched(res)
			}
			if tag == "" {
				tag = "localhost/registry-" + id + ":latest"
			}
			loaded, err := c.podmanLoad(ctx, podmanURL, out, tag)
			if err != nil {
				return err
			}
			result := struct {
				fetched
				Loaded []string `json:"loaded"`
				Tag    string   `json:"tag"`
			}{res, loaded, tag}
			return c.print(result, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s\t%d bytes\tloaded as %s\n", res.Path, res.Bytes, tag)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output-file", "o", "", "where to write the file (default IMAGE.tar; - for stdout)")
	f.StringVar(&format, "format", "", "for disk images: convert to raw, qcow2 or vmdk")
	f.BoolVar(&load, "podman", false, "load the downloaded archive into the local Podman")
	f.StringVar(&tag, "tag", "", "with --podman: the name to give the loaded image (default localhost/registry-IMAGE:latest)")
	f.StringVar(&podmanURL, "podman-url", "", "with --podman: the Podman service to load into (podman --url; default: podman's own)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"raw", "qcow2", "vmdk"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// podmanLoad loads the archive at path into Podman, names it tag and
// returns what podman load reported it loaded.
func (c *app) podmanLoad(ctx context.Context, url, path, tag string) ([]string, error) {
	out, err := c.podman(ctx, url, "load", "-q", "-i", path)
	if err != nil {
		return nil, err
	}
	// "Loaded image: NAME" or "Loaded image(s): NAME,NAME" (an OCI archive
	// without a name loads as its image id).
	var loaded []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, ": "); i >= 0 && strings.HasPrefix(line, "Loaded image") {
			for _, name := range strings.Split(line[i+2:], ",") {
				if name = strings.TrimSpace(name); name != "" {
					loaded = append(loaded, name)
				}
			}
		}
	}
	if len(loaded) == 0 {
		return nil, fmt.Errorf("podman load named no image: %s", strings.TrimSpace(out))
	}
	if _, err := c.podman(ctx, url, "tag", loaded[0], tag); err != nil {
		return nil, err
	}
	return loaded, nil
}

// podman runs the podman command (with --url when url is set) and returns
// its standard output; a failure carries its standard error.
func (c *app) podman(ctx context.Context, url string, args ...string) (string, error) {
	if url != "" {
		args = append([]string{"--url", url}, args...)
	}
	cmd := exec.CommandContext(ctx, "podman", args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return "", Usage(fmt.Errorf("--podman needs the podman command: %w", err))
		}
		return "", fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// deploymentDone is whether a deployment's state is the end of deploy's wait.
func deploymentDone(st client.ViceDeploymentState) bool {
	return st != client.ViceDeploymentStatePending
}

func (c *app) registryDeployCommand() *cobra.Command {
	var env, title string
	var detach bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "deploy IMAGE --env ENVIRONMENT",
		Short: "Deploy an image into an environment and follow the deployment until it runs",
		Long: "Asks the server to deploy IMAGE (a docker-image of the registry) into ENVIRONMENT (POST /v1/deploy):\n" +
			"a job copies the image to the environment's Podman service and starts a container. Follows the\n" +
			"deployment's state until it is no longer pending, printing each change on stderr, then prints\n" +
			"the deployment. Exit code 1 when it failed or its container exited with a code other than 0.\n" +
			"--detach prints the pending deployment without waiting.",
		Args: UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env == "" {
				return Usage(errors.New("--env ENVIRONMENT is required (the id of one of your environments)"))
			}
			s, err := c.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			image := args[0]
			body := client.ViceDeployment{Imageid: &image, EnvironmentId: &env}
			if title != "" {
				body.Title = &title
			}
			resp, err := s.api.ViceDeployWithResponse(ctx, body)
			if err := s.check(ctx, "deploy", err, resp, http.StatusCreated); err != nil {
				return err
			}
			d := resp.JSON201
			if detach {
				return c.printDeployment(d)
			}
			id := deref(d.Id)
			c.note("deployment %s created", id)
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			var last client.ViceDeploymentState
			for {
				got, err := s.api.ViceDeploymentGetWithResponse(ctx, id)
				if err := s.check(ctx, "deployment "+id, err, got, http.StatusOK); err != nil {
					return err
				}
				d = got.JSON200
				st := client.ViceDeploymentStatePending
				if d.State != nil {
					st = *d.State
				}
				if st != last {
					c.note("%s %s", time.Now().Format(time.TimeOnly), st)
					last = st
				}
				if deploymentDone(st) {
					return c.printDeployment(d)
				}
				if err := sleep(ctx, c.PollInterval); err != nil {
					if errors.Is(err, context.DeadlineExceeded) {
						return &ExitError{Code: ExitFailed, Err: fmt.Errorf("deployment %s still pending after %s", id, timeout)}
					}
					return err
				}
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&env, "env", "", "the environment to deploy into (its id)")
	f.StringVar(&title, "title", "", "a name for the deployment")
	f.BoolVarP(&detach, "detach", "d", false, "print the pending deployment and do not wait")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the deployment to leave pending (0: no limit)")
	return cmd
}

// printDeployment prints a deployment; a failed one, or a container that
// exited with a code other than 0, is exit code 1.
func (c *app) printDeployment(d *client.ViceDeployment) error {
	state := ""
	if d.State != nil {
		state = string(*d.State)
	}
	err := c.print(d, func(w io.Writer) error {
		line := deref(d.Id) + "\t" + state
		if ref := deref(d.EnvironmentReference); ref != "" {
			line += "\t" + short(ref, 12)
		}
		if d.ExitCode != nil && state == string(client.ViceDeploymentStateExited) {
			line += "\texit " + strconv.Itoa(*d.ExitCode)
		}
		if m := deref(d.Message); m != "" {
			line += "\t" + m
		}
		_, err := fmt.Fprintln(w, line)
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case state == string(client.ViceDeploymentStateFailed):
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("deployment %s failed: %s", deref(d.Id), deref(d.Message))}
	case state == string(client.ViceDeploymentStateExited) && d.ExitCode != nil && *d.ExitCode != 0:
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("deployment %s: the container exited with %d", deref(d.Id), *d.ExitCode)}
	}
	return nil
}

func derefInt64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
