package ree

import (
	"sort"
	"strings"

	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/analysis/sbom/catalog"
	"github.com/reehub/reehub/analysis/sbom/catalog/python"
	"github.com/reehub/reehub/runtime/dockerfile"
)

// PinnedPackage is one package version the SBOM strategy pinned (or could not).
type PinnedPackage struct {
	Type    catalog.Type `json:"type"`
	Name    string       `json:"name"`
	Version string       `json:"version"`
	// Line is the Dockerfile line of the RUN whose install pins it; 0 for unpinned.
	Line int `json:"line,omitempty"`
}

// pinPlan is what pinning decided: the replacement words of each install (in
// dockerfile.File.Installs order, nil to leave one as written), the packages
// pinned, and the packages the build added that no install could pin.
type pinPlan struct {
	words    [][]string
	pinned   []PinnedPackage
	unpinned []PinnedPackage
}

// planPins decides how to pin the installs of a Dockerfile from the SBOMs of
// its base image and of the built image.
//
// apt: every Debian package that the build added or changed is pinned as
// name=version in the first apt install whose named packages reach it through
// Depends/Pre-Depends (so that an install keeps pulling in its own
// dependencies); what no install reaches (virtual packages, Recommends) goes
// to the first apt install. pip: named requirements become name==version
// (extras kept), and the other Python distributions the build added (outside
// files that Debian packages own) are appended to the first pip install the
// same way. npm: named packages become name@version from the image's
// node_modules; an install without package arguments installs from the
// lockfile (PinInstalls turns it into npm ci).
func planPins(base, built *sbom.SBOM, installs []dockerfile.Install) pinPlan {
	plan := pinPlan{words: make([][]string, len(installs))}
	debFiles := map[string]bool{}
	for _, p := range built.Packages {
		if p.Type == catalog.TypeDeb {
			for _, f := range p.Files {
				debFiles[f] = true
			}
		}
	}
	inBase := map[string]bool{}
	for _, p := range base.Packages {
		inBase[string(p.Type)+"\x00"+p.Name+"\x00"+p.Arch+"\x00"+p.Version] = true
	}
	byID := map[string]*catalog.Package{}
	changed := map[catalog.Type][]*catalog.Package{}
	changedID := map[string]bool{}
	for i := range built.Packages {
		p := &built.Packages[i]
		byID[p.ID] = p
		if inBase[string(p.Type)+"\x00"+p.Name+"\x00"+p.Arch+"\x00"+p.Version] {
			continue
		}
		if p.Type == catalog.TypePython && len(p.Locations) > 0 && debFiles[p.Locations[0]] {
			continue // a Debian package's Python files
		}
		changed[p.Type] = append(changed[p.Type], p)
		changedID[p.ID] = true
	}
	assigned := map[string]bool{}
	firstOf := map[dockerfile.Tool]int{}
	for i := len(installs) - 1; i >= 0; i-- {
		if installs[i].Tool == dockerfile.ToolNpm || installs[i].Tool == dockerfile.ToolApt || installs[i].Tool == dockerfile.ToolPip {
			firstOf[installs[i].Tool] = i
		}
	}
	extra := make([][]*catalog.Package, len(installs))

	for i, in := range installs {
		switch in.Tool {
		case dockerfile.ToolApt:
			var roots []*catalog.Package
			for _, w := range in.Packages {
				name, arch := aptName(w)
				p := findPackage(built, catalog.TypeDeb, name, arch)
				if p == nil {
					continue // a virtual package: its provider is pinned below
				}
				roots = append(roots, p)
			}
			named := map[string]bool{}
			for _, p := range roots {
				named[p.ID] = true
			}
			for _, p := range closure(roots, byID, catalog.TypeDeb) {
				if assigned[p.ID] || !(named[p.ID] || changedID[p.ID]) {
					continue
				}
				assigned[p.ID] = true
				extra[i] = append(extra[i], p)
			}
		case dockerfile.ToolPip:
			var words []string
			var roots []*catalog.Package
			for _, w := range in.Packages {
				name, extras, ok := pipName(w)
				if !ok {
					words = append(words, w) // a path, URL or archive: kept as written
					continue
				}
				p := findPython(changed[catalog.TypePython], built, name)
				if p == nil {
					words = append(words, w)
					continue
				}
				assigned[p.ID] = true
				words = append(words, name+extras+"=="+p.Version)
				plan.pinned = append(plan.pinned, PinnedPackage{Type: p.Type, Name: p.Name, Version: p.Version, Line: in.Line})
				roots = append(roots, p)
			}
			for _, p := range closure(roots, byID, catalog.TypePython) {
				if !assigned[p.ID] && changedID[p.ID] {
					assigned[p.ID] = true
					extra[i] = append(extra[i], p)
				}
			}
			plan.words[i] = words
		case dockerfile.ToolNpm:
			if in.FromLockfile {
				continue
			}
			var words []string
			for _, w := range in.Packages {
				name, ok := npmName(w)
				p := (*catalog.Package)(nil)
				if ok {
					p = findNpm(built, name)
				}
				if p == nil {
					words = append(words, w)
					continue
				}
				assigned[p.ID] = true
				words = append(words, name+"@"+p.Version)
				plan.pinned = append(plan.pinned, PinnedPackage{Type: p.Type, Name: p.Name, Version: p.Version, Line: in.Line})
			}
			plan.words[i] = words
		}
	}
	// What no install reached goes to the tool's first install.
	for _, typ := range []catalog.Type{catalog.TypeDeb, catalog.TypePython} {
		tool := dockerfile.ToolApt
		if typ == catalog.TypePython {
			tool = dockerfile.ToolPip
		}
		first, ok := firstOf[tool]
		for _, p := range changed[typ] {
			if assigned[p.ID] {
				continue
			}
			assigned[p.ID] = true
			if !ok {
				plan.unpinned = append(plan.unpinned, PinnedPackage{Type: p.Type, Name: p.Name, Version: p.Version})
				continue
			}
			extra[first] = append(extra[first], p)
		}
	}
	for i, in := range installs {
		ps := extra[i]
		sort.Slice(ps, func(a, b int) bool { return ps[a].Name < ps[b].Name })
		for _, p := range ps {
			switch in.Tool {
			case dockerfile.ToolApt:
				plan.words[i] = append(plan.words[i], p.Name+"="+p.Version)
			case dockerfile.ToolPip:
				plan.words[i] = append(plan.words[i], p.Name+"=="+p.Version)
			}
			plan.pinned = append(plan.pinned, PinnedPackage{Type: p.Type, Name: p.Name, Version: p.Version, Line: in.Line})
		}
		if in.Tool == dockerfile.ToolApt && len(plan.words[i]) == 0 {
			plan.words[i] = nil // nothing new: leave the install as written
		}
	}
	sort.SliceStable(plan.pinned, func(a, b int) bool {
		x, y := plan.pinned[a], plan.pinned[b]
		if x.Type != y.Type {
			return x.Type < y.Type
		}
		return x.Name < y.Name
	})
	return plan
}

