package registry

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/dockerfile"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// Image is an image of the registry.
type Image struct {
	ID                   string
	Title                string
	UserID               string
	ImageType            string
	ContentType          string
	Imported             bool
	Origin               Environment
	EnvironmentReference string
	Specifics            map[string]any
	// Digest and Size describe the uploaded file ("" and 0 before an upload).
	Digest string
	Size   int64
	// PodmanRef is the name of a docker-image in the local Podman.
	PodmanRef string
	// HasSBOM says whether a CycloneDX SBOM is attached.
	HasSBOM bool
}

func (im Image) check() error {
	if err := checkEnum("imagetype", im.ImageType, imageTypes); err != nil {
		return err
	}
	if err := checkEnum("contenttype", im.ContentType, contentTypes); err != nil {
		return err
	}
	return im.Origin.check()
}

// CreateImage stores a new image record of the caller (its file comes later).
func (s *Service) CreateImage(ctx context.Context, by auth.Principal, im Image) (Image, error) {
	if err := im.check(); err != nil {
		return Image{}, err
	}
	row := store.RegistryImage{ID: uuid.NewString(), OwnerID: by.User.ID, CreatedAt: time.Now().UTC()}
	if err := setImageFields(&row, im); err != nil {
		return Image{}, err
	}
	if err := s.st.SaveRegistryImage(ctx, &row); err != nil {
		return Image{}, err
	}
	return imageOut(by, row), nil
}

// UpdateImage replaces the descriptive fields of image im.ID of the caller;
// the file, imported and a registered image's provenance stay.
func (s *Service) UpdateImage(ctx context.Context, by auth.Principal, im Image) (Image, error) {
	if im.ID == "" {
		return Image{}, fault.NotFoundf("image without an id not found")
	}
	row, err := s.st.RegistryImageOf(ctx, by.User.ID, im.ID)
	if err != nil {
		return Image{}, err
	}
	if err := im.check(); err != nil {
		return Image{}, err
	}
	if row.FileDigest != "" && im.ContentType != row.ContentType {
		return Image{}, fault.Conflictf("image %s holds a %s file; its contenttype cannot change", im.ID, row.ContentType)
	}
	specifics := row.Specifics
	if err := setImageFields(&row, im); err != nil {
		return Image{}, err
	}
	if row.ProcessID != "" {
		row.Specifics = specifics
	}
	if err := s.st.SaveRegistryImage(ctx, &row); err != nil {
		return Image{}, err
	}
	return imageOut(by, row), nil
}

func setImageFields(row *store.RegistryImage, im Image) error {
	origin := im.Origin
	origin.Credentials.Password = "" // an origin's password is not kept
	ob, err := json.Marshal(originJSON(origin))
	if err != nil {
		return fault.Invalidf("originEnvironment: %v", err)
	}
	sb, err := json.Marshal(nonNilMap(im.Specifics))
	if err != nil {
		return fault.Invalidf("specifics: %v", err)
	}
	row.Title, row.ImageType, row.ContentType = im.Title, im.ImageType, im.ContentType
	row.Origin, row.EnvironmentReference, row.Specifics = string(ob), im.EnvironmentReference, string(sb)
	return nil
}

// originJSON is how an image's origin environment is kept (a copy, as in the seed).
type originRecord struct {
	ID, Title, UserID string
	Location          string
	Username          string
	Specifics         map[string]any
	Runtime           Layer
	Management        Layer
}

func originJSON(e Environment) originRecord {
	return originRecord{ID: e.ID, Title: e.Title, UserID: e.UserID, Location: e.Credentials.Location, Username: e.Credentials.Username,
		Specifics: nonNilMap(e.Credentials.Specifics), Runtime: e.Runtime, Management: e.Management}
}

func imageOut(by auth.Principal, r store.RegistryImage) Image {
	var o originRecord
	_ = json.Unmarshal([]byte(r.Origin), &o)
	var spec map[string]any
	_ = json.Unmarshal([]byte(r.Specifics), &spec)
	return Image{
		ID: r.ID, Title: r.Title, UserID: by.User.UUID, ImageType: r.ImageType, ContentType: r.ContentType, Imported: r.Imported,
		Origin: Environment{ID: o.ID, Title: o.Title, UserID: o.UserID,
			Credentials: Credentials{Location: o.Location, Username: o.Username, Specifics: nonNilMap(o.Specifics)},
			Runtime:     o.Runtime, Management: o.Management},
		EnvironmentReference: r.EnvironmentReference, Specifics: nonNilMap(spec),
		Digest: cmp.Or(r.FileDigest, r.ArchiveDigest), Size: r.FileSize, PodmanRef: r.PodmanRef, HasSBOM: r.SBOMDigest != "",
	}
}

