package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// This file is the OCI distribution API (the /v2/ endpoint) as a domain:
// repositories of manifests (by digest and by tag) and blob links, over the
// blob store shared with the rest of reehub. Uploads stream into temporary
// files of the blob store, so memory stays flat whatever the layer size.

// OCIError is a failure of the distribution API with its error code
// (BLOB_UNKNOWN, MANIFEST_INVALID, ...). It wraps a fault kind.
type OCIError struct {
	// Code is the distribution spec's error code.
	Code string
	// Msg says what is wrong.
	Msg  string
	kind error
}

func (e *OCIError) Error() string { return e.Msg }

// Unwrap gives the fault kind.
func (e *OCIError) Unwrap() error { return e.kind }

func ociErr(kind error, code, format string, args ...any) error {
	return &OCIError{Code: code, Msg: fmt.Sprintf(format, args...), kind: kind}
}

// ErrRangeInvalid marks a chunk that does not continue its upload (416).
var ErrRangeInvalid = errors.New("range invalid")

var (
	repoName = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagName  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// CheckRepo refuses a repository name the distribution spec does not allow.
func CheckRepo(repo string) error {
	if len(repo) > 255 || !repoName.MatchString(repo) {
		return ociErr(fault.ErrInvalid, "NAME_INVALID", "invalid repository name %q", repo)
	}
	return nil
}

// parseDigest accepts sha256 digests (reehub's blob store is sha256); other
// algorithms are unsupported, a malformed digest invalid.
func parseDigest(d string) (v1.Hash, error) {
	h, err := v1.NewHash(d)
	if err != nil {
		if algo, _, ok := strings.Cut(d, ":"); ok && algo != "sha256" && algo != "" {
			return v1.Hash{}, ociErr(fault.ErrInvalid, "DIGEST_INVALID", "digest algorithm %q is not supported; reehub stores sha256 blobs", algo)
		}
		return v1.Hash{}, ociErr(fault.ErrInvalid, "DIGEST_INVALID", "invalid digest %q", d)
	}
	return h, nil
}

// BlobInfo describes a blob of a repository.
type BlobInfo struct {
	// Digest is the blob's digest.
	Digest string
	// Size is its length.
	Size int64
}

// StatBlob returns a blob of repo; one the repository does not hold is
// BLOB_UNKNOWN.
func (s *Service) StatBlob(ctx context.Context, repo, digest string) (BlobInfo, error) {
	h, err := parseDigest(digest)
	if err != nil {
		return BlobInfo{}, err
	}
	ok, err := s.st.RegistryBlobLinked(ctx, repo, h.String())
	if err != nil {
		return BlobInfo{}, err
	}
	if !ok {
		return BlobInfo{}, ociErr(fault.ErrNotFound, "BLOB_UNKNOWN", "blob %s unknown to repository %s", h, repo)
	}
	ref, err := s.blobs.Stat(ctx, h.String())
	if errors.Is(err, fault.ErrNotFound) {
		return BlobInfo{}, ociErr(fault.ErrNotFound, "BLOB_UNKNOWN", "blob %s unknown", h)
	}
	if err != nil {
		return BlobInfo{}, err
	}
	return BlobInfo{Digest: ref.Digest, Size: ref.Size}, nil
}

// OpenBlob opens a blob of repo.
func (s *Service) OpenBlob(ctx context.Context, repo, digest string) (io.ReadSeekCloser, BlobInfo, error) {
	info, err := s.StatBlob(ctx, repo, digest)
	if err != nil {
		return nil, BlobInfo{}, err
	}
	f, err := s.blobs.Open(ctx, info.Digest)
	return f, info, err
}

// DeleteBlob removes a blob from repo. The content stays in the blob store,
// where other repositories and reehub's own records may share it.
func (s *Service) DeleteBlob(ctx context.Context, repo, digest string) error {
	h, err := parseDigest(digest)
	if err != nil {
		return err
	}
	if err := s.st.UnlinkRegistryBlob(ctx, repo, h.String()); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return ociErr(fault.ErrNotFound, "BLOB_UNKNOWN", "blob %s unknown to repository %s", h, repo)
		}
		return err
	}
	return nil
}

