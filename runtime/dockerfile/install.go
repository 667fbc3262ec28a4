package dockerfile

import (
	"encoding/json"
	"path"
	"sort"
	"strings"

	"github.com/reehub/reehub/fault"
)

// Tool is a package manager whose install commands the SBOM strategy pins.
type Tool string

// The package managers Installs recognises.
const (
	// ToolApt is apt-get or apt.
	ToolApt Tool = "apt"
	// ToolPip is pip, pip3 or python -m pip.
	ToolPip Tool = "pip"
	// ToolNpm is npm.
	ToolNpm Tool = "npm"
)

// Install is one package-manager install command inside a shell-form RUN.
type Install struct {
	// Tool is the package manager.
	Tool Tool
	// Line is the 1-based line of the RUN instruction.
	Line int
	// Packages are the package arguments as the shell sees them (quotes
	// removed): "jq", "jq=1.6-2.1", "requests[socks]>=2", "left-pad@1".
	Packages []string
	// Global is set for npm install -g.
	Global bool
	// FromLockfile is set for an npm install without package arguments (and
	// for npm ci): it installs what the project's lockfile says.
	FromLockfile bool
	// run is the index of the RUN item; word spans locate the packages.
	run   int
	spans []span // of Packages, in the RUN's command text
	verb  span   // the install subcommand
}

// span is a byte range [start, end) of the command text.
type span struct{ start, end int }

// word is a shell word: its unquoted value, its position, and whether it uses
// expansions ($, backquotes) that make its value unknown before it runs.
type word struct {
	value    string
	span     span
	expanded bool
	op       bool // a control operator (&&, ||, ;, |, &, (, ), newline)
}

// lexShell splits a POSIX shell command into words and control operators,
// honouring quotes and backslashes. It is not a shell: it only needs to find
// package lists reliably.
func lexShell(s string) []word {
	var out []word
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '\n' || c == ';' || c == '(' || c == ')':
			out = append(out, word{value: string(c), span: span{i, i + 1}, op: true})
			i++
			continue
		case c == '&' || c == '|':
			n := 1
			if i+1 < len(s) && s[i+1] == c {
				n = 2
			}
			out = append(out, word{value: s[i : i+n], span: span{i, i + n}, op: true})
			i += n
			continue
		case c == '#':
			// A comment runs to the end of the line.
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		}
		start := i
		var val strings.Builder
		expanded := false
	loop:
		for i < len(s) {
			c := s[i]
			switch {
			case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')':
				break loop
			case c == '\\' && i+1 < len(s):
				val.WriteByte(s[i+1])
				i += 2
			case c == '\'':
				j := strings.IndexByte(s[i+1:], '\'')
				if j < 0 {
					val.WriteString(s[i+1:])
					i = len(s)
					break loop
				}
				val.WriteString(s[i+1 : i+1+j])
				i += j + 2
			case c == '"':
				i++
				for i < len(s) && s[i] != '"' {
					if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
						val.WriteByte(s[i+1])
						i += 2
						continue
					}
					if s[i] == '$' || s[i] == '`' {
						expanded = true
					}
					val.WriteByte(s[i])
					i++
				}
				i++
			case c == '$' || c == '`':
				expanded = true
				val.WriteByte(c)
				i++
			default:
				val.WriteByte(c)
				i++
			}
		}
		out = append(out, word{value: val.String(), span: span{start, i}, expanded: expanded})
	}
	return out
}

// commandPrefixes are words that run the next word as the command.
var commandPrefixes = map[string]bool{"sudo": true, "env": true, "nohup": true, "time": true, "exec": true, "command": true}

// optsWithArg are each tool's options that take the next word as their value.
var optsWithArg = map[Tool]map[string]bool{
	ToolApt: {"-o": true, "--option": true, "-c": true, "--config-file": true, "-t": true, "--target-release": true, "--default-release": true, "-a": true, "--host-architecture": true},
	ToolPip: {
		"-r": true, "--requirement": true, "-c": true, "--constraint": true, "-i": true, "--index-url": true,
		"--extra-index-url": true, "-f": true, "--find-links": true, "-t": true, "--target": true,
		"--prefix": true, "--root": true, "--trusted-host": true, "--platform": true, "--python-version": true,
		"--implementation": true, "--abi": true, "--src": true, "-e": true, "--editable": true,
		"--upgrade-strategy": true, "--progress-bar": true, "--cache-dir": true, "--log": true, "--proxy": true,
		"--timeout": true, "--retries": true, "--exists-action": true, "--cert": true, "--client-cert": true,
		"--config-settings": true, "-C": true, "--global-option": true, "--no-binary": true, "--only-binary": true,
		"--report": true, "--python": true,
	},
	ToolNpm: {"--prefix": true, "--registry": true, "--cache": true, "--userconfig": true, "-w": true, "--workspace": true, "--omit": true, "--include": true},
}

