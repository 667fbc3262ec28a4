package agent

import (
	"context"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom"
	"github.com/reehub/reehub/analysis/sbom/catalog"
	"github.com/reehub/reehub/archive/unpack"
)

// maxControl bounds the size of a Debian control file read.
const maxControl = 1 << 20

// Packages is the package agent: the packages the SBOM catalogers find in
// the tree (dpkg databases, Python distributions, npm lock files, Go
// binaries), one package per Debian package (.deb) in the upload, read
// from its control file as FOSSology's pkgagent does, and one per rpm
// package, from its header (unpack.Item.Package; Rule "rpm-header"). Each finding's Value is
// the package URL, its Rule the cataloger, and its Path the file the package
// was found in.
func Packages(ctx context.Context, tree *unpack.Tree) ([]Finding, error) {
	src, err := rootfs.OpenDir(tree.Root)
	if err != nil {
		return nil, fmt.Errorf("package agent: %w", err)
	}
	defer src.Close()
	s, err := sbom.Scan(ctx, src, &sbom.Options{Name: tree.Name})
	if err != nil {
		return nil, fmt.Errorf("package agent: %w", err)
	}
	sha := map[string]string{}
	for _, it := range tree.Items {
		sha[it.Path] = it.Hash.SHA1
	}
	var out []Finding
	for _, p := range s.Packages {
		loc := ""
		if len(p.Locations) > 0 {
			loc = strings.TrimPrefix(p.Locations[0], "/")
		}
		out = append(out, Finding{Agent: Package, Path: loc, SHA1: sha[loc], Type: TypePackage, Value: p.PURL, Rule: p.FoundBy})
	}
	for _, it := range tree.Items {
		if it.Kind == unpack.KindContainer && it.Package != nil {
			out = append(out, Finding{Agent: Package, Path: it.Path, SHA1: it.Hash.SHA1, Type: TypePackage,
				Value: packageURL(it.Package), Rule: it.Package.Type + "-header"})
			continue
		}
		if it.Kind != unpack.KindContainer || it.Format != "deb" {
			continue
		}
		pkg, where, err := debControl(tree, it)
		if err != nil {
			return nil, err
		}
		if pkg != nil {
			out = append(out, Finding{Agent: Package, Path: it.Path, SHA1: it.Hash.SHA1, Type: TypePackage,
				Value: pkg.PURL, Rule: "deb-control:" + where})
		}
	}
	return out, nil
}

// packageURL is the package URL of a package container's header
// (pkg:rpm/<vendor>/<name>@<version>-<release>?arch=...&epoch=...).
func packageURL(p *unpack.Package) string {
	v := p.Version
	if p.Release != "" {
		v += "-" + p.Release
	}
	m := map[string]string{}
	if p.Arch != "" {
		m["arch"] = p.Arch
	}
	if p.Epoch > 0 {
		m["epoch"] = strconv.Itoa(p.Epoch)
	}
	ns := ""
	if f := strings.Fields(p.Vendor); len(f) > 0 {
		ns = strings.ToLower(f[0])
	}
	var q packageurl.Qualifiers
	if len(m) > 0 {
		q = packageurl.QualifiersFromMap(m)
	}
	return packageurl.NewPackageURL(p.Type, ns, p.Name, v, q, "").ToString()
}

// debControl reads the control file of the .deb container it.
func debControl(tree *unpack.Tree, it unpack.Item) (*catalog.Package, string, error) {
	for _, c := range tree.Items {
		if c.Kind != unpack.KindFile || path.Base(c.Path) != "control" || path.Dir(path.Dir(c.Path)) != it.Path ||
			!strings.HasPrefix(path.Base(path.Dir(c.Path)), "control.tar") {
			continue
		}
		if c.Hash.Size > maxControl {
			return nil, "", nil
		}
		data, err := os.ReadFile(tree.FilePath(c))
		if err != nil {
			return nil, "", fmt.Errorf("package agent: read %s: %w", c.Path, err)
		}
		paras := catalog.ParseDeb822(data)
		if len(paras) == 0 || paras[0].Get("Package") == "" {
			return nil, "", nil
		}
		p := paras[0]
		var q packageurl.Qualifiers
		if a := p.Get("Architecture"); a != "" {
			q = packageurl.QualifiersFromMap(map[string]string{"arch": a})
		}
		purl := packageurl.NewPackageURL("deb", "debian", p.Get("Package"), p.Get("Version"), q, "").ToString()
		return &catalog.Package{Type: catalog.TypeDeb, Name: p.Get("Package"), Version: p.Get("Version"), PURL: purl}, c.Path, nil
	}
	return nil, "", nil
}
