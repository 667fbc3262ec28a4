// Package sbom builds a software bill of materials of a root file system: it
// walks the tree once, runs the catalogers (dpkg, python, npm, Go binaries)
// concurrently on the paths each one matched, and writes the result as
// CycloneDX 1.6 JSON or SPDX 2.3 JSON and tag-value.
package sbom

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom/catalog"
	"github.com/reehub/reehub/analysis/sbom/catalog/dpkg"
	"github.com/reehub/reehub/analysis/sbom/catalog/gobin"
	"github.com/reehub/reehub/analysis/sbom/catalog/npm"
	"github.com/reehub/reehub/analysis/sbom/catalog/python"
)

// ToolName and ToolVersion name the generator in the documents.
const (
	ToolName    = "reehub"
	ToolVersion = "0.1.0"
)

// SBOM is the packages found in one root file system.
type SBOM struct {
	// Name names the subject (an image tag, a directory).
	Name string `json:"name"`
	// Source describes what was scanned.
	Source rootfs.Description `json:"source"`
	// Distro is what /etc/os-release says.
	Distro catalog.Distro `json:"distro"`
	// Created is when the scan ran (UTC, second precision).
	Created time.Time `json:"created"`
	// Packages are sorted by type, name, version and ID; IDs are unique.
	Packages []catalog.Package `json:"packages"`
	// Skipped counts entries the walk could not read (permission denied,
	// vanished files); such entries are left out, never fatal.
	Skipped int `json:"skipped,omitempty"`
}

// Options tunes Scan. The zero value runs every cataloger.
type Options struct {
	// Catalogers run on the tree. Defaults to DefaultCatalogers().
	Catalogers []catalog.Cataloger
	// Name names the subject in the documents. Defaults to the source's repo
	// tag or path.
	Name string
	// Now gives the creation time. Defaults to time.Now.
	Now func() time.Time
	// Logger receives debug messages about skipped entries. Defaults to
	// discarding them.
	Logger *slog.Logger
}

// DefaultCatalogers returns one of each cataloger.
func DefaultCatalogers() []catalog.Cataloger {
	return []catalog.Cataloger{dpkg.New(), python.New(), npm.New(), gobin.New()}
}

// Keep returns the filter an archive Source needs so that the catalogers
// (nil: the default ones) can read everything they want; pass it as
// rootfs.ArchiveOptions.Keep.
func Keep(cats []catalog.Cataloger) func(name string, mode fs.FileMode, size int64) bool {
	if cats == nil {
		cats = DefaultCatalogers()
	}
	return func(name string, mode fs.FileMode, size int64) bool {
		if name == "etc/os-release" || name == "usr/lib/os-release" || name == "etc/debian_version" {
			return true
		}
		for _, c := range cats {
			if c.Wants(name, mode, size) {
				return true
			}
		}
		return false
	}
}

// Scan catalogs the packages in src.
func Scan(ctx context.Context, src rootfs.Source, opts *Options) (*SBOM, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Catalogers == nil {
		o.Catalogers = DefaultCatalogers()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	desc := src.Describe()
	s := &SBOM{Name: o.Name, Source: desc, Created: o.Now().UTC().Truncate(time.Second)}
	if s.Name == "" {
		s.Name = desc.Path
		if len(desc.RepoTags) > 0 {
			s.Name = desc.RepoTags[0]
		}
	}
	s.Distro = ReadDistro(src)
	env := &catalog.Env{Distro: s.Distro}

	matched := make([][]string, len(o.Catalogers))
	err := rootfs.Walk(ctx, src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			s.Skipped++
			log.Debug("sbom: skip unreadable entry", "path", p, "err", err)
			if d != nil && d.IsDir() && p != "." {
				return fs.SkipDir
			}
			if p == "." {
				return err
			}
			return nil
		}
		if d.IsDir() {
			if p == "proc" || p == "sys" || p == "dev" {
				return fs.SkipDir
			}
			return nil
		}
		for i, c := range o.Catalogers {
			if c.Match(p, d) {
				matched[i] = append(matched[i], p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", desc.Path, err)
	}

	results := make([][]catalog.Package, len(o.Catalogers))
	errs := make([]error, len(o.Catalogers))
	var wg sync.WaitGroup
	for i, c := range o.Catalogers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.Catalog(ctx, src, env, matched[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("catalog %s with %s: %w", desc.Path, o.Catalogers[i].Name(), err)
		}
	}
	for _, r := range results {
		s.Packages = append(s.Packages, r...)
	}
	s.normalize()
	return s, nil
}

// normalize sorts packages and makes IDs unique (a later duplicate gets a
// "#N" suffix; dependencies keep pointing at the first).
func (s *SBOM) normalize() {
	sort.SliceStable(s.Packages, func(i, j int) bool {
		a, b := &s.Packages[i], &s.Packages[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.ID < b.ID
	})
	seen := map[string]int{}
	for i := range s.Packages {
		id := s.Packages[i].ID
		if n, dup := seen[id]; dup {
			seen[id] = n + 1
			s.Packages[i].ID = id + "#" + strconv.Itoa(n+1)
			continue
		}
		seen[id] = 1
	}
}

// debianPoint matches the point release in etc/debian_version ("12.15").
var debianPoint = regexp.MustCompile(`^\d+(?:\.\d+)?$`)

// ReadDistro reads etc/os-release (or usr/lib/os-release) of src; a missing
// or unreadable file gives the zero Distro. On Debian the point release of
// etc/debian_version ("12.15") replaces VERSION_ID ("12"), as syft does, so
// that purls match.
func ReadDistro(src rootfs.Source) catalog.Distro {
	d := readOSRelease(src)
	if strings.EqualFold(d.ID, "debian") {
		if b, err := fs.ReadFile(src, "etc/debian_version"); err == nil && len(b) < 4096 {
			if v := strings.TrimSpace(string(b)); debianPoint.MatchString(v) {
				d.VersionID = v
			}
		}
	}
	return d
}

func readOSRelease(src rootfs.Source) catalog.Distro {
	var d catalog.Distro
	for _, name := range []string{"etc/os-release", "usr/lib/os-release"} {
		f, err := src.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if !ok {
				continue
			}
			v = strings.Trim(strings.TrimSpace(v), `"'`)
			switch strings.TrimSpace(k) {
			case "ID":
				d.ID = v
			case "VERSION_ID":
				d.VersionID = v
			case "ID_LIKE":
				d.IDLike = strings.Fields(v)
			case "PRETTY_NAME":
				d.PrettyName = v
			}
		}
		_ = f.Close()
		return d
	}
	return d
}