// Image returns image id of the caller.
func (s *Service) Image(ctx context.Context, by auth.Principal, id string) (Image, error) {
	row, err := s.st.RegistryImageOf(ctx, by.User.ID, id)
	if err != nil {
		return Image{}, err
	}
	return imageOut(by, row), nil
}

// ImageQuery selects images in a list.
type ImageQuery struct {
	// Text must be contained in the title or the content type (case-insensitive).
	Text string
	// Package must be a component of the image's SBOM (exact name, case-insensitive).
	Package string
	// Version narrows Package to a version range (see MatchVersion).
	Version string
}

// Images lists the caller's images matching q, oldest first.
func (s *Service) Images(ctx context.Context, by auth.Principal, q ImageQuery) ([]Image, error) {
	if q.Version != "" && q.Package == "" {
		return nil, fault.Invalidf("version: give package with it")
	}
	var rng versionRange
	if q.Version != "" {
		var err error
		if rng, err = parseRange(q.Version); err != nil {
			return nil, err
		}
	}
	pkg := strings.ToLower(strings.TrimSpace(q.Package))
	rows, err := s.st.RegistryImages(ctx, store.RegistryImageFilter{OwnerID: by.User.ID, Text: strings.TrimSpace(q.Text), Package: pkg})
	if err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(rows))
	for _, r := range rows {
		if pkg != "" && q.Version != "" && !packagesMatch(r.Packages, pkg, rng) {
			continue
		}
		out = append(out, imageOut(by, r))
	}
	return out, nil
}

// DeleteImage deletes image id of the caller with its OCI manifests and
// blob links, removes its name (registry-<id>) from Podman (the image itself
// stays while other names, a catalogue base image with the same ID, or
// containers use it), and frees its blobs (file, SBOM, layers) that nothing
// else references.
func (s *Service) DeleteImage(ctx context.Context, by auth.Principal, id string) error {
	row, err := s.st.RegistryImageOf(ctx, by.User.ID, id)
	if err != nil {
		return err
	}
	digests, err := s.st.RegistryBlobLinks(ctx, id)
	if err != nil {
		return err
	}
	digests = append(digests, row.FileDigest, row.SBOMDigest)
	if err := s.st.DeleteRegistryImage(ctx, by.User.ID, id); err != nil {
		return err
	}
	if row.PodmanRef != "" {
		if err := s.rt.UntagImage(ctx, row.PodmanRef); err != nil && !errors.Is(err, fault.ErrNotFound) {
			s.log.WarnContext(ctx, "remove the Podman name of a deleted registry image", "image", id, "err", err)
		}
	}
	if s.cfg.Engine != nil {
		stored := row.CreatedAt
		if row.StoredAt != nil {
			stored = *row.StoredAt
		}
		if _, err := s.cfg.Engine.Release(ctx, digests, stored); err != nil {
			s.log.WarnContext(ctx, "free the blobs of a deleted registry image; GC retries", "image", id, "err", err)
		}
	}
	return nil
}

// UploadOpts is an upload of an image file.
type UploadOpts struct {
	// Body is the file's content, read once.
	Body io.Reader
	// Limit is the largest accepted size in bytes (0: no limit).
	Limit int64
}

