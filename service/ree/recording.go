package ree

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	// Listing the image's files exports the whole image; it runs while the
	// rest of the defined REE is assembled.
	type listing struct {
		files map[string]string
		err   error
	}
	filesDone := make(chan listing, 1)
	go func() {
		files, err := s.rt.ImageFiles(ctx, res.ImageID)
		filesDone <- listing{files, err}
	}()
	sum, err := proxy.Verify(recDir)
	if err != nil {
		return "", fmt.Errorf("verify recording: %w", err)
	}
	m.Recording = RecordingSummary{Entries: sum.Entries, Bytes: sum.Bytes, IndexSHA256: sum.IndexSHA256}
	fmt.Fprintf(w.Log, "reehub: recorded %d responses, %d bytes; image %s\n", sum.Entries, sum.Bytes, res.ImageID)

	known := map[string]string{} // entries whose sha256 is already known
	for _, b := range m.BaseImages {
		sum, err := s.baseArchive(ctx, b.Name, b.ImageID, filepath.Join(out, filepath.FromSlash(b.Archive)))
		if err != nil {
			return "", err
		}
		known[b.Archive] = sum
	}
	if err := os.Rename(ctxDir, filepath.Join(out, "project")); err != nil {
		return "", fmt.Errorf("pack project: %w", err)
	}
	if err := writeJSON(filepath.Join(out, manifestName), m); err != nil {
		return "", err
	}
	listed := <-filesDone
	if listed.err != nil {
		return "", fmt.Errorf("list image files: %w", listed.err)
	}
	if err := writeJSON(filepath.Join(out, imageFilesName), listed.files); err != nil {
		return "", err
	}
	fmt.Fprintf(w.Log, "reehub: packing the defined REE\n")
	if err := copyFile(w.LogFile, filepath.Join(out, buildLogName)); err != nil {
		return "", fmt.Errorf("copy build log: %w", err)
	}
	return s.packDir(ctx, out, known)
}

// baseArchive places the docker-archive of a base image at dst and returns
// its sha256. It is exported once per image ID into the cache, by name so that
// loading it elsewhere restores the name too: buildah records the name of the
// FROM image in the history, so a nameless base would change the rebuilt ID.
func (s *Service) baseArchive(ctx context.Context, name, imageID, dst string) (string, error) {
	cached := filepath.Join(s.cfg.BaseImageCacheDir, name+"-"+imageID+".tar")
	if _, err := os.Stat(cached); err != nil {
		if err := s.exportBase(ctx, name, imageID, cached); err != nil {
			return "", err
		}
	}
	sum, err := os.ReadFile(cached + ".sha256")
	if err != nil {
		return "", fmt.Errorf("base image cache: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", err
	}
	if err := os.Link(cached, dst); err != nil {
		if err := copyFile(cached, dst); err != nil {
			return "", err
		}
	}
	return string(sum), nil
}

// exportBase exports a base image into the cache with its sha256 beside it.
func (s *Service) exportBase(ctx context.Context, name, imageID, cached string) error {
	img, err := s.rt.InspectImage(ctx, baseimage.Ref(name))
	if err != nil || img.ID != imageID {
		return fmt.Errorf("base image %s changed while recording (now %s, recorded on %s): %w", name, img.ID, imageID, err)
	}
	tmp, err := os.CreateTemp(s.cfg.BaseImageCacheDir, "export-*.tmp")
	if err != nil {
		return fmt.Errorf("export base image: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if err := s.rt.ExportImage(ctx, baseimage.Ref(name), podman.DockerArchive, io.MultiWriter(tmp, h)); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("export base image %s: %w", imageID, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(cached+".sha256", []byte(hex.EncodeToString(h.Sum(nil))), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), cached)
}

// packDir writes SHA256SUMS into dir, zips it into the blob store and returns
// the digest. known gives digests already computed (by entry name); recording
// blobs are named by their digest. Already-compressed files are stored as is.
func (s *Service) packDir(ctx context.Context, dir string, known map[string]string) (string, error) {
	if err := writeSums(dir, known); err != nil {
		return "", fmt.Errorf("checksums: %w", err)
	}
	entries, err := archive.DirEntries(dir, "")
	if err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	for i := range entries {
		if strings.HasPrefix(entries[i].Name, recordingDir+"blobs/") {
			entries[i].Store = compressed(filepath.Join(dir, filepath.FromSlash(entries[i].Name)))
		}
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

// compressedMagic are the first bytes of formats that do not deflate further:
// gzip, xz, zstd, bzip2 and ar (Debian packages, whose members are compressed).
var compressedMagic = [][]byte{{0x1f, 0x8b}, {0xfd, '7', 'z', 'X', 'Z', 0}, {0x28, 0xb5, 0x2f, 0xfd}, []byte("BZh"), []byte("!<arch>\n")}

// compressed reports whether the file starts like an already-compressed format.
func compressed(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	for _, m := range compressedMagic {
		if bytes.HasPrefix(head[:n], m) {
			return true
		}
	}
	return false
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
