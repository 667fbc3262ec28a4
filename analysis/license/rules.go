package license

// rule is one notice or reference pattern. Patterns run on the cleaned text of
// a file: lower case, comment markers removed, whitespace collapsed to single
// spaces. A rule names its licenses either as fixed IDs or through the named
// groups of its pattern:
//   - fam: a GNU family word ("", "l", "lesser", "library", "a", "affero") → GPL, LGPL or AGPL;
//   - ver: a version ("2", "2.1") → "2.0", "2.1";
//   - later: any text → the or-later form;
//   - id: an SPDX id, used only when Known;
//   - gfdl: a GFDL version, with later and niv (no invariant sections);
//   - name: a license name as prose writes it ("libpng", "new bsd"), looked up by namedID.
type rule struct {
	// name identifies the rule in results and tests.
	name string
	// kind is the match kind the rule reports.
	kind Kind
	// keyword is a literal that the cleaned text must contain for the rule to run.
	keyword string
	// pattern is the regular expression, in RE2 syntax, over the cleaned text.
	pattern string
	// ids are the licenses the rule reports when its pattern has no fam/id group.
	ids []string
	// confidence is the confidence of each match, 0 to 1.
	confidence float64
	// fallback marks a rule whose matches are dropped when a more specific match
	// of the same license family exists in the file.
	fallback bool
	// alone marks a rule that infers a license rather than reads one: its
	// matches are dropped when the file states any other license.
	alone bool
	// all are phrases that must all appear in the cleaned text; a rule with
	// all and no pattern matches from the first phrase to the end of the last.
	all []string
	// none are phrases that must not appear in the cleaned text.
	none []string
	// supersedes are ids whose matches are dropped from the file when this
	// rule matches (X11 is MIT with one more clause).
	supersedes []string
	// span bounds the length of a match of a pattern whose longest match is
	// unbounded (it has * or +): the pattern runs on span bytes of cleaned
	// text on each side of a keyword. 0 means windowBefore and windowAfter.
	span int
}

// gnuFamily maps the fam group of a rule to a GNU license family.
var gnuFamily = map[string]string{
	"": "GPL", "l": "LGPL", "lesser ": "LGPL", "library ": "LGPL", "lesser": "LGPL", "library": "LGPL",
	"a": "AGPL", "affero ": "AGPL", "affero": "AGPL",
}

// gnuVersion maps the ver group of a rule to an SPDX version.
var gnuVersion = map[string]string{"1": "1.0", "2": "2.0", "3": "3.0", "1.0": "1.0", "2.0": "2.0", "2.1": "2.1", "3.0": "3.0"}