// MountBlob links a blob of repository from (or, when from is empty, any
// stored blob the caller names) into repo. It reports false when there is
// nothing to mount, so that the caller opens an upload instead.
func (s *Service) MountBlob(ctx context.Context, repo, digest, from string) (bool, error) {
	h, err := parseDigest(digest)
	if err != nil {
		return false, err
	}
	if from != "" {
		ok, err := s.st.RegistryBlobLinked(ctx, from, h.String())
		if err != nil || !ok {
			return false, err
		}
	}
	if _, err := s.blobs.Stat(ctx, h.String()); err != nil {
		return false, nil
	}
	return true, s.st.LinkRegistryBlob(ctx, repo, h.String())
}

// Upload is the state of a blob upload session.
type Upload struct {
	// ID names the session.
	ID string
	// Size is how many bytes it holds.
	Size int64
}

func (s *Service) uploadPath(id string) (string, error) {
	if _, err := uuid.Parse(id); err != nil {
		return "", ociErr(fault.ErrNotFound, "BLOB_UPLOAD_UNKNOWN", "upload %q unknown", id)
	}
	return filepath.Join(s.blobs.TempDir(), "oci-upload-"+id), nil
}

// StartUpload opens an upload session of repo. Its data is a file in the
// blob store's temporary directory (beside it, the repository name), so a
// session survives a restart and is seen by every instance sharing the
// data directory.
func (s *Service) StartUpload(ctx context.Context, repo string) (Upload, error) {
	id := uuid.NewString()
	p, _ := s.uploadPath(id)
	if err := os.WriteFile(p+".repo", []byte(repo), 0o600); err != nil {
		return Upload{}, fmt.Errorf("start upload: %w", err)
	}
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		return Upload{}, fmt.Errorf("start upload: %w", err)
	}
	return Upload{ID: id}, nil
}

// UploadStatus returns an upload session of repo.
func (s *Service) UploadStatus(ctx context.Context, repo, id string) (Upload, error) {
	p, err := s.uploadPath(id)
	if err != nil {
		return Upload{}, err
	}
	owner, err := os.ReadFile(p + ".repo")
	if err != nil || string(owner) != repo {
		return Upload{}, ociErr(fault.ErrNotFound, "BLOB_UPLOAD_UNKNOWN", "upload %s unknown to repository %s", id, repo)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return Upload{}, ociErr(fault.ErrNotFound, "BLOB_UPLOAD_UNKNOWN", "upload %s unknown", id)
	}
	return Upload{ID: id, Size: fi.Size()}, nil
}

// AppendUpload appends r to the session. start is the offset the chunk
// claims (its Content-Range), or -1; a chunk that does not continue the
// upload is ErrRangeInvalid.
func (s *Service) AppendUpload(ctx context.Context, repo, id string, start int64, r io.Reader) (Upload, error) {
	up, err := s.UploadStatus(ctx, repo, id)
	if err != nil {
		return Upload{}, err
	}
	if start >= 0 && start != up.Size {
		return up, fmt.Errorf("chunk at %d, upload holds %d bytes: %w", start, up.Size, ErrRangeInvalid)
	}
	p, _ := s.uploadPath(id)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return Upload{}, fmt.Errorf("append to upload: %w", err)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	up.Size += n
	if err != nil {
		return up, ociErr(fault.ErrInvalid, "BLOB_UPLOAD_INVALID", "the chunk was cut off: %v", err)
	}
	return up, nil
}

