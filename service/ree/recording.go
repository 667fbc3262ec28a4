package ree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/runtime/proxy"
	"github.com/reehub/reehub/service/process"
	"github.com/reehub/reehub/store"
)

// recorder runs recording processes.
type recorder struct{ s *Service }

// Cleanup removes what a recording left in Podman.
func (r *recorder) Cleanup(ctx context.Context, id string) error { return r.s.cleanup(ctx, id) }

// Run builds the project while recording, and packs the defined REE.
func (r *recorder) Run(ctx context.Context, p store.Process, w process.Work) (string, error) {
	s := r.s
	ctxDir := filepath.Join(w.Dir, "context")
	if _, err := os.Stat(ctxDir); errors.Is(err, os.ErrNotExist) {
		if err := s.extractInput(ctx, p.InputDigest, ctxDir); err != nil {
			return "", err
		}
	}
	df, err := s.readDockerfile(ctx, ctxDir, p.Dockerfile)
	if err != nil {
		return "", err
	}
	out := filepath.Join(w.Dir, "out")
	if err := os.MkdirAll(out, 0o750); err != nil {
		return "", err
	}
	m := Manifest{
		Format: manifestFormat, ReehubVersion: s.cfg.Version, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Tag: p.Tag, Dockerfile: p.Dockerfile, BuildArgs: map[string]string{},
	}
	m.SourceDateEpoch = m.CreatedAt.Unix()
	if v, err := s.rt.Version(ctx); err == nil {
		m.PodmanVersion = v
	}
	baseIDs := map[string]string{}
	for _, name := range df.Bases() {
		img, err := s.catalog.Resolve(ctx, name)
		if err != nil {
			return "", err
		}
		baseIDs[name] = img.ID
		m.BaseImages = append(m.BaseImages, BaseImageRef{Name: name, ImageID: img.ID, Archive: baseImagesDir + name + ".tar"})
	}
	text, digest := buildText(df, baseIDs)
	m.BuildDockerfileSHA256 = digest
	fmt.Fprintf(w.Log, "reehub: recording %s (FROM %v)\n", p.Dockerfile, df.Bases())

	recDir := filepath.Join(out, "recording")
	res, err := s.runBuild(ctx, buildRun{
		ProcessID: p.ID, ContextDir: ctxDir, Dockerfile: text, Mode: proxy.Record,
		RecordingDir: recDir, Timestamp: time.Unix(m.SourceDateEpoch, 0).UTC(), Log: w.Log,
	})
	if err != nil {
		return "", err
	}
	m.ImageID = res.ImageID
	sum, err := proxy.Verify(recDir)
	if err != nil {
		return "", fmt.Errorf("verify recording: %w", err)
	}
	m.Recording = RecordingSummary{Entries: sum.Entries, Bytes: sum.Bytes, IndexSHA256: sum.IndexSHA256}
	fmt.Fprintf(w.Log, "reehub: recorded %d responses, %d bytes; image %s\n", sum.Entries, sum.Bytes, res.ImageID)

	files, err := s.rt.ImageFiles(ctx, res.ImageID)
	if err != nil {
		return "", fmt.Errorf("list image files: %w", err)
	}
	if err := writeJSON(filepath.Join(out, imageFilesName), files); err != nil {
		return "", err
	}
	for _, b := range m.BaseImages {
		if err := s.baseArchive(ctx, b.Name, b.ImageID, filepath.Join(out, filepath.FromSlash(b.Archive))); err != nil {
			return "", err
		}
	}
	if err := os.Rename(ctxDir, filepath.Join(out, "project")); err != nil {
		return "", fmt.Errorf("pack project: %w", err)
	}
	if err := writeJSON(filepath.Join(out, manifestName), m); err != nil {
		return "", err
	}
	fmt.Fprintf(w.Log, "reehub: packing the defined REE\n")
	if err := copyFile(w.LogFile, filepath.Join(out, buildLogName)); err != nil {
		return "", fmt.Errorf("copy build log: %w", err)
	}
	return s.packDir(ctx, out)
}

// baseArchive places the docker-archive of a base image at dst, exporting it
// once per image ID into the cache. It is exported by name so that loading it
// elsewhere restores the name too: buildah records the name of the FROM image
// in the history, so a nameless base would change the rebuilt image's ID.
func (s *Service) baseArchive(ctx context.Context, name, imageID, dst string) error {
	cached := filepath.Join(s.cfg.BaseImageCacheDir, name+"-"+imageID+".tar")
	if _, err := os.Stat(cached); err != nil {
		tmp, err := os.CreateTemp(s.cfg.BaseImageCacheDir, "export-*.tmp")
		if err != nil {
			return fmt.Errorf("export base image: %w", err)
		}
		defer os.Remove(tmp.Name())
		img, err := s.rt.InspectImage(ctx, baseimage.Ref(name))
		if err != nil || img.ID != imageID {
			_ = tmp.Close()
			return fmt.Errorf("base image %s changed while recording (now %s, recorded on %s): %w", name, img.ID, imageID, err)
		}
		if err := s.rt.ExportImage(ctx, baseimage.Ref(name), podman.DockerArchive, tmp); err != nil {
			_ = tmp.Close()
			return fmt.Errorf("export base image %s: %w", imageID, err)
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), cached); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	if err := os.Link(cached, dst); err == nil {
		return nil
	}
	return copyFile(cached, dst)
}

// packDir writes SHA256SUMS into dir, zips it into the blob store and returns the digest.
func (s *Service) packDir(ctx context.Context, dir string) (string, error) {
	if err := writeSums(dir); err != nil {
		return "", fmt.Errorf("checksums: %w", err)
	}
	entries, err := archive.DirEntries(dir, "")
	if err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	tmp, err := s.blobs.TempFile("out-*.zip")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := archive.WriteZip(ctx, tmp, entries); err != nil {
		_ = tmp.Close()
		return "", fmt.Errorf("write zip: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	ref, err := s.blobs.PutFile(ctx, tmp.Name(), true)
	if err != nil {
		return "", fmt.Errorf("store output: %w", err)
	}
	return ref.Digest, nil
}

// extractInput extracts the input zip of a process from the blob store.
func (s *Service) extractInput(ctx context.Context, digest, dest string) error {
	path, err := s.blobs.Path(digest)
	if err != nil {
		return err
	}
	if _, err := archive.ExtractZip(ctx, path, dest, s.cfg.Archive); err != nil {
		return fmt.Errorf("extract input: %w", err)
	}
	return nil
}
