// Package catalog declares what every cataloger produces: packages found in a
// root file system, with their identity (name, version, purl), licenses as
// SPDX expressions, owned files, where they were found and what they depend
// on. The catalogers themselves live in the sub-packages (dpkg, python, npm,
// gobin); package sbom runs them and writes the documents.
package catalog

import (
	"context"
	"io/fs"

	"github.com/reehub/reehub/analysis/rootfs"
)

// Type is a package ecosystem.
type Type string

// The package types the catalogers report.
const (
	// TypeDeb is a Debian binary package from the dpkg database.
	TypeDeb Type = "deb"
	// TypePython is an installed Python distribution (dist-info, egg-info).
	TypePython Type = "python"
	// TypeNPM is an npm package (node_modules, package-lock.json).
	TypeNPM Type = "npm"
	// TypeGoModule is a Go module compiled into a binary (the main module or a
	// dependency).
	TypeGoModule Type = "go-module"
)

// Package is one package found in a root file system.
type Package struct {
	// ID identifies the package within one SBOM; catalogers make it from the
	// type, name, version and location, so it is stable across runs.
	ID string `json:"id"`
	// Type is the ecosystem.
	Type Type `json:"type"`
	// Name is the package's name as its ecosystem spells it (Python names are
	// normalised per PEP 503, as syft does).
	Name string `json:"name"`
	// Version is the installed version.
	Version string `json:"version"`
	// PURL is the package URL.
	PURL string `json:"purl"`
	// Licenses are SPDX license expressions, one per independent declaration;
	// License joins them.
	Licenses []string `json:"licenses,omitempty"`
	// Supplier names the maintainer or author where the metadata says.
	Supplier string `json:"supplier,omitempty"`
	// Description is the one-line summary.
	Description string `json:"description,omitempty"`
	// Homepage is the project URL.
	Homepage string `json:"homepage,omitempty"`
	// Arch is the architecture of a Debian package.
	Arch string `json:"arch,omitempty"`
	// SourceName and SourceVersion name the Debian source package when they
	// differ from the binary's.
	SourceName    string `json:"source_name,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
	// Files are the paths (absolute, "/usr/bin/bash") the package owns.
	Files []string `json:"files,omitempty"`
	// Locations are the files the package was found in ("/var/lib/dpkg/status").
	Locations []string `json:"locations"`
	// FoundBy names the cataloger.
	FoundBy string `json:"found_by"`
	// DependsOn holds the IDs of packages this one depends on, as the ecosystem
	// records it (dpkg Depends/Pre-Depends, Requires-Dist, npm dependencies,
	// Go main module to its dependencies). Only packages found are listed.
	DependsOn []string `json:"depends_on,omitempty"`
}

// License returns the package's license as one SPDX expression: the
// declarations joined with AND, each parenthesised when it has operators.
func (p Package) License() string { return JoinAnd(p.Licenses) }

// Env is what a cataloger may know about the root file system as a whole.
type Env struct {
	// Distro is the distribution from /etc/os-release, if any.
	Distro Distro
}

// Distro is what /etc/os-release says.
type Distro struct {
	// ID is the distribution's id ("debian").
	ID string `json:"id,omitempty"`
	// VersionID is its version ("12").
	VersionID string `json:"version_id,omitempty"`
	// IDLike lists related distributions ("debian" for Ubuntu).
	IDLike []string `json:"id_like,omitempty"`
	// PrettyName is the human-readable name.
	PrettyName string `json:"pretty_name,omitempty"`
}

// Cataloger finds one ecosystem's packages. Scan walks the tree once and
// hands each cataloger the paths its Match accepts; the cataloger then reads
// what it needs through src.
type Cataloger interface {
	// Name names the cataloger ("dpkg").
	Name() string
	// Match reports whether the walked entry at name (an io/fs path) is one
	// the cataloger wants to see; d describes the entry without following
	// links. It must be cheap and safe for concurrent use.
	Match(name string, d fs.DirEntry) bool
	// Wants reports whether an archive must keep the content of the regular
	// file name: a superset of what Catalog will read.
	Wants(name string, mode fs.FileMode, size int64) bool
	// Catalog reads the matched paths (sorted) and returns packages.
	Catalog(ctx context.Context, src rootfs.Source, env *Env, matched []string) ([]Package, error)
}
