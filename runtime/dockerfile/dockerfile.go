// Package dockerfile parses a Dockerfile just enough to pin its base images
// and to rewrite its RUN steps, deterministically, so that they trust the
// recording proxy's per-build CA through build secrets while leaving nothing
// in the image.
//
// The rewrite depends on nothing but the input: neither the CA nor the proxy
// address appears in it, so a recording build and its replays run the same
// command strings (which land in the image history) and can produce the same
// image ID.
package dockerfile

import (
	"bytes"
	"encoding/json"
	"path"
	"regexp"
	"strings"

	"github.com/reehub/reehub/fault"
)

// Secret IDs and the paths where the rewritten RUN steps mount them.
const (
	// SecretCA is the build secret holding the CA bundle (host roots + build CA).
	SecretCA = "reehub-ca"
	// SecretAptConf is the build secret holding the apt configuration.
	SecretAptConf = "reehub-apt.conf"
	// SecretWgetrc is the build secret holding the wgetrc.
	SecretWgetrc = "reehub-wgetrc"

	// CAPath is where RUN steps see the CA bundle.
	CAPath = "/run/reehub-ca.pem"
	// AptConfPath is where RUN steps see the apt configuration.
	AptConfPath = "/run/reehub-apt.conf"
	// WgetrcPath is where RUN steps see the wgetrc.
	WgetrcPath = "/run/reehub-wgetrc"
)

// trustMounts are the flags added to every RUN. mode=0444 lets apt's _apt
// user and non-root USERs read them; targets directly under /run leave no
// directories behind in the image.
var trustMounts = []string{
	"--mount=type=secret,id=" + SecretCA + ",target=" + CAPath + ",mode=0444",
	"--mount=type=secret,id=" + SecretAptConf + ",target=" + AptConfPath + ",mode=0444",
	"--mount=type=secret,id=" + SecretWgetrc + ",target=" + WgetrcPath + ",mode=0444",
}

// trustEnv is the environment every RUN step gets, in this order.
var trustEnv = []string{
	"SSL_CERT_FILE=" + CAPath,
	"CURL_CA_BUNDLE=" + CAPath,
	"REQUESTS_CA_BUNDLE=" + CAPath,
	"PIP_CERT=" + CAPath,
	"NODE_EXTRA_CA_CERTS=" + CAPath,
	"GIT_SSL_CAINFO=" + CAPath,
	"APT_CONFIG=" + AptConfPath,
	"WGETRC=" + WgetrcPath,
}

// instructions are the Dockerfile instructions podman (buildah) accepts.
var instructions = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true, "ENV": true,
	"EXPOSE": true, "FROM": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true,
	"ONBUILD": true, "RUN": true, "SHELL": true, "STOPSIGNAL": true, "USER": true,
	"VOLUME": true, "WORKDIR": true,
}

// posixShells are the SHELL programs the shell-form rewrite (an `export ...;`
// prefix) works with.
var posixShells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true,
}

var (
	directiveRe = regexp.MustCompile(`^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$`)
	heredocRe   = regexp.MustCompile(`^[0-9]*<<-?["']?[A-Za-z_]`)
)

// File is a parsed Dockerfile. It keeps the original lines and re-emits
// every line it does not rewrite byte for byte.
type File struct {
	escape          byte
	lines           []string
	trailingNewline bool
	items           []item
}

// item is a run of physical lines: one instruction with its continuation
// lines, or one comment, blank or directive line.
type item struct {
	start, end int    // physical lines [start, end)
	keyword    string // upper case; "" for a non-instruction line
	rest       string // logical text after the keyword (continuations joined)
	// from is set for FROM instructions.
	from *fromInstr
	// replaced, when non-nil, is emitted instead of the original lines.
	replaced []string
}

// fromInstr is a parsed FROM instruction.
type fromInstr struct {
	flags []string
	ref   string
	as    string // "AS" keyword as written, "" when absent
	name  string
	stage bool // ref names an earlier stage or scratch
}

