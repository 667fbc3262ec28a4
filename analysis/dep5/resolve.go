package dep5

import (
	"slices"
	"strings"

	"github.com/reehub/reehub/analysis/license"
)

// Source says how a Resolver translated a short name.
type Source string

// The ways a short name is translated.
const (
	// SourceTable: the short-name table (shortnames.tsv), a GNU name rule or
	// an SPDX id in any case.
	SourceTable Source = "table"
	// SourceText: the text of the name's License paragraph matches one SPDX
	// license.
	SourceText Source = "text"
	// SourceUnknown: neither; the name stays a LicenseRef-.
	SourceUnknown Source = "unknown"
)

// Resolver translates the license short names of one debian/copyright to
// SPDX ids: by the table first and, for a name the table does not know
// (custom names such as "MIT-1" or "BSD-variant"), by comparing the text of
// its License paragraph with the license texts the detector knows. It is
// not safe for concurrent use.
type Resolver struct {
	c     *Copyright
	det   *license.Detector
	cache map[string]resolved
}

type resolved struct {
	id  string
	src Source
}

// NewResolver returns a Resolver for c; det finds the licenses of License
// paragraph texts.
func NewResolver(c *Copyright, det *license.Detector) *Resolver {
	return &Resolver{c: c, det: det, cache: map[string]resolved{}}
}

// ID translates one short name and says how.
func (r *Resolver) ID(name string) (string, Source) {
	name = strings.TrimSpace(name)
	if v, ok := r.cache[name]; ok {
		return v.id, v.src
	}
	v := resolved{id: SPDXID(name), src: SourceTable}
	if strings.HasPrefix(v.id, "LicenseRef-") && v.id != license.PublicDomain {
		v.src = SourceUnknown
		if id, ok := r.byText(name); ok {
			v = resolved{id: id, src: SourceText}
		}
	}
	r.cache[name] = v
	return v.id, v.src
}

// byText returns the one license that the text of name's License paragraph
// (stand-alone, or inline in a Files paragraph) states.
func (r *Resolver) byText(name string) (string, bool) {
	text, ok := r.c.Licenses[name]
	if !ok {
		for n, t := range r.c.Licenses {
			if strings.EqualFold(n, name) {
				text, ok = t, true
				break
			}
		}
	}
	if !ok || strings.TrimSpace(text) == "" {
		for _, p := range r.c.Files {
			if strings.EqualFold(p.License, name) && strings.TrimSpace(p.LicenseText) != "" {
				text, ok = p.LicenseText, true
				break
			}
		}
	}
	if !ok || strings.TrimSpace(text) == "" {
		return "", false
	}
	var ids []string
	for _, m := range r.det.Detect([]byte(text)) {
		switch m.Kind {
		case license.KindFullText, license.KindHeaderNotice, license.KindSPDXTag:
			ids = append(ids, m.ID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) != 1 {
		return "", false
	}
	return ids[0], true
}

// SPDX translates a License field expression as the package-level SPDX
// does, with each short name translated by ID.
func (r *Resolver) SPDX(expr string) (*license.Expr, error) {
	return translate(expr, func(name string) string {
		id, _ := r.ID(name)
		return id
	})
}
