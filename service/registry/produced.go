package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/uuid"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/ree"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
)

// RegisterProduced registers an image a reehub process built: a
// declarative docker-image of the process's owner whose specifics hold the
// provenance (process, input digest, base images, reehub version), with its
// CycloneDX SBOM and a license summary from the analysis library. The image
// is exported once from Podman as an OCI archive (or read from the one the
// process already exported, ProducedImage.OCIArchive) and taken apart into the
// blob store (config and layers by digest, shared with /v2/ and with other
// images), its manifest recorded as <id>:latest; no copy of the archive is
// kept and no Podman name is added, so the process may release its image as
// storage does for every process. Whatever needs the image in Podman later
// (FROM registry-<id>, a deployment) loads it back (ensureLoaded). A
// process registers once.
func (s *Service) RegisterProduced(ctx context.Context, p ree.ProducedImage) error {
	if _, err := s.st.RegistryImageByProcess(ctx, p.ProcessID); err == nil {
		return nil
	} else if !errors.Is(err, fault.ErrNotFound) {
		return err
	}
	began := time.Now()
	archivePath := p.OCIArchive
	if archivePath == "" { // the process shipped no archive: export one
		tmp, err := s.blobs.TempFile("produced-*.tar")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		if err := s.rt.ExportImage(ctx, p.ImageID, podman.OCIArchive, tmp); err != nil {
			_ = tmp.Close()
			return fmt.Errorf("export image %s: %w", p.ImageID, err)
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		archivePath = tmp.Name()
	}
	exported := time.Since(began)
	id := uuid.NewString()
	doc, err := scanArchive(ctx, archivePath, p)
	if err != nil {
		return err
	}
	sref, pkgs, licenses, err := s.storeSBOM(ctx, doc)
	if err != nil {
		return err
	}
	size, err := s.ingestOCIArchive(ctx, id, archivePath)
	if err != nil {
		return err
	}
	bases := map[string]any{}
	for n, d := range p.BaseImages {
		bases[n] = "sha256:" + strings.TrimPrefix(d, "sha256:")
	}
	spec := map[string]any{
		"provenance": map[string]any{
			"process_id": p.ProcessID, "process_kind": p.Kind, "input_digests": []string{p.InputDigest},
			"base_images": bases, "image_id": "sha256:" + strings.TrimPrefix(p.ImageID, "sha256:"), "reehub_version": p.ReehubVersion,
		},
		"sbom":     map[string]any{"format": "CycloneDX 1.6", "digest": sref.Digest, "packages": len(doc.Packages), "endpoint": "/v1/image/" + id + "/sbom"},
		"licenses": licenseSummary(licenses),
	}
	sb, _ := json.Marshal(spec)
	title := p.Tag
	if title == "" {
		title = p.Kind + " " + p.ProcessID
	}
	now := time.Now().UTC()
	row := store.RegistryImage{
		ID: id, OwnerID: p.OwnerID, Title: title, ImageType: "declarative", ContentType: ContentDockerImage, Imported: true,
		Origin: "{}", Specifics: string(sb), FileSize: size, FileFormat: "oci-archive", PodmanRef: baseimage.Ref(BaseImageName(id)),
		SBOMDigest: sref.Digest, Packages: pkgs, ProcessID: p.ProcessID, CreatedAt: now, StoredAt: &now,
	}
	if err := s.st.SaveRegistryImage(ctx, &row); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "registered a process's image", "process", p.ProcessID, "image", id, "bytes", size,
		"export_seconds", exported.Seconds(), "total_seconds", time.Since(began).Seconds())
	return nil
}

