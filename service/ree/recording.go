package ree

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

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
	// Podman answers /version in about 0.6 s (it gathers host information);
	// the version is only written into the manifest, so it is asked for while
	// the build runs.
	podmanVersion := make(chan string, 1)
	go func() {
		v, _ := s.rt.Version(ctx)
		podmanVersion <- v
	}()
	baseIDs := map[string]string{}
	for _, name := range df.Bases() {
		img, err := s.catalog.Resolve(ctx, name)
		if err != nil {
			return err
		}
		baseIDs[name] = img.ID
		m.BaseImages = append(m.BaseImages, BaseImageRef{Name: name, ImageID: img.ID, Archive: baseImagesDir + name + ".tar.gz"})
	}
	text, digest := buildText(df, baseIDs, buildSpec{Format: m.Format, SourceDateEpoch: m.SourceDateEpoch})
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
	m.PodmanVersion = <-podmanVersion
	r.m, r.res = m, res
	return nil
}

// pack verifies the recording and packs the defined REE as the process's output.
func (r *recording) pack(ctx context.Context, w *job.Work) error {
	s, m, out, res := r.s, r.m, r.out, r.res
	recDir := filepath.Join(out, "recording")
	// The files above the base are listed while the rest of the defined REE
	// is assembled.
	type listing struct {
		files map[string]podman.FileEntry
		err   error
	}
	filesDone := make(chan listing, 1)
	go func() {
		files, err := s.rt.TopLayerEntries(ctx, res.ImageID, textLimit)
		filesDone <- listing{files, err}
	}()
	sum, err := proxy.Verify(recDir)
	if err != nil {
		return fmt.Errorf("verify recording: %w", err)
	}
	m.Recording = RecordingSummary{Entries: sum.Entries, Bytes: sum.Bytes, IndexSHA256: sum.IndexSHA256}
	fmt.Fprintf(w.Log, "reehub: recorded %d responses, %d bytes; image %s\n", sum.Entries, sum.Bytes, res.ImageID)

	known := map[string]baseBlob{} // entries already in the blob store
	for _, b := range m.BaseImages {
		blob, err := s.baseArchive(ctx, b.Name, b.ImageID, filepath.Join(out, filepath.FromSlash(b.Archive)))
		if err != nil {
			return err
		}
		known[b.Archive] = blob
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
	if err := writeJSON(filepath.Join(out, imageFilesName), descriptions(listed.files)); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(out, imageDetailsName), recordedDetails(listed.files)); err != nil {
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
	s.releaseImage(ctx, w)
	return nil
}

// baseBlob is a file made once and kept in the blob store to be copied raw
// into many zips: the compressed docker-archive of a base image (once per
// base image ID) or the OCI archive of a rebuilt image (once per image ID).
type baseBlob struct {
	// Digest is the blob's digest, "sha256:<hex>": the SHA256SUMS line of the
	// archive in the defined REE.
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	// CRC32 is the archive's zip checksum, so that it is copied into each zip
	// without being read twice.
	CRC32 uint32 `json:"crc32"`
}

// baseArchive places the gzip-compressed docker-archive of a base image at dst
// and returns its blob. The archive is exported and compressed once per image
// ID into the blob store, by name so that loading it elsewhere restores the
// name too: buildah records the name of the FROM image in the history, so a
// nameless base would change the rebuilt ID.
func (s *Service) baseArchive(ctx context.Context, name, imageID, dst string) (baseBlob, error) {
	index := filepath.Join(s.cfg.BaseImageCacheDir, name+"-"+imageID+".json")
	b, err := s.cachedBlob(ctx, index, dst, func(w io.Writer) error {
		img, err := s.rt.InspectImage(ctx, baseimage.Ref(name))
		if err != nil || img.ID != imageID {
			return fmt.Errorf("base image %s changed while recording (now %s, recorded on %s): %w", name, img.ID, imageID, err)
		}
		zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
		if err != nil {
			return err
		}
		if err := s.rt.ExportImage(ctx, baseimage.Ref(name), podman.DockerArchive, zw); err != nil {
			return fmt.Errorf("export base image %s: %w", imageID, err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("compress base image %s: %w", imageID, err)
		}
		return nil
	})
	if err != nil {
		return b, err
	}
	return b, s.recordBaseArchive(ctx, name, imageID, b) // for hosts that lack the image
}

// cachedBlob places at dst (a hard link where possible) the blob that index
// names, making it first with write when index or its blob is missing. The
// index file records the blob's digest, size and CRC32.
func (s *Service) cachedBlob(ctx context.Context, index, dst string, write func(io.Writer) error) (baseBlob, error) {
	var b baseBlob
	raw, err := os.ReadFile(index)
	if err == nil {
		err = json.Unmarshal(raw, &b)
	}
	var path string
	if err == nil {
		path, err = s.blobs.LocalPath(ctx, b.Digest)
	}
	if err == nil {
		_, err = os.Stat(path)
	}
	if err != nil {
		if b, err = s.makeBlob(ctx, index, write); err != nil {
			return b, err
		}
		if path, err = s.blobs.LocalPath(ctx, b.Digest); err != nil {
			return b, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return b, err
	}
	if err := os.Link(path, dst); err != nil {
		if err := copyFile(path, dst); err != nil {
			return b, err
		}
	}
	return b, nil
}

// makeBlob stores what write yields in the blob store and records it in index.
func (s *Service) makeBlob(ctx context.Context, index string, write func(io.Writer) error) (baseBlob, error) {
	var b baseBlob
	tmp, err := s.blobs.TempFile("cache-*.tmp")
	if err != nil {
		return b, err
	}
	defer os.Remove(tmp.Name())
	sum := crc32.NewIEEE()
	if err := write(io.MultiWriter(tmp, sum)); err != nil {
		_ = tmp.Close()
		return b, err
	}
	if err := tmp.Close(); err != nil {
		return b, err
	}
	ref, err := s.blobs.PutFile(ctx, tmp.Name(), true)
	if err != nil {
		return b, fmt.Errorf("store %s: %w", filepath.Base(index), err)
	}
	b = baseBlob{Digest: ref.Digest, Size: ref.Size, CRC32: sum.Sum32()}
	if err := writeJSONAtomic(index, b); err != nil {
		return b, fmt.Errorf("blob cache: %w", err)
	}
	return b, nil
}

// writeJSONAtomic writes v as JSON to path through a temporary file, so that
// readers see the old content or the new, never a part.
func writeJSONAtomic(path string, v any) error {
	tmp := path + "." + strconv.Itoa(os.Getpid()) + ".tmp"
	if err := writeJSON(tmp, v); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// packDir writes SHA256SUMS into dir, zips it into the blob store and returns
// the digest. known gives blobs already in the blob store (by entry name):
// their digests are not computed again and they are copied into the zip raw.
// Recording blobs are named by their digest. Files that are already
// compressed are stored, not deflated again.
func (s *Service) packDir(ctx context.Context, dir string, known map[string]baseBlob) (string, error) {
	sums := map[string]string{}
	for name, b := range known {
		sums[name] = strings.TrimPrefix(b.Digest, "sha256:")
	}
	if err := writeSums(dir, sums); err != nil {
		return "", fmt.Errorf("checksums: %w", err)
	}
	entries, err := archive.DirEntries(dir, "")
	if err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	for i := range entries {
		e := &entries[i]
		if e.Mode.Type() != 0 {
			continue
		}
		if b, ok := known[e.Name]; ok && b.Size == e.Size {
			e.Raw, e.CRC32 = true, b.CRC32
			continue
		}
		e.Store = e.Name == imageOCIName || compressed(filepath.Join(dir, filepath.FromSlash(e.Name)))
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
	path, err := s.blobs.LocalPath(ctx, digest)
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
