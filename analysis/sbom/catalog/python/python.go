// Package python catalogs installed Python distributions: *.dist-info
// (METADATA, RECORD) and *.egg-info (PKG-INFO, installed-files.txt, or a
// single PKG-INFO file named *.egg-info), with licenses from
// License-Expression, License or the license trove classifiers, and
// dependencies from Requires-Dist.
package python

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom/catalog"
)

// maxMetaFile bounds the size of a METADATA or RECORD file read.
const maxMetaFile = 32 << 20

// Cataloger finds Python distributions. The zero value is ready to use.
type Cataloger struct{}

// New returns a Python Cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name names the cataloger.
func (*Cataloger) Name() string { return "python" }

// Match accepts *.dist-info/METADATA, *.egg-info/PKG-INFO and *.egg-info files.
func (*Cataloger) Match(name string, d fs.DirEntry) bool {
	if !d.Type().IsRegular() {
		return false
	}
	switch {
	case strings.HasSuffix(name, ".dist-info/METADATA"), strings.HasSuffix(name, ".egg-info/PKG-INFO"):
		return true
	case strings.HasSuffix(name, ".egg-info"):
		return true
	}
	return false
}

// Wants keeps the metadata files of dist-info and egg-info directories.
func (*Cataloger) Wants(name string, _ fs.FileMode, size int64) bool {
	if size > maxMetaFile {
		return false
	}
	dir := path.Base(path.Dir(name))
	return strings.HasSuffix(dir, ".dist-info") || strings.HasSuffix(dir, ".egg-info") || strings.HasSuffix(name, ".egg-info")
}

// Catalog reads each matched metadata file.
func (c *Cataloger) Catalog(ctx context.Context, src rootfs.Source, _ *catalog.Env, matched []string) ([]catalog.Package, error) {
	var pkgs []catalog.Package
	var reqs [][]string
	for _, m := range matched {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := readLimited(src, m)
		if err != nil {
			continue
		}
		meta := ParseMetadata(data)
		name, version := meta.first("Name"), meta.first("Version")
		if name == "" || version == "" {
			continue
		}
		norm := NormalizeName(name)
		p := catalog.Package{
			Type:        catalog.TypePython,
			Name:        norm,
			Version:     version,
			PURL:        packageurl.NewPackageURL(packageurl.TypePyPi, "", norm, version, nil, "").ToString(),
			Description: meta.first("Summary"),
			Homepage:    homepage(meta),
			Supplier:    supplier(meta),
			Locations:   []string{"/" + m},
			FoundBy:     c.Name(),
		}
		p.ID = "python:" + norm + "@" + version + ":/" + m
		if lic := Licenses(meta); lic != "" {
			p.Licenses = []string{lic}
		}
		p.Files = c.ownedFiles(src, m, &p)
		pkgs = append(pkgs, p)
		reqs = append(reqs, meta.all("Requires-Dist"))
	}
	resolveRequires(pkgs, reqs)
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

// ownedFiles lists the files a distribution installed, from RECORD
// (dist-info) or installed-files.txt (egg-info), as absolute paths.
func (c *Cataloger) ownedFiles(src rootfs.Source, meta string, p *catalog.Package) []string {
	dir := path.Dir(meta)
	var list, base string
	switch {
	case strings.HasSuffix(dir, ".dist-info"):
		list, base = path.Join(dir, "RECORD"), path.Dir(dir)
	case strings.HasSuffix(dir, ".egg-info"):
		list, base = path.Join(dir, "installed-files.txt"), dir
	default:
		return nil
	}
	data, err := readLimited(src, list)
	if err != nil {
		return nil
	}
	p.Locations = append(p.Locations, "/"+list)
	var rel []string
	if strings.HasSuffix(list, "RECORD") {
		r := csv.NewReader(strings.NewReader(string(data)))
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				break
			}
			if len(rec) > 0 && rec[0] != "" && !strings.ContainsAny(rec[0], "\n\r") {
				rel = append(rel, rec[0])
			}
		}
	} else {
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				rel = append(rel, l)
			}
		}
	}
	out := make([]string, 0, len(rel))
	for _, r := range rel {
		if strings.HasPrefix(r, "/") {
			out = append(out, path.Clean(r))
			continue
		}
		out = append(out, "/"+rootfs.Clean(path.Join(base, r)))
	}
	sort.Strings(out)
	return out
}

var nameSeparators = regexp.MustCompile(`[-_.]+`)

