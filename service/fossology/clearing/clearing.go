// Package clearing holds FOSSology's clearing decisions and the functions
// that make them: a user's decision on a file, bulk conclusion by a license
// text found in many files, the deciders (nomos_monk, ojo_decider,
// bulk_reused, new_scanner) and reuse of an earlier upload's decisions
// matched by file hash. Everything is a function over findings and stored
// decisions; storing them is the caller's.
package clearing

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reehub/reehub/analysis/license"
	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/agent"
)

// Status is a file's clearing status, as FOSSology names its decision types.
type Status string

// The clearing statuses.
const (
	// StatusIdentified: the concluded licenses are final ("IDENTIFIED").
	StatusIdentified Status = "IDENTIFIED"
	// StatusToBeDiscussed: a decision is pending review.
	StatusToBeDiscussed Status = "TO_BE_DISCUSSED"
	// StatusIrrelevant: the file does not matter for the clearing.
	StatusIrrelevant Status = "IRRELEVANT"
	// StatusDoNotUse: the file must not be used.
	StatusDoNotUse Status = "DO_NOT_USE"
	// StatusNonFunctional: the file is not part of the functional code.
	StatusNonFunctional Status = "NON_FUNCTIONAL"
	// StatusWIP: work in progress (set by new_scanner when a scanner finds
	// more than a decision says).
	StatusWIP Status = "WIP"
)

// ParseStatus returns the status of a name (case-insensitive).
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToUpper(strings.TrimSpace(s)))
	switch st {
	case StatusIdentified, StatusToBeDiscussed, StatusIrrelevant, StatusDoNotUse, StatusNonFunctional, StatusWIP:
		return st, nil
	}
	return "", fault.Invalidf("unknown clearing decision %q; use IDENTIFIED, TO_BE_DISCUSSED, IRRELEVANT, DO_NOT_USE, NON_FUNCTIONAL or WIP", s)
}

// Cleared reports whether a decision of this status clears its file.
func (s Status) Cleared() bool {
	switch s {
	case StatusIdentified, StatusIrrelevant, StatusDoNotUse, StatusNonFunctional:
		return true
	}
	return false
}

// Source says who made a decision.
type Source string

// The decision sources.
const (
	SourceUser       Source = "user"
	SourceBulk       Source = "bulk"
	SourceNomosMonk  Source = "nomos_monk"
	SourceOjo        Source = "ojo_decider"
	SourceBulkReused Source = "bulk_reused"
	SourceReuse      Source = "reuse"
)

// Decision is the clearing decision on one file.
type Decision struct {
	// Path is the file's path in the upload tree.
	Path string `json:"path"`
	// SHA1 is the file's sha1; reuse matches on it.
	SHA1 string `json:"sha1"`
	// Status is the clearing status.
	Status Status `json:"status"`
	// Licenses are the concluded SPDX license ids, sorted.
	Licenses []string `json:"licenses"`
	// Source says who decided.
	Source Source `json:"source"`
	// Comment is the user's note.
	Comment string `json:"comment,omitempty"`
	// UserID is the deciding user (empty for deciders).
	UserID string `json:"user_id,omitempty"`
	// Time is when it was decided.
	Time time.Time `json:"time"`
}

// Decide validates a user's decision on a file: the status and the license
// ids (an IDENTIFIED decision needs at least one).
func Decide(it unpack.Item, status string, licenses []string, comment, userID string, now time.Time) (Decision, error) {
	st, err := ParseStatus(status)
	if err != nil {
		return Decision{}, err
	}
	if it.Kind != unpack.KindFile {
		return Decision{}, fault.Invalidf("%s is a %s; clearing decisions are made on files", it.Path, it.Kind)
	}
	ids, err := canonical(licenses)
	if err != nil {
		return Decision{}, err
	}
	if st == StatusIdentified && len(ids) == 0 {
		return Decision{}, fault.Invalidf("an IDENTIFIED decision on %s needs at least one license", it.Path)
	}
	return Decision{Path: it.Path, SHA1: it.Hash.SHA1, Status: st, Licenses: ids, Source: SourceUser,
		Comment: comment, UserID: userID, Time: now.UTC()}, nil
}

