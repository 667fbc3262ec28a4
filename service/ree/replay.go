package ree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/dockerfile"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/runtime/proxy"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/process"
)

// replayer is the worker of replays.
type replayer struct{ s *Service }

// Cleanup removes what a replay left in Podman.
func (r *replayer) Cleanup(ctx context.Context, id string) error { return r.s.cleanup(ctx, id) }

// Steps are "rebuild" (verify the defined REE and rebuild it offline) and
// "package" (compare, export and pack the result). Like a recording, a
// replay starts again from the first step after an interruption.
func (r *replayer) Steps(j job.Job, a ReplayArgs) []job.StepDef {
	run := &replay{s: r.s, id: j.ID, args: a}
	return []job.StepDef{{Name: "rebuild", Run: run.rebuild}, {Name: "package", Run: run.pack}}
}

// replay is one attempt of a replay; its steps share it.
type replay struct {
	s    *Service
	id   string
	args ReplayArgs
	tree string
	m    Manifest
	res  buildResult
}

// rebuild rebuilds a defined REE offline.
func (r *replay) rebuild(ctx context.Context, w *job.Work) error {
	s := r.s
	tree := filepath.Join(w.Dir, treeInput)
	r.tree = tree
	if err := s.ensureInput(ctx, r.args.InputDigest, tree); err != nil {
		return err
	}
	m, err := verifyTree(tree)
	if err != nil {
		return err
	}
	baseIDs := map[string]string{}
	for _, b := range m.BaseImages {
		if err := s.ensureBase(ctx, tree, b, w); err != nil {
			return err
		}
		baseIDs[b.Name] = b.ImageID
	}
	content, err := os.ReadFile(filepath.Join(tree, "project", filepath.FromSlash(m.Dockerfile)))
	if err != nil {
		return fmt.Errorf("read dockerfile: %w", err)
	}
	df, err := dockerfile.Parse(content)
	if err != nil {
		return fmt.Errorf("dockerfile %s: %w", m.Dockerfile, err)
	}
	text, digest := buildText(df, baseIDs, buildSpec{Format: m.Format, SourceDateEpoch: m.SourceDateEpoch})
	if digest != m.BuildDockerfileSHA256 {
		return fault.Invalidf("this server would build a different Dockerfile than the recording did (sha256 %s, manifest %s); the defined REE was made by an incompatible reehub", digest, m.BuildDockerfileSHA256)
	}
	fmt.Fprintf(w.Log, "reehub: replaying %s offline (recording: %d responses)\n", m.Dockerfile, m.Recording.Entries)
	res, err := s.runBuild(ctx, buildRun{
		ProcessID: r.id, ContextDir: filepath.Join(tree, "project"), Dockerfile: text, Mode: proxy.Replay,
		RecordingDir: filepath.Join(tree, "recording"), Timestamp: time.Unix(m.SourceDateEpoch, 0).UTC(), Log: w.Log,
	})
	if err != nil {
		return err
	}
	if res.Stats.Misses > 0 {
		return fault.Invalidf("the replay needed %d downloads that are not in the recording: %s",
			res.Stats.Misses, strings.Join(res.Stats.MissedURLs, ", "))
	}
	r.m, r.res = m, res
	return nil
}