// Installs returns the package-manager install commands of the shell-form RUN
// steps, in order. It fails, with an error wrapping fault.ErrInvalid, on what
// the SBOM strategy cannot pin: an install in an exec-form RUN, package
// arguments that use shell expansions, apt upgrades, and installs of .deb files.
func (f *File) Installs() ([]Install, error) {
	var out []Install
	for idx, it := range f.items {
		if it.keyword != "RUN" {
			continue
		}
		_, cmd := splitRunFlags(it.rest)
		if strings.HasPrefix(cmd, "[") {
			var argv []string
			if err := json.Unmarshal([]byte(cmd), &argv); err == nil {
				if in := findTools(lexShell(strings.Join(argv, " ")), it.start+1, idx); len(in) > 0 {
					return nil, fault.Invalidf("Dockerfile line %d: %s install in an exec-form RUN; write it in shell form so that reehub can pin its packages", it.start+1, in[0].Tool)
				}
				continue
			}
		}
		words := lexShell(cmd)
		if err := checkSegments(words, it.start+1); err != nil {
			return nil, err
		}
		for _, in := range findTools(words, it.start+1, idx) {
			for i, p := range in.Packages {
				if words := lexShell(cmd[in.spans[i].start:in.spans[i].end]); len(words) == 1 && words[0].expanded {
					return nil, fault.Invalidf("Dockerfile line %d: %s package %q uses a shell expansion; the SBOM strategy pins literal package names only", in.Line, in.Tool, p)
				}
				if in.Tool == ToolApt && strings.HasSuffix(p, ".deb") {
					return nil, fault.Invalidf("Dockerfile line %d: apt-get install of the file %q cannot be pinned; install packages from the mirror", in.Line, p)
				}
			}
			out = append(out, in)
		}
	}
	return out, nil
}

// checkSegments rejects apt upgrades, which change packages no install names.
func checkSegments(words []word, line int) error {
	for _, seg := range segments(words) {
		tool, rest := commandOf(seg)
		if tool != ToolApt {
			continue
		}
		sub := subcommand(tool, rest)
		if sub >= 0 {
			switch rest[sub].value {
			case "upgrade", "dist-upgrade", "full-upgrade":
				return fault.Invalidf("Dockerfile line %d: apt-get %s cannot be pinned (it upgrades packages no install names); the base image is pinned instead", line, rest[sub].value)
			}
		}
	}
	return nil
}

