package reana

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
)

// EnvSource says where a step's environment was found.
type EnvSource string

// Sources of environments, in the order they are tried.
const (
	EnvCatalogue EnvSource = "catalogue" // a base image of reehub's catalogue (python_3_11)
	EnvProcess   EnvSource = "process"   // the image a reehub process produced (by uuid or digest)
	EnvLocal     EnvSource = "local"     // any local Podman image
)

// Environment is a step's environment, resolved when the workflow is
// created.
type Environment struct {
	// Requested is the environment as the spec writes it.
	Requested string
	// Alias is what an alias mapped Requested to ("" when none did).
	Alias string
	// Source is where it was found.
	Source EnvSource
	// Image is the reference steps run (an image ID, so that a later re-tag
	// does not change what runs).
	Image string
	// Digest is the image's identity for the cache key and provenance: its
	// manifest digest when known, else "sha256:<image ID>".
	Digest string
	// Process is the uuid of the reehub process whose image this is (Source
	// EnvProcess), so that a step can load it back once it was released.
	Process string `json:",omitempty"`
}

// ImageInspector finds local images; *podman.Runtime is one.
type ImageInspector interface {
	// InspectImage returns the image ref names, or an error wrapping
	// fault.ErrNotFound.
	InspectImage(ctx context.Context, ref string) (podman.Image, error)
}

// ProcessImages finds the image a reehub process (a replay or an SBOM build)
// produced; the service of the REE family (*ree.Service) implements it.
type ProcessImages interface {
	// ProcessImage makes the image of the owner's process with this uuid, or
	// of the owner's process that built the image with this ID
	// ("sha256:<64 hex>"), present in Podman (loading it back from the
	// process's output when it was released) and returns the process's uuid
	// and the image's local reference. An error wraps fault.ErrNotFound when
	// the owner has no such process, fault.ErrInvalid when it has no usable
	// image.
	ProcessImage(ctx context.Context, owner int64, uuidOrDigest string) (id, ref string, err error)
}

// Catalogue tells catalogue base images apart; *ree.Catalog is one.
type Catalogue interface {
	// Has reports whether name is a catalogue base image.
	Has(name string) bool
}

// Resolver resolves step environments.
type Resolver struct {
	images    ImageInspector
	catalogue Catalogue
	processes ProcessImages
	aliases   map[string]string
}

// NewResolver returns a resolver. processes and catalogue may be nil (then
// those sources are skipped); aliases maps names as reana.yaml files write
// them (docker.io/library/python:3.11-slim) to what to resolve instead
// (python_3_11).
func NewResolver(images ImageInspector, catalogue Catalogue, processes ProcessImages, aliases map[string]string) *Resolver {
	a := map[string]string{}
	for k, v := range aliases {
		a[normalizeRef(k)] = v
	}
	return &Resolver{images: images, catalogue: catalogue, processes: processes, aliases: a}
}

// LoadAliases reads an alias file: a YAML (or JSON) mapping of image names
// to environments. A missing file gives no aliases.
func LoadAliases(file string) (map[string]string, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read environment aliases: %w", err)
	}
	var m map[string]string
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("environment aliases %s: want a mapping of image name to environment: %w", file, err)
	}
	for k, v := range m {
		if strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("environment aliases %s: empty name or target", file)
		}
	}
	return m, nil
}

// normalizeRef gives the forms docker.io/library/python:3.11,
// docker.io/python:3.11 and python:3.11 one spelling; a name without a tag
// or digest gets :latest.
func normalizeRef(ref string) string {
	r := strings.TrimSpace(ref)
	r = strings.TrimPrefix(r, "docker.io/")
	r = strings.TrimPrefix(r, "index.docker.io/")
	r = strings.TrimPrefix(r, "library/")
	last := r[strings.LastIndex(r, "/")+1:]
	if !strings.ContainsAny(last, ":@") {
		r += ":latest"
	}
	return r
}

var (
	uuidRe   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	// processImageRe is the name of a process's image as the REE API's users
	// see it in Podman: [localhost/]reehub/<uuid>[:latest].
	processImageRe = regexp.MustCompile(`^(?:localhost/)?reehub/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?::latest)?$`)
)