// Upload streams the file into the blob store (its sha256 and size computed
// while it streams, memory flat), checks it against the image's contenttype
// before it is committed, and marks the image imported. A docker-image is
// loaded into Podman (as localhost/registry-<id>:latest, FROM registry-<id>
// in a recording) and published at the OCI endpoint as <id>:latest. A file
// that is not what the contenttype says, or one over the limit, is refused
// and leaves the image as it was.
func (s *Service) Upload(ctx context.Context, by auth.Principal, id string, o UploadOpts) (Image, error) {
	row, err := s.st.RegistryImageOf(ctx, by.User.ID, id)
	if err != nil {
		return Image{}, err
	}
	if row.ContentType == "" {
		return Image{}, fault.Invalidf("image %s has no contenttype; set one (PUT /v1/images) before uploading its file", id)
	}
	body := o.Body
	if o.Limit > 0 {
		body = io.LimitReader(o.Body, o.Limit+1)
	}
	if row.ContentType == ContentDockerImage {
		return s.uploadDockerImage(ctx, by, row, body, o.Limit)
	}
	var format, podmanRef string
	ref, err := s.blobs.PutChecked(ctx, body, func(path string, ref blob.Ref) error {
		if o.Limit > 0 && ref.Size > o.Limit {
			return fault.TooLargef("upload is larger than the limit of %d bytes", o.Limit)
		}
		if ref.Size == 0 {
			return fault.Invalidf("upfile: the uploaded file is empty")
		}
		var err error
		if format, err = s.checkFile(ctx, row.ContentType, path); err != nil {
			return err
		}
		if row.ContentType == ContentDockerImage {
			podmanRef, err = s.loadDockerImage(ctx, id, path)
		}
		return err
	})
	if err != nil {
		return Image{}, err
	}
	now := time.Now().UTC()
	row.FileDigest, row.FileSize, row.FileFormat, row.Imported, row.StoredAt = ref.Digest, ref.Size, format, true, &now
	if podmanRef != "" {
		row.PodmanRef = podmanRef
	}
	if err := s.st.SaveRegistryImage(ctx, &row); err != nil {
		return Image{}, err
	}
	return imageOut(by, row), nil
}

// uploadDockerImage takes an uploaded image archive apart once: streamed to
// a temporary file of the blob store (memory flat), checked, loaded into
// Podman and published (config and layers into the blob store, the manifest
// as <id>:latest), and then the archive itself is dropped, so that the
// image is stored once, as blobs shared with /v2/. Its file is served as
// the OCI archive of those blobs (registeredArchive): the same image
// (manifest, config and layer digests; podman load reads it), not the
// uploaded bytes. A file that is not an image archive leaves the image as
// it was.
func (s *Service) uploadDockerImage(ctx context.Context, by auth.Principal, row store.RegistryImage, body io.Reader, limit int64) (Image, error) {
	tmp, err := s.blobs.TempFile("upload-*.tar")
	if err != nil {
		return Image{}, err
	}
	defer os.Remove(tmp.Name())
	size, err := io.Copy(tmp, body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Image{}, fault.Invalidf("upfile: the upload was cut off: %v", err)
	}
	if limit > 0 && size > limit {
		return Image{}, fault.TooLargef("upload is larger than the limit of %d bytes", limit)
	}
	if size == 0 {
		return Image{}, fault.Invalidf("upfile: the uploaded file is empty")
	}
	if err := checkImageArchive(tmp.Name()); err != nil {
		return Image{}, err
	}
	podmanRef, err := s.loadDockerImage(ctx, row.ID, tmp.Name())
	if err != nil {
		return Image{}, err
	}
	// The file a download gets is the OCI archive over the blobs, not the
	// upload: its digest and size are the image's.
	archiveDigest, archiveSize, err := s.archiveDigest(ctx, row.ID)
	if err != nil {
		return Image{}, err
	}
	old := row.FileDigest
	now := time.Now().UTC()
	row.FileDigest, row.FileSize, row.FileFormat, row.Imported, row.StoredAt, row.PodmanRef = "", archiveSize, "oci-archive", true, &now, podmanRef
	row.ArchiveDigest = archiveDigest
	if err := s.st.SaveRegistryImage(ctx, &row); err != nil {
		return Image{}, err
	}
	if old != "" && s.cfg.Engine != nil { // an archive an earlier version kept
		if _, err := s.cfg.Engine.Release(ctx, []string{old}, now); err != nil {
			s.log.WarnContext(ctx, "free an image's replaced archive; GC retries", "image", row.ID, "err", err)
		}
	}
	return imageOut(by, row), nil
}

// checkFile checks that the file at path is what contentType says and
// returns its format (the qemu-img format of disks).
func (s *Service) checkFile(ctx context.Context, contentType, path string) (string, error) {
	switch contentType {
	case ContentDiskRaw, ContentDiskQcow2, ContentDiskVmdk:
		want := strings.TrimPrefix(contentType, "disk-")
		got, err := s.diskFormat(ctx, path)
		if err != nil {
			return "", err
		}
		if got != want {
			return "", fault.Invalidf("upfile: the file is a %s disk image, not %s as the image's contenttype %s says", got, want, contentType)
		}
		return got, nil
	case ContentDockerImage:
		if err := checkImageArchive(path); err != nil {
			return "", err
		}
		return "", nil
	case ContentDockerFile:
		return "", checkDockerfile(path)
	case ContentPackerfile:
		return checkPackerfile(path)
	}
	return "", fault.Invalidf("contenttype %q is unknown", contentType)
}

