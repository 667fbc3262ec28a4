package ree

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
)

// Names inside a defined-REE zip.
const (
	manifestName   = "manifest.json"
	sumsName       = "SHA256SUMS"
	projectDir     = "project/"
	recordingDir   = "recording/"
	baseImagesDir  = "base-images/"
	buildLogName   = "build.log"
	imageFilesName = "image-files.json"
	// imageDetailsName (format v3) gives the size of every regular file of
	// image-files.json and the content of its small text files, so that a
	// replay that differs can show sizes and diffs of the recorded side.
	imageDetailsName = "image-file-details.json"
	reportName       = "report.json"
	imageOCIName     = "image.oci.tar"
	// manifestFormat is what this server writes. In v2 the base images are
	// gzip-compressed docker-archives (base-images/<name>.tar.gz) and
	// image-files.json lists only the files the build added, changed or
	// deleted above its base (the squashed top layer); in v1 the archives were
	// plain tars and the list covered the whole image.
	//
	// v3 adds the build normalisations of buildText (SOURCE_DATE_EPOCH in
	// every RUN, tool caches removed) and image-file-details.json.
	manifestFormat = "reehub.ree.recording/v3"
	// manifestFormatV2 and manifestFormatV1 are still read, so that older
	// defined REEs replay: they rebuild the text of their own format.
	manifestFormatV2 = "reehub.ree.recording/v2"
	manifestFormatV1 = "reehub.ree.recording/v1"
)

// Manifest describes a defined REE; it is manifest.json in the zip.
type Manifest struct {
	Format          string            `json:"format"`
	ReehubVersion   string            `json:"reehub_version"`
	PodmanVersion   string            `json:"podman_version"`
	CreatedAt       time.Time         `json:"created_at"`
	Tag             *string           `json:"tag"`
	Dockerfile      string            `json:"dockerfile"`
	BaseImages      []BaseImageRef    `json:"base_images"`
	BuildArgs       map[string]string `json:"build_args"`
	SourceDateEpoch int64             `json:"source_date_epoch"`
	// BuildDockerfileSHA256 is the digest of the Dockerfile reehub actually
	// built (bases pinned, trust injected); replay must build the same text.
	BuildDockerfileSHA256 string           `json:"build_dockerfile_sha256"`
	ImageID               string           `json:"image_id"`
	Recording             RecordingSummary `json:"recording"`
}

// BaseImageRef pins a base image by its image ID and carries its archive.
type BaseImageRef struct {
	Name    string `json:"name"`
	ImageID string `json:"image_id"`
	Archive string `json:"archive"`
}

// RecordingSummary describes the recording in the zip.
type RecordingSummary struct {
	Entries     int    `json:"entries"`
	Bytes       int64  `json:"bytes"`
	IndexSHA256 string `json:"index_sha256"`
}

// Report is the verification report of a replay.
type Report struct {
	RecordedImageID string   `json:"recorded_image_id"`
	RebuiltImageID  string   `json:"rebuilt_image_id"`
	Identical       bool     `json:"identical"`
	SameFiles       bool     `json:"same_files"`
	DifferingFiles  []string `json:"differing_files"`
	// Differences describes each of DifferingFiles on both sides.
	Differences   []FileDifference `json:"differences"`
	ProxyRequests int              `json:"proxy_requests"`
	ProxyHits     int              `json:"proxy_hits"`
	ProxyMisses   int              `json:"proxy_misses"`
	Explanation   string           `json:"explanation"`
}

// FileDifference is one path that differs between the recorded and the
// rebuilt image.
type FileDifference struct {
	Path string `json:"path"`
	// Recorded and Rebuilt describe the path in each image; nil where the
	// image's layer does not have it.
	Recorded *FileSide `json:"recorded"`
	Rebuilt  *FileSide `json:"rebuilt"`
	// Diff is a unified diff (at most diffMaxLines lines) when both sides are
	// text files whose content is known.
	Diff string `json:"diff,omitempty"`
	// Note says why there is no diff, when there is none.
	Note string `json:"note,omitempty"`
}

// FileSide is a path as one image has it.
type FileSide struct {
	// Description is the entry of image-files.json ("sha256:<hex> <mode>
	// <uid>:<gid>", "dir ...", "link:<target>", "deleted").
	Description string `json:"description"`
	// SHA256 and Size are set for regular files (Size is unknown for the
	// recorded side of a defined REE older than v3).
	SHA256 string `json:"sha256,omitempty"`
	Size   *int64 `json:"size,omitempty"`
}

