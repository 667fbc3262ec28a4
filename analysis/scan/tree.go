package scan

import (
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/reehub/reehub/analysis/dep5"
	"github.com/reehub/reehub/analysis/license"
)

// tree is what a walk knows across files: the directory listings and
// licenses of the files that pointers refer to ("see COPYING"), and the
// REUSE data of the root (.reuse/dep5). It is safe for concurrent use.
type tree struct {
	s     *Scanner
	root  string
	reuse *dep5.Copyright

	mu   sync.Mutex
	dirs map[string][]string      // slash path relative to root → entry names
	lics map[string]refLicense    // slash path of a referred file → its license
	wait map[string]chan struct{} // referred files being read by another worker
}

// refLicense is the one license a referred file states, or none.
type refLicense struct {
	m  license.Match
	ok bool
	// all is the first match of each id the file states, when it states
	// several.
	all []license.Match
}

// newTree prepares a walk of root: it reads root/.reuse/dep5 when there is
// one (a file that does not parse is ignored: REUSE data is optional).
func newTree(s *Scanner, root string) *tree {
	t := &tree{s: s, root: root, dirs: map[string][]string{}, lics: map[string]refLicense{}, wait: map[string]chan struct{}{}}
	if f, err := os.Open(filepath.Join(root, ".reuse", "dep5")); err == nil {
		if c, err := dep5.Parse(io.LimitReader(f, 1<<20)); err == nil {
			t.reuse = c
		}
		f.Close()
	}
	return t
}

// onlyFallback reports whether a file states no license of its own beyond
// an unversioned GNU notice (which a pointed-to file may make precise).
func onlyFallback(ms []license.Match) bool {
	for _, m := range ms {
		if m.Rule != "gnu-unversioned" {
			return false
		}
	}
	return true
}

// resolve adds to r what the tree says of its license, in this order:
//   - a file under LICENSES/ named by an SPDX id (REUSE): that license;
//   - when r states no license of its own (or only an unversioned GNU
//     notice): the license of the file its pointer names ("see COPYING"),
//     looked for in r's directory and the ones above it up to the root;
//   - when it still has none: a REUSE sidecar "<file>.license", then the
//     root's .reuse/dep5 paragraph for it.
func (t *tree) resolve(r *Result, refs []license.FileRef) {
	if r.Skipped != "" {
		return
	}
	if dir, base := path.Split(r.Path); dir == "LICENSES/" {
		id := strings.TrimSuffix(base, path.Ext(base))
		if license.Known(id) || strings.HasPrefix(id, "LicenseRef-") {
			id, _ = license.CanonicalID(id, false)
			if !slices.ContainsFunc(r.Licenses, func(m license.Match) bool { return m.ID == id }) {
				r.Licenses = append(r.Licenses, license.Match{ID: id, Kind: license.KindFullText, Rule: "reuse-licenses-dir",
					StartLine: 1, EndLine: 1, Confidence: 0.9})
			}
		}
	}
	if onlyFallback(r.Licenses) {
		for _, ref := range refs {
			m, ok := t.pointed(r.Path, ref.Name)
			if !ok {
				continue
			}
			r.Licenses = slices.DeleteFunc(r.Licenses, func(o license.Match) bool { return family(o.ID) == family(m.m.ID) })
			r.Licenses = append(r.Licenses, license.Match{ID: m.m.ID, Kind: license.KindReference, Rule: "pointer:" + ref.Rule,
				Start: ref.Start, End: ref.End, StartLine: ref.StartLine, EndLine: ref.EndLine, Confidence: 0.7,
				RefFile: m.path, RefStartLine: m.m.StartLine, RefEndLine: m.m.EndLine})
			break
		}
	} else if ms, ok := t.refinedFamily(r, refs); ok {
		r.Licenses = ms
	} else {
		r.Licenses = append(r.Licenses, t.dualPointers(r, refs)...)
	}
	if len(r.Licenses) > 0 {
		return
	}
	if b, err := os.ReadFile(filepath.Join(t.root, filepath.FromSlash(r.Path)+".license")); err == nil {
		for _, m := range t.s.det.Detect(b[:min(len(b), 64<<10)]) {
			if m.Kind == license.KindSPDXTag {
				m.RefFile, m.RefStartLine, m.RefEndLine = r.Path+".license", m.StartLine, m.EndLine
				m.Start, m.End, m.StartLine, m.EndLine, m.Rule = 0, 0, 0, 0, "reuse-sidecar"
				r.Licenses = append(r.Licenses, m)
			}
		}
		if len(r.Licenses) > 0 {
			return
		}
	}
	if t.reuse == nil {
		return
	}
	p := t.reuse.Match(r.Path)
	if p == nil {
		return
	}
	e, err := dep5.SPDX(p.License)
	if err != nil {
		return
	}
	for _, id := range e.Licenses() {
		r.Licenses = append(r.Licenses, license.Match{ID: id, Kind: license.KindReference, Expression: e.String(), Rule: "reuse-dep5",
			Confidence: 0.9, RefFile: ".reuse/dep5", RefStartLine: p.Line, RefEndLine: p.Line})
	}
}