// diskFormat asks qemu-img which format the file is.
func (s *Service) diskFormat(ctx context.Context, path string) (string, error) {
	out, err := exec.CommandContext(ctx, s.cfg.QemuImg, "info", "--output=json", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fault.Invalidf("upfile: qemu-img cannot read the file as a disk image: %s", firstLine(string(ee.Stderr)))
		}
		return "", fmt.Errorf("run qemu-img: %w", err)
	}
	var info struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("qemu-img info output: %w", err)
	}
	return info.Format, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// checkImageArchive requires a TAR holding manifest.json (docker-archive) or
// index.json and oci-layout (oci-archive).
func checkImageArchive(path string) error {
	kind, err := archiveKind(path)
	if err != nil {
		return err
	}
	if kind == "" {
		return fault.Invalidf("upfile: not a docker or OCI image archive (a TAR with manifest.json or index.json)")
	}
	return nil
}

// checkDockerfile requires a UTF-8 Dockerfile that reehub's parser accepts
// with at least one FROM.
func checkDockerfile(path string) error {
	b, err := readSmall(path, 1<<20)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return fault.Invalidf("upfile: a Dockerfile is UTF-8 text")
	}
	f, err := dockerfile.Parse(b)
	if err != nil {
		return fault.Invalidf("upfile: not a Dockerfile: %v", err)
	}
	_ = f
	hasFrom := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(sc.Text())), "FROM ") {
			hasFrom = true
		}
	}
	if !hasFrom {
		return fault.Invalidf("upfile: not a Dockerfile: no FROM instruction")
	}
	return nil
}

// checkPackerfile accepts a JSON object (a legacy Packer template) or HCL2
// (blocks such as source and build) and returns "json" or "hcl".
func checkPackerfile(path string) (string, error) {
	b, err := readSmall(path, 4<<20)
	if err != nil {
		return "", err
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var v map[string]any
		if err := json.Unmarshal(trimmed, &v); err != nil {
			return "", fault.Invalidf("upfile: not a valid JSON Packer template: %v", err)
		}
		if _, ok := v["builders"]; !ok {
			if _, ok := v["source"]; !ok {
				return "", fault.Invalidf("upfile: a JSON Packer template has builders")
			}
		}
		return "json", nil
	}
	if err := checkHCL(b); err != nil {
		return "", fault.Invalidf("upfile: not a Packer template (JSON or HCL): %v", err)
	}
	return "hcl", nil
}

func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fault.Invalidf("upfile: longer than %d bytes for this contenttype", limit)
	}
	return b, nil
}

// DownloadOpts selects the representation of an image file.
type DownloadOpts struct {
	// Format converts a disk image (raw, qcow2, vmdk); empty serves the file as stored.
	Format string
}

// Download is an open image file.
type Download struct {
	// File is the open file (or the OCI archive of a docker-image's
	// blobs); the caller closes it.
	File io.ReadSeekCloser
	// ETag is the content's identity ("sha256:..." or the source digest and format).
	ETag string
	// Name is a file name for Content-Disposition.
	Name string
	// ModTime is when the file was stored.
	ModTime time.Time
}

