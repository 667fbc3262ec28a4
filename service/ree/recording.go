package ree

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/process"
)

// recorder is the worker of recordings.
type recorder struct{ s *Service }

// Cleanup removes what a recording left in Podman.
func (r *recorder) Cleanup(ctx context.Context, id string) error { return r.s.cleanup(ctx, id) }

// Steps are "record" (prepare the project and build it behind the recording
// proxy) and "package" (verify the recording and pack the defined REE). A
// recording is not resumable: its build's image and network are removed by
// Cleanup, so an interrupted recording records again from the start.
func (r *recorder) Steps(j job.Job, a RecordingArgs) []job.StepDef {
	run := &recording{s: r.s, id: j.ID, args: a}
	return []job.StepDef{{Name: "record", Run: run.record}, {Name: "package", Run: run.pack}}
}

// recording is one attempt of a recording; its steps share it.
type recording struct {
	s      *Service
	id     string
	args   RecordingArgs
	ctxDir string
	out    string
	m      Manifest
	res    buildResult
}

// record builds the project while recording.
func (r *recording) record(ctx context.Context, w *job.Work) error {
	s, a := r.s, r.args
	r.ctxDir = filepath.Join(w.Dir, contextInput)
	if err := s.ensureInput(ctx, a.InputDigest, r.ctxDir); err != nil {
		return err
	}
	df, err := s.readDockerfile(ctx, r.ctxDir, a.Dockerfile)
	if err != nil {
		return err
	}
	r.out = filepath.Join(w.Dir, "out")
	if err := os.MkdirAll(r.out, 0o750); err != nil {
		return err
	}
	m := Manifest{
		Format: manifestFormat, ReehubVersion: s.cfg.Version, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Tag: a.Tag, Dockerfile: a.Dockerfile, BuildArgs: map[string]string{},
	}
	m.SourceDateEpoch = m.CreatedAt.Unix()
	if v, err := s.rt.Version(ctx); err == nil {
		m.PodmanVersion = v
	}
	baseIDs := map[string]string{}
	for _, name := range df.Bases() {
		img, err := s.catalog.Resolve(ctx, name)
		if err != nil {
			return err
		}
		baseIDs[name] = img.ID
		m.BaseImages = append(m.BaseImages, BaseImageRef{Name: name, ImageID: img.ID, Archive: baseImagesDir + name + ".tar"})
	}
	text, digest := buildText(df, baseIDs)
	m.BuildDockerfileSHA256 = digest
	fmt.Fprintf(w.Log, "reehub: recording %s (FROM %v)\n", a.Dockerfile, df.Bases())

	res, err := s.runBuild(ctx, buildRun{
		ProcessID: r.id, ContextDir: r.ctxDir, Dockerfile: text, Mode: proxy.Record,
		RecordingDir: filepath.Join(r.out, "recording"), Timestamp: time.Unix(m.SourceDateEpoch, 0).UTC(), Log: w.Log,
	})
	if err != nil {
		return err
	}
	m.ImageID = res.ImageID
	r.m, r.res = m, res
	return nil
}

// pack verifies the recording and packs the defined REE as the process's output.
func (r *recording) pack(ctx context.Context, w *job.Work) error {
	s, m, out, res := r.s, r.m, r.out, r.res
	recDir := filepath.Join(out, "recording")
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
		return fmt.Errorf("verify recording: %w", err)
	}
	m.Recording = RecordingSummary{Entries: sum.Entries, Bytes: sum.Bytes, IndexSHA256: sum.IndexSHA256}
	fmt.Fprintf(w.Log, "reehub: recorded %d responses, %d bytes; image %s\n", sum.Entries, sum.Bytes, res.ImageID)

	known := map[string]string{} // entries whose sha256 is already known
	for _, b := range m.BaseImages {
		sum, err := s.baseArchive(ctx, b.Name, b.ImageID, filepath.Join(out, filepath.FromSlash(b.Archive)))
		if err != nil {
			return err
		}
		known[b.Archive] = sum
	}
	if err := os.Rename(r.ctxDir, filepath.Join(out, "project")); err != nil {
		return fmt.Errorf("pack project: %w", err)
	}
	if err := writeJSON(filepath.Join(out, manifestName), m); err != nil {
		return err
	}
	listed := <-filesDone
	if listed.err != nil {
		return fmt.Errorf("list image files: %w", listed.err)
	}
	if err := writeJSON(filepath.Join(out, imageFilesName), listed.files); err != nil {
		return err
	}
	fmt.Fprintf(w.Log, "reehub: packing the defined REE\n")
	if err := copyFile(w.LogFile, filepath.Join(out, buildLogName)); err != nil {
		return fmt.Errorf("copy build log: %w", err)
	}
	digest, err := s.packDir(ctx, out, known)
	if err != nil {
		return err
	}
	if err := w.AddOutput(ctx, process.OutputName, "application/zip", digest); err != nil {
		return err
	}
	bases := map[string]string{}
	for _, b := range m.BaseImages {
		bases[b.Name] = b.ImageID
	}
	s.registerImage(ctx, w, ProducedImage{ImageID: res.ImageID, Tag: val(r.args.Tag), InputDigest: r.args.InputDigest, BaseImages: bases})
	return nil
}

func val(p *string) string {
	if p == nil {
		return ""
	}
	return *p
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

// ensureInput makes dest the extracted input zip of a process: the tree the
// submission checked, when the engine moved it in, else extracted again from
// the blob store (a retried attempt starts in an empty work directory). The
// extraction goes to a temporary sibling renamed into place, so that dest is
// either absent or complete whichever of the two renames comes first.
func (s *Service) ensureInput(ctx context.Context, digest, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return nil
	}
	path, err := s.blobs.Path(digest)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".extract-")
	if err != nil {
		return fmt.Errorf("extract input: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := archive.ExtractZip(ctx, path, filepath.Join(tmp, "x"), s.cfg.Archive); err != nil {
		return fmt.Errorf("extract input: %w", err)
	}
	if err := os.Rename(filepath.Join(tmp, "x"), dest); err != nil {
		if _, statErr := os.Stat(dest); statErr == nil {
			return nil // the submission's tree arrived first
		}
		return fmt.Errorf("extract input: %w", err)
	}
	return nil
}