// NormalizeName normalises a distribution name per PEP 503 ("PyYAML" ->
// "pyyaml", "zope.interface" -> "zope-interface"), as syft does.
func NormalizeName(name string) string {
	return strings.ToLower(nameSeparators.ReplaceAllString(strings.TrimSpace(name), "-"))
}

// Metadata is the header block of a METADATA or PKG-INFO file; fields may
// repeat (Classifier, Requires-Dist).
type Metadata map[string][]string

func (m Metadata) first(k string) string {
	if v := m[strings.ToLower(k)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (m Metadata) all(k string) []string { return m[strings.ToLower(k)] }

// ParseMetadata reads the RFC 822 header block of a core metadata file
// (field names lower-cased); the body after the first blank line is ignored.
func ParseMetadata(data []byte) Metadata {
	m := Metadata{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 64*1024), 8<<20)
	var lastKey string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if lastKey != "" {
				vs := m[lastKey]
				vs[len(vs)-1] += "\n" + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			lastKey = ""
			continue
		}
		lastKey = strings.ToLower(strings.TrimSpace(k))
		m[lastKey] = append(m[lastKey], strings.TrimSpace(v))
	}
	return m
}

// Licenses returns the distribution's license as an SPDX expression:
// License-Expression if present, else a short License field, else the
// license trove classifiers joined with OR.
func Licenses(m Metadata) string {
	if e := m.first("License-Expression"); e != "" {
		return catalog.NormalizeExpression(e)
	}
	if l := strings.TrimSpace(m.first("License")); l != "" && !strings.Contains(l, "\n") && len(l) <= 100 && !strings.EqualFold(l, "UNKNOWN") {
		if e := catalog.NormalizeExpression(l); e != "" {
			return e
		}
	}
	var ids []string
	seen := map[string]bool{}
	for _, c := range m.all("Classifier") {
		parts := strings.Split(c, "::")
		if len(parts) < 2 || strings.TrimSpace(parts[0]) != "License" {
			continue
		}
		last := strings.TrimSpace(parts[len(parts)-1])
		if last == "OSI Approved" || last == "Other/Proprietary License" && len(parts) == 2 {
			continue
		}
		if id := catalog.NormalizeLicenseID(last); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return catalog.NormalizeExpression(strings.Join(ids, " OR "))
}

func homepage(m Metadata) string {
	if h := m.first("Home-page"); h != "" {
		return h
	}
	for _, u := range m.all("Project-URL") {
		label, url, ok := strings.Cut(u, ",")
		if ok && strings.EqualFold(strings.TrimSpace(label), "homepage") {
			return strings.TrimSpace(url)
		}
	}
	return ""
}

func supplier(m Metadata) string {
	for _, k := range []string{"Author", "Author-email", "Maintainer", "Maintainer-email"} {
		if v := m.first(k); v != "" && !strings.EqualFold(v, "UNKNOWN") {
			return v
		}
	}
	return ""
}

var reqName = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)`)

// resolveRequires links Requires-Dist (without "extra" markers) to packages
// found, preferring one in the same site-packages directory.
func resolveRequires(pkgs []catalog.Package, reqs [][]string) {
	type key struct{ dir, name string }
	byDir := map[key]string{}
	byName := map[string]string{}
	for _, p := range pkgs {
		dir := siteDir(p.Locations[0])
		byDir[key{dir, p.Name}] = p.ID
		if _, ok := byName[p.Name]; !ok {
			byName[p.Name] = p.ID
		}
	}
	for i := range pkgs {
		dir := siteDir(pkgs[i].Locations[0])
		seen := map[string]bool{}
		for _, r := range reqs[i] {
			spec, marker, _ := strings.Cut(r, ";")
			if strings.Contains(marker, "extra") {
				continue
			}
			m := reqName.FindStringSubmatch(spec)
			if m == nil {
				continue
			}
			n := NormalizeName(m[1])
			id, ok := byDir[key{dir, n}]
			if !ok {
				id, ok = byName[n]
			}
			if ok && id != pkgs[i].ID && !seen[id] {
				seen[id] = true
				pkgs[i].DependsOn = append(pkgs[i].DependsOn, id)
			}
		}
		sort.Strings(pkgs[i].DependsOn)
	}
}

// siteDir returns the directory holding a distribution's metadata.
func siteDir(meta string) string {
	if strings.HasSuffix(meta, ".egg-info") {
		return path.Dir(meta)
	}
	return path.Dir(path.Dir(meta))
}
