// Package fossology is the domain of reehub's FOSSology-compatible API:
// the upload summary and the license and copyright listings computed from an
// upload's tree (archive/unpack), its agents' findings (agent) and its
// clearing decisions (clearing). Everything here is a pure function; the
// HTTP handlers and the jobs that produce the inputs live elsewhere.
package fossology

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/clearing"
)

// NoLicenseFound is what FOSSology lists for a file in which no selected
// scanner found a license.
const NoLicenseFound = "No_license_found"

// ErrAgentNotScheduled marks a listing that asks for an agent no job of the
// upload ran; the API answers 412 as FOSSology does.
var ErrAgentNotScheduled = errors.New("agent not scheduled")

// Clearing statuses of an upload, as the summary reports them.
const (
	ClearingOpen       = "Open"
	ClearingInProgress = "InProgress"
	ClearingClosed     = "Closed"
)

// Summary is the seed's /uploads/{id}/summary.
type Summary struct {
	ID                      int64   `json:"id"`
	UploadName              string  `json:"uploadName"`
	MainLicense             *string `json:"mainLicense"`
	UniqueLicenses          int     `json:"uniqueLicenses"`
	TotalLicenses           int     `json:"totalLicenses"`
	UniqueConcludedLicenses int     `json:"uniqueConcludedLicenses"`
	TotalConcludedLicenses  int     `json:"totalConcludedLicenses"`
	FilesToBeCleared        int     `json:"filesToBeCleared"`
	FilesCleared            int     `json:"filesCleared"`
	ClearingStatus          string  `json:"clearingStatus"`
	CopyrightCount          int     `json:"copyrightCount"`
}

// isScanner reports whether a finding is a license found by a scanner.
func isScanner(f agent.Finding) bool {
	return f.Type == agent.TypeLicense && (f.Agent == agent.Nomos || f.Agent == agent.Monk || f.Agent == agent.Ojo)
}

// Summarize computes an upload's summary:
//
//   - uniqueLicenses: distinct licenses the scanners (nomos, monk, ojo) found;
//   - totalLicenses: distinct (file, license) pairs they found;
//   - uniqueConcludedLicenses, totalConcludedLicenses: the same over the
//     licenses of IDENTIFIED decisions;
//   - filesCleared: files with a decision that clears them (IDENTIFIED,
//     IRRELEVANT, DO_NOT_USE, NON_FUNCTIONAL);
//   - filesToBeCleared: files with scanner findings and no such decision;
//   - clearingStatus: Open while nothing is cleared, Closed once every file
//     with findings is, InProgress in between;
//   - copyrightCount: copyright statements found (one per file and text);
//   - mainLicense: the concluded main license, nil if none is set.
func Summarize(id int64, tree *unpack.Tree, findings []agent.Finding, decisions map[string]clearing.Decision, mainLicense string) Summary {
	s := Summary{ID: id, UploadName: tree.Name}
	if mainLicense != "" {
		s.MainLicense = &mainLicense
	}
	found := map[string]bool{}
	pairs := map[[2]string]bool{}
	withFindings := map[string]bool{}
	copyrights := map[[2]string]bool{}
	for _, f := range findings {
		switch {
		case isScanner(f):
			found[f.Value] = true
			pairs[[2]string{f.Path, f.Value}] = true
			withFindings[f.Path] = true
		case f.Type == agent.TypeCopyright:
			copyrights[[2]string{f.Path, f.Value}] = true
		}
	}
	s.UniqueLicenses, s.TotalLicenses, s.CopyrightCount = len(found), len(pairs), len(copyrights)
	concluded := map[string]bool{}
	for _, d := range decisions {
		if d.Status.Cleared() {
			s.FilesCleared++
		}
		if d.Status == clearing.StatusIdentified {
			s.TotalConcludedLicenses += len(d.Licenses)
			for _, l := range d.Licenses {
				concluded[l] = true
			}
		}
	}
	s.UniqueConcludedLicenses = len(concluded)
	for p := range withFindings {
		if d, ok := decisions[p]; !ok || !d.Status.Cleared() {
			s.FilesToBeCleared++
		}
	}
	switch {
	case s.FilesCleared == 0:
		s.ClearingStatus = ClearingOpen
	case s.FilesToBeCleared == 0:
		s.ClearingStatus = ClearingClosed
	default:
		s.ClearingStatus = ClearingInProgress
	}
	return s
}

