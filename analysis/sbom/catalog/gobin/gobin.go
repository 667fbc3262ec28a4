// Package gobin catalogs the Go modules compiled into executables, read from
// their build information (debug/buildinfo): the main module and every
// dependency, with the main module depending on the others.
package gobin

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"io"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/package-url/packageurl-go"

	"github.com/reehub/reehub/analysis/rootfs"
	"github.com/reehub/reehub/analysis/sbom/catalog"
)

// Size bounds of files worth opening: Go binaries are never tiny, and huge
// files are not worth the read.
const (
	minSize = 64 << 10
	maxSize = 1 << 30
)

// Cataloger finds Go binaries. The zero value is ready to use.
type Cataloger struct{}

// New returns a Go binary Cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name names the cataloger.
func (*Cataloger) Name() string { return "go-binary" }

// Match accepts executable regular files of plausible size outside
// documentation and Python/Node trees.
func (*Cataloger) Match(name string, d fs.DirEntry) bool {
	if !d.Type().IsRegular() || strings.HasPrefix(name, "usr/share/") || strings.HasPrefix(name, "proc/") {
		return false
	}
	fi, err := d.Info()
	if err != nil {
		return false
	}
	return fi.Mode().Perm()&0o111 != 0 && fi.Size() >= minSize && fi.Size() <= maxSize
}

// Wants keeps executables of plausible size.
func (*Cataloger) Wants(name string, mode fs.FileMode, size int64) bool {
	return mode.Perm()&0o111 != 0 && size >= minSize && size <= maxSize && !strings.HasPrefix(name, "usr/share/")
}

var magics = [][]byte{
	{0x7f, 'E', 'L', 'F'},
	{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe},
	{'M', 'Z'},
}

// Catalog reads build information from the matched files in parallel.
func (c *Cataloger) Catalog(ctx context.Context, src rootfs.Source, _ *catalog.Env, matched []string) ([]catalog.Package, error) {
	results := make([][]catalog.Package, len(matched))
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = c.read(src, matched[i])
			}
		}()
	}
	for i := range matched {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []catalog.Package
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// read returns the modules of one binary, or nothing if it is not a Go binary.
func (c *Cataloger) read(src rootfs.Source, name string) []catalog.Package {
	f, err := src.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	var head [4]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return nil
	}
	ok := false
	for _, m := range magics {
		if bytes.HasPrefix(head[:], m) {
			ok = true
			break
		}
	}
	ra, isRA := f.(io.ReaderAt)
	if !ok || !isRA {
		return nil
	}
	bi, err := buildinfo.Read(ra)
	if err != nil {
		return nil
	}
	loc := "/" + name
	var out []catalog.Package
	mainVersion := bi.Main.Version
	if bi.Main.Path != "" {
		out = append(out, c.module(bi.Main.Path, mainVersion, loc))
	}
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil && d.Replace.Version != "" && d.Replace.Version != "(devel)" {
			m = d.Replace // a module replacement; a directory one keeps the original identity
		}
		out = append(out, c.module(m.Path, m.Version, loc))
	}
	if bi.Main.Path != "" {
		for _, d := range out[1:] {
			out[0].DependsOn = append(out[0].DependsOn, d.ID)
		}
		sort.Strings(out[0].DependsOn)
	}
	return out
}

func (c *Cataloger) module(modPath, version, loc string) catalog.Package {
	ns, name := "", modPath
	if i := strings.LastIndex(modPath, "/"); i > 0 {
		ns, name = modPath[:i], modPath[i+1:]
	}
	p := catalog.Package{
		ID:        "go-module:" + modPath + "@" + version + ":" + loc,
		Type:      catalog.TypeGoModule,
		Name:      modPath,
		Version:   version,
		Locations: []string{loc},
		FoundBy:   c.Name(),
	}
	if version != "" && version != "(devel)" {
		p.PURL = packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, nil, "").ToString()
	} else {
		p.PURL = packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, "", nil, "").ToString()
	}
	return p
}
