// Package baseimage is reehub's catalogue of base images and builds them on
// the local Podman service without any registry: debian_bookworm from
// debootstrap, the others with a Dockerfile on top of it.
//
// Each image is tagged localhost/<name>:latest and labelled
// io.reehub.base=<name>. A Dockerfile may say "FROM <name>": with the pull
// policy "never" that reehub builds with, the service resolves the short name
// to the local localhost/<name>:latest (measured on Podman 4.3.1).
package baseimage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/podman"
)

// LabelKey is the image label whose value names the catalogue entry an image
// was built from.
const LabelKey = "io.reehub.base"

// DefaultMirror is the Debian mirror used when neither EnsureOpts.Mirror nor
// the host's apt sources name one.
const DefaultMirror = "http://deb.debian.org/debian"

// Definition describes one base image of the catalogue.
type Definition struct {
	// Name is the catalogue name, which is also the image's short name.
	Name string
	// Description is one sentence for users.
	Description string
	// Parent is the catalogue name of the image this one is built on; empty
	// for an image made by debootstrap.
	Parent string
	// Suite is the Debian suite debootstrap installs (only without Parent).
	Suite string
	// Packages are the Debian packages installed on top of Parent.
	Packages []string
	// Arch is the Debian architecture debootstrap installs (--arch); empty
	// is the host's. The image keeps Podman's default platform (the host's):
	// a 64-bit x86 kernel runs i386 binaries, so RUN steps work unchanged.
	Arch string
	// OnDemand images are not built by EnsureAll (nor `reehub base-images`)
	// but by the first Ensure of their name (the Studio family's i686
	// appliances).
	OnDemand bool
}

// Catalogue returns the base images reehub can build, parents first.
func Catalogue() []Definition {
	return []Definition{
		{
			Name:        "debian_bookworm",
			Description: "Debian 12 (bookworm), minimal base system from debootstrap --variant=minbase.",
			Suite:       "bookworm",
		},
		{
			Name:        "python_3_11",
			Description: "Python 3.11 with venv and pip on Debian 12 (bookworm).",
			Parent:      "debian_bookworm",
			Packages:    []string{"python3", "python3-venv", "python3-pip"},
		},
		{
			Name:        "debian_bookworm_i386",
			Description: "Debian 12 (bookworm) for i386, minimal base system from debootstrap --variant=minbase --arch=i386, built on demand.",
			Suite:       "bookworm",
			Arch:        "i386",
			OnDemand:    true,
		},
	}
}

// Lookup returns the catalogue entry called name, or an error wrapping
// fault.ErrNotFound.
func Lookup(name string) (Definition, error) {
	for _, d := range Catalogue() {
		if d.Name == name {
			return d, nil
		}
	}
	return Definition{}, fault.NotFoundf("base image %q is not in the catalogue", name)
}

// Ref returns the full local reference of the base image name,
// "localhost/<name>:latest". A Dockerfile may use the short name in FROM as
// well; Ref is what to use where a full reference is needed.
func Ref(name string) string { return "localhost/" + name + ":latest" }

// EnsureOpts configures building base images. The zero value uses the
// defaults.
type EnsureOpts struct {
	// Mirror is the Debian mirror URL for debootstrap and apt. Defaults to
	// the first bookworm mirror in the host's apt sources, else DefaultMirror.
	Mirror string
	// WorkDir is where the debootstrap root is made (about 210 MB) and
	// removed again. Defaults to /var/tmp.
	WorkDir string
	// Log receives the output of debootstrap and of builds. Nil discards it.
	Log io.Writer
}