// Parse parses content. It keeps the original lines and rejects, with an
// error wrapping fault.ErrInvalid, what it cannot rewrite safely: unknown
// instructions, heredocs, malformed parser directives, a SHELL that is not a
// POSIX shell, and files without FROM.
func Parse(content []byte) (*File, error) {
	text := string(content)
	f := &File{escape: '\\'}
	if strings.HasSuffix(text, "\n") {
		f.trailingNewline = true
		text = strings.TrimSuffix(text, "\n")
	}
	if text == "" && !f.trailingNewline {
		return nil, fault.Invalidf("Dockerfile is empty")
	}
	f.lines = strings.Split(text, "\n")

	i := 0
	// Parser directives: only at the very top, before any comment, blank
	// line or instruction.
	seen := map[string]bool{}
	for ; i < len(f.lines); i++ {
		m := directiveRe.FindStringSubmatch(strings.TrimRight(f.lines[i], " \t\r"))
		if m == nil {
			break
		}
		name := strings.ToLower(m[1])
		if name != "escape" && name != "syntax" && name != "check" {
			break // an unknown directive is a comment and ends the directives
		}
		if seen[name] {
			return nil, fault.Invalidf("Dockerfile line %d: parser directive %q appears twice", i+1, name)
		}
		seen[name] = true
		if name == "escape" {
			if m[2] != `\` && m[2] != "`" {
				return nil, fault.Invalidf("Dockerfile line %d: escape must be \\ or `, not %q", i+1, m[2])
			}
			f.escape = m[2][0]
		}
		f.items = append(f.items, item{start: i, end: i + 1})
	}

	stages := map[string]bool{}
	sawFrom := false
	for i < len(f.lines) {
		trimmed := strings.TrimSpace(f.lines[i])
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			f.items = append(f.items, item{start: i, end: i + 1})
			i++
			continue
		}
		it := item{start: i}
		var logical strings.Builder
		for first := true; ; first = false {
			line := f.lines[i]
			if first {
				line = strings.TrimLeft(line, " \t")
			}
			body, cont := f.cutContinuation(line)
			logical.WriteString(body)
			i++
			if !cont {
				break
			}
			// Comment and blank lines inside a continuation are skipped.
			for i < len(f.lines) {
				t := strings.TrimSpace(f.lines[i])
				if t != "" && !strings.HasPrefix(t, "#") {
					break
				}
				i++
			}
			if i == len(f.lines) {
				break
			}
		}
		it.end = i
		kw, rest := splitWord(logical.String())
		it.keyword = strings.ToUpper(kw)
		it.rest = rest
		if !instructions[it.keyword] {
			return nil, fault.Invalidf("Dockerfile line %d: unknown instruction %q", it.start+1, kw)
		}
		if !sawFrom && it.keyword != "ARG" && it.keyword != "FROM" {
			return nil, fault.Invalidf("Dockerfile line %d: %s before the first FROM", it.start+1, it.keyword)
		}
		switch it.keyword {
		case "FROM":
			sawFrom = true
			fi, err := parseFrom(rest, it.start+1)
			if err != nil {
				return nil, err
			}
			fi.stage = strings.EqualFold(fi.ref, "scratch") || stages[strings.ToLower(fi.ref)]
			if fi.name != "" {
				stages[strings.ToLower(fi.name)] = true
			}
			it.from = fi
		case "RUN", "COPY", "ADD":
			if hd := findHeredoc(rest); hd != "" {
				return nil, fault.Invalidf("Dockerfile line %d: %s heredoc %q is not supported (podman 4.3.1 cannot build heredocs either); use a script file", it.start+1, it.keyword, hd)
			}
		case "SHELL":
			var argv []string
			if err := json.Unmarshal([]byte(rest), &argv); err != nil || len(argv) == 0 {
				return nil, fault.Invalidf("Dockerfile line %d: SHELL needs a JSON array", it.start+1)
			}
			if !posixShells[path.Base(argv[0])] {
				return nil, fault.Invalidf("Dockerfile line %d: SHELL %q is not a POSIX shell; reehub cannot pass its trust settings to RUN steps", it.start+1, argv[0])
			}
		}
		f.items = append(f.items, it)
	}
	if !sawFrom {
		return nil, fault.Invalidf("Dockerfile has no FROM instruction")
	}
	return f, nil
}

