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

// ID translates one short name and says how, with the text of its
// stand-alone License paragraph (or the first Files paragraph that carries
// one for it).
func (r *Resolver) ID(name string) (string, Source) {
	return r.id(strings.TrimSpace(name), "")
}

// id translates name with text as its License paragraph body ("" for the
// body found by name). The body decides when the table does not know the
// name, and when the table's id and the body's are of the same family
// (a License: LGPL-2+ whose body says "version 2.1 of the License, or (at
// your option) any later version" is LGPL-2.1-or-later).
func (r *Resolver) id(name, text string) (string, Source) {
	key := name + "\x00" + text
	if v, ok := r.cache[key]; ok {
		return v.id, v.src
	}
	v := resolved{id: SPDXID(name), src: SourceTable}
	unknown := strings.HasPrefix(v.id, "LicenseRef-") && v.id != license.PublicDomain
	if unknown {
		v.src = SourceUnknown
	}
	if strings.TrimSpace(text) == "" {
		text = r.bodyOf(name)
	}
	// A name with "+" (or-later) is not narrowed to -only by its body. A
	// full text of a variant of the table's license names the variant: a
	// "BSD-4-clause" paragraph that quotes the University of California's
	// text is BSD-4-Clause-UC.
	if id, notice, ok := r.byText(text); ok && id != v.id && (unknown || notice && sameFamily(id, v.id) &&
		!(strings.HasSuffix(v.id, "-or-later") && strings.HasSuffix(id, "-only")) || !notice && variantOf(id, v.id)) {
		v = resolved{id: id, src: SourceText}
	}
	r.cache[key] = v
	return v.id, v.src
}

// variantOf reports whether id is a variant of the license base, by the
// SPDX convention of a suffix after the base id: BSD-4-Clause-UC of
// BSD-4-Clause, BSD-3-Clause-Clear of BSD-3-Clause, MIT-CMU of MIT. GNU
// ids are not: their suffixes are -only and -or-later, which a full text
// does not decide.
func variantOf(id, base string) bool {
	return strings.HasPrefix(id, base+"-") && !strings.Contains(base, "GPL") && !strings.Contains(base, " ")
}

// sameFamily reports whether two ids differ only in version or or-later:
// GPL-2.0-or-later and GPL-3.0-only, LGPL-2.0-or-later and LGPL-2.1-or-later.
func sameFamily(a, b string) bool {
	fam := func(id string) string {
		if i := strings.IndexByte(id, '-'); i > 0 {
			return id[:i]
		}
		return id
	}
	return fam(a) == fam(b) && strings.Contains(a, "GPL")
}

// bodyOf returns the text of name's License paragraph: the stand-alone one,
// or else the first Files paragraph with that license and a text.
func (r *Resolver) bodyOf(name string) string {
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
				text = p.LicenseText
				break
			}
		}
	}
	return text
}

// byText returns the one license that a License paragraph body states, and
// whether the body is a notice (which says "or later" or not) rather than
// a full text (which does not: a GPL-3+ paragraph quoting the GPL-3.0 text
// stays GPL-3.0-or-later).
func (r *Resolver) byText(text string) (string, bool, bool) {
	if strings.TrimSpace(text) == "" {
		return "", false, false
	}
	var ids []string
	notice, dedication := true, false
	for _, m := range r.det.Detect([]byte(text)) {
		switch m.Kind {
		case license.KindFullText, license.KindHeaderNotice, license.KindSPDXTag:
			ids = append(ids, m.ID)
			notice = notice && m.Kind != license.KindFullText
		case license.KindPublicDomain:
			dedication = true
		}
	}
	// A body that is only a public-domain dedication ("License:
	// PD-debian / The Debian packaging files are in the public domain.")
	// is public domain.
	if len(ids) == 0 && dedication {
		return license.PublicDomain, false, true
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) != 1 {
		return "", false, false
	}
	return ids[0], notice, true
}

// SPDX translates a License field expression as the package-level SPDX
// does, with each short name translated by ID.
func (r *Resolver) SPDX(expr string) (*license.Expr, error) {
	return translate(expr, func(name string) string {
		id, _ := r.ID(name)
		return id
	})
}

// Paragraph translates the License field of a Files paragraph; a single
// short name is compared with the paragraph's own license text when it has
// one.
func (r *Resolver) Paragraph(p *Paragraph) (*license.Expr, error) {
	e, _, err := r.ParagraphSources(p)
	return e, err
}

// ParagraphSources is Paragraph that also says how each short name of the
// field was translated, in field order.
func (r *Resolver) ParagraphSources(p *Paragraph) (*license.Expr, []Source, error) {
	var src []Source
	e, err := translate(p.License, func(name string) string {
		text := ""
		if strings.EqualFold(strings.TrimSpace(name), strings.TrimSpace(p.License)) {
			text = p.LicenseText
		}
		id, s := r.id(strings.TrimSpace(name), text)
		src = append(src, s)
		return id
	})
	return e, src, err
}
