// Package hostdeps_test checks that scripts/packages.txt, the one list of the
// Debian packages reehub's builds, lint, tests, benches and scripts use, is
// complete: every command that a Go file runs or looks up, that a shell script
// under scripts/, bench/ or .ci/ calls, or that the Makefile runs, must come
// from an Essential or priority-required package (every Debian has those) or
// from a listed package or one of its dependencies. A fresh Debian 12 machine
// then has everything once the setup scripts installed the list.
//
// Commands are found by parsing, not by grep: Go files with go/parser
// (exec.Command, exec.CommandContext and exec.LookPath with a literal name,
// `sh -c` scripts given as literals, os.ReadFile/Stat/Lstat/Open of an absolute
// path under /bin, /sbin or /usr, //go:generate lines), shell scripts and the
// Makefile's recipes and $(shell ...) calls with mvdan.cc/sh. Each command is
// resolved on PATH and mapped to its package with `dpkg-query -S`.
package hostdeps_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"mvdan.cc/sh/v3/syntax"
)

// installedGroups are the groups of scripts/packages.txt that `make test`
// installs (through .ci/run, make setup and scripts/setup-postgres.sh) before
// the tests run; their packages must be installed wherever this test runs.
var installedGroups = []string{"ci", "host", "test", "postgres"}

// knownGroups are every group scripts/packages.txt may use.
var knownGroups = []string{"ci", "host", "test", "postgres", "contract", "bench", "manual"}

// goToolchain is where CI provides Go; it is not a Debian package.
const goToolchain = "/usr/local/go/"

// use is one command or absolute path that the project needs on the host.
type use struct {
	name string // a command name ("podman") or an absolute path ("/bin/busybox")
	at   string // file:line
}

// listed is one line of scripts/packages.txt.
type listed struct {
	pkg      string
	group    string
	provides []string // commands or absolute paths
	line     int
}