// canonical checks and normalises license ids.
func canonical(ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		switch {
		case strings.HasPrefix(id, "LicenseRef-"):
		case license.Known(id) || license.Known(strings.TrimSuffix(strings.TrimSuffix(id, "-only"), "-or-later")):
			id, _ = license.CanonicalID(id, false)
		default:
			return nil, fault.Invalidf("license %q is not an SPDX license id (use LicenseRef-... for others)", id)
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// subset reports whether every element of a is in b (both sorted).
func subset(a, b []string) bool {
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			return false
		}
	}
	return true
}

// A FileDecider decides one file from its findings (those of every agent,
// all with the file's path) and its decision so far (nil if none): it
// returns a new or changed decision and true, or false to leave the file
// as it is. The deciders of a scan job are FileDeciders, so that a job can
// run them file by file while it scans, or over stored findings after.
type FileDecider func(fs []agent.Finding, existing *Decision, now time.Time) (Decision, bool)

// licenseIDs returns the sorted license ids of findings by the agents
// given (any agent when none is).
func licenseIDs(fs []agent.Finding, agents ...agent.Agent) []string {
	var ids []string
	for _, f := range fs {
		if f.Type == agent.TypeLicense && (len(agents) == 0 || slices.Contains(agents, f.Agent)) {
			ids = append(ids, f.Value)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// identified concludes the file of fs IDENTIFIED with ids.
func identified(fs []agent.Finding, ids []string, src Source, now time.Time) Decision {
	return Decision{Path: fs[0].Path, SHA1: fs[0].SHA1, Status: StatusIdentified, Licenses: ids, Source: src, Time: now.UTC()}
}

// NomosMonkFile is the nomos_monk decider: a file on which nomos and monk
// both found licenses, every nomos license being among monk's, is
// concluded IDENTIFIED with monk's licenses. A file that already has a
// decision is left alone.
func NomosMonkFile(fs []agent.Finding, existing *Decision, now time.Time) (Decision, bool) {
	if existing != nil {
		return Decision{}, false
	}
	n, m := licenseIDs(fs, agent.Nomos), licenseIDs(fs, agent.Monk)
	if len(n) == 0 || len(m) == 0 || !subset(n, m) {
		return Decision{}, false
	}
	return identified(fs, m, SourceNomosMonk, now), true
}

// OjoFile is the ojo_decider: a file with SPDX-License-Identifier tags
// whose other scanner findings (nomos, monk) do not contradict them (every
// one is among ojo's) is concluded IDENTIFIED with ojo's licenses. A file
// that already has a decision is left alone.
func OjoFile(fs []agent.Finding, existing *Decision, now time.Time) (Decision, bool) {
	if existing != nil {
		return Decision{}, false
	}
	o := licenseIDs(fs, agent.Ojo)
	if len(o) == 0 || !subset(licenseIDs(fs, agent.Nomos, agent.Monk), o) {
		return Decision{}, false
	}
	return identified(fs, o, SourceOjo, now), true
}

// NewScannerFile is the new_scanner decider: an IDENTIFIED decision
// (typically reused) on a file where a scanner now finds a license it does
// not name is set back to WIP, so that a human looks again.
func NewScannerFile(fs []agent.Finding, existing *Decision, now time.Time) (Decision, bool) {
	if existing == nil || existing.Status != StatusIdentified {
		return Decision{}, false
	}
	ids := licenseIDs(fs)
	if subset(ids, existing.Licenses) {
		return Decision{}, false
	}
	d := *existing
	d.Status, d.Time = StatusWIP, now.UTC()
	d.Comment = strings.TrimSpace(d.Comment + " new scanner findings: " + strings.Join(ids, ", "))
	return d, true
}

// Each runs a FileDecider over the stored findings of an upload, file by
// file in path order, and returns the decisions it made.
func Each(decide FileDecider, findings []agent.Finding, existing map[string]Decision, now time.Time) []Decision {
	byPath := map[string][]agent.Finding{}
	for _, f := range findings {
		byPath[f.Path] = append(byPath[f.Path], f)
	}
	var out []Decision
	for _, p := range sortedKeys(byPath) {
		var prev *Decision
		if d, ok := existing[p]; ok {
			prev = &d
		}
		if d, ok := decide(byPath[p], prev, now); ok {
			out = append(out, d)
		}
	}
	return out
}

// NomosMonk runs NomosMonkFile over an upload's findings.
func NomosMonk(findings []agent.Finding, existing map[string]Decision, now time.Time) []Decision {
	return Each(NomosMonkFile, findings, existing, now)
}

// OjoDecider runs OjoFile over an upload's findings.
func OjoDecider(findings []agent.Finding, existing map[string]Decision, now time.Time) []Decision {
	return Each(OjoFile, findings, existing, now)
}

// NewScanner runs NewScannerFile over an upload's findings and returns the
// changed decisions.
func NewScanner(findings []agent.Finding, existing map[string]Decision, now time.Time) []Decision {
	return Each(NewScannerFile, findings, existing, now)
}

// Bulk is a bulk conclusion (FOSSology's monkbulk): every file whose text
// contains Text gets the licenses of Licenses added to, and those of Remove
// taken from, the licenses it has (see ApplyBulk).
type Bulk struct {
	// Text is the license text or phrase looked for (whitespace-insensitive,
	// case-insensitive).
	Text string `json:"text"`
	// Licenses are the ids added (the ADD actions).
	Licenses []string `json:"licenses"`
	// Remove are the ids removed (the REMOVE actions).
	Remove []string `json:"remove,omitempty"`
	// UserID made the bulk decision.
	UserID string `json:"user_id,omitempty"`
}

// NewBulk validates a bulk conclusion that adds the licenses add and removes
// the licenses remove; it needs at least one of either, and no license both.
func NewBulk(text string, add, remove []string, userID string) (Bulk, error) {
	if len(strings.Fields(text)) < 2 {
		return Bulk{}, fault.Invalidf("a bulk text needs at least two words")
	}
	ids, err := canonical(add)
	if err != nil {
		return Bulk{}, err
	}
	rm, err := canonical(remove)
	if err != nil {
		return Bulk{}, err
	}
	if len(ids) == 0 && len(rm) == 0 {
		return Bulk{}, fault.Invalidf("a bulk conclusion needs at least one license to add or remove")
	}
	for _, id := range rm {
		if slices.Contains(ids, id) {
			return Bulk{}, fault.Invalidf("license %s is both added and removed by the bulk conclusion", id)
		}
	}
	if len(rm) == 0 {
		rm = nil
	}
	return Bulk{Text: text, Licenses: ids, Remove: rm, UserID: userID}, nil
}

// ApplyBulk applies the bulks to every file of tree whose text contains one
// of their texts, and returns the decisions, with source src (SourceBulk for
// a user's bulk, SourceBulkReused for the bulk_reused decider applying an
// earlier upload's). A bulk that only adds concludes a matched file with its
// licenses (a decider's conclusion is replaced). A bulk that removes (with
// or without adds) works, as FOSSology's clearing events do, on the licenses
// the file has: its decision's in existing or, without one, what the
// scanners found in it (findings of nomos, monk, ojo); the adds are added and
// the removes taken away. A file left with no license is still IDENTIFIED:
// the bulk said what it is not. Files with a user decision in existing are
// left alone, and so are files a removing bulk matches but does not change.
// read returns a file's text (agent.ReadText).
func ApplyBulk(tree *unpack.Tree, bulks []Bulk, existing map[string]Decision, findings []agent.Finding, src Source, read func(unpack.Item) ([]byte, error), now time.Time) ([]Decision, error) {
	if len(bulks) == 0 {
		return nil, nil
	}
	needles := make([][]byte, len(bulks))
	removes := false
	for i, b := range bulks {
		needles[i] = []byte(normalize(b.Text))
		removes = removes || len(b.Remove) > 0
	}
	scanned := map[string][]agent.Finding{}
	if removes {
		for _, f := range findings {
			scanned[f.Path] = append(scanned[f.Path], f)
		}
	}
	var out []Decision
	for _, it := range tree.Files() {
		d, decided := existing[it.Path]
		if decided && d.Source == SourceUser {
			continue
		}
		text, err := read(it)
		if err != nil {
			return nil, fmt.Errorf("bulk: read %s: %w", it.Path, err)
		}
		if text == nil {
			continue
		}
		norm := []byte(normalize(string(text)))
		var hit []Bulk
		for i, n := range needles {
			if bytes.Contains(norm, n) {
				hit = append(hit, bulks[i])
			}
		}
		if len(hit) == 0 {
			continue
		}
		// A bulk that only adds concludes the file with its licenses; one
		// that removes works on the licenses the file has: its decision's
		// or, without one, what the scanners found there.
		var have []string
		if slices.ContainsFunc(hit, func(b Bulk) bool { return len(b.Remove) > 0 }) {
			if decided {
				have = slices.Clone(d.Licenses)
			} else {
				have = licenseIDs(scanned[it.Path], agent.Nomos, agent.Monk, agent.Ojo)
			}
		}
		slices.Sort(have)
		have = slices.Compact(have)
		before := slices.Clone(have)
		for _, b := range hit {
			have = append(have, b.Licenses...)
			have = slices.DeleteFunc(have, func(id string) bool { return slices.Contains(b.Remove, id) })
		}
		slices.Sort(have)
		have = slices.Compact(have)
		onlyRemoves := !slices.ContainsFunc(hit, func(b Bulk) bool { return len(b.Licenses) > 0 })
		if onlyRemoves && slices.Equal(before, have) {
			continue
		}
		if have == nil {
			have = []string{}
		}
		out = append(out, Decision{Path: it.Path, SHA1: it.Hash.SHA1, Status: StatusIdentified,
			Licenses: have, Source: src, UserID: hit[0].UserID, Time: now.UTC()})
	}
	return out, nil
}

// normalize lower-cases text and collapses whitespace and comment markers,
// so that a phrase matches across line breaks and comment styles.
func normalize(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '*' || r == '#' || r == '/'
	})
	return " " + strings.Join(f, " ") + " "
}

// ReuseOptions is the reuse part of a job.
type ReuseOptions struct {
	// Main copies the earlier upload's main license.
	Main bool
	// Enhanced also reuses a decision for a file of the same relative path
	// (below the upload name) whose content changed; such decisions are
	// marked WIP for review.
	Enhanced bool
}

// Reuse copies the decisions of an earlier upload onto the files of tree
// with the same sha1 (and, with Enhanced, the same relative path), as
// FOSSology's reuser does. Files already decided in existing keep their
// decision.
func Reuse(tree *unpack.Tree, earlier []Decision, existing map[string]Decision, opts ReuseOptions, now time.Time) []Decision {
	bySHA := map[string]Decision{}
	byRel := map[string]Decision{}
	for _, d := range earlier {
		if d.SHA1 != "" {
			if prev, ok := bySHA[d.SHA1]; !ok || d.Time.After(prev.Time) {
				bySHA[d.SHA1] = d
			}
		}
		byRel[relPath(d.Path)] = d
	}
	var out []Decision
	for _, it := range tree.Files() {
		if _, ok := existing[it.Path]; ok {
			continue
		}
		d, ok := bySHA[it.Hash.SHA1]
		status := d.Status
		if !ok && opts.Enhanced {
			d, ok = byRel[relPath(it.Path)]
			status = StatusWIP
		}
		if !ok {
			continue
		}
		out = append(out, Decision{Path: it.Path, SHA1: it.Hash.SHA1, Status: status, Licenses: slices.Clone(d.Licenses),
			Source: SourceReuse, Comment: d.Comment, UserID: d.UserID, Time: now.UTC()})
	}
	return out
}

// relPath drops the upload name from a tree path.
func relPath(p string) string {
	if _, rest, ok := strings.Cut(p, "/"); ok {
		return rest
	}
	return ""
}

// Merge applies later decisions over earlier ones, by path.
func Merge(existing map[string]Decision, ds ...[]Decision) map[string]Decision {
	out := make(map[string]Decision, len(existing))
	for p, d := range existing {
		out[p] = d
	}
	for _, list := range ds {
		for _, d := range list {
			out[d.Path] = d
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
