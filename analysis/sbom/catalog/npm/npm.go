// Package npm catalogs npm packages: every package.json installed under a
// node_modules directory, and the entries of package-lock.json files (v1 to
// v3) that are not installed next to them, with their dependencies.
package npm

import (
	"context"
	"encoding/json"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom/catalog"
)

// maxMetaFile bounds the size of a package.json or lock file read.
const maxMetaFile = 64 << 20

// Cataloger finds npm packages. The zero value is ready to use.
type Cataloger struct{}

// New returns an npm Cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name names the cataloger.
func (*Cataloger) Name() string { return "npm" }

// Match accepts node_modules/NAME/package.json, node_modules/@SCOPE/NAME/package.json
// and package-lock.json outside node_modules.
func (*Cataloger) Match(name string, d fs.DirEntry) bool {
	if !d.Type().IsRegular() {
		return false
	}
	switch path.Base(name) {
	case "package.json":
		return pkgDirOf(path.Dir(name))
	case "package-lock.json":
		return !strings.Contains(name, "node_modules/")
	}
	return false
}

// pkgDirOf reports whether dir is an installed package directory.
func pkgDirOf(dir string) bool {
	parent := path.Dir(dir)
	if path.Base(parent) == "node_modules" {
		return true
	}
	return strings.HasPrefix(path.Base(parent), "@") && path.Base(path.Dir(parent)) == "node_modules"
}

// Wants keeps package.json and package-lock.json files.
func (*Cataloger) Wants(name string, _ fs.FileMode, size int64) bool {
	b := path.Base(name)
	return size <= maxMetaFile && (b == "package.json" || b == "package-lock.json")
}

type manifest struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	Description  string            `json:"description"`
	Homepage     string            `json:"homepage"`
	License      json.RawMessage   `json:"license"`
	Licenses     json.RawMessage   `json:"licenses"`
	Author       json.RawMessage   `json:"author"`
	Dependencies map[string]string `json:"dependencies"`
}

type lockEntry struct {
	Version      string            `json:"version"`
	License      json.RawMessage   `json:"license"`
	Dependencies map[string]string `json:"dependencies"`
	Link         bool              `json:"link"`
}

type lockFile struct {
	LockfileVersion int                  `json:"lockfileVersion"`
	Packages        map[string]lockEntry `json:"packages"`
	Dependencies    map[string]lockV1    `json:"dependencies"`
}

type lockV1 struct {
	Version      string            `json:"version"`
	Requires     map[string]string `json:"requires"`
	Dependencies map[string]lockV1 `json:"dependencies"`
}

// found is a package with its install directory and declared dependencies.
type found struct {
	pkg  catalog.Package
	dir  string
	deps []string
}

// Catalog reads installed manifests first, then lock files.
func (c *Cataloger) Catalog(ctx context.Context, src rootfs.Source, _ *catalog.Env, matched []string) ([]catalog.Package, error) {
	var all []found
	installed := map[string]bool{}
	var locks []string
	for _, m := range matched {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if path.Base(m) == "package-lock.json" {
			locks = append(locks, m)
			continue
		}
		data, err := readLimited(src, m)
		if err != nil {
			continue
		}
		var mf manifest
		if json.Unmarshal(data, &mf) != nil || mf.Name == "" || mf.Version == "" {
			continue
		}
		dir := path.Dir(m)
		installed[dir] = true
		p := c.newPackage(mf.Name, mf.Version, "/"+m)
		p.Description, p.Homepage = mf.Description, mf.Homepage
		p.Supplier = person(mf.Author)
		if l := licenseOf(mf.License, mf.Licenses); l != "" {
			p.Licenses = []string{l}
		}
		all = append(all, found{pkg: p, dir: dir, deps: keys(mf.Dependencies)})
	}
	for _, l := range locks {
		all = append(all, c.fromLock(src, l, installed)...)
	}
	resolve(all)
	out := make([]catalog.Package, len(all))
	for i := range all {
		out[i] = all[i].pkg
	}
	return out, nil
}