// ParseAgents parses the agent query parameter of the licenses listing
// ("nomos,monk,ojo"); empty means every scanner that ran. Each agent must be
// among the scanners scheduled for the upload (ErrAgentNotScheduled).
func ParseAgents(param string, scheduled []agent.Agent) ([]agent.Agent, error) {
	scanners := []agent.Agent{agent.Nomos, agent.Monk, agent.Ojo}
	if strings.TrimSpace(param) == "" {
		var out []agent.Agent
		for _, a := range scanners {
			if slices.Contains(scheduled, a) {
				out = append(out, a)
			}
		}
		return out, nil
	}
	var out []agent.Agent
	for _, name := range strings.Split(param, ",") {
		a := agent.Agent(strings.TrimSpace(name))
		if !slices.Contains(scanners, a) {
			return nil, fault.Invalidf("agent %q cannot be listed; use nomos, monk or ojo", name)
		}
		if !slices.Contains(scheduled, a) {
			return nil, fmt.Errorf("agent %q was not scheduled for this upload: %w", a, ErrAgentNotScheduled)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// LicenseFindings is the findings object of a licenses listing entry.
// Conclusion and Copyright are null when empty, as FOSSology sends them.
type LicenseFindings struct {
	Scanner    []string `json:"scanner"`
	Conclusion []string `json:"conclusion"`
	Copyright  []string `json:"copyright,omitempty"`
}

// LicenseEntry is one entry of GET /uploads/{id}/licenses.
type LicenseEntry struct {
	FilePath string          `json:"filePath"`
	Findings LicenseFindings `json:"findings"`
}

// ListOptions selects what ListLicenses returns.
type ListOptions struct {
	// Agents are the scanners whose findings are listed.
	Agents []agent.Agent
	// Containers lists archives and directories too (with no findings).
	Containers bool
	// Copyright adds each file's copyright statements.
	Copyright bool
}

// ListLicenses returns the licenses listing of an upload, in tree order:
// each file's scanner findings from the selected agents (No_license_found
// if none), and the concluded licenses of its IDENTIFIED decision (null
// otherwise). filePath values start with the upload name.
func ListLicenses(tree *unpack.Tree, findings []agent.Finding, decisions map[string]clearing.Decision, opts ListOptions) []LicenseEntry {
	scan := map[string][]string{}
	cr := map[string][]string{}
	for _, f := range findings {
		switch {
		case isScanner(f) && slices.Contains(opts.Agents, f.Agent):
			scan[f.Path] = append(scan[f.Path], f.Value)
		case opts.Copyright && f.Type == agent.TypeCopyright:
			cr[f.Path] = append(cr[f.Path], f.Value)
		}
	}
	out := []LicenseEntry{}
	for _, it := range tree.Items {
		switch it.Kind {
		case unpack.KindFile:
		case unpack.KindContainer, unpack.KindDir:
			if opts.Containers {
				out = append(out, LicenseEntry{FilePath: it.Path, Findings: LicenseFindings{Scanner: []string{}}})
			}
			continue
		default:
			continue
		}
		e := LicenseEntry{FilePath: it.Path}
		ids := scan[it.Path]
		slices.Sort(ids)
		e.Findings.Scanner = slices.Compact(ids)
		if len(e.Findings.Scanner) == 0 {
			e.Findings.Scanner = []string{NoLicenseFound}
		}
		if d, ok := decisions[it.Path]; ok && d.Status == clearing.StatusIdentified && len(d.Licenses) > 0 {
			e.Findings.Conclusion = slices.Clone(d.Licenses)
		}
		if opts.Copyright {
			e.Findings.Copyright = uniq(cr[it.Path])
		}
		out = append(out, e)
	}
	return out
}

// CopyrightEntry is one entry of GET /uploads/{id}/copyrights: a statement
// and the files it is in.
type CopyrightEntry struct {
	Copyright string   `json:"copyright"`
	FilePath  []string `json:"filePath"`
}

// ListCopyrights groups the copyright statements of an upload by text,
// sorted by text, each with the sorted paths of the files it is in.
func ListCopyrights(findings []agent.Finding) []CopyrightEntry {
	by := map[string][]string{}
	for _, f := range findings {
		if f.Type == agent.TypeCopyright {
			by[f.Value] = append(by[f.Value], f.Path)
		}
	}
	out := make([]CopyrightEntry, 0, len(by))
	for text, paths := range by {
		out = append(out, CopyrightEntry{Copyright: text, FilePath: uniq(paths)})
	}
	slices.SortFunc(out, func(a, b CopyrightEntry) int { return strings.Compare(a.Copyright, b.Copyright) })
	return out
}

// uniq returns the sorted distinct strings of s (nil if none).
func uniq(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}