func TestListedPackagesProvideEveryCommand(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("not a Debian system: dpkg-query is not on PATH")
	}
	root := repoRoot(t)
	list := readList(t, filepath.Join(root, "scripts/packages.txt"))
	db := readDpkg(t)

	uses := scanRepo(t, root)
	require.NotEmpty(t, uses, "the scan found no command at all")
	for _, want := range []string{"podman", "/bin/busybox", "debootstrap", "psql"} {
		require.True(t, slices.ContainsFunc(uses, func(u use) bool { return u.name == want }),
			"the scan missed %s, which the project is known to use: the scanner is broken", want)
	}

	listedPkgs := map[string]listed{}
	for _, l := range list {
		listedPkgs[l.pkg] = l
	}
	provided := db.closure(mapKeys(listedPkgs))

	var problems []string
	// Every package of the groups installed before the tests is installed.
	for _, l := range list {
		if !slices.Contains(knownGroups, l.group) {
			problems = append(problems, fmt.Sprintf("scripts/packages.txt:%d: unknown group %q (known: %s)", l.line, l.group, strings.Join(knownGroups, ", ")))
		}
		if slices.Contains(installedGroups, l.group) && !db.installed[l.pkg] {
			problems = append(problems, fmt.Sprintf("scripts/packages.txt:%d: %s (group %s) is not installed: make test installs it (scripts/setup-packages.sh %s)", l.line, l.pkg, l.group, l.group))
		}
	}
	// What the list says a package provides is true wherever it is installed.
	for _, l := range list {
		if !db.installed[l.pkg] {
			continue
		}
		for _, p := range l.provides {
			path, ok := resolve(p)
			if !ok {
				problems = append(problems, fmt.Sprintf("scripts/packages.txt:%d: %s is installed but %s is not on PATH", l.line, l.pkg, p))
				continue
			}
			owner := owners(t, path)
			if !slices.ContainsFunc(owner, func(o string) bool { return db.closure([]string{l.pkg})[o] }) {
				problems = append(problems, fmt.Sprintf("scripts/packages.txt:%d: %s (%s) belongs to %v, not to %s or its dependencies", l.line, p, path, owner, l.pkg))
			}
		}
	}

	byName := map[string][]string{}
	for _, u := range uses {
		byName[u.name] = append(byName[u.name], u.at)
	}
	names := mapKeys(byName)
	sort.Strings(names)
	npmBins := contractToolBins(t)
	for _, name := range names {
		at := byName[name]
		where := strings.Join(firstN(at, 3), ", ")
		if npmBins[name] {
			t.Logf("%-28s the pinned npm contract tools (tools/contract/package-lock.json) (%s)", name, where)
			continue
		}
		path, ok := resolve(name)
		if !ok {
			// Not installed here: only a listed package that is not installed
			// here (bench, manual) may provide it, and must say so.
			if slices.ContainsFunc(list, func(l listed) bool { return !db.installed[l.pkg] && slices.Contains(l.provides, name) }) {
				t.Logf("%-28s not installed here; scripts/packages.txt names its package (%s)", name, where)
				continue
			}
			problems = append(problems, fmt.Sprintf("%s (used at %s) is not installed and no package of scripts/packages.txt provides it: add its package to the list", name, where))
			continue
		}
		if strings.HasPrefix(path, goToolchain) {
			t.Logf("%-28s %s: the Go toolchain (%s)", name, path, where)
			continue
		}
		owner := owners(t, path)
		if len(owner) == 0 {
			problems = append(problems, fmt.Sprintf("%s (used at %s) resolves to %s, which no Debian package owns", name, where, path))
			continue
		}
		switch {
		case slices.ContainsFunc(owner, func(o string) bool { return db.base[o] }):
			t.Logf("%-28s %v: Essential or required (%s)", name, owner, where)
		case slices.ContainsFunc(owner, func(o string) bool { return provided[o] }):
			t.Logf("%-28s %v: listed (%s)", name, owner, where)
		default:
			problems = append(problems, fmt.Sprintf("%s (used at %s) comes from package %s, which scripts/packages.txt does not list (nor any listed package's dependencies) and a fresh Debian 12 does not have: add it to the list", name, where, strings.Join(owner, ", ")))
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// contractToolBins are the commands the pinned npm packages of
// tools/contract provide (scripts/setup-contract-tools.sh installs them with
// npm ci), read from the "bin" fields of its lock file.
func contractToolBins(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "tools", "contract", "package-lock.json"))
	if err != nil {
		t.Fatalf("read the contract tools' lock file: %v", err)
	}
	var lock struct {
		Packages map[string]struct {
			Bin map[string]string `json:"bin"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatalf("parse the contract tools' lock file: %v", err)
	}
	bins := map[string]bool{}
	for _, p := range lock.Packages {
		for name := range p.Bin {
			bins[name] = true
		}
	}
	return bins
}

// repoRoot is the module root: two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "repository root")
	return root
}

// readList parses scripts/packages.txt.
func readList(t *testing.T, path string) []listed {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []listed
	seen := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		require.GreaterOrEqual(t, len(f), 2, "%s:%d: want <package> <group> [<provides>...]", path, i+1)
		if prev, ok := seen[f[0]]; ok {
			t.Errorf("%s:%d: %s is listed again (first at line %d)", path, i+1, f[0], prev)
		}
		seen[f[0]] = i + 1
		out = append(out, listed{pkg: f[0], group: f[1], provides: f[2:], line: i + 1})
	}
	require.NotEmpty(t, out, path)
	return out
}

// dpkgDB is what dpkg knows about the installed packages.
type dpkgDB struct {
	installed map[string]bool
	base      map[string]bool     // Essential or priority required: on every Debian
	deps      map[string][]string // Depends and Pre-Depends, every alternative
	provider  map[string][]string // virtual package -> installed packages providing it
}

func readDpkg(t *testing.T) dpkgDB {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f=${Package}\t${Essential}\t${Priority}\t${db:Status-Status}\t${Pre-Depends}, ${Depends}\t${Provides}\n").Output()
	require.NoError(t, err, "dpkg-query -W")
	db := dpkgDB{installed: map[string]bool{}, base: map[string]bool{}, deps: map[string][]string{}, provider: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 6 || f[3] != "installed" {
			continue
		}
		pkg := f[0]
		db.installed[pkg] = true
		if f[1] == "yes" || f[2] == "required" {
			db.base[pkg] = true
		}
		db.deps[pkg] = relationNames(f[4])
		for _, v := range relationNames(f[5]) {
			db.provider[v] = append(db.provider[v], pkg)
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, db.base, "dpkg-query found no Essential package")
	return db
}

// relationNames returns the package names of a dpkg relation field
// ("a (>= 1), b | c:any"), every alternative included.
func relationNames(field string) []string {
	var out []string
	for _, alt := range strings.FieldsFunc(field, func(r rune) bool { return r == ',' || r == '|' }) {
		name := strings.TrimSpace(alt)
		if i := strings.IndexAny(name, " ("); i >= 0 {
			name = name[:i]
		}
		name, _, _ = strings.Cut(name, ":")
		if name != "" {
			out = append(out, name)
		}
	}
	return out
}

// closure returns the installed packages among pkgs and everything they
// depend on, directly or not (what installing pkgs installs).
func (db dpkgDB) closure(pkgs []string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(p string) {
		if seen[p] {
			return
		}
		if !db.installed[p] {
			for _, real := range db.provider[p] {
				visit(real)
			}
			return
		}
		seen[p] = true
		for _, d := range db.deps[p] {
			visit(d)
		}
	}
	for _, p := range pkgs {
		visit(p)
	}
	return seen
}

// resolve finds a command on PATH (and root's sbin directories), or checks
// that an absolute path exists.
func resolve(name string) (string, bool) {
	if filepath.IsAbs(name) {
		_, err := os.Stat(name)
		return name, err == nil
	}
	dirs := filepath.SplitList(os.Getenv("PATH"))
	dirs = append(dirs, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// owners returns the packages dpkg says own path: the path itself, its
// merged-/usr twin, or the file it links to (update-alternatives).
func owners(t *testing.T, path string) []string {
	t.Helper()
	var cands []string
	add := func(p string) {
		for _, c := range []string{p, usrTwin(p)} {
			if c != "" && !slices.Contains(cands, c) {
				cands = append(cands, c)
			}
		}
	}
	add(path)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		add(real)
	}
	for _, c := range cands {
		out, err := exec.Command("dpkg-query", "-S", c).Output()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("dpkg-query -S %s: %v", c, err)
		}
		var pkgs []string
		for _, line := range strings.Split(string(out), "\n") {
			list, p, ok := strings.Cut(line, ": ")
			if !ok || strings.HasPrefix(line, "diversion ") || strings.TrimSpace(p) != c {
				continue
			}
			for _, pkg := range strings.Split(list, ", ") {
				pkg, _, _ = strings.Cut(strings.TrimSpace(pkg), ":")
				pkgs = append(pkgs, pkg)
			}
		}
		if len(pkgs) > 0 {
			return pkgs
		}
	}
	return nil
}

// usrTwin maps /bin/x to /usr/bin/x and back (Debian 12 merges /usr, but dpkg
// records the path a package ships).
func usrTwin(p string) string {
	for _, d := range []string{"/bin/", "/sbin/", "/lib/", "/lib64/"} {
		if strings.HasPrefix(p, d) {
			return "/usr" + p
		}
		if strings.HasPrefix(p, "/usr"+d) {
			return strings.TrimPrefix(p, "/usr")
		}
	}
	return ""
}

// scanRepo finds every command and host path the repository uses.
func scanRepo(t *testing.T, root string) []use {
	t.Helper()
	var uses []use
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch {
			case rel == ".git", rel == "gen", rel == "bin", rel == "data", rel == "node_modules",
				d.Name() == "testdata", strings.HasPrefix(rel, "bench/out"):
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		switch {
		case strings.HasSuffix(path, ".go"):
			uses = append(uses, scanGo(t, path, rel)...)
		case rel == "Makefile":
			uses = append(uses, scanMakefile(t, path, rel)...)
		case isShellScript(path, rel):
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			uses = append(uses, scanShell(t, rel, 0, string(data))...)
		}
		return nil
	})
	require.NoError(t, err)
	return uses
}

// isShellScript reports whether a file under scripts/, bench/ or .ci/ is a
// shell script (by name or by its #! line).
func isShellScript(path, rel string) bool {
	if !strings.HasPrefix(rel, "scripts/") && !strings.HasPrefix(rel, "bench/") && !strings.HasPrefix(rel, ".ci/") {
		return false
	}
	if strings.HasSuffix(rel, ".sh") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.HasPrefix(line, "#!") && (strings.Contains(line, "sh\n") || strings.Contains(line, "bash"))
}

// hostPath matches an absolute path of a host program or library.
var hostPath = regexp.MustCompile(`^/(usr/|)(s?bin|lib|libexec)/[^*?\[ ]+$`)

// scanGo finds the commands a Go file runs or looks up and the host binaries it reads.
func scanGo(t *testing.T, path, rel string) []use {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
	require.NoError(t, err)
	var uses []use
	at := func(p token.Pos) string { return fmt.Sprintf("%s:%d", rel, fset.Position(p).Line) }
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if s, ok := strings.CutPrefix(c.Text, "//go:generate "); ok {
				uses = append(uses, scanShell(t, rel, fset.Position(c.Pos()).Line-1, s)...)
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		var nameArg int
		switch {
		case pkg.Name == "exec" && (sel.Sel.Name == "Command" || sel.Sel.Name == "LookPath"):
			nameArg = 0
		case pkg.Name == "exec" && sel.Sel.Name == "CommandContext":
			nameArg = 1
		case pkg.Name == "os" && slices.Contains([]string{"ReadFile", "Stat", "Lstat", "Open", "OpenFile"}, sel.Sel.Name):
			if len(call.Args) > 0 {
				if p, ok := stringLit(call.Args[0]); ok && hostPath.MatchString(p) {
					uses = append(uses, use{name: p, at: at(call.Pos())})
				}
			}
			return true
		default:
			return true
		}
		if len(call.Args) <= nameArg {
			return true
		}
		name, ok := stringLit(call.Args[nameArg])
		if !ok {
			return true
		}
		switch {
		case filepath.IsAbs(name):
			uses = append(uses, use{name: name, at: at(call.Pos())})
		case strings.Contains(name, "/"):
			// A program of the repository or of the test (./bin/reehub).
		default:
			uses = append(uses, use{name: name, at: at(call.Pos())})
		}
		// sh -c 'script': the script's commands too.
		if (name == "sh" || name == "bash") && len(call.Args) > nameArg+2 {
			if flag, ok := stringLit(call.Args[nameArg+1]); ok && flag == "-c" {
				if script, ok := concatLit(call.Args[nameArg+2]); ok {
					uses = append(uses, scanShell(t, rel, fset.Position(call.Pos()).Line-1, script)...)
				}
			}
		}
		return true
	})
	return uses
}

// stringLit returns the value of a Go string literal.
func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// concatLit returns a string concatenation with every non-literal operand
// replaced by "X" (a word for the shell parser).
func concatLit(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		return stringLit(e)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		l, ok1 := concatLit(e.X)
		r, ok2 := concatLit(e.Y)
		return l + r, ok1 && ok2
	default:
		return "X", true
	}
}

// makeRef matches a make variable reference $(NAME) or ${NAME}.
var makeRef = regexp.MustCompile(`\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]`)

// scanMakefile scans the Makefile's recipes and its $(shell ...) calls.
func scanMakefile(t *testing.T, path, rel string) []use {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	var uses []use
	for i := 0; i < len(lines); i++ {
		first := i
		line := lines[i]
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + "\n" + lines[i]
		}
		var scripts []string
		if recipe, ok := strings.CutPrefix(line, "\t"); ok {
			scripts = append(scripts, strings.TrimLeft(recipe, "@-+ "))
		} else {
			for rest := line; ; {
				j := strings.Index(rest, "$(shell ")
				if j < 0 {
					break
				}
				body, tail := balanced(rest[j+len("$(shell "):])
				scripts = append(scripts, body)
				rest = tail
			}
		}
		for _, s := range scripts {
			// make's $$ is the shell's $; make variables become shell parameters
			// ($(SUDO) bash ... is then a parameter prefix, like $SUDO in a script).
			s = strings.ReplaceAll(s, "$$", "\x00")
			s = strings.ReplaceAll(s, "$(shell ", "$(")
			s = makeRef.ReplaceAllString(s, "$${$1}")
			s = strings.NewReplacer("$@", "target", "$<", "source", "$^", "sources").Replace(s)
			s = strings.ReplaceAll(s, "\x00", "$")
			uses = append(uses, scanShell(t, rel, first, s)...)
		}
	}
	return uses
}

// balanced splits s after the parenthesis that closes an already open one.
func balanced(s string) (body, rest string) {
	depth := 1
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// shellBuiltins are bash's builtins and keywords: never a package's command.
var shellBuiltins = strings.Fields(`. : [ [[ alias bg bind break builtin caller cd command compgen complete
	compopt continue declare dirs disown echo enable eval exec exit export false fc fg getopts hash help
	history jobs kill let local logout mapfile popd printf pushd pwd read readarray readonly return set
	shift shopt source suspend test times trap true type typeset ulimit umask unalias unset wait`)

// shellScanner finds the commands of one shell script.
type shellScanner struct {
	t        *testing.T
	file     string
	offset   int             // lines before the script in file
	funcs    map[string]bool // functions the script defines
	wrappers map[string]bool // functions that run their arguments as a command ("$@")
	uses     []use
}

// scanShell parses a shell script (bash) and returns the commands it calls.
func scanShell(t *testing.T, file string, offset int, script string) []use {
	t.Helper()
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), file)
	require.NoError(t, err, "%s:%d: parse shell", file, offset+1)
	s := &shellScanner{t: t, file: file, offset: offset, funcs: map[string]bool{}, wrappers: map[string]bool{}}
	var decls []*syntax.FuncDecl
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok {
			s.funcs[fd.Name.Value] = true
			decls = append(decls, fd)
		}
		return true
	})
	// A wrapper runs "$@" as a command (as_root, as_postgres); its first
	// argument is then the command. Wrappers may call wrappers: iterate.
	for changed := true; changed; {
		changed = false
		for _, fd := range decls {
			if s.wrappers[fd.Name.Value] {
				continue
			}
			syntax.Walk(fd.Body, func(n syntax.Node) bool {
				if c, ok := n.(*syntax.CallExpr); ok {
					if i := s.commandIndex(c.Args, false); i >= 0 && isAllArgs(c.Args[i]) {
						s.wrappers[fd.Name.Value] = true
						changed = true
					}
				}
				return true
			})
		}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CallExpr:
			s.call(n)
		case *syntax.UnaryTest:
			if n.Op == syntax.TsExists || n.Op == syntax.TsRegFile || n.Op == syntax.TsExec {
				if w, ok := n.X.(*syntax.Word); ok {
					s.path(w)
				}
			}
		}
		return true
	})
	return s.uses
}

func (s *shellScanner) add(name string, pos syntax.Pos) {
	s.uses = append(s.uses, use{name: name, at: fmt.Sprintf("%s:%d", s.file, s.offset+int(pos.Line()))})
}

// path records an absolute literal path of a host binary given to a file test.
func (s *shellScanner) path(w *syntax.Word) {
	if p, ok := wordLit(w); ok && hostPath.MatchString(p) {
		s.add(p, w.Pos())
	}
}

// call records the command of a simple command, with the programs that its
// prefixes (sudo, env, setsid, xargs, ...) run, and the paths `[ -x ... ]` tests.
func (s *shellScanner) call(c *syntax.CallExpr) {
	i := s.commandIndex(c.Args, true)
	if i < 0 {
		return
	}
	name, _ := wordLit(c.Args[i])
	switch name {
	case "[", "test":
		for j := i + 1; j+1 < len(c.Args); j++ {
			if f, _ := wordLit(c.Args[j]); f == "-x" || f == "-e" || f == "-f" {
				s.path(c.Args[j+1])
			}
		}
		return
	case "command":
		// command -v NAME checks that NAME is installed: the script needs it.
		if i+2 < len(c.Args) {
			if f, _ := wordLit(c.Args[i+1]); f == "-v" || f == "-V" {
				if n, ok := wordLit(c.Args[i+2]); ok {
					s.name(n, c.Args[i+2].Pos())
				}
			}
		}
		return
	}
	s.name(name, c.Args[i].Pos())
	if (name == "sh" || name == "bash") && i+2 < len(c.Args) {
		if f, _ := wordLit(c.Args[i+1]); f == "-c" {
			if script, ok := wordLit(c.Args[i+2]); ok {
				s.uses = append(s.uses, scanShell(s.t, s.file, s.offset+int(c.Args[i+2].Pos().Line())-1, script)...)
			}
		}
	}
}

// name records a command name unless it is a builtin, a function of the
// script or a path (a program of the repository, ./bin/reehub).
func (s *shellScanner) name(name string, pos syntax.Pos) {
	switch {
	case name == "", slices.Contains(shellBuiltins, name), s.funcs[name], strings.Contains(name, "="):
	case filepath.IsAbs(name):
		s.add(name, pos)
	case strings.Contains(name, "/"):
	default:
		s.add(name, pos)
	}
}

// prefixOpts are the options of command prefixes that take a value.
var prefixOpts = map[string][]string{
	"sudo":    {"-u", "-g", "-C", "-D", "-h", "-p", "-U", "-r", "-t"},
	"runuser": {"-u", "-g", "-G", "-c", "-s", "-w"},
	"xargs":   {"-n", "-I", "-d", "-P", "-L", "-s", "-E", "-a"},
	"env":     {"-u", "-C", "-S"},
	"nice":    {"-n"},
	"timeout": {"-s", "-k"},
	"setsid":  {},
	"nohup":   {},
	"stdbuf":  {"-i", "-o", "-e"},
	"exec":    {"-a"},
}

// commandIndex returns the index of the word that names the command run by
// args, past variable prefixes ($SUDO), command prefixes (sudo -u x, env A=b,
// setsid -f, xargs -r, timeout 5) and wrapper functions, recording the
// prefixes as commands when record is set. -1 means none or not a literal.
func (s *shellScanner) commandIndex(args []*syntax.Word, record bool) int {
	for i := 0; i < len(args); i++ {
		w := args[i]
		if isAllArgs(w) {
			return i
		}
		lit, ok := wordLit(w)
		if !ok {
			if isParam(w) && isPrefixVar(w) {
				continue // $SUDO apt-get ...: the command is the next word
			}
			return -1 // a command named by a variable ("$node" -p ...) is not checked
		}
		opts, isPrefix := prefixOpts[lit]
		if !isPrefix {
			if s.wrappers[lit] {
				continue
			}
			return i
		}
		if record && lit != "exec" {
			s.name(lit, w.Pos())
		}
	opts:
		for i+1 < len(args) {
			next, ok := wordLit(args[i+1])
			if !ok {
				break
			}
			switch {
			case next == "--":
				i++
				break opts
			case slices.Contains(opts, next):
				i += 2
			case strings.HasPrefix(next, "-"):
				i++
			case lit == "env" && strings.Contains(next, "="):
				i++
			case lit == "timeout" && isDuration(next):
				i++
				break opts
			default:
				break opts
			}
		}
	}
	return -1
}

// duration matches a timeout(1) duration (5, 2.5s, 1m).
var duration = regexp.MustCompile(`^[0-9.]+[smhd]?$`)

func isDuration(s string) bool { return duration.MatchString(s) }

// wordLit returns a word's value when it has no expansion.
func wordLit(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return "", false
				}
				b.WriteString(l.Value)
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// isParam reports whether a word is one plain parameter expansion ($SUDO, "${X}").
func isParam(w *syntax.Word) bool {
	parts := w.Parts
	if len(parts) == 1 {
		if dq, ok := parts[0].(*syntax.DblQuoted); ok {
			parts = dq.Parts
		}
	}
	if len(parts) != 1 {
		return false
	}
	pe, ok := parts[0].(*syntax.ParamExp)
	return ok && pe.Param != nil && pe.Index == nil && pe.Exp == nil && pe.Repl == nil && pe.Slice == nil
}

// isPrefixVar reports whether a parameter word is one of the upper-case
// variables the scripts put before a command ($SUDO), not a command itself.
func isPrefixVar(w *syntax.Word) bool {
	parts := w.Parts
	if dq, ok := parts[0].(*syntax.DblQuoted); ok && len(parts) == 1 {
		parts = dq.Parts
	}
	pe := parts[0].(*syntax.ParamExp)
	name := pe.Param.Value
	return name != "" && strings.ToUpper(name) == name && name[0] >= 'A' && name[0] <= 'Z'
}

// isAllArgs reports whether a word is "$@" or $@.
func isAllArgs(w *syntax.Word) bool {
	parts := w.Parts
	if len(parts) == 1 {
		if dq, ok := parts[0].(*syntax.DblQuoted); ok {
			parts = dq.Parts
		}
	}
	if len(parts) != 1 {
		return false
	}
	pe, ok := parts[0].(*syntax.ParamExp)
	return ok && pe.Param != nil && (pe.Param.Value == "@" || pe.Param.Value == "*")
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
