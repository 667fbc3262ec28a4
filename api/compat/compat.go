package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// version is a semantic version MAJOR.MINOR.PATCH, the only form info.version
// may take (no pre-release, no build metadata).
type version [3]int

var versionRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

func parseVersion(s string) (version, error) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return version{}, fmt.Errorf("%q is not a semantic version MAJOR.MINOR.PATCH", s)
	}
	var v version
	for i := range v {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return version{}, fmt.Errorf("version %q: %w", s, err)
		}
		v[i] = n
	}
	return v, nil
}

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// compare returns -1, 0 or 1 as v is lower than, equal to or higher than w.
func (v version) compare(w version) int {
	for i := range v {
		switch {
		case v[i] < w[i]:
			return -1
		case v[i] > w[i]:
			return 1
		}
	}
	return 0
}

// level is how far a contract moved from its release, and so which part of the
// version must grow.
type level int

const (
	same     level = iota // the same document: the same version
	patch                 // only what oasdiff does not report (descriptions, examples, ...)
	minor                 // changes oasdiff reports, none of them breaking (additions)
	breaking              // a change oasdiff classes as breaking (ERR) or possibly breaking (WARN)
)

func (l level) String() string {
	return [...]string{"no change", "a patch change", "a minor change", "a breaking change"}[l]
}

// required checks that work is a version a contract that moved by l from the
// release rel may carry. This is the rule of docs/contract.md, "Versions and
// breaking changes".
func required(rel, work version, l level) error {
	if work.compare(rel) < 0 {
		return fmt.Errorf("info.version %s is lower than the released %s", work, rel)
	}
	switch l {
	case same:
		return nil
	case patch:
		if work.compare(rel) == 0 {
			return fmt.Errorf("the contract differs from release %s (in descriptions or examples only), but info.version is still %s: a patch release needs at least %s", rel, work, version{rel[0], rel[1], rel[2] + 1})
		}
	case minor:
		if work[0] == rel[0] && work[1] == rel[1] {
			return fmt.Errorf("the contract makes changes to release %s that are not breaking (listed above), but info.version %s does not raise the minor version: it needs at least %s", rel, work, version{rel[0], rel[1] + 1, 0})
		}
	case breaking:
		if work[0] == rel[0] {
			return fmt.Errorf("the contract breaks release %s (listed above; -v lists every change), but info.version %s does not raise the major version: announce it with %s, or undo the breaking change", rel, work, version{rel[0] + 1, 0, 0})
		}
	}
	return nil
}

// release is one committed contract under api/released.
type release struct {
	version version
	path    string
}

// newestRelease returns the release with the highest version in dir, whose
// files are named <version>.yaml and carry that version in info.version.
func newestRelease(dir string) (release, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return release{}, fmt.Errorf("list releases: %w", err)
	}
	var newest release
	found := false
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".yaml")
		v, err := parseVersion(name)
		if err != nil {
			return release{}, fmt.Errorf("release file %s: %w", p, err)
		}
		doc, err := readDoc(p)
		if err != nil {
			return release{}, err
		}
		if iv, _ := infoVersion(doc); iv != name {
			return release{}, fmt.Errorf("release file %s has info.version %q, not %s", p, iv, name)
		}
		if !found || v.compare(newest.version) > 0 {
			newest, found = release{version: v, path: p}, true
		}
	}
	if !found {
		return release{}, fmt.Errorf("no release <version>.yaml in %s", dir)
	}
	return newest, nil
}

func readDoc(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read contract: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return doc, nil
}

func infoVersion(doc map[string]any) (string, error) {
	info, _ := doc["info"].(map[string]any)
	v, ok := info["version"].(string)
	if !ok {
		return "", errors.New("info.version is missing or not a string")
	}
	return v, nil
}

// change is one entry of `oasdiff changelog -f json`.
type change struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Level     int    `json:"level"` // 1 INFO, 2 WARN, 3 ERR
	Operation string `json:"operation"`
	Path      string `json:"path"`
	Section   string `json:"section"`
}

func (c change) String() string {
	lvl := map[int]string{1: "info", 2: "warning", 3: "error"}[c.Level]
	where := strings.TrimSpace(c.Operation + " " + c.Path)
	if where == "" {
		where = c.Section
	}
	return fmt.Sprintf("%-7s [%s] %s: %s", lvl, c.ID, where, c.Text)
}

// versionChecks are oasdiff's own checks of info.version; the gate applies its
// own rule instead, so they are not changes of the contract.
func versionCheck(id string) bool {
	return strings.HasPrefix(id, "api-version-") || strings.HasPrefix(id, "api-major-version-")
}

// changelog runs oasdiff on the release and the working contract. It compares
// allOf schemas merged (--flatten-allof), so that renaming a component that an
// allOf references is not reported when the merged schema is the same.
func changelog(ctx context.Context, oasdiff, base, rev string) ([]change, error) {
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, oasdiff, "changelog", "--flatten-allof", "-f", "json", base, rev)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s changelog: %w: %s", oasdiff, err, strings.TrimSpace(stderr.String()))
	}
	var all []change
	if err := json.Unmarshal(out.Bytes(), &all); err != nil {
		return nil, fmt.Errorf("read oasdiff's changelog: %w", err)
	}
	var cs []change
	for _, c := range all {
		if !versionCheck(c.ID) {
			cs = append(cs, c)
		}
	}
	return cs, nil
}

// classify returns how far the working document moved from the release, given
// oasdiff's changes between them.
func classify(rel, work map[string]any, cs []change) level {
	l := same
	if len(cs) > 0 {
		l = minor
	}
	for _, c := range cs {
		if c.Level >= 2 {
			return breaking
		}
	}
	if l == same && !reflect.DeepEqual(withoutVersion(rel), withoutVersion(work)) {
		l = patch
	}
	return l
}

// withoutVersion is doc with info.version left out, so that raising the
// version alone is no change.
func withoutVersion(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		out[k] = v
	}
	if info, ok := doc["info"].(map[string]any); ok {
		c := make(map[string]any, len(info))
		for k, v := range info {
			if k != "version" {
				c[k] = v
			}
		}
		out["info"] = c
	}
	return out
}

// report is what the gate found.
type report struct {
	release release
	work    version
	level   level
	changes []change
}

// check compares the contract at spec with the newest release in dir.
func check(ctx context.Context, oasdiff, dir, spec string) (report, error) {
	rel, err := newestRelease(dir)
	if err != nil {
		return report{}, err
	}
	relDoc, err := readDoc(rel.path)
	if err != nil {
		return report{}, err
	}
	workDoc, err := readDoc(spec)
	if err != nil {
		return report{}, err
	}
	s, err := infoVersion(workDoc)
	if err != nil {
		return report{}, fmt.Errorf("%s: %w", spec, err)
	}
	work, err := parseVersion(s)
	if err != nil {
		return report{}, fmt.Errorf("%s: info.version: %w", spec, err)
	}
	cs, err := changelog(ctx, oasdiff, rel.path, spec)
	if err != nil {
		return report{}, err
	}
	r := report{release: rel, work: work, changes: cs, level: classify(relDoc, workDoc, cs)}
	return r, required(rel.version, work, r.level)
}
