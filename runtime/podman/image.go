package podman

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/containers/podman/v5/pkg/bindings/images"

	"github.com/reehub/reehub/fault"
)

// Image describes a local image.
type Image struct {
	// ID is the full image ID (64 hex digits, no "sha256:").
	ID string
	// Digest is the manifest digest, such as "sha256:…".
	Digest string
	// Names are the image's names, such as "localhost/app:latest".
	Names []string
	// Size is the image size in bytes.
	Size int64
	// Labels are the image config's labels.
	Labels map[string]string
	// Created is the image's creation time.
	Created time.Time
	// Containers counts the containers (running or not) that use it, as
	// ListImages reports it (0 from InspectImage).
	Containers int
}

// ArchiveFormat is the format of an image archive.
type ArchiveFormat string

const (
	// OCIArchive is an OCI image layout in a tar.
	OCIArchive ArchiveFormat = "oci-archive"
	// DockerArchive is a "docker save" tar, which podman load accepts.
	DockerArchive ArchiveFormat = "docker-archive"
)

// InspectImage returns the image that ref (a name or ID) names. A missing
// image wraps fault.ErrNotFound.
func (r *Runtime) InspectImage(ctx context.Context, ref string) (Image, error) {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	rep, err := images.GetImage(c, ref, nil)
	if err != nil {
		if httpCode(err) == http.StatusNotFound {
			return Image{}, fault.NotFoundf("image %s not found", ref)
		}
		return Image{}, r.wrap("inspect image "+ref, err)
	}
	img := Image{
		ID:     rep.ID,
		Digest: rep.Digest.String(),
		Names:  rep.RepoTags,
		Size:   rep.Size,
		Labels: rep.Labels,
	}
	if img.Labels == nil && rep.Config != nil {
		img.Labels = rep.Config.Labels
	}
	if rep.Created != nil {
		img.Created = *rep.Created
	}
	return img, nil
}