// rules is the table of notice and reference rules. Full license texts and
// the long GNU and Apache header notices are matched by licensecheck; these
// rules add the short forms it does not know.
var rules = []rule{
	{
		name: "gnu-short-notice", kind: KindReference, keyword: "gpl", confidence: 0.9, span: 250,
		pattern: `\b(?:licen[cs]ed|released|distributed|available|covered|copied|used|licen[cs]e:?)(?: \w+)? under (?:the )?(?:terms of (?:the )?)?(?:gnu )?` +
			`(?P<fam>l|a)?gpl[ -]?(?:v|version |ver\.? )?(?P<ver>[123](?:\.[01])?)\b(?P<later>\+|,? or later|,? or any later|,? or \(at your option\) any later|,? or at your option,? any later| or newer)?`,
	},
	{
		// zstd's header (and Meta's): "licensed under both the BSD-style
		// license (found in the LICENSE file ...) and the GPLv2 (found in the
		// COPYING file ...)"; the BSD part is the pointer's.
		name: "gnu-dual-under-both", kind: KindReference, keyword: "gpl", confidence: 0.85,
		pattern: `\blicen[cs]ed under both the [^.;]{1,160}? and the (?:gnu )?(?P<fam>l|a)?gpl ?(?:v|version )?(?P<ver>[123](?:\.[01])?)\b(?P<later>\+|,? or later|,? or any later)?`,
	},
	{
		name: "gnu-name-version", kind: KindReference, keyword: "general public licen", confidence: 0.85, span: 250,
		pattern: `\bgnu (?P<fam>lesser |library |affero )?general public licen[cs]e,? (?:\(\w+\) )?(?:v|version |ver\.? )(?P<ver>[123](?:\.[01])?)\b` +
			`(?P<later>(?: of the licen[cs]e)?,? or (?:\(at your option\) )?(?:any )?(?:later|newer)(?: version)?|\+)?`,
	},
	{
		// The FSF's notice, in any of its wordings ("may be freely
		// redistributed and/or modified under the terms of ..."): the
		// version and the "or later" clause after "as published by the Free
		// Software Foundation".
		name: "gnu-published-notice", kind: KindHeaderNotice, keyword: "general public licen", confidence: 0.85, span: 250,
		pattern: `\bgnu (?P<fam>lesser |library |affero )?general public licen[cs]e,? (?:\(\w+\) )?as published by the free software foundation[;,:]? (?:either )?` +
			`version (?P<ver>[123](?:\.[01])?)(?: of the licen[cs]e)?(?: dated [a-z]+,? \d{4})?(?P<later>,? or \(at your option\) any later version|,? or any later version|,? or \(at your option\) any later)?\b`,
	},
	{
		name: "gnu-version-of", kind: KindHeaderNotice, keyword: "general public licen", confidence: 0.85,
		pattern: `\bversion (?P<ver>[123](?:\.[01])?) of the gnu (?P<fam>lesser |library |affero )?general public licen[cs]e\b` +
			`(?P<later>,? or \(at your option\) any later version|,? or any later version|,? or \(at your option\) any later)?`,
	},
	{
		name: "gnu-unversioned", kind: KindHeaderNotice, keyword: "general public licen", confidence: 0.6, fallback: true,
		// A GNU license that names no version lets the licensee choose any
		// version ever published (GPL-2.0 section 9, LGPL-2.1 section 13); the
		// "Lesser" GPL exists only from version 2.1 on.
		pattern: `\b(?:distributed|redistributed|licen[cs]ed|released|available|covered|modify it|used|copied) under (?:the )?(?:terms of (?:the )?)?` +
			`gnu (?P<fam>lesser |library |affero )?general public licen[cs]e\b`,
	},
	{
		name: "bsd4-clauses", kind: KindFullText, keyword: "redistribution and use", confidence: 0.75, fallback: true, ids: []string{"BSD-4-Clause"},
		all: []string{"redistribution and use in source and binary forms", "redistributions of source code must retain",
			"redistributions in binary form must reproduce", "all advertising materials mentioning"},
	},
	{
		name: "bsd3-clauses", kind: KindFullText, keyword: "redistribution and use", confidence: 0.75, fallback: true, ids: []string{"BSD-3-Clause"},
		all: []string{"redistribution and use in source and binary forms", "redistributions of source code must retain",
			"redistributions in binary form must reproduce", "endorse or promote"},
		none: []string{"all advertising materials mentioning"},
	},
	{
		name: "bsd2-clauses", kind: KindFullText, keyword: "redistribution and use", confidence: 0.7, fallback: true, ids: []string{"BSD-2-Clause"},
		all: []string{"redistribution and use in source and binary forms", "redistributions of source code must retain",
			"redistributions in binary form must reproduce"},
		none: []string{"all advertising materials mentioning", "endorse or promote"},
	},
	{
		// The MIT grant and its notice condition, with or without the
		// warranty disclaimer that licensecheck needs to see (X11 adds an
		// advertising clause and is licensecheck's).
		name: "mit-grant", kind: KindFullText, keyword: "sublicense", confidence: 0.8, fallback: true, ids: []string{"MIT"},
		all: []string{"distribute, sublicense, and/or sell copies of the software",
			"the above copyright notice and this permission notice shall be included in all copies or substantial portions of the software"},
		none: []string{"shall not be used in advertising"},
	},
	{
		name: "x11-clauses", kind: KindFullText, keyword: "sublicense", confidence: 0.85, ids: []string{"X11"}, supersedes: []string{"MIT"},
		all: []string{"distribute, sublicense, and/or sell copies of the software",
			"the above copyright notice and this permission notice shall be included in all copies or substantial portions of the software",
			"shall not be used in advertising"},
	},
	{
		// The Artistic License as dist (metaconfig) ships it, SPDX's
		// Artistic-dist: Perl's text with a sentence added to the preamble
		// and a clause 7 of its own; licensecheck knows only the other
		// Artistic 1.0 texts.
		name: "artistic-dist-text", kind: KindFullText, keyword: "transferring this licen", confidence: 0.9,
		ids: []string{"Artistic-dist"}, supersedes: []string{"Artistic-1.0", "Artistic-1.0-Perl", "Artistic-1.0-cl8"},
		all: []string{"reuse parts of a package in your own programs without transferring this license to those programs",
			"parts reused that way will no longer fall under this license"},
	},
	{
		name: "ms-pl-reference", kind: KindReference, keyword: "microsoft public licen", confidence: 0.85, ids: []string{"MS-PL"},
		pattern: `\b(?:(?:published|licen[cs]ed|released|distributed|subject to) under (?:the terms of )?the microsoft public licen[cs]e|subject to the microsoft public licen[cs]e|microsoft public licen[cs]e \(ms-pl\))`,
	},
	{
		name: "gnu-gpl-unversioned", kind: KindReference, keyword: "gpl", confidence: 0.6, fallback: true,
		pattern: `\b(?:published|licen[cs]ed|released|distributed|available|covered) under (?:the )?(?:terms of (?:the )?)?(?:gnu )?(?P<fam>l|a)?gpl(?: licen[cs]e)?(?:$|[ .,;:)])`,
	},
	{
		// GNU Free Documentation License notices; "with no Invariant
		// Sections, no Front-Cover Texts, and no Back-Cover Texts" makes
		// the -no-invariants ids.
		name: "gfdl-notice", kind: KindHeaderNotice, keyword: "free documentation licen", confidence: 0.9,
		// The license's own title ("GNU Free Documentation License /
		// Version 1.3, 3 November 2008", an info manual's appendix) is
		// no notice: the title group makes the match name nothing.
		pattern: `\bgnu free documentation licen[cs]e,? (?:v|version |ver\.? )?(?P<gfdl>1\.[123])\b` +
			`(?P<title>,? (?:\d{1,2} )?(?:january|february|march|april|may|june|july|august|september|october|november|december),? (?:19|20)\d\d\b)?(?P<later>,? or any later version)?` +
			`(?:,? published by the free software foundation)?(?:[;,.]? ?(?P<niv>with no invariant sections, (?:with )?no front-cover texts,? and (?:with )?no back-cover texts))?`,
	},
	{
		name: "fsf-unlimited-retain", kind: KindHeaderNotice, keyword: "unlimited permission", confidence: 0.92, ids: []string{"FSFULLR"},
		pattern: `\bgives unlimited permission to copy and/or distribute it, with or without modifications, as long as this notice is preserved\b`,
	},
	{
		name: "fsf-unlimited", kind: KindHeaderNotice, keyword: "unlimited permission", confidence: 0.92, ids: []string{"FSFUL"},
		pattern: `\bgives unlimited permission to copy, distribute and modify it\b`,
	},
	{
		name: "fsf-all-permissive", kind: KindHeaderNotice, keyword: "without royalty", confidence: 0.92, ids: []string{"FSFAP"},
		pattern: `\bcopying and distribution of this file, with or without modification, are permitted in any medium without royalty provided the copyright notice and this notice are preserved\b`,
	},
	{
		// span: "license = '" and an id no longer than the longest Known one
		// (TestRuleSpans).
		name: "spdx-short-field", kind: KindReference, keyword: "licen", confidence: 0.8, span: 80,
		pattern: `\blicen[cs]e ?[:=] ?["']?(?P<id>[a-z0-9][a-z0-9.+-]*[a-z0-9+])["']?(?:$|[ ,;)])`,
	},
	{
		name: "apache-reference", kind: KindReference, keyword: "apache", confidence: 0.9, ids: []string{"Apache-2.0"},
		pattern: `\blicen[cs]ed under the apache licen[cs]e,? (?:version |v)?2\.0\b`,
	},
	{
		name: "mit-reference", kind: KindReference, keyword: "mit", confidence: 0.85, ids: []string{"MIT"},
		pattern: `\b(?:(?:licen[cs]ed|released|distributed|available) under (?:the )?(?:terms of (?:the )?)?(?:expat/)?mit(?:/expat)? licen[cs]e|\bmit licen[cs]ed\b)`,
	},
	{
		name: "bsd3-reference", kind: KindReference, keyword: "bsd", confidence: 0.8, ids: []string{"BSD-3-Clause"},
		pattern: `\b(?:licen[cs]ed|released|distributed|available) under (?:the )?(?:terms of (?:the )?)?(?:new|modified|revised|3-clause|three-clause) bsd licen[cs]e\b`,
	},
	{
		name: "bsd2-reference", kind: KindReference, keyword: "bsd", confidence: 0.8, ids: []string{"BSD-2-Clause"},
		pattern: `\b(?:licen[cs]ed|released|distributed|available) under (?:the )?(?:terms of (?:the )?)?(?:simplified|2-clause|two-clause|freebsd) bsd licen[cs]e\b`,
	},
	namedReference,
	{
		name: "perl-terms", kind: KindReference, keyword: "perl", confidence: 0.9, ids: []string{"Artistic-1.0-Perl", "GPL-1.0-or-later"},
		// "as Perl itself", "as Perl 5 itself", "as the Perl 5 programming
		// language system itself" (the CPAN boilerplate), "as Perl 5, as
		// specified in the README file" (Storable's notice).
		pattern: `\bunder the same terms as (?:the )?perl(?: 5)?(?: programming language system)?(?: itself\b|,? as specified in\b)`,
	},
	{
		// Perl's notice, in every file of perl's core and of metaconfig's
		// units: "You may distribute under the terms of either the GNU
		// General Public License or the Artistic License, as specified in
		// the README file." No GPL version is named: any may be chosen.
		name: "gpl-or-artistic", kind: KindReference, keyword: "artistic licen", confidence: 0.9, ids: []string{"Artistic-1.0-Perl", "GPL-1.0-or-later"},
		// CPAN's wording: "under the terms of either: the GNU General
		// Public License as published by the Free Software Foundation; or
		// the Artistic License."
		pattern: `\bunder the terms of either:? the gnu general public licen[cs]e,?(?: as published by the free software foundation[;,]?)? or the ["']?artistic licen[cs]e\b`,
	},
	{
		// Perl's README and the modules that copy it: "b) the "Artistic
		// License" which comes with this Kit" (or "with Perl").
		name: "perl-artistic", kind: KindReference, keyword: "artistic licen", confidence: 0.9, ids: []string{"Artistic-1.0-Perl"},
		pattern: `\bthe ["']?artistic licen[cs]e["']?,? which comes with (?:this kit|perl)\b`,
	},
	{
		name: "zlib-reference", kind: KindReference, keyword: "zlib.h", confidence: 0.85, ids: []string{"Zlib"},
		// The reference line of zlib and of every zlib-derived source (minizip, contrib code).
		pattern: `\bfor conditions of distribution and use,? see (?:the )?copyright notice in zlib\.h\b`,
	},
	{
		// "Licensed to PSF under a Contributor Agreement" says how the PSF
		// got the code (CPython's files are then under its license), not
		// what a file that states its own license is under (tomli's files
		// say MIT in an SPDX tag above it).
		name: "psf-contributor", kind: KindReference, keyword: "psf", confidence: 0.7, ids: []string{"PSF-2.0"}, alone: true,
		pattern: `\blicensed to (?:the )?psf under a contributor agreement\b`,
	},
	{
		name: "public-domain", kind: KindPublicDomain, keyword: "public domain", confidence: 0.85, ids: []string{PublicDomain},
		// The FSF's "changes to this file are in the public domain" (install-sh)
		// is about the changes; the file has its own license.
		none: []string{"changes to this file are in the public domain"},
		pattern: `\b(?:(?:placed|released|dedicated|put|given|is|are|be|been|remains?|lies?)(?: (?:hereby|explicitly|entirely|fully|now))? (?:in|into|to) the public domain` +
			`|(?:is|are) (?:hereby )?public domain\b|\bpublic domain(?:;|,| -)? (?:do|use) (?:with it|it) (?:as|what)` +
			`|\bthis (?:file|code|software|program|work|source|module|header) (?:is|are) (?:in the )?public domain)`,
	},
	{
		name: "no-copyright-claimed", kind: KindPublicDomain, keyword: "copyright", confidence: 0.75, ids: []string{PublicDomain},
		pattern: `\bno copyright is claimed\b|\bthe authors? (?:hereby )?disclaims? copyright to this source code\b`,
	},
}
