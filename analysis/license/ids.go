package license

import (
	"regexp"
	"strings"
	"sync"

	"github.com/google/licensecheck"
)

// PublicDomain is the id reported for a public-domain dedication, which has no
// SPDX license id of its own.
const PublicDomain = "LicenseRef-public-domain"

// extraIDs are SPDX ids and exception ids that licensecheck's built-in set
// lacks or spells only in their deprecated form.
var extraIDs = []string{
	"AGPL-1.0-only", "AGPL-1.0-or-later", "AGPL-3.0-only", "AGPL-3.0-or-later",
	"GPL-1.0-only", "GPL-1.0-or-later", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later",
	"LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later",
	"GFDL-1.1-only", "GFDL-1.1-or-later", "GFDL-1.2-only", "GFDL-1.2-or-later", "GFDL-1.3-only", "GFDL-1.3-or-later",
	"BSD-1-Clause", "BSD-2-Clause", "BSD-2-Clause-Patent", "BSD-3-Clause", "BSD-3-Clause-Clear", "BSD-4-Clause",
	"BSD-4-Clause-UC", "BSD-Source-Code", "MIT-0", "X11", "SSLeay-standalone", "PSF-2.0", "Unicode-3.0",
	"Artistic-1.0-Perl", "Artistic-1.0-cl8", "Artistic-dist", "Python-2.0.1", "bzip2-1.0.6", "ISC", "Zlib", "curl", "OpenSSL", "Apache-2.0",
	// Exceptions.
	"Autoconf-exception-2.0", "Autoconf-exception-3.0", "Autoconf-exception-generic", "Bison-exception-2.2",
	"Classpath-exception-2.0", "GCC-exception-2.0", "GCC-exception-3.1", "LLVM-exception", "Libtool-exception",
	"Linux-syscall-note", "OpenJDK-assembly-exception-1.0", "Qt-GPL-exception-1.0", "Qt-LGPL-exception-1.1",
	"Texinfo-exception", "Universal-FOSS-exception-1.0", "WxWindows-exception-3.1", "eCos-exception-2.0",
	"u-boot-exception-2.0", "openvpn-openssl-exception", "x11vnc-openssl-exception", "Font-exception-2.0",
}

// knownIDs maps the lower-case spelling of every id reehub knows to its
// canonical spelling. It is computed once, on first use, and never changed.
var knownIDs = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, l := range licensecheck.BuiltinLicenses() {
		m[strings.ToLower(l.ID)] = l.ID
	}
	for _, id := range extraIDs {
		m[strings.ToLower(id)] = id
	}
	m[strings.ToLower(PublicDomain)] = PublicDomain
	return m
})

// gnuID matches the GNU licenses whose SPDX ids carry -only or -or-later.
var gnuID = regexp.MustCompile(`(?i)^(A?GPL|LGPL|GFDL)-(\d\.\d)(-only|-or-later)?$`)

// CanonicalID returns the canonical spelling of a license id and whether a
// "+" is still needed after it. GNU ids are made explicit: "GPL-2.0" becomes
// "GPL-2.0-only" and "GPL-2.0" with orLater becomes "GPL-2.0-or-later" (the
// second result is then false). Unknown ids are returned unchanged.
func CanonicalID(id string, orLater bool) (string, bool) {
	if c, ok := knownIDs()[strings.ToLower(id)]; ok {
		id = c
	}
	if m := gnuID.FindStringSubmatch(id); m != nil {
		fam := strings.ToUpper(m[1])
		switch {
		case orLater || strings.EqualFold(m[3], "-or-later"):
			return fam + "-" + m[2] + "-or-later", false
		default:
			return fam + "-" + m[2] + "-only", false
		}
	}
	return id, orLater
}

// Known reports whether id (in any case) is an SPDX or licensecheck id that
// reehub knows.
func Known(id string) bool {
	_, ok := knownIDs()[strings.ToLower(id)]
	return ok
}