// aptName returns the package name (and architecture) of an apt-get install
// argument: "jq", "jq=1.6-2.1", "jq:amd64", "jq/bookworm".
func aptName(w string) (string, string) {
	if i := strings.IndexAny(w, "=/"); i >= 0 {
		w = w[:i]
	}
	name, arch, _ := strings.Cut(w, ":")
	return name, arch
}

// pipName returns the normalised project name and the extras ("[socks]") of
// a pip requirement specifier; ok is false for paths, URLs and archives.
func pipName(w string) (name, extras string, ok bool) {
	if strings.ContainsAny(w, "/\\") || strings.HasPrefix(w, ".") || strings.HasSuffix(w, ".whl") || strings.HasSuffix(w, ".tar.gz") || strings.HasSuffix(w, ".zip") {
		return "", "", false
	}
	end := strings.IndexAny(w, "[=<>!~;@ ")
	if end < 0 {
		end = len(w)
	}
	name = w[:end]
	if end < len(w) && w[end] == '[' {
		if j := strings.IndexByte(w[end:], ']'); j > 0 {
			extras = w[end : end+j+1]
		}
	}
	if name == "" {
		return "", "", false
	}
	return python.NormalizeName(name), extras, true
}

// npmName returns the package name of an npm install argument
// ("left-pad@1", "@scope/pkg@^2"); ok is false for paths, URLs and git refs.
func npmName(w string) (string, bool) {
	if strings.HasPrefix(w, ".") || strings.HasPrefix(w, "/") || strings.Contains(w, ":") {
		return "", false
	}
	if strings.HasPrefix(w, "@") {
		if i := strings.IndexByte(w[1:], '@'); i >= 0 {
			return w[:i+1], true
		}
		return w, strings.Contains(w, "/")
	}
	if strings.Contains(w, "/") {
		return "", false // a GitHub shorthand
	}
	name, _, _ := strings.Cut(w, "@")
	return name, name != ""
}

// findPackage returns the package of a type called name (and arch when given).
func findPackage(s *sbom.SBOM, typ catalog.Type, name, arch string) *catalog.Package {
	for i := range s.Packages {
		p := &s.Packages[i]
		if p.Type == typ && p.Name == name && (arch == "" || p.Arch == arch) {
			return p
		}
	}
	return nil
}

// findPython prefers a distribution the build added over one already there.
func findPython(changed []*catalog.Package, s *sbom.SBOM, name string) *catalog.Package {
	for _, p := range changed {
		if p.Name == name {
			return p
		}
	}
	return findPackage(s, catalog.TypePython, name, "")
}

// findNpm returns the installed npm package called name closest to a
// node_modules root (fewest nested node_modules in its location).
func findNpm(s *sbom.SBOM, name string) *catalog.Package {
	var best *catalog.Package
	depth := 0
	for i := range s.Packages {
		p := &s.Packages[i]
		if p.Type != catalog.TypeNPM || p.Name != name || len(p.Locations) == 0 {
			continue
		}
		d := strings.Count(p.Locations[0], "node_modules/")
		if best == nil || d < depth {
			best, depth = p, d
		}
	}
	return best
}

// closure returns roots and every package of typ they reach through DependsOn.
func closure(roots []*catalog.Package, byID map[string]*catalog.Package, typ catalog.Type) []*catalog.Package {
	seen := map[string]bool{}
	var out []*catalog.Package
	queue := append([]*catalog.Package(nil), roots...)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p.ID] || p.Type != typ {
			continue
		}
		seen[p.ID] = true
		out = append(out, p)
		for _, d := range p.DependsOn {
			if q := byID[d]; q != nil {
				queue = append(queue, q)
			}
		}
	}
	return out
}