// ListImages returns the local images that carry all of labels (all images
// when labels is empty), sorted by creation time, newest first.
func (r *Runtime) ListImages(ctx context.Context, labels map[string]string) ([]Image, error) {
	opts := new(images.ListOptions).WithAll(false)
	if len(labels) > 0 {
		var f []string
		for _, k := range sortedKeys(labels) {
			f = append(f, k+"="+labels[k])
		}
		opts.WithFilters(map[string][]string{"label": f})
	}
	c, cancel := r.callCtx(ctx)
	defer cancel()
	list, err := images.List(c, opts)
	// Podman 4.3 fails the whole list when an image is removed while it
	// lists ("image not known"): another client's removal, so list again.
	for try := 0; err != nil && try < 3 && strings.Contains(err.Error(), "image not known") && c.Err() == nil; try++ {
		time.Sleep(100 * time.Millisecond)
		list, err = images.List(c, opts)
	}
	if err != nil {
		return nil, r.wrap("list images", err)
	}
	out := make([]Image, 0, len(list))
	for _, s := range list {
		names := s.RepoTags
		if len(names) == 0 {
			names = s.Names
		}
		out = append(out, Image{
			ID:         strings.TrimPrefix(s.ID, "sha256:"),
			Digest:     s.Digest,
			Names:      names,
			Size:       s.Size,
			Labels:     s.Labels,
			Created:    time.Unix(s.Created, 0),
			Containers: s.Containers,
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// ExportImage writes the image ref as an archive of the given format to w,
// streaming it as the service sends it.
func (r *Runtime) ExportImage(ctx context.Context, ref string, format ArchiveFormat, w io.Writer) error {
	switch format {
	case OCIArchive, DockerArchive:
	default:
		return fault.Invalidf("unknown image archive format %q (want %s or %s)", format, OCIArchive, DockerArchive)
	}
	if _, err := r.InspectImage(ctx, ref); err != nil {
		return err
	}
	c, cancel := r.callCtx(ctx)
	defer cancel()
	if err := images.Export(c, []string{ref}, w, new(images.ExportOptions).WithFormat(string(format)).WithCompress(false)); err != nil {
		return r.wrap("export image "+ref, err)
	}
	return nil
}

// LoadImage loads a docker-archive or oci-archive from rd and returns the
// names of the loaded images.
func (r *Runtime) LoadImage(ctx context.Context, rd io.Reader) ([]string, error) {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	rep, err := images.Load(c, rd)
	if err != nil {
		if httpCode(err) == http.StatusBadRequest || httpCode(err) == http.StatusInternalServerError {
			return nil, fmt.Errorf("load image: %w", fault.Invalidf("not a loadable image archive: %v", err))
		}
		return nil, r.wrap("load image", err)
	}
	return rep.Names, nil
}

// TagImage adds name (such as "localhost/app:1"; the tag defaults to
// "latest") to the image id.
func (r *Runtime) TagImage(ctx context.Context, id, name string) error {
	repo, tag := splitName(name)
	if repo == "" {
		return fault.Invalidf("image name %q has no repository", name)
	}
	c, cancel := r.callCtx(ctx)
	defer cancel()
	if err := images.Tag(c, id, tag, repo, nil); err != nil {
		return r.wrap("tag image "+shortID(id)+" as "+name, err)
	}
	return nil
}

// UntagImage removes the name (such as "localhost/app:1") from its image;
// the image stays while it has other names or is in use. A name that is not
// there is not an error.
func (r *Runtime) UntagImage(ctx context.Context, name string) error {
	repo, tag := splitName(name)
	c, cancel := r.callCtx(ctx)
	defer cancel()
	if err := images.Untag(c, name, tag, repo, nil); err != nil {
		if httpCode(err) == http.StatusNotFound {
			return nil
		}
		return r.wrap("untag image "+name, err)
	}
	return nil
}

// splitName splits "host/repo:tag" into repository and tag ("latest" when
// absent); a ":" inside the host part is a port, not a tag.
func splitName(name string) (string, string) {
	slash := strings.LastIndex(name, "/")
	if i := strings.LastIndex(name, ":"); i > slash {
		return name[:i], name[i+1:]
	}
	return name, "latest"
}

// RemoveUnusedImage removes the name ref (the image itself once no other
// name holds it), unless a container uses the image: that is a
// fault.ErrConflict error, and nothing is removed. A missing image is not an
// error.
func (r *Runtime) RemoveUnusedImage(ctx context.Context, ref string) error {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	_, errs := images.Remove(c, []string{ref}, new(images.RemoveOptions).WithIgnore(true))
	for _, err := range errs {
		switch {
		case httpCode(err) == http.StatusNotFound:
		case httpCode(err) == http.StatusConflict || strings.Contains(err.Error(), "in use"):
			return fault.Conflictf("image %s is in use by a container", ref)
		default:
			return r.wrap("remove image "+shortID(ref), err)
		}
	}
	return nil
}

// RemoveImage removes the image ref, and the containers using it. A missing
// image is not an error.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	return r.removeImageForce(ctx, ref)
}

// ImportOpts describes an image made from a root file system tar.
type ImportOpts struct {
	// Reference names the image, such as "localhost/base:latest". Empty
	// leaves it untagged.
	Reference string
	// Changes are Dockerfile instructions applied to the config, such as
	// `ENV PATH=/usr/bin:/bin`, `CMD ["bash"]` or `LABEL key=value`.
	Changes []string
	// Message is the commit message recorded in the image history.
	Message string
}

// ImportImage creates an image whose single layer is the root file system
// tar read from rd (podman import), streaming it, and returns the image ID.
func (r *Runtime) ImportImage(ctx context.Context, rd io.Reader, o ImportOpts) (string, error) {
	opts := new(images.ImportOptions)
	if o.Reference != "" {
		opts.WithReference(o.Reference)
	}
	if len(o.Changes) > 0 {
		opts.WithChanges(o.Changes)
	}
	if o.Message != "" {
		opts.WithMessage(o.Message)
	}
	c, cancel := r.callCtx(ctx)
	defer cancel()
	rep, err := images.Import(c, rd, opts)
	if err != nil {
		return "", r.wrap("import image "+o.Reference, err)
	}
	id := strings.TrimPrefix(rep.Id, "sha256:")
	if !hexID.MatchString(id) {
		img, err := r.InspectImage(ctx, id)
		if err != nil {
			return "", fmt.Errorf("import image: %w", err)
		}
		id = img.ID
	}
	return id, nil
}