// dualSlack is how far after a dual-license statement a pointer still
// belongs to it: "and the GPLv2 (found in the COPYING file ...)".
const dualSlack = 120

// dualPointers handles a file that states two licenses in one sentence and
// names a file for one of them (zstd's "licensed under both the BSD-style
// license (found in the LICENSE file in the root directory of this source
// tree) and the GPLv2 (found in the COPYING file ...)"): the license of a
// pointed file that states one license, of a family the file does not
// state yet, is added with the rule "pointer:<pointer rule>". Only
// pointers inside the statement count, so a "see COPYING" elsewhere in a
// file with its own notice adds nothing.
func (t *tree) dualPointers(r *Result, refs []license.FileRef) []license.Match {
	var out []license.Match
	for _, d := range r.Licenses {
		if d.Rule != "gnu-dual-under-both" {
			continue
		}
		for _, ref := range refs {
			if ref.Start < d.Start || ref.Start > d.End+dualSlack {
				continue
			}
			m, ok := t.pointed(r.Path, ref.Name)
			if !ok || slices.ContainsFunc(slices.Concat(r.Licenses, out), func(o license.Match) bool { return family(o.ID) == family(m.m.ID) }) {
				continue
			}
			out = append(out, license.Match{ID: m.m.ID, Kind: license.KindReference, Rule: "pointer:" + ref.Rule,
				Start: ref.Start, End: ref.End, StartLine: ref.StartLine, EndLine: ref.EndLine, Confidence: 0.7,
				RefFile: m.path, RefStartLine: m.m.StartLine, RefEndLine: m.m.EndLine})
		}
	}
	return out
}

// family is the first part of a license id: "GPL" of "GPL-2.0-only", "BSD"
// of "BSD-3-Clause".
func family(id string) string { return strings.SplitN(id, "-", 2)[0] }

// refinedFamily handles a file whose only license is a license family
// named in prose ("under the terms of the Artistic License, as specified
// in the README file") and whose pointer names a file that states several
// licenses, one of them of that family (metaconfig's README: "either a)
// the Artistic License which comes with Perl, or b) the Artistic License
// which comes with dist, or c) the GNU General Public License"): the
// pointed file specifies the terms, so the file takes its licenses, each
// with the rule "pointer-terms:<pointer rule>".
func (t *tree) refinedFamily(r *Result, refs []license.FileRef) ([]license.Match, bool) {
	ids := license.IDs(r.Licenses)
	if len(ids) != 1 || slices.ContainsFunc(r.Licenses, func(m license.Match) bool { return m.Rule != "named-reference" }) {
		return nil, false
	}
	for _, ref := range refs {
		p, l, ok := t.pointedFile(r.Path, ref.Name)
		if !ok || len(l.all) == 0 ||
			!slices.ContainsFunc(l.all, func(m license.Match) bool { return dep5.Equivalent(m.ID) == dep5.Equivalent(ids[0]) }) {
			continue
		}
		var out []license.Match
		for _, m := range l.all {
			out = append(out, license.Match{ID: m.ID, Kind: license.KindReference, Rule: "pointer-terms:" + ref.Rule,
				Start: ref.Start, End: ref.End, StartLine: ref.StartLine, EndLine: ref.EndLine, Confidence: 0.6,
				RefFile: p, RefStartLine: m.StartLine, RefEndLine: m.EndLine})
		}
		return out, true
	}
	return nil, false
}

