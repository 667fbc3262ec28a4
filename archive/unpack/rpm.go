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
			return nil
		}
		if err != nil {
			return fault.Invalidf("%s has a corrupt or truncated rpm payload (%v)", it.Path, err)
		}
		// rpmbuild writes "./usr/bin/x"; rpmpack (nfpm, goreleaser)
		// writes "/usr/bin/x": both are relative to the install root.
		name := strings.TrimPrefix(h.Name, "/")
		mode := cpioMode(h.Mode)
		link := ""
		if mode.Type() == fs.ModeSymlink {
			link = h.Linkname
		}
		size := h.Size
		if err := s.entry(ctx, name, mode, link, false, func() (io.ReadCloser, error) {
			return io.NopCloser(&exactReader{r: cr, left: size, name: name}), nil
		}); err != nil {
			return err
		}
	}
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
