// Package report writes FOSSology's reports of an upload from its tree,
// its agents' findings and its clearing decisions: SPDX 2.3 as RDF/XML
// (spdx2, as FOSSology writes it), tag-value (spdx2tv) and JSON
// (spdx2json), CycloneDX 1.6 JSON (cyclonedx), a machine-readable
// debian/copyright (dep5), a plain-text README_OSS (readmeoss) and a Word
// document with the license and copyright tables (unifiedreport).
//
// A report states what the clearing concluded: a file's concluded license is
// its IDENTIFIED decision, NOASSERTION without one; the licenses the
// scanners found are reported separately (licenseInfoInFile, evidence). The
// caller refuses a report while the upload's scans still run.
package report

import (
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/reehub/reehub/analysis/license"
	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/clearing"
)

// Format is a report format as the API's reportFormat header names it.
type Format string

// The report formats.
const (
	SPDX2         Format = "spdx2"
	SPDX2TV       Format = "spdx2tv"
	SPDX2JSON     Format = "spdx2json"
	CycloneDX     Format = "cyclonedx"
	DEP5          Format = "dep5"
	ReadmeOSS     Format = "readmeoss"
	UnifiedReport Format = "unifiedreport"
)

// Formats lists every format.
func Formats() []Format {
	return []Format{SPDX2, SPDX2TV, SPDX2JSON, CycloneDX, DEP5, ReadmeOSS, UnifiedReport}
}

// ParseFormat returns the format of a reportFormat value.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Formats(), f) {
		return f, nil
	}
	return "", fault.Invalidf("unknown report format %q; use one of spdx2, spdx2tv, spdx2json, cyclonedx, dep5, readmeoss, unifiedreport", s)
}

// FileName is the name a report of an upload is downloaded as, in
// FOSSology's style ("SPDX2_project.tar.gz_2026-12-01_120000.rdf").
func (f Format) FileName(upload string, at time.Time) string {
	names := map[Format][2]string{
		SPDX2:         {"SPDX2", ".rdf"},
		SPDX2TV:       {"SPDX2TV", ".spdx"},
		SPDX2JSON:     {"SPDX2JSON", ".spdx.json"},
		CycloneDX:     {"CycloneDX", ".cdx.json"},
		DEP5:          {"DEP5", ".txt"},
		ReadmeOSS:     {"ReadMe_OSS", ".txt"},
		UnifiedReport: {"UnifiedReport", ".docx"},
	}[f]
	return names[0] + "_" + safeName(upload) + "_" + at.UTC().Format("2006-01-02_150405") + names[1]
}

// ContentType is the media type a report is served with.
func (f Format) ContentType() string {
	switch f {
	case SPDX2:
		return "application/rdf+xml"
	case SPDX2JSON:
		return "application/spdx+json"
	case CycloneDX:
		return "application/vnd.cyclonedx+json"
	case UnifiedReport:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	}
	return "text/plain; charset=utf-8"
}

// safeName keeps a file name to characters every client accepts.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '/' || r == '\\' || r == ';' {
			return '_'
		}
		return r
	}, s)
}

// Input is everything a report is made from.
type Input struct {
	// UploadID is the upload's id.
	UploadID int64
	// Tree is the unpacked upload; its first item is the upload itself.
	Tree *unpack.Tree
	// Findings are every agent's findings.
	Findings []agent.Finding
	// Decisions are the clearing decisions by path.
	Decisions map[string]clearing.Decision
	// MainLicense is the concluded main license, if set.
	MainLicense string
	// Created is when the report is made.
	Created time.Time
	// Namespace is the base URL of SPDX document namespaces
	// ("https://reehub.example.org/repo/api/v1/report").
	Namespace string
	// Tool names the tool in creator fields ("reehub-0.4.0").
	Tool string
}

// Write writes the report of format f to w.
func Write(w io.Writer, f Format, in Input) error {
	if in.Tree == nil || len(in.Tree.Items) == 0 {
		return fmt.Errorf("report: empty upload tree")
	}
	if in.Tool == "" {
		in.Tool = "reehub"
	}
	if in.Namespace == "" {
		in.Namespace = "https://reehub.invalid/spdxdocs"
	}
	m := build(in)
	switch f {
	case SPDX2:
		return writeRDF(w, m)
	case SPDX2TV:
		return writeSPDXTagValue(w, m)
	case SPDX2JSON:
		return writeSPDXJSON(w, m)
	case CycloneDX:
		return writeCycloneDX(w, m)
	case DEP5:
		return writeDEP5(w, m)
	case ReadmeOSS:
		return writeReadme(w, m)
	case UnifiedReport:
		return writeDocx(w, m)
	}
	return fault.Invalidf("unknown report format %q", f)
}

// fileInfo is what every format says about one file.
type fileInfo struct {
	item       unpack.Item
	rel        string   // path below the upload name
	found      []string // scanner licenses, sorted
	concluded  []string // IDENTIFIED decision licenses, sorted; nil if none
	status     clearing.Status
	copyrights []string
}

// model is the report's view of an upload.
type model struct {
	in       Input
	upload   unpack.Item
	files    []fileInfo
	packages []agent.Finding
	// licenses are every license id named by a finding or decision, sorted.
	licenses []string
}

func build(in Input) *model {
	m := &model{in: in, upload: in.Tree.Items[0]}
	found := map[string][]string{}
	crs := map[string][]string{}
	all := map[string]bool{}
	for _, f := range in.Findings {
		switch {
		case f.Type == agent.TypeLicense:
			found[f.Path] = append(found[f.Path], f.Value)
			all[f.Value] = true
		case f.Type == agent.TypeCopyright:
			crs[f.Path] = append(crs[f.Path], f.Value)
		case f.Type == agent.TypePackage:
			m.packages = append(m.packages, f)
		}
	}
	for _, it := range in.Tree.Files() {
		fi := fileInfo{item: it, rel: relPath(it.Path, in.Tree.Name), found: uniq(found[it.Path]), copyrights: uniq(crs[it.Path])}
		if d, ok := in.Decisions[it.Path]; ok {
			fi.status = d.Status
			if d.Status == clearing.StatusIdentified {
				fi.concluded = uniq(d.Licenses)
				for _, l := range d.Licenses {
					all[l] = true
				}
			}
		}
		m.files = append(m.files, fi)
	}
	if in.MainLicense != "" {
		all[in.MainLicense] = true
	}
	for l := range all {
		m.licenses = append(m.licenses, l)
	}
	slices.Sort(m.licenses)
	return m
}

// relPath drops the upload name from a tree path; the upload itself (a
// single-file upload) keeps its name.
func relPath(p, name string) string {
	if rest, ok := strings.CutPrefix(p, name+"/"); ok {
		return rest
	}
	return path.Base(p)
}

func uniq(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

// spdxID returns the license id as SPDX documents may name it: a listed id,
// or a LicenseRef- made from it.
func spdxID(id string) (string, bool) {
	if strings.HasPrefix(id, "LicenseRef-") {
		return id, true
	}
	if license.Known(id) || license.Known(strings.TrimSuffix(strings.TrimSuffix(id, "-only"), "-or-later")) {
		return id, false
	}
	var b strings.Builder
	for _, r := range id {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return "LicenseRef-" + b.String(), true
}

// and joins license ids into one SPDX expression.
func and(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i], _ = spdxID(id)
	}
	return strings.Join(out, " AND ")
}

// refs returns the LicenseRef- ids the model needs declared.
func (m *model) refs() []string {
	var out []string
	for _, l := range m.licenses {
		if id, ref := spdxID(l); ref {
			out = append(out, id)
		}
	}
	return uniq(out)
}