// FinishUpload appends r (may be empty) and checks the session against
// digest; the blob moves into the blob store and is linked into repo.
func (s *Service) FinishUpload(ctx context.Context, repo, id, digest string, r io.Reader) (BlobInfo, error) {
	h, err := parseDigest(digest)
	if err != nil {
		return BlobInfo{}, err
	}
	if _, err := s.AppendUpload(ctx, repo, id, -1, r); err != nil {
		return BlobInfo{}, err
	}
	p, _ := s.uploadPath(id)
	sum, err := fileSHA256(p)
	if err != nil {
		return BlobInfo{}, err
	}
	if "sha256:"+sum != h.String() {
		return BlobInfo{}, ociErr(fault.ErrInvalid, "DIGEST_INVALID", "the upload's digest is sha256:%s, not %s", sum, h)
	}
	ref, err := s.blobs.PutFile(ctx, p, true)
	if err != nil {
		return BlobInfo{}, fmt.Errorf("store blob %s: %w", h, err)
	}
	_ = os.Remove(p)
	_ = os.Remove(p + ".repo")
	if err := s.st.LinkRegistryBlob(ctx, repo, ref.Digest); err != nil {
		return BlobInfo{}, err
	}
	return BlobInfo{Digest: ref.Digest, Size: ref.Size}, nil
}

// PutBlob stores a blob given in one piece (a monolithic upload).
func (s *Service) PutBlob(ctx context.Context, repo, digest string, r io.Reader) (BlobInfo, error) {
	up, err := s.StartUpload(ctx, repo)
	if err != nil {
		return BlobInfo{}, err
	}
	info, err := s.FinishUpload(ctx, repo, up.ID, digest, r)
	if err != nil {
		_ = s.CancelUpload(ctx, repo, up.ID)
	}
	return info, err
}

// CancelUpload ends an upload session and drops its data.
func (s *Service) CancelUpload(ctx context.Context, repo, id string) error {
	if _, err := s.UploadStatus(ctx, repo, id); err != nil {
		return err
	}
	p, _ := s.uploadPath(id)
	_ = os.Remove(p)
	return os.Remove(p + ".repo")
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash upload: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash upload: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Manifest is a manifest of a repository.
type Manifest struct {
	// Digest is the sha256 of Body.
	Digest string
	// MediaType is its media type.
	MediaType string
	// Body is the manifest as pushed.
	Body []byte
	// Subject is the digest of the manifest it refers to, if any.
	Subject string
	// ArtifactType is its artifact type (or its config's media type).
	ArtifactType string
}

// manifestLimit is the largest manifest accepted (the spec's recommended minimum).
const manifestLimit = 4 << 20

// ManifestLimit returns the largest manifest accepted.
func ManifestLimit() int64 { return manifestLimit }

// PutManifest stores a manifest of repo under ref (a tag, or its digest).
// The body must be a JSON image manifest or index; a digest reference must
// be the body's digest. Referenced blobs are not required (the spec allows
// sparse manifests); a subject's manifest need not exist.
func (s *Service) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte) (Manifest, error) {
	if len(body) > manifestLimit {
		return Manifest{}, ociErr(fault.ErrTooLarge, "SIZE_INVALID", "manifest larger than %d bytes", manifestLimit)
	}
	var doc struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     string          `json:"mediaType"`
		ArtifactType  string          `json:"artifactType"`
		Config        *v1.Descriptor  `json:"config"`
		Subject       *v1.Descriptor  `json:"subject"`
		Layers        json.RawMessage `json:"layers"`
		Manifests     json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return Manifest{}, ociErr(fault.ErrInvalid, "MANIFEST_INVALID", "manifest is not JSON: %v", err)
	}
	if doc.SchemaVersion != 2 {
		return Manifest{}, ociErr(fault.ErrInvalid, "MANIFEST_INVALID", "manifest schemaVersion must be 2")
	}
	if mediaType == "" {
		mediaType = doc.MediaType
	}
	if doc.MediaType != "" && mediaType != doc.MediaType {
		return Manifest{}, ociErr(fault.ErrInvalid, "MANIFEST_INVALID", "Content-Type %s does not match the manifest's mediaType %s", mediaType, doc.MediaType)
	}
	if mediaType == "" {
		if doc.Manifests != nil {
			mediaType = string(types.OCIImageIndex)
		} else {
			mediaType = string(types.OCIManifestSchema1)
		}
	}
	sum := sha256.Sum256(body)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if strings.Contains(ref, ":") {
		if _, err := parseDigest(ref); err != nil {
			return Manifest{}, err
		}
		if ref != digest {
			return Manifest{}, ociErr(fault.ErrInvalid, "DIGEST_INVALID", "the manifest's digest is %s, not %s", digest, ref)
		}
	} else if !tagName.MatchString(ref) {
		return Manifest{}, ociErr(fault.ErrInvalid, "TAG_INVALID", "invalid tag %q", ref)
	}
	m := Manifest{Digest: digest, MediaType: mediaType, Body: body, ArtifactType: doc.ArtifactType}
	// The referrers API reports artifactType, or the config's media type.
	if m.ArtifactType == "" && doc.Config != nil && doc.Config.MediaType != "" {
		m.ArtifactType = string(doc.Config.MediaType)
	}
	if doc.Subject != nil {
		m.Subject = doc.Subject.Digest.String()
	}
	err := s.st.InTx(ctx, func(tx *store.Store) error {
		for _, r := range uniq(digest, ref) {
			row := store.RegistryManifest{Repo: repo, Ref: r, Digest: digest, MediaType: mediaType, ArtifactType: m.ArtifactType,
				Subject: m.Subject, Body: string(body), CreatedAt: time.Now().UTC()}
			if err := tx.PutRegistryManifest(ctx, &row); err != nil {
				return err
			}
		}
		return nil
	})
	return m, err
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// GetManifest returns a manifest of repo by tag or digest.
func (s *Service) GetManifest(ctx context.Context, repo, ref string) (Manifest, error) {
	if strings.Contains(ref, ":") {
		if _, err := parseDigest(ref); err != nil {
			return Manifest{}, err
		}
	}
	row, err := s.st.RegistryManifest(ctx, repo, ref)
	if errors.Is(err, fault.ErrNotFound) {
		return Manifest{}, ociErr(fault.ErrNotFound, "MANIFEST_UNKNOWN", "manifest %s unknown to repository %s", ref, repo)
	}
	if err != nil {
		return Manifest{}, err
	}
	return Manifest{Digest: row.Digest, MediaType: row.MediaType, Body: []byte(row.Body), Subject: row.Subject, ArtifactType: row.ArtifactType}, nil
}