func (c *Cataloger) newPackage(name, version, loc string) catalog.Package {
	ns, n := "", name
	if strings.HasPrefix(name, "@") {
		if i := strings.Index(name, "/"); i > 0 {
			ns, n = name[:i], name[i+1:]
		}
	}
	return catalog.Package{
		ID:        "npm:" + name + "@" + version + ":" + loc,
		Type:      catalog.TypeNPM,
		Name:      name,
		Version:   version,
		PURL:      packageurl.NewPackageURL(packageurl.TypeNPM, ns, n, version, nil, "").ToString(),
		Locations: []string{loc},
		FoundBy:   c.Name(),
	}
}

// fromLock lists a lock file's packages that are not installed.
func (c *Cataloger) fromLock(src rootfs.Source, name string, installed map[string]bool) []found {
	data, err := readLimited(src, name)
	if err != nil {
		return nil
	}
	var lf lockFile
	if json.Unmarshal(data, &lf) != nil {
		return nil
	}
	base := path.Dir(name)
	var out []found
	if len(lf.Packages) > 0 {
		for k, e := range lf.Packages {
			if k == "" || e.Link || e.Version == "" || !strings.Contains(k, "node_modules/") {
				continue
			}
			dir := path.Join(base, k)
			if installed[dir] {
				continue
			}
			pkgName := k[strings.LastIndex(k, "node_modules/")+len("node_modules/"):]
			p := c.newPackage(pkgName, e.Version, "/"+name)
			if l := licenseOf(e.License, nil); l != "" {
				p.Licenses = []string{l}
			}
			out = append(out, found{pkg: p, dir: dir, deps: keys(e.Dependencies)})
		}
		return out
	}
	var walk func(dir string, deps map[string]lockV1)
	walk = func(dir string, deps map[string]lockV1) {
		for n, e := range deps {
			d := path.Join(dir, "node_modules", n)
			if e.Version != "" && !installed[d] {
				p := c.newPackage(n, e.Version, "/"+name)
				out = append(out, found{pkg: p, dir: d, deps: keys(e.Requires)})
			}
			walk(d, e.Dependencies)
		}
	}
	walk(base, lf.Dependencies)
	return out
}

// resolve links dependencies the way Node looks them up: the nearest
// node_modules directory up the tree that holds the name.
func resolve(all []found) {
	byDir := map[string]string{}
	for _, f := range all {
		if _, ok := byDir[f.dir]; !ok {
			byDir[f.dir] = f.pkg.ID
		}
	}
	for i := range all {
		seen := map[string]bool{}
		for _, dep := range all[i].deps {
			cur := all[i].dir
			for depth := 0; depth < 256; depth++ {
				if id, ok := byDir[path.Join(cur, "node_modules", dep)]; ok {
					if id != all[i].pkg.ID && !seen[id] {
						seen[id] = true
						all[i].pkg.DependsOn = append(all[i].pkg.DependsOn, id)
					}
					break
				}
				if cur == "." || cur == "/" {
					break
				}
				cur = path.Dir(cur)
			}
		}
		sort.Strings(all[i].pkg.DependsOn)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// licenseOf reads "license": "MIT", {"type": "MIT"} or "licenses": [...].
func licenseOf(license, licenses json.RawMessage) string {
	var names []string
	var s string
	var obj struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(license, &s) == nil && s != "" {
		names = append(names, s)
	} else if json.Unmarshal(license, &obj) == nil && obj.Type != "" {
		names = append(names, obj.Type)
	}
	var list []struct {
		Type string `json:"type"`
	}
	if len(names) == 0 && json.Unmarshal(licenses, &list) == nil {
		for _, l := range list {
			if l.Type != "" {
				names = append(names, l.Type)
			}
		}
	}
	if len(names) == 0 {
		return ""
	}
	if len(names) == 1 {
		return catalog.NormalizeExpression(names[0])
	}
	return catalog.NormalizeExpression("(" + strings.Join(names, ") OR (") + ")")
}

func person(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var p struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if json.Unmarshal(raw, &p) == nil && p.Name != "" {
		if p.Email != "" {
			return p.Name + " <" + p.Email + ">"
		}
		return p.Name
	}
	return ""
}

func readLimited(src rootfs.Source, name string) ([]byte, error) {
	fi, err := src.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxMetaFile {
		return nil, fs.ErrInvalid
	}
	return fs.ReadFile(src, name)
}