// pack compares the rebuilt image with the recorded one, exports it and packs
// the result as the process's output.
func (r *replay) pack(ctx context.Context, w *job.Work) error {
	s, m, res, tree := r.s, r.m, r.res, r.tree
	report := Report{
		RecordedImageID: m.ImageID, RebuiltImageID: res.ImageID, Identical: m.ImageID == res.ImageID,
		ProxyRequests: res.Stats.Requests, ProxyHits: res.Stats.Hits, ProxyMisses: res.Stats.Misses,
		DifferingFiles: []string{}, Differences: []FileDifference{},
	}
	// Comparing files (only needed when the image IDs differ) runs beside the
	// export of the OCI archive.
	compared := make(chan error, 1)
	go func() { compared <- s.compareFiles(ctx, tree, m.Format, &report) }()

	out := filepath.Join(w.Dir, "out")
	if err := os.MkdirAll(out, 0o750); err != nil {
		return err
	}
	ociBlob, err := s.imageArchive(ctx, res.ImageID, filepath.Join(out, imageOCIName))
	if err != nil {
		return err
	}
	if err := <-compared; err != nil {
		return err
	}
	fmt.Fprintf(w.Log, "reehub: %s\n", report.Explanation)
	for _, d := range report.Differences {
		fmt.Fprintf(w.Log, "reehub: differs: %s%s\n", d.Path, sidesLine(d))
	}
	if err := copyFile(filepath.Join(tree, manifestName), filepath.Join(out, manifestName)); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(out, reportName), report); err != nil {
		return err
	}
	if err := copyFile(w.LogFile, filepath.Join(out, buildLogName)); err != nil {
		return err
	}
	digest, err := s.packDir(ctx, out, map[string]baseBlob{imageOCIName: ociBlob})
	if err != nil {
		return err
	}
	// A difference is a finding, not a failure: the replay succeeds and its
	// status says whether it was identical.
	if err := s.procs.SetIdentical(ctx, r.id, report.Identical); err != nil {
		return err
	}
	if err := w.SetSummary(ctx, report.Explanation); err != nil {
		return err
	}
	if err := w.AddOutput(ctx, process.OutputName, "application/zip", digest); err != nil {
		return err
	}
	bases := map[string]string{}
	for _, b := range m.BaseImages {
		bases[b.Name] = b.ImageID
	}
	s.registerImage(ctx, w, ProducedImage{ImageID: res.ImageID, Tag: val(m.Tag), InputDigest: r.args.InputDigest, BaseImages: bases,
		OCIArchive: filepath.Join(out, imageOCIName)})
	s.releaseImage(ctx, w)
	return nil
}

// sidesLine is the log's short form of a difference: sizes and digests.
func sidesLine(d FileDifference) string {
	one := func(fs *FileSide) string {
		switch {
		case fs == nil:
			return "absent"
		case fs.SHA256 == "":
			return fs.Description
		case fs.Size == nil:
			return "sha256 " + shortID(fs.SHA256)
		}
		return fmt.Sprintf("%d bytes, sha256 %s", *fs.Size, shortID(fs.SHA256))
	}
	return " (recorded: " + one(d.Recorded) + "; rebuilt: " + one(d.Rebuilt) + ")"
}

// imageArchive places the OCI archive of the image imageID at dst and returns
// its blob. It is exported once per image ID and kept in the blob store: equal
// image IDs mean equal config and layers, and an export by ID names no tag, so
// every later replay that rebuilds the same image ships the same archive.
func (s *Service) imageArchive(ctx context.Context, imageID, dst string) (baseBlob, error) {
	index := filepath.Join(s.cfg.BaseImageCacheDir, "image-"+imageID+".oci.json")
	return s.cachedBlob(ctx, index, dst, func(w io.Writer) error {
		if err := s.rt.ExportImage(ctx, imageID, podman.OCIArchive, w); err != nil {
			return fmt.Errorf("export rebuilt image: %w", err)
		}
		return nil
	})
}

// ensureBase makes the pinned base image available: by ID if present, else by
// loading the archive carried in the defined REE and checking its ID.
func (s *Service) ensureBase(ctx context.Context, tree string, b BaseImageRef, w *job.Work) error {
	if _, err := s.rt.InspectImage(ctx, b.ImageID); err == nil {
		return nil
	} else if !errors.Is(err, fault.ErrNotFound) {
		return err
	}
	fmt.Fprintf(w.Log, "reehub: base image %s (%s) is not here; loading it from the defined REE\n", b.Name, shortID(b.ImageID))
	f, err := os.Open(filepath.Join(tree, filepath.FromSlash(b.Archive)))
	if err != nil {
		return fault.Invalidf("defined REE lacks base image archive %s", b.Archive)
	}
	defer f.Close()
	// Podman 4 loads only uncompressed archives; v2 carries them gzipped.
	var rd io.Reader = f
	if strings.HasSuffix(b.Archive, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fault.Invalidf("base image archive %s is not gzip: %v", b.Archive, err)
		}
		defer zr.Close()
		rd = zr
	}
	if _, err := s.rt.LoadImage(ctx, rd); err != nil {
		return fault.Invalidf("base image archive %s cannot be loaded: %v", b.Archive, err)
	}
	if _, err := s.rt.InspectImage(ctx, b.ImageID); err != nil {
		return fault.Invalidf("base image archive %s does not contain image %s that the manifest pins", b.Archive, b.ImageID)
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
