// Package diff compares two SBOMs: packages added, removed, whose version
// changed and whose license changed. The SBOM strategy reports drift with it.
package diff

import (
	"sort"

	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/analysis/sbom/catalog"
)

// Package identifies one package on one side of a diff.
type Package struct {
	// Type is the ecosystem.
	Type catalog.Type `json:"type"`
	// Name is the package name.
	Name string `json:"name"`
	// Version is the version.
	Version string `json:"version"`
	// PURL is the package URL.
	PURL string `json:"purl"`
	// License is the SPDX expression, "" if none was declared.
	License string `json:"license,omitempty"`
}

// VersionChange is a package present on both sides with another version.
type VersionChange struct {
	// Type is the ecosystem.
	Type catalog.Type `json:"type"`
	// Name is the package name.
	Name string `json:"name"`
	// From and To are the old and new versions.
	From string `json:"from"`
	To   string `json:"to"`
	// FromPURL and ToPURL are the old and new package URLs.
	FromPURL string `json:"from_purl"`
	ToPURL   string `json:"to_purl"`
}

// LicenseChange is a package whose declared license differs between sides
// (whether or not its version changed too).
type LicenseChange struct {
	// Type is the ecosystem.
	Type catalog.Type `json:"type"`
	// Name is the package name.
	Name string `json:"name"`
	// Version is the new version.
	Version string `json:"version"`
	// From and To are the old and new SPDX expressions.
	From string `json:"from"`
	To   string `json:"to"`
}

// Report is the difference from an old SBOM to a new one. Every list is
// sorted by type and name, and empty lists are written as [] in JSON.
type Report struct {
	// Added lists packages only in the new SBOM.
	Added []Package `json:"added"`
	// Removed lists packages only in the old SBOM.
	Removed []Package `json:"removed"`
	// VersionChanged lists packages whose version changed.
	VersionChanged []VersionChange `json:"version_changed"`
	// LicenseChanged lists packages whose license changed.
	LicenseChanged []LicenseChange `json:"license_changed"`
}

// Empty reports whether the two SBOMs list the same packages.
func (r *Report) Empty() bool {
	return len(r.Added)+len(r.Removed)+len(r.VersionChanged)+len(r.LicenseChanged) == 0
}

// key groups packages that are "the same package" across SBOMs: the
// ecosystem, the name and, for Debian, the architecture.
type key struct {
	typ  catalog.Type
	name string
	arch string
}

func ref(p *catalog.Package) Package {
	return Package{Type: p.Type, Name: p.Name, Version: p.Version, PURL: p.PURL, License: p.License()}
}

// Compare returns what changed from old to new. Packages are paired by
// ecosystem, name (and Debian architecture); where a name occurs several
// times (npm trees, Go modules in several binaries), versions present on both
// sides pair up first and a single remaining pair is a version change.
func Compare(old, new *sbom.SBOM) *Report {
	r := &Report{Added: []Package{}, Removed: []Package{}, VersionChanged: []VersionChange{}, LicenseChanged: []LicenseChange{}}
	group := func(s *sbom.SBOM) map[key][]*catalog.Package {
		m := map[key][]*catalog.Package{}
		if s == nil {
			return m
		}
		for i := range s.Packages {
			p := &s.Packages[i]
			k := key{p.Type, p.Name, p.Arch}
			m[k] = append(m[k], p)
		}
		return m
	}
	a, b := group(old), group(new)
	keys := map[key]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for k := range keys {
		olds, news := a[k], b[k]
		// Pair equal versions first.
		var restOld, restNew []*catalog.Package
		used := make([]bool, len(news))
		for _, o := range olds {
			matched := false
			for j, n := range news {
				if !used[j] && n.Version == o.Version {
					used[j], matched = true, true
					licenseChange(r, o, n)
					break
				}
			}
			if !matched {
				restOld = append(restOld, o)
			}
		}
		for j, n := range news {
			if !used[j] {
				restNew = append(restNew, n)
			}
		}
		if len(restOld) == 1 && len(restNew) == 1 {
			o, n := restOld[0], restNew[0]
			r.VersionChanged = append(r.VersionChanged, VersionChange{Type: k.typ, Name: k.name, From: o.Version, To: n.Version, FromPURL: o.PURL, ToPURL: n.PURL})
			licenseChange(r, o, n)
			continue
		}
		for _, o := range restOld {
			r.Removed = append(r.Removed, ref(o))
		}
		for _, n := range restNew {
			r.Added = append(r.Added, ref(n))
		}
	}
	sortBy(r.Added, func(p Package) string { return string(p.Type) + "\x00" + p.Name + "\x00" + p.Version })
	sortBy(r.Removed, func(p Package) string { return string(p.Type) + "\x00" + p.Name + "\x00" + p.Version })
	sortBy(r.VersionChanged, func(c VersionChange) string { return string(c.Type) + "\x00" + c.Name + "\x00" + c.From })
	sortBy(r.LicenseChanged, func(c LicenseChange) string { return string(c.Type) + "\x00" + c.Name + "\x00" + c.Version })
	return r
}

func licenseChange(r *Report, o, n *catalog.Package) {
	if ol, nl := o.License(), n.License(); ol != nl {
		r.LicenseChanged = append(r.LicenseChanged, LicenseChange{Type: n.Type, Name: n.Name, Version: n.Version, From: ol, To: nl})
	}
}

func sortBy[T any](s []T, k func(T) string) {
	sort.SliceStable(s, func(i, j int) bool { return k(s[i]) < k(s[j]) })
}