// cutContinuation removes a trailing escape character (and the white space
// after it) and reports whether the line continues.
func (f *File) cutContinuation(line string) (string, bool) {
	t := strings.TrimRight(line, " \t\r")
	if strings.HasSuffix(t, string(f.escape)) {
		return t[:len(t)-1], true
	}
	return strings.TrimRight(line, "\r"), false
}

// splitWord splits s into its first white-space separated word and the rest
// (leading white space removed).
func splitWord(s string) (string, string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

func parseFrom(rest string, line int) (*fromInstr, error) {
	words := strings.Fields(rest)
	fi := &fromInstr{}
	for len(words) > 0 && strings.HasPrefix(words[0], "--") {
		fi.flags = append(fi.flags, words[0])
		words = words[1:]
	}
	switch {
	case len(words) == 1:
	case len(words) == 3 && strings.EqualFold(words[1], "AS"):
		fi.as, fi.name = words[1], words[2]
	default:
		return nil, fault.Invalidf("Dockerfile line %d: FROM needs an image and optionally AS name", line)
	}
	fi.ref = words[0]
	return fi, nil
}

// findHeredoc returns the first heredoc marker (<<EOF, <<-"EOF", 3<<EOF) in an
// instruction's arguments, ignoring quoted text and here-strings (<<<).
func findHeredoc(rest string) string {
	for _, w := range shellWords(rest) {
		if heredocRe.MatchString(w) {
			return w
		}
	}
	return ""
}

// shellWords splits s on unquoted white space, dropping words that start
// with a quote: enough to spot heredoc markers.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	var quote byte
	quotedStart := false
	flush := func() {
		if cur.Len() > 0 && !quotedStart {
			words = append(words, cur.String())
		}
		cur.Reset()
		quotedStart = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			if cur.Len() == 0 {
				quotedStart = true
			}
			quote = c
			cur.WriteByte(c)
		case c == ' ' || c == '\t':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return words
}

// Bases returns the image references of the FROM instructions in order of
// first appearance, without duplicates, "scratch" or names of earlier stages.
func (f *File) Bases() []string {
	var out []string
	seen := map[string]bool{}
	for _, it := range f.items {
		if it.from == nil || it.from.stage || seen[it.from.ref] {
			continue
		}
		seen[it.from.ref] = true
		out = append(out, it.from.ref)
	}
	return out
}

// RewriteBases replaces the image reference of every FROM whose reference
// is a key of m (stage names and scratch are never replaced), keeping
// --platform and other flags and the AS name. A rewritten FROM becomes one
// line.
func (f *File) RewriteBases(m map[string]string) {
	for i := range f.items {
		it := &f.items[i]
		if it.from == nil || it.from.stage {
			continue
		}
		repl, ok := m[it.from.ref]
		if !ok {
			continue
		}
		it.from.ref = repl
		first := f.lines[it.start]
		indent := first[:len(first)-len(strings.TrimLeft(first, " \t"))]
		kw, _ := splitWord(first)
		words := append([]string{indent + kw}, it.from.flags...)
		words = append(words, repl)
		if it.from.name != "" {
			words = append(words, it.from.as, it.from.name)
		}
		it.replaced = []string{strings.Join(words, " ") + crOf(f.lines[it.end-1])}
	}
}

// Bytes returns the Dockerfile with base rewrites applied and nothing else.
func (f *File) Bytes() []byte {
	return f.render(func(it item) []string { return nil })
}

// InjectTrust returns the Dockerfile (with base rewrites applied) in which
// every RUN mounts the CA bundle, apt.conf and wgetrc secrets under /run and
// runs with SSL_CERT_FILE, CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, PIP_CERT,
// NODE_EXTRA_CA_CERTS, GIT_SSL_CAINFO, APT_CONFIG and WGETRC pointing at them:
// shell form through an `export ...;` prefix, exec form through
// /usr/bin/env. The output depends only on the input. RUN inside ONBUILD is
// left alone.
func (f *File) InjectTrust() []byte { return f.InjectTrustEnv(nil) }

// InjectTrustEnv is InjectTrust with extra NAME=value pairs exported to every
// RUN after the trust variables (such as SOURCE_DATE_EPOCH). The values must
// not need shell quoting: they are written as they are.
func (f *File) InjectTrustEnv(extra []string) []byte {
	env := append(append([]string(nil), trustEnv...), extra...)
	return f.render(func(it item) []string {
		if it.keyword != "RUN" {
			return nil
		}
		return f.rewriteRun(it, trustMounts, env)
	})
}

// Secret IDs and paths of the apt source override (InjectAptSources).
const (
	// SecretAptSourcesConf is the build secret holding the apt configuration
	// that points apt at the sources list below.
	SecretAptSourcesConf = "reehub-apt-sources.conf"
	// SecretSourcesList is the build secret holding the sources list.
	SecretSourcesList = "reehub-sources.list"
	// AptSourcesConfPath is where RUN steps see the apt configuration.
	AptSourcesConfPath = "/run/reehub-apt-sources.conf"
	// SourcesListPath is where RUN steps see the sources list.
	SourcesListPath = "/run/reehub-sources.list"
)

// InjectAptSources returns the Dockerfile (with base rewrites applied) in
// which every RUN mounts an apt configuration and a sources list (see
// AptSourcesFiles) under /run and runs with APT_CONFIG pointing at it, so that
// apt reads its main sources from the configured mirror during the build and
// the image keeps its own sources.list.
func (f *File) InjectAptSources() []byte {
	mounts := []string{
		"--mount=type=secret,id=" + SecretAptSourcesConf + ",target=" + AptSourcesConfPath + ",mode=0444",
		"--mount=type=secret,id=" + SecretSourcesList + ",target=" + SourcesListPath + ",mode=0444",
	}
	env := []string{"APT_CONFIG=" + AptSourcesConfPath}
	return f.render(func(it item) []string {
		if it.keyword != "RUN" {
			return nil
		}
		return f.rewriteRun(it, mounts, env)
	})
}

// AptSourcesFiles returns the build secrets InjectAptSources mounts: a
// sources list with "deb MIRROR SUITE main" and an apt configuration that
// reads it instead of /etc/apt/sources.list (sources.list.d still counts) and
// accepts expired Release files, as snapshot archives serve them.
func AptSourcesFiles(mirror, suite string) map[string][]byte {
	return map[string][]byte{
		SecretSourcesList: []byte("deb " + mirror + " " + suite + " main\n"),
		SecretAptSourcesConf: []byte("// reehub: the Debian mirror of this build.\n" +
			"Dir::Etc::SourceList \"" + SourcesListPath + "\";\n" +
			"Acquire::Check-Valid-Until \"false\";\n"),
	}
}

func (f *File) render(rewrite func(item) []string) []byte {
	var buf bytes.Buffer
	for n, it := range f.items {
		lines := it.replaced
		if r := rewrite(it); r != nil {
			lines = r
		}
		if lines == nil {
			lines = f.lines[it.start:it.end]
		}
		for j, l := range lines {
			if n > 0 || j > 0 {
				buf.WriteByte('\n')
			}
			buf.WriteString(l)
		}
	}
	if f.trailingNewline {
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// rewriteRun returns the rewritten lines of a RUN instruction.
func (f *File) rewriteRun(it item, runMounts, runEnv []string) []string {
	lines := append([]string(nil), f.lines[it.start:it.end]...)
	first := lines[0]
	kwStart := len(first) - len(strings.TrimLeft(first, " \t"))
	kwEnd := kwStart + len("RUN")
	mounts := " " + strings.Join(runMounts, " ")

	flags, cmd := splitRunFlags(it.rest)
	if strings.HasPrefix(cmd, "[") {
		var argv []string
		if err := json.Unmarshal([]byte(cmd), &argv); err == nil {
			argv = append(append([]string{"/usr/bin/env"}, runEnv...), argv...)
			var enc bytes.Buffer
			e := json.NewEncoder(&enc)
			e.SetEscapeHTML(false)
			_ = e.Encode(argv) // a []string always encodes
			words := append([]string{first[:kwEnd] + mounts}, flags...)
			words = append(words, strings.TrimSuffix(enc.String(), "\n"))
			return []string{strings.Join(words, " ") + crOf(lines[len(lines)-1])}
		}
		// Not a JSON array: Docker runs it in shell form.
	}
	if strings.TrimSpace(cmd) == "" {
		return nil // nothing to run; leave it for the builder to reject
	}
	// Shell form: insert the export prefix where the command starts in the
	// original text, so continuation lines and their comments stay as written.
	ln, col, ok := f.commandStart(lines, kwEnd)
	if !ok {
		return nil
	}
	prefix := "export " + strings.Join(runEnv, " ") + "; "
	lines[ln] = lines[ln][:col] + prefix + lines[ln][col:]
	tail := lines[0][kwEnd:]
	if tail != "" && tail[0] != ' ' && tail[0] != '\t' {
		tail = " " + tail
	}
	lines[0] = lines[0][:kwEnd] + mounts + tail
	return lines
}

// splitRunFlags splits a RUN's logical arguments into leading --flags and
// the command.
func splitRunFlags(rest string) ([]string, string) {
	var flags []string
	for strings.HasPrefix(rest, "--") {
		var w string
		w, rest = splitWord(rest)
		flags = append(flags, w)
	}
	return flags, rest
}

// commandStart finds the position of a RUN's command in its physical lines,
// after the keyword at lines[0][kwEnd:] and any --flags, skipping
// continuations and the comment lines inside them.
func (f *File) commandStart(lines []string, kwEnd int) (int, int, bool) {
	ln, col := 0, kwEnd
	for ln < len(lines) {
		line := lines[ln]
		// Skip white space.
		for col < len(line) && (line[col] == ' ' || line[col] == '\t') {
			col++
		}
		body, cont := f.cutContinuation(line)
		atEnd := col >= len(body)
		if !atEnd && strings.HasPrefix(line[col:], "--") {
			for col < len(body) && body[col] != ' ' && body[col] != '\t' {
				col++
			}
			continue
		}
		if !atEnd {
			return ln, col, true
		}
		if !cont {
			return 0, 0, false
		}
		ln++
		col = 0
		for ln < len(lines) {
			t := strings.TrimSpace(lines[ln])
			if t != "" && !strings.HasPrefix(t, "#") {
				break
			}
			ln++
		}
	}
	return 0, 0, false
}

// crOf returns "\r" when line ends with one, to keep CRLF files consistent.
func crOf(line string) string {
	if strings.HasSuffix(line, "\r") {
		return "\r"
	}
	return ""
}

// TrustFiles returns the contents of the build secrets the rewritten RUN
// steps mount, by secret ID: SecretCA is hostRoots followed by caPEM,
// SecretAptConf points apt at the bundle and turns off the Valid-Until check
// (so that a replay after a Release file expired still works; signatures are
// still checked), and SecretWgetrc points wget at the bundle. apt still reads
// /etc/apt/apt.conf.d and /etc/apt/apt.conf after the APT_CONFIG file, so the
// image's own apt configuration keeps working.
func TrustFiles(caPEM []byte, hostRoots []byte) map[string][]byte {
	bundle := make([]byte, 0, len(hostRoots)+len(caPEM)+1)
	bundle = append(bundle, hostRoots...)
	if len(bundle) > 0 && bundle[len(bundle)-1] != '\n' {
		bundle = append(bundle, '\n')
	}
	bundle = append(bundle, caPEM...)
	return map[string][]byte{
		SecretCA: bundle,
		SecretAptConf: []byte("// reehub: trust the recording proxy's CA during this RUN step only.\n" +
			"Acquire::https::CaInfo \"" + CAPath + "\";\n" +
			"Acquire::Check-Valid-Until \"false\";\n"),
		SecretWgetrc: []byte("ca_certificate=" + CAPath + "\n"),
	}
}