// DeleteManifest deletes a manifest by digest (with the tags that point at
// it) or a tag.
func (s *Service) DeleteManifest(ctx context.Context, repo, ref string) error {
	byDigest := strings.Contains(ref, ":")
	if byDigest {
		if _, err := parseDigest(ref); err != nil {
			return err
		}
	}
	n, err := s.st.DeleteRegistryManifestRefs(ctx, repo, ref, byDigest)
	if err != nil {
		return err
	}
	if n == 0 {
		return ociErr(fault.ErrNotFound, "MANIFEST_UNKNOWN", "manifest %s unknown to repository %s", ref, repo)
	}
	return nil
}

// Tags lists the tags of repo in lexical order after last, at most n (n <= 0: all).
func (s *Service) Tags(ctx context.Context, repo, last string, n int) ([]string, error) {
	ok, err := s.st.RegistryRepoExists(ctx, repo)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ociErr(fault.ErrNotFound, "NAME_UNKNOWN", "repository %s unknown", repo)
	}
	tags, err := s.st.RegistryTags(ctx, repo, last, n)
	if tags == nil {
		tags = []string{}
	}
	return tags, err
}

// Referrer describes a manifest whose subject is another.
type Referrer struct {
	MediaType    string
	Digest       string
	Size         int64
	ArtifactType string
	Annotations  map[string]string
}

// Referrers lists the manifests of repo whose subject is digest, optionally
// of one artifact type.
func (s *Service) Referrers(ctx context.Context, repo, digest, artifactType string) ([]Referrer, error) {
	if _, err := parseDigest(digest); err != nil {
		return nil, err
	}
	rows, err := s.st.RegistryReferrers(ctx, repo, digest, artifactType)
	if err != nil {
		return nil, err
	}
	out := make([]Referrer, 0, len(rows))
	for _, r := range rows {
		var doc struct {
			Annotations map[string]string `json:"annotations"`
		}
		_ = json.Unmarshal([]byte(r.Body), &doc)
		out = append(out, Referrer{MediaType: r.MediaType, Digest: r.Digest, Size: int64(len(r.Body)), ArtifactType: r.ArtifactType, Annotations: doc.Annotations})
	}
	return out, nil
}