// segments splits words at control operators.
func segments(words []word) [][]word {
	var out [][]word
	var cur []word
	for _, w := range words {
		if w.op {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, w)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// commandOf skips variable assignments and prefixes such as sudo and env and
// returns the tool a simple command runs and the words after it.
func commandOf(seg []word) (Tool, []word) {
	i := 0
	for i < len(seg) {
		v := seg[i].value
		switch {
		case isAssignment(v):
			i++
		case commandPrefixes[v]:
			i++
			for i < len(seg) && strings.HasPrefix(seg[i].value, "-") {
				i++
			}
		default:
			goto found
		}
	}
	return "", nil
found:
	name := path.Base(seg[i].value)
	rest := seg[i+1:]
	switch {
	case name == "apt-get" || name == "apt":
		return ToolApt, rest
	case name == "npm":
		return ToolNpm, rest
	case name == "pip" || strings.HasPrefix(name, "pip3"):
		return ToolPip, rest
	case name == "python" || strings.HasPrefix(name, "python3"):
		if len(rest) >= 2 && rest[0].value == "-m" && rest[1].value == "pip" {
			return ToolPip, rest[2:]
		}
		if len(rest) >= 1 && rest[0].value == "-mpip" {
			return ToolPip, rest[1:]
		}
	}
	return "", nil
}

func isAssignment(v string) bool {
	eq := strings.IndexByte(v, '=')
	if eq <= 0 {
		return false
	}
	for i, r := range v[:eq] {
		if !(r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// subcommand returns the index in rest of the tool's subcommand, skipping
// options (and their values), or -1.
func subcommand(tool Tool, rest []word) int {
	for i := 0; i < len(rest); i++ {
		v := rest[i].value
		if strings.HasPrefix(v, "-") {
			if optsWithArg[tool][v] {
				i++
			}
			continue
		}
		return i
	}
	return -1
}

// findTools returns the install commands among words (one RUN's command).
func findTools(words []word, line, run int) []Install {
	var out []Install
	for _, seg := range segments(words) {
		tool, rest := commandOf(seg)
		if tool == "" {
			continue
		}
		sub := subcommand(tool, rest)
		if sub < 0 {
			continue
		}
		verb := rest[sub].value
		in := Install{Tool: tool, Line: line, run: run, verb: rest[sub].span}
		switch {
		case tool == ToolApt && verb == "install", tool == ToolPip && verb == "install":
		case tool == ToolNpm && (verb == "install" || verb == "i" || verb == "add" || verb == "ci" || verb == "clean-install"):
		default:
			continue
		}
		args := rest[sub+1:]
		for i := 0; i < len(args); i++ {
			v := args[i].value
			if strings.HasPrefix(v, "-") {
				if tool == ToolNpm && (v == "-g" || v == "--global") {
					in.Global = true
				}
				if optsWithArg[tool][v] {
					i++
				}
				continue
			}
			in.Packages = append(in.Packages, v)
			in.spans = append(in.spans, args[i].span)
		}
		if tool == ToolNpm && (len(in.Packages) == 0 || verb == "ci" || verb == "clean-install") {
			in.FromLockfile = true
		}
		out = append(out, in)
	}
	return out
}

// PinInstalls returns the Dockerfile (base rewrites applied) in which the
// package arguments of every install that Installs returns are replaced by
// pin(i, install), i counting installs in Installs order; a nil result leaves
// that install as written. An npm install without package arguments becomes
// npm ci, which installs exactly what the lockfile says. A RUN with a
// rewritten install is emitted as one line (comments inside it are dropped).
func (f *File) PinInstalls(pin func(i int, in Install) []string) ([]byte, error) {
	installs, err := f.Installs()
	if err != nil {
		return nil, err
	}
	type edit struct {
		s    span
		text string
	}
	edits := map[int][]edit{}
	for i, in := range installs {
		if in.Tool == ToolNpm && in.FromLockfile && len(in.Packages) == 0 {
			edits[in.run] = append(edits[in.run], edit{in.verb, "ci"})
			continue
		}
		words := pin(i, in)
		if words == nil {
			continue
		}
		quoted := make([]string, len(words))
		for j, w := range words {
			quoted[j] = shellQuote(w)
		}
		text := strings.Join(quoted, " ")
		if len(in.spans) == 0 {
			if text != "" {
				edits[in.run] = append(edits[in.run], edit{span{in.verb.end, in.verb.end}, " " + text})
			}
			continue
		}
		edits[in.run] = append(edits[in.run], edit{in.spans[0], text})
		for _, s := range in.spans[1:] {
			edits[in.run] = append(edits[in.run], edit{s, ""})
		}
	}
	return f.render(func(it item) []string {
		idx := -1
		for n := range f.items {
			if f.items[n].start == it.start {
				idx = n
				break
			}
		}
		es := edits[idx]
		if len(es) == 0 {
			return nil
		}
		flags, cmd := splitRunFlags(it.rest)
		sort.Slice(es, func(a, b int) bool { return es[a].s.start > es[b].s.start })
		for _, e := range es {
			end := e.s.end
			if e.text == "" {
				// Remove the word and the blank before it.
				start := e.s.start
				for start > 0 && (cmd[start-1] == ' ' || cmd[start-1] == '\t') {
					start--
				}
				cmd = cmd[:start] + cmd[end:]
				continue
			}
			cmd = cmd[:e.s.start] + e.text + cmd[end:]
		}
		first := f.lines[it.start]
		kwStart := len(first) - len(strings.TrimLeft(first, " \t"))
		parts := append([]string{first[:kwStart+len("RUN")]}, flags...)
		parts = append(parts, strings.TrimSpace(cmd))
		return []string{strings.Join(parts, " ") + crOf(f.lines[it.end-1])}
	}), nil
}

// shellQuote quotes w for a POSIX shell when it contains anything but safe characters.
func shellQuote(w string) string {
	safe := w != ""
	for _, r := range w {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.+=:/@~,%^", r)) {
			safe = false
			break
		}
	}
	if safe {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

// Stages returns the number of FROM instructions.
func (f *File) Stages() int {
	n := 0
	for _, it := range f.items {
		if it.from != nil {
			n++
		}
	}
	return n
}