// OpenFile opens image id's file, converted with qemu-img when o.Format asks
// for another disk format (cached by source digest and format).
func (s *Service) OpenFile(ctx context.Context, by auth.Principal, id string, o DownloadOpts) (Download, error) {
	row, err := s.st.RegistryImageOf(ctx, by.User.ID, id)
	if err != nil {
		return Download{}, err
	}
	name := fileName(row)
	if row.FileDigest == "" && row.FileFormat == "oci-archive" && o.Format == "" {
		return s.registeredArchive(ctx, row, name)
	}
	if row.FileDigest == "" {
		return Download{}, fault.NotFoundf("image %s has no file yet", id)
	}
	if o.Format != "" && o.Format != row.FileFormat {
		if !strings.HasPrefix(row.ContentType, "disk-") {
			return Download{}, fault.Invalidf("format: only disk images are converted; image %s is a %s", id, row.ContentType)
		}
		path, err := s.converted(ctx, row, o.Format)
		if err != nil {
			return Download{}, err
		}
		f, err := os.Open(path)
		if err != nil {
			return Download{}, fmt.Errorf("open conversion: %w", err)
		}
		fi, _ := f.Stat()
		return Download{File: f, ETag: row.FileDigest + "-" + o.Format, Name: strings.TrimSuffix(name, filepath.Ext(name)) + "." + o.Format, ModTime: fi.ModTime()}, nil
	}
	f, err := s.blobs.Open(ctx, row.FileDigest)
	if err != nil {
		return Download{}, err
	}
	return Download{File: f, ETag: row.FileDigest, Name: name, ModTime: row.CreatedAt}, nil
}

// registeredArchive serves a docker-image, which the registry keeps only as
// blobs (uploaded or registered): the OCI archive of its manifest
// <id>:latest, streamed from the blobs with its length known and any Range
// served (ociArchive), the same bytes for the same manifest.
func (s *Service) registeredArchive(ctx context.Context, row store.RegistryImage, name string) (Download, error) {
	m, err := s.GetManifest(ctx, row.ID, "latest")
	if err != nil {
		return Download{}, fmt.Errorf("image %s: %w", row.ID, err)
	}
	a, err := s.newOCIArchive(ctx, m)
	if err != nil {
		return Download{}, err
	}
	etag := m.Digest + "-oci-archive"
	if row.ArchiveDigest != "" {
		etag = row.ArchiveDigest
	}
	return Download{File: a, ETag: etag, Name: name, ModTime: row.CreatedAt}, nil
}

// archiveDigest reads the OCI archive served for image id (its manifest
// <id>:latest over the blobs) once, and returns its sha256 and length.
func (s *Service) archiveDigest(ctx context.Context, id string) (string, int64, error) {
	m, err := s.GetManifest(ctx, id, "latest")
	if err != nil {
		return "", 0, fmt.Errorf("image %s: %w", id, err)
	}
	a, err := s.newOCIArchive(ctx, m)
	if err != nil {
		return "", 0, err
	}
	defer a.Close()
	h := sha256.New()
	n, err := io.Copy(h, a)
	if err != nil {
		return "", 0, fmt.Errorf("image %s: read its archive: %w", id, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n, nil
}

func fileName(r store.RegistryImage) string {
	base := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			return c
		}
		return '_'
	}, r.Title)
	if base == "" {
		base = r.ID
	}
	ext := map[string]string{ContentDiskRaw: ".raw", ContentDiskQcow2: ".qcow2", ContentDiskVmdk: ".vmdk", ContentDockerImage: ".tar", ContentDockerFile: "", ContentPackerfile: "." + r.FileFormat}[r.ContentType]
	if r.ContentType == ContentDockerFile {
		return "Dockerfile"
	}
	return base + ext
}

// converted returns the path of image row's disk in format, converting it
// once.
func (s *Service) converted(ctx context.Context, row store.RegistryImage, format string) (string, error) {
	hexPart := strings.TrimPrefix(row.FileDigest, "sha256:")
	dst := filepath.Join(s.cfg.DataDir, "registry-conversions", hexPart+"."+format)
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	src, err := s.blobs.LocalPath(ctx, row.FileDigest)
	if err != nil {
		return "", err
	}
	tmp := dst + ".tmp-" + uuid.NewString()
	cmd := exec.CommandContext(ctx, s.cfg.QemuImg, "convert", "-f", row.FileFormat, "-O", format, src, tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("qemu-img convert %s to %s: %w: %s", row.ID, format, err, firstLine(string(out)))
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("store conversion: %w", err)
	}
	return dst, nil
}

// SBOM opens the CycloneDX SBOM attached to image id of the caller.
func (s *Service) SBOM(ctx context.Context, by auth.Principal, id string) (io.ReadCloser, error) {
	row, err := s.st.RegistryImageOf(ctx, by.User.ID, id)
	if err != nil {
		return nil, err
	}
	if row.SBOMDigest == "" {
		return nil, fault.NotFoundf("image %s has no SBOM attached", id)
	}
	return s.blobs.Open(ctx, row.SBOMDigest)
}