// ingestOCIArchive stores the blobs of an OCI archive (podman's export: one
// image, blobs/sha256/<hex>) in the blob store, links them to repo and
// records the image's manifest as repo:latest. It returns the archive's size.
func (s *Service) ingestOCIArchive(ctx context.Context, repo, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open the exported image: %w", err)
	}
	defer f.Close()
	var index []byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read the exported image: %w", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case name == "index.json":
			if index, err = io.ReadAll(io.LimitReader(tr, manifestLimit)); err != nil {
				return 0, fmt.Errorf("read the exported image's index: %w", err)
			}
		case strings.HasPrefix(name, "blobs/sha256/") && h.Typeflag == tar.TypeReg:
			want := "sha256:" + strings.TrimPrefix(name, "blobs/sha256/")
			if _, err := s.blobs.Stat(ctx, want); err != nil {
				ref, err := s.blobs.Put(ctx, tr)
				if err != nil {
					return 0, fmt.Errorf("store blob %s: %w", want, err)
				}
				if ref.Digest != want {
					return 0, fmt.Errorf("the exported image's blob %s has digest %s", want, ref.Digest)
				}
			}
			if err := s.st.LinkRegistryBlob(ctx, repo, want); err != nil {
				return 0, err
			}
		}
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(index, &idx); err != nil || len(idx.Manifests) == 0 {
		return 0, fmt.Errorf("the exported image has no usable index.json (%v)", err)
	}
	d := idx.Manifests[0]
	mf, err := s.blobs.Open(ctx, d.Digest.String())
	if err != nil {
		return 0, fmt.Errorf("the exported image's manifest: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(mf, manifestLimit))
	mf.Close()
	if err != nil {
		return 0, err
	}
	if _, err := s.PutManifest(ctx, repo, "latest", string(d.MediaType), body); err != nil {
		return 0, fmt.Errorf("record the manifest of %s: %w", repo, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func scanArchive(ctx context.Context, path string, p ree.ProducedImage) (*sbom.SBOM, error) {
	src, err := rootfs.OpenArchive(ctx, path, &rootfs.ArchiveOptions{Keep: sbom.Keep(nil)})
	if err != nil {
		return nil, fmt.Errorf("open image %s: %w", p.ImageID, err)
	}
	defer src.Close()
	name := p.Tag
	if name == "" {
		name = p.ProcessID
	}
	doc, err := sbom.Scan(ctx, src, &sbom.Options{Name: name})
	if err != nil {
		return nil, fmt.Errorf("catalog image %s: %w", p.ImageID, err)
	}
	doc.Source.Path = ""
	return doc, nil
}

// licenseSummary lists licenses by how many packages declare them, most first.
func licenseSummary(counts map[string]int) []map[string]any {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	out := make([]map[string]any, 0, len(names))
	for _, n := range names {
		out = append(out, map[string]any{"license": n, "packages": counts[n]})
	}
	return out
}

// ProducedArchive is an image archive (a docker-archive or OCI archive TAR)
// that a process of another family wrote, such as a REANA step's images.
type ProducedArchive struct {
	// Key identifies the archive within its process (step and path), so that
	// a resumed process registers it once.
	Key string
	// OwnerID owns the process (and the registered image).
	OwnerID int64
	// ProcessID is the job that wrote it; the image goes with the job.
	ProcessID string
	// Title is the image's title.
	Title string
	// Path is where the archive is read.
	Path string
	// Provenance is what the process records about it (process, step,
	// commands, input digests, base image, reehub version); the registry adds
	// the archive's digest and the image ID.
	Provenance map[string]any
}

// RegisterArchive registers an image archive a process wrote: an implicit
// docker-image of the process's owner, its config and layers taken into the
// blob store (shared by digest with /v2/), its manifest recorded as
// <id>:latest, its CycloneDX SBOM and license summary attached, and
// specifics.provenance as given plus the archive's sha256 and the image ID.
// Nothing is loaded into Podman: FROM registry-<id>, a workflow environment
// or a deployment load it back from the blobs when they need it. It returns
// the image's id; an archive registered before (same Key) is not registered
// again.
func (s *Service) RegisterArchive(ctx context.Context, a ProducedArchive) (string, error) {
	id := uuid.NewSHA1(uuid.NameSpaceURL, []byte("reehub:produced-archive:"+a.ProcessID+":"+a.Key)).String()
	if _, err := s.st.RegistryImageByID(ctx, id); err == nil {
		return id, nil
	} else if !errors.Is(err, fault.ErrNotFound) {
		return "", err
	}
	kind, err := archiveKind(a.Path)
	if err != nil {
		return "", err
	}
	if kind == "" {
		return "", fault.Invalidf("%s is not a docker or OCI image archive (a TAR with manifest.json, or index.json and oci-layout)", a.Title)
	}
	sum, size, err := fileDigest(a.Path)
	if err != nil {
		return "", err
	}
	src, err := rootfs.OpenArchive(ctx, a.Path, &rootfs.ArchiveOptions{Keep: sbom.Keep(nil), TempDir: s.blobs.TempDir()})
	if err != nil {
		return "", fmt.Errorf("open image archive %s: %w", a.Title, err)
	}
	doc, err := sbom.Scan(ctx, src, &sbom.Options{Name: a.Title})
	src.Close()
	if err != nil {
		return "", fmt.Errorf("catalog image archive %s: %w", a.Title, err)
	}
	doc.Source.Path = ""
	sref, pkgs, licenses, err := s.storeSBOM(ctx, doc)
	if err != nil {
		return "", err
	}
	if err := s.publish(ctx, id, a.Path); err != nil {
		return "", err
	}
	m, err := s.GetManifest(ctx, id, "latest")
	if err != nil {
		return "", err
	}
	man, err := v1.ParseManifest(bytes.NewReader(m.Body))
	if err != nil {
		return "", fmt.Errorf("parse manifest of %s: %w", a.Title, err)
	}
	prov := map[string]any{}
	for k, v := range a.Provenance {
		prov[k] = v
	}
	prov["process_id"], prov["archive_sha256"], prov["image_id"], prov["manifest_digest"] = a.ProcessID, sum, man.Config.Digest.String(), m.Digest
	spec := map[string]any{
		"provenance": prov,
		"sbom":       map[string]any{"format": "CycloneDX 1.6", "digest": sref.Digest, "packages": len(doc.Packages), "endpoint": "/v1/image/" + id + "/sbom"},
		"licenses":   licenseSummary(licenses),
	}
	sb, _ := json.Marshal(spec)
	now := time.Now().UTC()
	row := store.RegistryImage{
		ID: id, OwnerID: a.OwnerID, Title: a.Title, ImageType: "implicit", ContentType: ContentDockerImage, Imported: true,
		Origin: "{}", Specifics: string(sb), FileSize: size, FileFormat: "oci-archive", PodmanRef: baseimage.Ref(BaseImageName(id)),
		SBOMDigest: sref.Digest, Packages: pkgs, ProcessID: a.ProcessID, CreatedAt: now, StoredAt: &now,
	}
	if err := s.st.SaveRegistryImage(ctx, &row); err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "registered an image archive of a process", "process", a.ProcessID, "image", id, "bytes", size)
	return id, nil
}

// fileDigest returns the sha256 ("sha256:<hex>") and size of the file at path.
func fileDigest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("open image archive: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read image archive: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n, nil
}

// AnnotateProduced adds a domain's view of the image a process registered
// (RegisterProduced): fields merged into its provenance (the Studio family
// adds the appliance and build an appliance build made it for) and, when
// title is not empty, a new title. It is a fault.ErrNotFound error when the
// process registered no image.
func (s *Service) AnnotateProduced(ctx context.Context, processID, title string, provenance map[string]any) error {
	row, err := s.st.RegistryImageByProcess(ctx, processID)
	if err != nil {
		return err
	}
	spec := map[string]any{}
	if row.Specifics != "" {
		if err := json.Unmarshal([]byte(row.Specifics), &spec); err != nil {
			return fmt.Errorf("image %s: read its specifics: %w", row.ID, err)
		}
	}
	prov, _ := spec["provenance"].(map[string]any)
	if prov == nil {
		prov = map[string]any{}
	}
	for k, v := range provenance {
		prov[k] = v
	}
	spec["provenance"] = prov
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("image %s: write its specifics: %w", row.ID, err)
	}
	row.Specifics = string(b)
	if title != "" {
		row.Title = title
	}
	return s.st.SaveRegistryImage(ctx, &row)
}

// storeSBOM stores doc as CycloneDX in the blob store and returns its
// reference, the package list an image row keeps for search ("\nname@version\n"
// lines, names in lower case) and the packages counted by license
// (NOASSERTION for a package without one).
func (s *Service) storeSBOM(ctx context.Context, doc *sbom.SBOM) (blob.Ref, string, map[string]int, error) {
	var cdx bytes.Buffer
	if err := doc.WriteCycloneDX(&cdx); err != nil {
		return blob.Ref{}, "", nil, fmt.Errorf("write the SBOM: %w", err)
	}
	sref, err := s.blobs.Put(ctx, &cdx)
	if err != nil {
		return blob.Ref{}, "", nil, fmt.Errorf("store the SBOM: %w", err)
	}
	licenses := map[string]int{}
	var pkgs strings.Builder
	pkgs.WriteString("\n")
	for _, pk := range doc.Packages {
		fmt.Fprintf(&pkgs, "%s@%s\n", strings.ToLower(pk.Name), pk.Version)
		if len(pk.Licenses) == 0 {
			licenses["NOASSERTION"]++
		}
		for _, l := range pk.Licenses {
			licenses[l]++
		}
	}
	return sref, pkgs.String(), licenses, nil
}
