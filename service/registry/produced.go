package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/ree"
	"github.com/reehub/reehub/store"
)

// RegisterProduced registers an image a reehub process built: a
// declarative docker-image of the process's owner whose specifics hold the
// provenance (process, input digest, base images, reehub version), whose
// file is the image as a docker-archive (so it is downloadable, deployable,
// usable in FROM and pulled from /v2/), with its CycloneDX SBOM and a
// license summary from the analysis library. A process registers once.
func (s *Service) RegisterProduced(ctx context.Context, p ree.ProducedImage) error {
	if _, err := s.st.RegistryImageByProcess(ctx, p.ProcessID); err == nil {
		return nil
	} else if !errors.Is(err, fault.ErrNotFound) {
		return err
	}
	tmp, err := s.blobs.TempFile("produced-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := s.rt.ExportImage(ctx, p.ImageID, podman.DockerArchive, tmp); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("export image %s: %w", p.ImageID, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	id := uuid.NewString()
	doc, err := scanArchive(ctx, tmp.Name(), p)
	if err != nil {
		return err
	}
	var cdx bytes.Buffer
	if err := doc.WriteCycloneDX(&cdx); err != nil {
		return fmt.Errorf("write the SBOM: %w", err)
	}
	sref, err := s.blobs.Put(ctx, &cdx)
	if err != nil {
		return fmt.Errorf("store the SBOM: %w", err)
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
	if err := s.publish(ctx, id, tmp.Name()); err != nil {
		return err
	}
	if err := s.rt.TagImage(ctx, p.ImageID, baseimage.Ref(BaseImageName(id))); err != nil {
		return err
	}
	fref, err := s.blobs.PutFile(ctx, tmp.Name(), true)
	if err != nil {
		return fmt.Errorf("store image %s: %w", p.ImageID, err)
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
	row := store.RegistryImage{
		ID: id, OwnerID: p.OwnerID, Title: title, ImageType: "declarative", ContentType: ContentDockerImage, Imported: true,
		Origin: "{}", Specifics: string(sb), FileDigest: fref.Digest, FileSize: fref.Size, PodmanRef: baseimage.Ref(BaseImageName(id)),
		SBOMDigest: sref.Digest, Packages: pkgs.String(), ProcessID: p.ProcessID, CreatedAt: time.Now().UTC(),
	}
	return s.st.SaveRegistryImage(ctx, &row)
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