func (o EnsureOpts) withDefaults() EnsureOpts {
	if o.Mirror == "" {
		o.Mirror = hostMirror()
	}
	if o.WorkDir == "" {
		o.WorkDir = "/var/tmp"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// Ensure returns the local image of the catalogue entry name, building it
// (and its parents) first when it is absent. Concurrent calls for the same
// name may build it twice; the last build keeps the tag.
func Ensure(ctx context.Context, rt *podman.Runtime, name string, opts EnsureOpts) (podman.Image, error) {
	def, err := Lookup(name)
	if err != nil {
		return podman.Image{}, err
	}
	img, err := rt.InspectImage(ctx, Ref(name))
	if err == nil {
		return img, nil
	}
	if !errors.Is(err, fault.ErrNotFound) {
		return podman.Image{}, fmt.Errorf("ensure base image %s: %w", name, err)
	}
	opts = opts.withDefaults()
	if def.Parent == "" {
		err = bootstrap(ctx, rt, def, opts)
	} else {
		if _, err := Ensure(ctx, rt, def.Parent, opts); err != nil {
			return podman.Image{}, err
		}
		err = buildDerived(ctx, rt, def, opts)
	}
	if err != nil {
		return podman.Image{}, fmt.Errorf("build base image %s: %w", name, err)
	}
	return rt.InspectImage(ctx, Ref(name))
}

// EnsureAll ensures every image of the catalogue but the OnDemand ones.
func EnsureAll(ctx context.Context, rt *podman.Runtime, opts EnsureOpts) error {
	for _, d := range Catalogue() {
		if d.OnDemand {
			continue
		}
		if _, err := Ensure(ctx, rt, d.Name, opts); err != nil {
			return err
		}
	}
	return nil
}

// bootstrap runs debootstrap into a fresh directory under opts.WorkDir and
// imports the result as the image, streaming a tar of it.
func bootstrap(ctx context.Context, rt *podman.Runtime, def Definition, opts EnsureOpts) error {
	for _, bin := range []string{"debootstrap", "tar"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fault.Unavailablef("%s is not installed: run \"sudo scripts/setup-host.sh\"", bin)
		}
	}
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	dir, err := os.MkdirTemp(opts.WorkDir, "reehub-debootstrap-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	root := filepath.Join(dir, "root")
	defer func() {
		unmountUnder(dir)
		_ = os.RemoveAll(dir)
	}()

	args := []string{"--variant=minbase"}
	if def.Arch != "" {
		args = append(args, "--arch="+def.Arch)
	}
	args = append(args, def.Suite, root, opts.Mirror)
	fmt.Fprintf(opts.Log, "debootstrap %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "debootstrap", args...)
	cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("debootstrap %s from %s: %w", def.Suite, opts.Mirror, err)
	}
	// Leave no apt lists or logs of the host run in the image.
	for _, p := range []string{"var/cache/apt/archives", "var/lib/apt/lists"} {
		_ = cleanDir(filepath.Join(root, p))
	}

	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "--xattrs", "--acls", "-C", root, "-c", ".")
	stdout, err := tarCmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("tar root: %w", err)
	}
	var tarErr strings.Builder
	tarCmd.Stderr = &tarErr
	if err := tarCmd.Start(); err != nil {
		return fmt.Errorf("tar root: %w", err)
	}
	fmt.Fprintf(opts.Log, "importing %s\n", Ref(def.Name))
	_, importErr := rt.ImportImage(ctx, stdout, podman.ImportOpts{
		Reference: Ref(def.Name),
		Message:   "debootstrap " + strings.Join(append(args[:len(args)-2:len(args)-2], def.Suite, opts.Mirror), " "),
		Changes: []string{
			"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			`CMD ["bash"]`,
			"LABEL " + LabelKey + "=" + def.Name,
		},
	})
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := tarCmd.Wait()
	if importErr != nil {
		return importErr
	}
	if waitErr != nil {
		return fmt.Errorf("tar root: %w: %s", waitErr, tarErr.String())
	}
	return nil
}

// buildDerived builds def on its parent with apt from opts.Mirror.
func buildDerived(ctx context.Context, rt *podman.Runtime, def Definition, opts EnsureOpts) error {
	dir, err := os.MkdirTemp(opts.WorkDir, "reehub-base-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	defer os.RemoveAll(dir)
	dockerfile := fmt.Sprintf(`FROM %s
RUN echo "deb %s bookworm main" > /etc/apt/sources.list \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
`, Ref(def.Parent), opts.Mirror, strings.Join(def.Packages, " "))
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return fmt.Errorf("write Dockerfile: %w", err)
	}
	_, err = rt.Build(ctx, podman.BuildOpts{
		ContextDir: dir,
		Tag:        Ref(def.Name),
		Labels:     map[string]string{LabelKey: def.Name},
		Log:        opts.Log,
	})
	return err
}

// hostMirror returns the first Debian mirror of the host's apt sources that
// serves the main bookworm suite, or DefaultMirror.
func hostMirror() string {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, f := range files {
		if m := mirrorFromDeb822(f); m != "" {
			return m
		}
	}
	if m := mirrorFromList("/etc/apt/sources.list"); m != "" {
		return m
	}
	return DefaultMirror
}

// mirrorFromDeb822 reads a deb822 .sources file.
func mirrorFromDeb822(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, stanza := range strings.Split(string(data), "\n\n") {
		fields := map[string]string{}
		for _, line := range strings.Split(stanza, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, " ") {
				fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
		if fields["types"] == "" || !strings.Contains(fields["types"], "deb") || strings.Fields(fields["types"])[0] == "deb-src" {
			continue
		}
		if !hasWord(fields["suites"], "bookworm") {
			continue
		}
		if uris := strings.Fields(fields["uris"]); len(uris) > 0 {
			return strings.TrimSuffix(uris[0], "/")
		}
	}
	return ""
}

// mirrorFromList reads a one-line-style sources.list.
func mirrorFromList(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[0] == "deb" {
			fields = fields[1:]
			if len(fields) > 0 && strings.HasPrefix(fields[0], "[") {
				for len(fields) > 0 && !strings.HasSuffix(fields[0], "]") {
					fields = fields[1:]
				}
				if len(fields) > 0 {
					fields = fields[1:]
				}
			}
			if len(fields) >= 2 && fields[1] == "bookworm" {
				return strings.TrimSuffix(fields[0], "/")
			}
		}
	}
	return ""
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// cleanDir removes the contents of dir, keeping dir and its "partial"
// subdirectory that apt expects.
func cleanDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == "partial" || e.Name() == "lock" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// unmountUnder detaches every mount below dir (debootstrap mounts /proc and
// /sys into the root and leaves them when it fails), deepest first, so that
// removing dir never descends into a host file system.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var mounts []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			mounts = append(mounts, f[4])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
	// Give lazily detached mounts a moment before RemoveAll walks the tree.
	if len(mounts) > 0 {
		time.Sleep(100 * time.Millisecond)
	}
}