// fileDetail is an entry of image-file-details.json: a regular file's size
// and, for a small text file, its content.
type fileDetail struct {
	Size int64   `json:"size"`
	Text *string `json:"text,omitempty"`
}

// writeJSON writes v as indented JSON to path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o640)
}

// writeSums writes SHA256SUMS in dir covering every regular file below it.
// known gives digests already computed; recording blobs are named by theirs.
func writeSums(dir string, known map[string]string) error {
	sums, err := hashTree(dir, func(rel string) (string, bool) {
		if sum, ok := known[rel]; ok {
			return sum, true
		}
		if hexName, ok := strings.CutPrefix(rel, recordingDir+"blobs/sha256/"); ok && len(hexName) == 64 {
			return hexName, true
		}
		return "", false
	})
	if err != nil {
		return err
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return os.WriteFile(filepath.Join(dir, sumsName), []byte(b.String()), 0o640)
}

// hashTree returns sha256 per regular file below dir (slash paths), except
// SHA256SUMS; known, when not nil, may supply a digest instead of hashing.
func hashTree(dir string, known func(rel string) (string, bool)) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == sumsName {
			return nil
		}
		if known != nil {
			if sum, ok := known(rel); ok {
				out[rel] = sum
				return nil
			}
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return err
		}
		out[rel] = sum
		return nil
	})
	return out, err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verifyTree checks an extracted defined REE: SHA256SUMS must list exactly the
// regular files present, with matching digests, and the manifest must parse.
func verifyTree(dir string) (Manifest, error) {
	var m Manifest
	actual, err := verifySums(dir)
	if err != nil {
		return m, err
	}
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return m, fault.Invalidf("not a defined REE: %s is missing", manifestName)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fault.Invalidf("%s is not valid JSON: %v", manifestName, err)
	}
	if m.Format != manifestFormat && m.Format != manifestFormatV2 && m.Format != manifestFormatV1 {
		return m, fault.Invalidf("%s has format %q; this server reads %q, %q and %q", manifestName, m.Format, manifestFormat, manifestFormatV2, manifestFormatV1)
	}
	if m.Dockerfile == "" || len(m.BaseImages) == 0 || m.ImageID == "" {
		return m, fault.Invalidf("%s lacks dockerfile, base_images or image_id", manifestName)
	}
	for _, b := range m.BaseImages {
		if !strings.HasPrefix(b.Archive, baseImagesDir) {
			return m, fault.Invalidf("%s: base image archive %q must be under %s", manifestName, b.Archive, baseImagesDir)
		}
		if _, ok := actual[b.Archive]; !ok {
			return m, fault.Invalidf("defined REE lacks the base image archive %s", b.Archive)
		}
	}
	if _, ok := actual[recordingDir+"index.json"]; !ok {
		return m, fault.Invalidf("defined REE lacks its recording (%sindex.json)", recordingDir)
	}
	if _, ok := actual[projectDir+m.Dockerfile]; !ok {
		return m, fault.Invalidf("defined REE lacks its Dockerfile %s%s", projectDir, m.Dockerfile)
	}
	return m, nil
}

// verifySums checks that SHA256SUMS in dir lists exactly the regular files
// present, with matching digests, and returns the digests.
func verifySums(dir string) (map[string]string, error) {
	f, err := os.Open(filepath.Join(dir, sumsName))
	if err != nil {
		return nil, fault.Invalidf("not a defined REE: %s is missing", sumsName)
	}
	defer f.Close()
	listed := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 || name == "" {
			return nil, fault.Invalidf("%s is malformed", sumsName)
		}
		listed[name] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fault.Invalidf("%s is unreadable: %v", sumsName, err)
	}
	actual, err := hashTree(dir, nil)
	if err != nil {
		return nil, fmt.Errorf("hash defined REE: %w", err)
	}
	for name, sum := range listed {
		got, ok := actual[name]
		if !ok {
			return nil, fault.Invalidf("defined REE is incomplete: %s is listed in %s but missing", name, sumsName)
		}
		if got != sum {
			return nil, fault.Invalidf("defined REE was modified: checksum of %s does not match %s", name, sumsName)
		}
	}
	for name := range actual {
		if _, ok := listed[name]; !ok {
			return nil, fault.Invalidf("defined REE was modified: %s is not listed in %s", name, sumsName)
		}
	}
	return actual, nil
}
