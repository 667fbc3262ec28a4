// Package dpkg catalogs Debian packages from the dpkg database
// (var/lib/dpkg/status, and the per-package files of var/lib/dpkg/status.d
// that distroless images use), with the files each package owns (info/*.list)
// and its licenses read from usr/share/doc/PKG/copyright.
package dpkg

import (
	"context"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/package-url/packageurl-go"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom/catalog"
)

// maxMetaFile bounds the size of a status, list or copyright file read.
const maxMetaFile = 64 << 20

// Cataloger finds Debian packages. The zero value is ready to use.
type Cataloger struct{}

// New returns a dpkg Cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name names the cataloger.
func (*Cataloger) Name() string { return "dpkg" }

// Match accepts dpkg status files: lib/dpkg/status and lib/dpkg/status.d/*
// anywhere in the tree.
func (*Cataloger) Match(name string, d fs.DirEntry) bool {
	if !d.Type().IsRegular() {
		return false
	}
	if strings.HasSuffix(name, "lib/dpkg/status") {
		return name == "var/lib/dpkg/status" || strings.HasSuffix(name, "/lib/dpkg/status")
	}
	dir := path.Dir(name)
	return strings.HasSuffix(dir, "lib/dpkg/status.d") && !strings.HasSuffix(name, ".md5sums")
}

// Wants keeps the dpkg database, the info lists and the copyright files.
func (*Cataloger) Wants(name string, _ fs.FileMode, size int64) bool {
	if size > maxMetaFile {
		return false
	}
	if strings.Contains(name, "lib/dpkg/") {
		return strings.HasSuffix(name, "/status") || strings.HasSuffix(name, ".list") ||
			strings.Contains(name, "/status.d/") || name == "var/lib/dpkg/status"
	}
	return strings.HasPrefix(name, "usr/share/doc/") && strings.HasSuffix(name, "/copyright")
}

// entry is a status paragraph with where it came from.
type entry struct {
	para    catalog.Paragraph
	dbPath  string // the status file
	infoDir string // where *.list files live
}

