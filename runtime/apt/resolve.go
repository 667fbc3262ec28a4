package apt

import (
	"fmt"
	"sort"
	"strings"
)

// Universe is every package of a set of indexes, by name, highest version first.
type Universe struct {
	byName   map[string][]Package
	provides map[string][]string
}

// NewUniverse indexes packages.
func NewUniverse(pkgs ...[]Package) *Universe {
	u := &Universe{byName: map[string][]Package{}, provides: map[string][]string{}}
	for _, list := range pkgs {
		for _, p := range list {
			u.byName[p.Name] = append(u.byName[p.Name], p)
			for _, alts := range ParseRelations(p.Provides) {
				for _, r := range alts {
					u.provides[r.Name] = append(u.provides[r.Name], p.Name)
				}
			}
		}
	}
	for _, l := range u.byName {
		sort.SliceStable(l, func(i, j int) bool { return CompareVersions(l[i].Version, l[j].Version) > 0 })
	}
	return u
}

// Versions returns every version of a package, highest first.
func (u *Universe) Versions(name string) []Package { return u.byName[name] }

// Find returns the package name at version (the highest when version is "").
func (u *Universe) Find(name, version string) (Package, bool) {
	for _, p := range u.byName[name] {
		if version == "" || p.Version == version {
			return p, true
		}
	}
	return Package{}, false
}

// Search returns the highest version of every package whose name (or, with
// allFields, summary or description) contains q, by name.
func (u *Universe) Search(q string, allFields bool) []Package {
	q = strings.ToLower(q)
	var out []Package
	for name, l := range u.byName {
		p := l[0]
		if strings.Contains(name, q) || allFields && (strings.Contains(strings.ToLower(p.Summary), q) || strings.Contains(strings.ToLower(p.Description), q)) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Want is a requested package with an optional version.
type Want struct{ Name, Version string }

// Problem is a dependency problem found by Resolve.
type Problem struct {
	// Kind is "missing" (no repository has the package or version),
	// "unsatisfiable" (a dependency nothing provides) or "conflict".
	Kind    string
	Package string
	Text    string
}

// Resolution is the closure of a selection.
type Resolution struct {
	// Packages are the selected packages and their dependencies (not in the
	// base), by name, each at the version chosen.
	Packages []Package
	Problems []Problem
}

// Resolve computes the dependency closure of wants. inBase reports packages
// the base system already has; they are not added (nor followed).
func (u *Universe) Resolve(wants []Want, inBase func(name string) bool) Resolution {
	chosen := map[string]Package{}
	var res Resolution
	var queue []Package
	for _, w := range wants {
		p, ok := u.Find(w.Name, w.Version)
		if !ok {
			text := fmt.Sprintf("package %s is in no repository of the appliance", w.Name)
			if w.Version != "" && len(u.byName[w.Name]) > 0 {
				text = fmt.Sprintf("package %s has no version %s in the repositories of the appliance", w.Name, w.Version)
			}
			res.Problems = append(res.Problems, Problem{Kind: "missing", Package: w.Name, Text: text})
			continue
		}
		if _, dup := chosen[p.Name]; !dup {
			chosen[p.Name] = p
			queue = append(queue, p)
		}
	}
	has := func(r Relation) bool {
		if p, ok := chosen[r.Name]; ok && r.Satisfied(p.Version) {
			return true
		}
		if r.Op == "" {
			for _, prov := range u.provides[r.Name] {
				if _, ok := chosen[prov]; ok {
					return true
				}
			}
		}
		return inBase(r.Name)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, alts := range append(ParseRelations(p.PreDepends), ParseRelations(p.Depends)...) {
			done := false
			for _, r := range alts {
				if has(r) {
					done = true
					break
				}
			}
			if done {
				continue
			}
			var pick *Package
			for _, r := range alts {
				for _, cand := range u.byName[r.Name] {
					if r.Satisfied(cand.Version) {
						c := cand
						pick = &c
						break
					}
				}
				if pick == nil && r.Op == "" && len(u.provides[r.Name]) > 0 {
					if c, ok := u.Find(u.provides[r.Name][0], ""); ok {
						pick = &c
					}
				}
				if pick != nil {
					break
				}
			}
			if pick == nil {
				res.Problems = append(res.Problems, Problem{Kind: "unsatisfiable", Package: p.Name,
					Text: fmt.Sprintf("%s depends on %s, which no repository of the appliance provides", p.Name, relText(alts))})
				continue
			}
			if _, dup := chosen[pick.Name]; !dup {
				chosen[pick.Name] = *pick
				queue = append(queue, *pick)
			}
		}
	}
	for _, p := range chosen {
		for _, field := range []string{p.Conflicts, p.Breaks} {
			for _, alts := range ParseRelations(field) {
				for _, r := range alts {
					if q, ok := chosen[r.Name]; ok && q.Name != p.Name && r.Satisfied(q.Version) {
						res.Problems = append(res.Problems, Problem{Kind: "conflict", Package: p.Name,
							Text: fmt.Sprintf("%s %s conflicts with %s %s", p.Name, p.Version, q.Name, q.Version)})
					}
				}
			}
		}
		res.Packages = append(res.Packages, p)
	}
	sort.Slice(res.Packages, func(i, j int) bool { return res.Packages[i].Name < res.Packages[j].Name })
	sort.SliceStable(res.Problems, func(i, j int) bool { return res.Problems[i].Text < res.Problems[j].Text })
	return res
}

func relText(alts []Relation) string {
	parts := make([]string, len(alts))
	for i, r := range alts {
		parts[i] = r.Name
		if r.Op != "" {
			parts[i] += " (" + r.Op + " " + r.Version + ")"
		}
	}
	return strings.Join(parts, " | ")
}

// Base returns the names of what debootstrap --variant=minbase installs
// from the universe: every Essential and priority-required package, apt,
// and their dependency closure (libc6, for one, is neither, but every base
// has it).
func (u *Universe) Base() map[string]bool {
	wants := []Want{{Name: "apt"}}
	for name, l := range u.byName {
		if p := l[0]; p.Essential || p.Priority == "required" {
			wants = append(wants, Want{Name: name})
		}
	}
	sort.Slice(wants, func(i, j int) bool { return wants[i].Name < wants[j].Name })
	base := map[string]bool{}
	for _, p := range u.Resolve(wants, func(string) bool { return false }).Packages {
		base[p.Name] = true
	}
	return base
}
