package ree

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/reehub/reehub/runtime/podman"
)

const (
	// textLimit is the largest text file whose content a recording keeps in
	// image-file-details.json and a replay reads for a diff.
	textLimit = 8 << 10
	// textBudget bounds the text a recording keeps in all (an apt install adds
	// thousands of small text files); files outside /usr/share and dpkg's
	// database, where a build's own output usually lies, come first.
	textBudget = 2 << 20
	// diffMaxLines bounds each unified diff of a report.
	diffMaxLines = 60
)

// descriptions returns the image-files.json map of a layer's entries.
func descriptions(entries map[string]podman.FileEntry) map[string]string {
	out := make(map[string]string, len(entries))
	for p, e := range entries {
		out[p] = e.Desc
	}
	return out
}

// recordedDetails returns image-file-details.json: the size of every regular
// file and the text of small text files, within textBudget.
func recordedDetails(entries map[string]podman.FileEntry) map[string]fileDetail {
	out := map[string]fileDetail{}
	var texts []string
	for p, e := range entries {
		if !strings.HasPrefix(e.Desc, "sha256:") {
			continue
		}
		out[p] = fileDetail{Size: e.Size}
		if e.Text != nil {
			texts = append(texts, p)
		}
	}
	generic := func(p string) bool {
		return strings.HasPrefix(p, "/usr/share/") || strings.HasPrefix(p, "/var/lib/dpkg/")
	}
	sort.Slice(texts, func(i, j int) bool {
		if gi, gj := generic(texts[i]), generic(texts[j]); gi != gj {
			return gj
		}
		return texts[i] < texts[j]
	})
	left := int64(textBudget)
	for _, p := range texts {
		e := entries[p]
		if int64(len(e.Text)) > left {
			continue
		}
		left -= int64(len(e.Text))
		text := string(e.Text)
		d := out[p]
		d.Text = &text
		out[p] = d
	}
	return out
}

// compareFiles fills the report's file comparison and explanation. Equal
// image IDs mean equal content (the ID is the digest of the config, which
// names every layer's digest), so only differing images are listed again.
func (s *Service) compareFiles(ctx context.Context, tree, format string, rep *Report) error {
	if rep.Identical {
		rep.SameFiles = true
		rep.Explanation = "the rebuilt image has the recorded image ID: the replay is bit-for-bit identical"
		return nil
	}
	var recorded map[string]string
	b, err := os.ReadFile(filepath.Join(tree, imageFilesName))
	if err == nil {
		err = json.Unmarshal(b, &recorded)
	}
	if err != nil {
		rep.Explanation = "the defined REE has no file list of the recorded image; only the image IDs were compared"
		return nil
	}
	details := map[string]fileDetail{}
	if b, err := os.ReadFile(filepath.Join(tree, imageDetailsName)); err == nil {
		if err := json.Unmarshal(b, &details); err != nil {
			return fmt.Errorf("%s: %w", imageDetailsName, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// A v1 defined REE lists the whole image; v2 and v3 list the files above the base.
	var rebuilt map[string]podman.FileEntry
	if format == manifestFormatV1 {
		files, err := s.rt.ImageFiles(ctx, rep.RebuiltImageID)
		if err != nil {
			return fmt.Errorf("list rebuilt image files: %w", err)
		}
		rebuilt = make(map[string]podman.FileEntry, len(files))
		for p, d := range files {
			rebuilt[p] = podman.FileEntry{Desc: d}
		}
	} else if rebuilt, err = s.rt.TopLayerEntries(ctx, rep.RebuiltImageID, textLimit); err != nil {
		return fmt.Errorf("list rebuilt image files: %w", err)
	}
	rep.DifferingFiles = podman.DiffFiles(recorded, descriptions(rebuilt))
	if rep.DifferingFiles == nil {
		rep.DifferingFiles = []string{}
	}
	rep.Differences = differences(rep.DifferingFiles, recorded, details, rebuilt)
	rep.SameFiles = len(rep.DifferingFiles) == 0
	switch {
	case rep.SameFiles:
		rep.Explanation = "every file of the rebuilt image equals the recorded one, but the image IDs differ: the image metadata (layer tar headers or config) differs"
	default:
		rep.Explanation = fmt.Sprintf("%d files differ from the recorded image: %s", len(rep.DifferingFiles), listSome(rep.DifferingFiles, 5))
	}
	return nil
}

// listSome names the first n paths and how many more there are.
func listSome(paths []string, n int) string {
	if len(paths) <= n {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more (see differences in report.json)", strings.Join(paths[:n], ", "), len(paths)-n)
}

// differences describes each differing path on both sides, with a unified
// diff where both contents are known text.
func differences(paths []string, recorded map[string]string, details map[string]fileDetail, rebuilt map[string]podman.FileEntry) []FileDifference {
	out := make([]FileDifference, 0, len(paths))
	for _, p := range paths {
		d := FileDifference{Path: p}
		var recText, rebText *string
		if desc, ok := recorded[p]; ok {
			d.Recorded = side(desc)
			if det, ok := details[p]; ok {
				size := det.Size
				d.Recorded.Size = &size
				recText = det.Text
			}
		}
		if e, ok := rebuilt[p]; ok {
			d.Rebuilt = side(e.Desc)
			if d.Rebuilt.SHA256 != "" {
				size := e.Size
				d.Rebuilt.Size = &size
			}
			if e.Text != nil {
				t := string(e.Text)
				rebText = &t
			}
		}
		switch {
		case d.Recorded == nil || d.Rebuilt == nil:
			d.Note = "present in one image only"
		case d.Recorded.SHA256 == "" || d.Rebuilt.SHA256 == "":
			d.Note = "not a regular file on both sides"
		case d.Recorded.SHA256 == d.Rebuilt.SHA256:
			d.Note = "same content; mode or owner differ"
		case recText != nil && rebText != nil:
			d.Diff = unifiedDiff(p, *recText, *rebText)
		case len(details) == 0:
			d.Note = "the defined REE predates recorded file contents (format v3); compare the sha256"
		case isBinary(d, details[p], rebuilt[p]):
			d.Note = "binary content"
		default:
			d.Note = fmt.Sprintf("content not kept for a diff (text files of at most %d bytes are)", textLimit)
		}
		out = append(out, d)
	}
	return out
}

// isBinary reports whether a differing regular file was small enough to be
// kept as text on both sides but is not text on at least one.
func isBinary(d FileDifference, rec fileDetail, reb podman.FileEntry) bool {
	recSmall := d.Recorded.Size != nil && *d.Recorded.Size <= textLimit
	rebSmall := reb.Size <= textLimit
	return (recSmall && rec.Text == nil && rebSmall) || (rebSmall && reb.Text == nil && recSmall)
}

// side describes a path from its image-files.json description.
func side(desc string) *FileSide {
	fs := &FileSide{Description: desc}
	if rest, ok := strings.CutPrefix(desc, "sha256:"); ok {
		fs.SHA256, _, _ = strings.Cut(rest, " ")
	}
	return fs
}

// unifiedDiff returns the unified diff of a path's recorded and rebuilt text,
// cut to diffMaxLines lines.
func unifiedDiff(path, recorded, rebuilt string) string {
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(recorded), B: difflib.SplitLines(rebuilt),
		FromFile: "recorded" + path, ToFile: "rebuilt" + path, Context: 2,
	})
	if err != nil {
		return ""
	}
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > diffMaxLines {
		text = strings.Join(lines[:diffMaxLines], "") + fmt.Sprintf("... (%d more lines)\n", len(lines)-diffMaxLines)
	}
	return text
}