// Catalog parses the matched status files.
func (c *Cataloger) Catalog(ctx context.Context, src rootfs.Source, env *catalog.Env, matched []string) ([]catalog.Package, error) {
	var entries []entry
	for _, m := range matched {
		data, err := readLimited(src, m)
		if err != nil {
			continue // an unreadable database file is skipped, not fatal
		}
		info := path.Join(path.Dir(m), "info")
		if strings.HasSuffix(path.Dir(m), "status.d") {
			info = ""
		}
		for _, p := range catalog.ParseDeb822(data) {
			if p.Get("Package") == "" || strings.Contains(p.Get("Status"), "deinstall") {
				continue
			}
			if st := p.Get("Status"); st != "" && !strings.HasSuffix(st, "installed") && !strings.HasSuffix(st, "half-configured") && !strings.HasSuffix(st, "unpacked") {
				continue
			}
			entries = append(entries, entry{para: p, dbPath: m, infoDir: info})
		}
	}
	pkgs := make([]catalog.Package, len(entries))
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				pkgs[i] = c.build(src, env, entries[i])
			}
		}()
	}
	for i := range entries {
		select {
		case work <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resolveDepends(pkgs, entries)
	return pkgs, nil
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

// build turns one status entry into a package.
func (c *Cataloger) build(src rootfs.Source, env *catalog.Env, e entry) catalog.Package {
	p := e.para
	name := p.Get("Package")
	arch := p.Get("Architecture")
	srcName, srcVersion := parseSource(p.Get("Source"))
	pkg := catalog.Package{
		Type:          catalog.TypeDeb,
		Name:          name,
		Version:       p.Get("Version"),
		Arch:          arch,
		SourceName:    srcName,
		SourceVersion: srcVersion,
		Supplier:      p.Get("Maintainer"),
		Homepage:      p.Get("Homepage"),
		Locations:     []string{"/" + e.dbPath},
		FoundBy:       c.Name(),
	}
	pkg.Description, _, _ = strings.Cut(p.Get("Description"), "\n")
	pkg.ID = "deb:" + name + "@" + pkg.Version
	if arch != "" {
		pkg.ID += ":" + arch
	}
	pkg.PURL = PURL(name, pkg.Version, arch, srcName, srcVersion, env.Distro)
	if e.infoDir != "" {
		for _, list := range []string{name + ":" + arch + ".list", name + ".list"} {
			lp := path.Join(e.infoDir, list)
			data, err := readLimited(src, lp)
			if err != nil {
				continue
			}
			pkg.Files = parseList(data)
			pkg.Locations = append(pkg.Locations, "/"+lp)
			break
		}
	}
	cp := "usr/share/doc/" + name + "/copyright"
	if data, err := readLimited(src, cp); err == nil {
		pkg.Licenses = ParseCopyright(data)
		pkg.Locations = append(pkg.Locations, "/"+cp)
	}
	return pkg
}

// parseList returns the regular paths of a dpkg .list file (directories,
// which every package lists, are left out when a deeper path follows them).
func parseList(data []byte) []string {
	lines := strings.Split(string(data), "\n")
	out := make([]string, 0, len(lines))
	for i, l := range lines {
		if l == "" || l == "/." {
			continue
		}
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], l+"/") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// parseSource splits a Source field, "bash (5.2.15-2)", into name and version.
func parseSource(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	name, rest, ok := strings.Cut(s, " ")
	if !ok {
		return name, ""
	}
	rest = strings.TrimSpace(rest)
	rest = strings.TrimPrefix(rest, "(")
	rest = strings.TrimSuffix(rest, ")")
	return name, strings.TrimSpace(rest)
}

// PURL builds the package URL of a Debian package exactly as syft does:
// pkg:deb/<distro>/<name>@<version>?arch=<arch>&distro=<id>-<version_id>
// plus upstream=<source>[@<source version>] when the source package differs.
// The distro namespace is "debian" unless os-release names another
// Debian-like distribution.
func PURL(name, version, arch, srcName, srcVersion string, d catalog.Distro) string {
	ns := d.ID
	if ns == "" {
		ns = "debian"
	}
	q := map[string]string{}
	if arch != "" {
		q["arch"] = arch
	}
	if srcName != "" {
		if srcVersion != "" {
			q["upstream"] = srcName + "@" + srcVersion
		} else {
			q["upstream"] = srcName
		}
	}
	distro := d.ID
	if d.VersionID != "" {
		if distro != "" {
			distro += "-"
		}
		distro += d.VersionID
	}
	if distro != "" {
		q["distro"] = distro
	}
	return packageurl.NewPackageURL(packageurl.TypeDebian, ns, name, version, packageurl.QualifiersFromMap(q), "").ToString()
}

// resolveDepends fills DependsOn from Depends and Pre-Depends: for each
// alternative group the first installed (or provided) alternative wins.
func resolveDepends(pkgs []catalog.Package, entries []entry) {
	byName := map[string]int{}
	for i, p := range pkgs {
		if _, dup := byName[p.Name]; !dup {
			byName[p.Name] = i
		}
	}
	provided := map[string]int{}
	for i, e := range entries {
		for _, alt := range splitRelations(e.para.Get("Provides")) {
			if _, ok := provided[alt]; !ok {
				provided[alt] = i
			}
		}
	}
	for i, e := range entries {
		seen := map[string]bool{}
		rels := e.para.Get("Pre-Depends") + "," + e.para.Get("Depends")
		for _, group := range strings.Split(rels, ",") {
			for _, alt := range strings.Split(group, "|") {
				n := relationName(alt)
				if n == "" {
					continue
				}
				j, ok := byName[n]
				if !ok {
					j, ok = provided[n]
				}
				if !ok {
					continue
				}
				if j != i && !seen[pkgs[j].ID] {
					seen[pkgs[j].ID] = true
					pkgs[i].DependsOn = append(pkgs[i].DependsOn, pkgs[j].ID)
				}
				break
			}
		}
		sort.Strings(pkgs[i].DependsOn)
	}
}

func splitRelations(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if n := relationName(part); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// relationName extracts the package name of one relation, "libc6:any (>= 2.34)".
func relationName(rel string) string {
	rel = strings.TrimSpace(rel)
	if i := strings.IndexAny(rel, " (["); i >= 0 {
		rel = rel[:i]
	}
	rel, _, _ = strings.Cut(rel, ":")
	return rel
}