// processKey returns the uuid or image ID a name gives for a process's image
// (its uuid, reehub/<uuid>, localhost/reehub/<uuid>[:latest], or
// sha256:<image ID>), and whether it names one by its image name, which must
// then be the owner's process.
func processKey(name string) (key string, byName, ok bool) {
	switch {
	case uuidRe.MatchString(name), digestRe.MatchString(name):
		return strings.ToLower(name), false, true
	}
	if m := processImageRe.FindStringSubmatch(name); m != nil {
		return strings.ToLower(m[1]), true, true
	}
	return "", false, false
}

// Resolve finds the image for an environment of owner's workflow: after an
// alias, a catalogue base image, a reehub process's image (its uuid,
// reehub/<uuid>, localhost/reehub/<uuid> or its image ID sha256:...; loaded
// back from the process's output when it was released), then any local
// Podman image. Nothing is pulled. An unknown image is a fault.ErrInvalid
// error that names it; so is the image name of another user's process.
func (r *Resolver) Resolve(ctx context.Context, owner int64, requested string) (Environment, error) {
	env := Environment{Requested: requested}
	name := requested
	if a, ok := r.aliases[normalizeRef(requested)]; ok {
		env.Alias, name = a, a
	}
	if r.catalogue != nil && r.catalogue.Has(name) {
		img, err := r.images.InspectImage(ctx, baseimage.Ref(name))
		if err != nil {
			if errors.Is(err, fault.ErrNotFound) {
				return Environment{}, fault.Invalidf("environment %q: the catalogue base image %s is not built on this server yet", requested, name)
			}
			return Environment{}, fmt.Errorf("environment %q: %w", requested, err)
		}
		return env.with(EnvCatalogue, img), nil
	}
	if key, byName, ok := processKey(name); ok && r.processes != nil {
		id, ref, err := r.processes.ProcessImage(ctx, owner, key)
		switch {
		case err == nil:
			img, err := r.images.InspectImage(ctx, ref)
			if err != nil {
				return Environment{}, fmt.Errorf("environment %q: image of process: %w", requested, err)
			}
			env = env.with(EnvProcess, img)
			env.Process = id
			return env, nil
		case errors.Is(err, fault.ErrInvalid):
			return Environment{}, fault.Invalidf("environment %q: %v", requested, err)
		case !errors.Is(err, fault.ErrNotFound):
			return Environment{}, fmt.Errorf("environment %q: %w", requested, err)
		case byName:
			return Environment{}, r.unknown(requested, name) // another user's process image
		}
	}
	img, err := r.images.InspectImage(ctx, name)
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return Environment{}, r.unknown(requested, name)
		}
		return Environment{}, fmt.Errorf("environment %q: %w", requested, err)
	}
	return env.with(EnvLocal, img), nil
}

// Ensure makes a resolved environment's image present again before a step
// runs in it: a process's image released since the workflow was created is
// loaded back from the process's output, and must be the same image. Other
// environments are left to the runtime (a missing one fails the step).
func (r *Resolver) Ensure(ctx context.Context, owner int64, env Environment) error {
	if env.Source != EnvProcess || env.Process == "" || r.processes == nil {
		return nil
	}
	if _, err := r.images.InspectImage(ctx, env.Image); err == nil {
		return nil
	} else if !errors.Is(err, fault.ErrNotFound) {
		return fmt.Errorf("environment %q: %w", env.Requested, err)
	}
	_, ref, err := r.processes.ProcessImage(ctx, owner, env.Process)
	if err != nil {
		return fmt.Errorf("environment %q: %w", env.Requested, err)
	}
	img, err := r.images.InspectImage(ctx, ref)
	if err != nil {
		return fmt.Errorf("environment %q: image of process %s: %w", env.Requested, env.Process, err)
	}
	if img.ID != env.Image {
		return fault.Invalidf("environment %q: the image of process %s is now %s, not the %s the workflow was created with", env.Requested, env.Process, shortImage(img.ID), shortImage(env.Image))
	}
	return nil
}

func shortImage(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func (r *Resolver) unknown(requested, name string) error {
	via := ""
	if name != requested {
		via = fmt.Sprintf(" (alias of %q)", name)
	}
	return fault.Invalidf("environment %q%s is unknown: name a catalogue base image (such as python_3_11), a reehub process's image (its uuid, reehub/<uuid> or its image ID sha256:...), a local image, or add an alias for it", requested, via)
}

func (e Environment) with(src EnvSource, img podman.Image) Environment {
	e.Source, e.Image = src, img.ID
	e.Digest = img.Digest
	if e.Digest == "" {
		e.Digest = "sha256:" + img.ID
	}
	return e
}
