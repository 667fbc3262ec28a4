package unpack

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/cavaliergopher/cpio"
	"github.com/cavaliergopher/rpm"
	"github.com/mholt/archives"

	"github.com/reehub/reehub/fault"
)

// rpmMagic starts the lead of every rpm package.
var rpmMagic = []byte{0xed, 0xab, 0xee, 0xdb}

// Package is the metadata of a package file in the upload (an .rpm's
// header), for the package agent: FOSSology's pkgagent reads the same
// fields. The payload's files are the container's entries.
type Package struct {
	// Type is the package format: "rpm".
	Type string `json:"type"`
	// Name, Version, Release, Epoch and Arch identify the package.
	Name    string `json:"name"`
	Version string `json:"version"`
	Release string `json:"release,omitempty"`
	Epoch   int    `json:"epoch,omitempty"`
	Arch    string `json:"arch,omitempty"`
	// License is the declared license, as the packager wrote it.
	License string `json:"license,omitempty"`
	// Vendor, Summary, URL and SourceRPM are as in the header.
	Vendor    string `json:"vendor,omitempty"`
	Summary   string `json:"summary,omitempty"`
	URL       string `json:"url,omitempty"`
	SourceRPM string `json:"source_rpm,omitempty"`
}

// extractRPM unpacks an rpm package: its header (lead, signature and
// header sections, read with github.com/cavaliergopher/rpm, which bounds
// their sizes) becomes the container's Package, and its payload, a cpio
// archive compressed with gzip, xz, zstd or bzip2 (or not at all), is read
// with github.com/cavaliergopher/cpio into entries that pass the same
// checks and limits as every archive's.
func extractRPM(ctx context.Context, u *unpacker, f *os.File, it Item, depth int) error {
	pkg, err := rpm.Read(f)
	if err != nil {
		return fault.Invalidf("%s is a corrupt rpm package (%v)", it.Path, err)
	}
	if pf := pkg.PayloadFormat(); pf != "" && pf != "cpio" {
		return fault.Invalidf("%s has an rpm payload in %q format; only cpio payloads are read", it.Path, pf)
	}
	u.setPackage(it.Path, &Package{Type: "rpm", Name: pkg.Name(), Version: pkg.Version(), Release: pkg.Release(),
		Epoch: pkg.Epoch(), Arch: pkg.Architecture(), License: pkg.License(), Vendor: pkg.Vendor(),
		Summary: pkg.Summary(), URL: pkg.URL(), SourceRPM: pkg.SourceRPM()})
	var dec archives.Decompressor
	switch c := pkg.PayloadCompression(); c {
	case "gzip", "":
		dec = archives.Gz{}
	case "xz":
		dec = archives.Xz{}
	case "zstd":
		dec = archives.Zstd{}
	case "bzip2":
		dec = archives.Bz2{}
	default:
		return fault.Invalidf("%s has an rpm payload compressed with %q, which is not read", it.Path, c)
	}
	payload, err := dec.OpenReader(f)
	if err != nil {
		return fault.Invalidf("%s has a corrupt rpm payload (%v)", it.Path, err)
	}
	defer payload.Close()
	s := u.newSink(it, depth, it.Hash.Size, "rpm payload entry")
	links := hardLinks{sets: map[int64]*linkSet{}}
	cr := cpio.NewReader(payload)
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if n > u.lim.MaxEntries {
			return fault.TooLargef("%s has more than %d entries", it.Path, u.lim.MaxEntries)
		}
		h, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return links.finish(ctx, s)
		}
		if err != nil {
			return fault.Invalidf("%s has a corrupt or truncated rpm payload (%v)", it.Path, err)
		}
		// rpmbuild writes "./usr/bin/x"; rpmpack (nfpm, goreleaser)
		// writes "/usr/bin/x": both are relative to the install root.
		name := strings.TrimPrefix(h.Name, "/")
		for strings.HasPrefix(name, "./") {
			name = name[2:]
		}
		mode := cpioMode(h.Mode)
		size := h.Size
		open := func() (io.ReadCloser, error) {
			return io.NopCloser(&exactReader{r: cr, left: size, name: name}), nil
		}
		if mode.Type() == 0 && h.Links > 1 {
			if err := links.add(ctx, s, it.Path, h.Inode, name, mode, size, open); err != nil {
				return err
			}
			continue
		}
		link := ""
		if mode.Type() == fs.ModeSymlink {
			link = h.Linkname
		}
		if err := s.entry(ctx, name, mode, link, false, open); err != nil {
			return err
		}
	}
}