// pointedFile finds the file a pointer in file names, as pointed does,
// and returns its path and what it states.
func (t *tree) pointedFile(file, name string) (string, refLicense, bool) {
	dir := path.Dir(file)
	for {
		if p, ok := t.find(dir, name); ok && p != file {
			return p, t.license(p), true
		}
		if dir == "." || dir == "/" || dir == "" {
			return "", refLicense{}, false
		}
		dir = path.Dir(dir)
	}
}

// pointedLicense is the license of a referred file, with its path.
type pointedLicense struct {
	m    license.Match
	path string
}

// pointed finds the file a pointer in file names and returns its one
// license.
func (t *tree) pointed(file, name string) (pointedLicense, bool) {
	dir := path.Dir(file)
	for {
		if p, ok := t.find(dir, name); ok && p != file {
			if l := t.license(p); l.ok {
				return pointedLicense{m: l.m, path: p}, true
			}
			return pointedLicense{}, false
		}
		if dir == "." || dir == "/" || dir == "" {
			return pointedLicense{}, false
		}
		dir = path.Dir(dir)
	}
}

// bareLicenseFiles are names a pointer may give without the extension the
// file has ("see LICENSE" for LICENSE.txt).
var bareLicenseFiles = []string{"copying", "copyright", "license", "licence", "readme", "unlicense"}

// find returns the slash path of the entry of dir (relative to the root)
// that name denotes: the same name in any case, or, for a bare license file
// name, that name with an extension.
func (t *tree) find(dir, name string) (string, bool) {
	entries := t.list(dir)
	join := func(e string) string {
		if dir == "." {
			return e
		}
		return dir + "/" + e
	}
	for _, e := range entries {
		if strings.EqualFold(e, name) {
			return join(e), true
		}
	}
	if slices.Contains(bareLicenseFiles, name) {
		for _, e := range entries {
			l := strings.ToLower(e)
			if strings.HasPrefix(l, name+".") && slices.Contains([]string{".txt", ".md", ".rst"}, path.Ext(l)) {
				return join(e), true
			}
		}
	}
	return "", false
}

// list returns the names of the regular files of dir, cached.
func (t *tree) list(dir string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if names, ok := t.dirs[dir]; ok {
		return names
	}
	var names []string
	if entries, err := os.ReadDir(filepath.Join(t.root, filepath.FromSlash(dir))); err == nil {
		for _, e := range entries {
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
	}
	t.dirs[dir] = names
	return names
}

// license returns the one license a referred file states (its matches of
// every kind have one id), reading and scanning it once per walk.
func (t *tree) license(p string) refLicense {
	for {
		t.mu.Lock()
		if l, ok := t.lics[p]; ok {
			t.mu.Unlock()
			return l
		}
		if ch, ok := t.wait[p]; ok {
			t.mu.Unlock()
			<-ch
			continue
		}
		ch := make(chan struct{})
		t.wait[p] = ch
		t.mu.Unlock()

		l := t.read(p)
		t.mu.Lock()
		t.lics[p] = l
		delete(t.wait, p)
		t.mu.Unlock()
		close(ch)
		return l
	}
}

func (t *tree) read(p string) refLicense {
	f, err := os.Open(filepath.Join(t.root, filepath.FromSlash(p)))
	if err != nil {
		return refLicense{}
	}
	defer f.Close()
	buf := make([]byte, t.s.opts.MaxBytes)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return refLicense{}
	}
	var r Result
	t.s.Text(buf[:n], &r)
	if r.Skipped != "" {
		return refLicense{}
	}
	if ids := license.IDs(r.Licenses); len(ids) > 1 {
		var all []license.Match
		for _, id := range ids {
			i := slices.IndexFunc(r.Licenses, func(m license.Match) bool { return m.ID == id })
			all = append(all, r.Licenses[i])
		}
		return refLicense{all: all}
	} else if len(ids) == 0 {
		return refLicense{}
	}
	return refLicense{m: r.Licenses[0], ok: true}
}