// hardLinks collects the hard links of a cpio payload. A regular file with
// more than one link is one name of an inode; as rpmbuild (and GNU cpio's
// newc) writes them, the inode's content travels with one of its names, the
// last, and the others have size 0. The name that carries the content
// becomes the file, every other name a KindHardlink to it (recorded, never
// created, as a tar's hard links), as FOSSology's ununpack keeps them links;
// an inode whose every name is empty is an empty file under its first name.
type hardLinks struct {
	sets  map[int64]*linkSet
	order []int64
}

type linkSet struct {
	file    string   // the name that holds the content, once seen
	pending []string // names seen before it
	mode    fs.FileMode
}

func (l *hardLinks) add(ctx context.Context, s *entrySink, archivePath string, inode int64, name string, mode fs.FileMode, size int64, open func() (io.ReadCloser, error)) error {
	set := l.sets[inode]
	if set == nil {
		set = &linkSet{mode: mode}
		l.sets[inode] = set
		l.order = append(l.order, inode)
	}
	switch {
	case set.file == "" && size == 0:
		set.pending = append(set.pending, name)
		return nil
	case set.file == "":
		if err := s.entry(ctx, name, mode, "", false, open); err != nil {
			return err
		}
		set.file = name
		return set.linkPending(ctx, s)
	case size != 0:
		return fault.Invalidf("%s has a corrupt rpm payload: %q carries the content of inode %d again (it is a hard link to %q)", archivePath, name, inode, set.file)
	}
	return s.entry(ctx, name, mode, set.file, true, nil)
}

// linkPending records the names seen before the content as links to it.
func (set *linkSet) linkPending(ctx context.Context, s *entrySink) error {
	for _, p := range set.pending {
		if err := s.entry(ctx, p, set.mode, set.file, true, nil); err != nil {
			return err
		}
	}
	set.pending = nil
	return nil
}

// finish writes the inodes whose every name was empty: the first name is an
// empty file, the others links to it.
func (l *hardLinks) finish(ctx context.Context, s *entrySink) error {
	for _, ino := range l.order {
		set := l.sets[ino]
		if set.file != "" || len(set.pending) == 0 {
			continue
		}
		first := set.pending[0]
		set.pending = set.pending[1:]
		if err := s.entry(ctx, first, set.mode, "", false, func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("")), nil
		}); err != nil {
			return err
		}
		set.file = first
		if err := set.linkPending(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// cpioMode turns a cpio mode into an fs.FileMode with the type bits the
// sink checks (a device, fifo or socket is refused there).
func cpioMode(m cpio.FileMode) fs.FileMode {
	perm := fs.FileMode(m & cpio.ModePerm)
	switch m &^ cpio.ModePerm {
	case cpio.TypeReg, 0:
		return perm
	case cpio.TypeDir:
		return perm | fs.ModeDir
	case cpio.TypeSymlink:
		return perm | fs.ModeSymlink
	case cpio.TypeChar:
		return perm | fs.ModeDevice | fs.ModeCharDevice
	case cpio.TypeBlock:
		return perm | fs.ModeDevice
	case cpio.TypeFifo:
		return perm | fs.ModeNamedPipe
	case cpio.TypeSocket:
		return perm | fs.ModeSocket
	}
	return perm | fs.ModeIrregular
}

// setPackage records the package metadata of the container at p.
func (u *unpacker) setPackage(p string, pkg *Package) {
	for i := len(u.items) - 1; i >= 0; i-- {
		if u.items[i].Path == p && u.items[i].Kind == KindContainer {
			u.items[i].Package = pkg
			return
		}
	}
}
