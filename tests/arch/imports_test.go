// Package arch_test enforces reehub's import directions (docs/development.md,
// "Import rules"): server talks to services only, services never see HTTP,
// generated code or GORM, GORM stays in store, the Podman bindings stay in
// runtime/podman and runtime/baseimage, analysis is a pure library, and the
// generated client is for tests only.
//
// Only direct imports of non-test files count; a package may still reach a
// forbidden package through another one (service/auth reaches net/http
// through go-oidc). Files excluded by build constraints count too, so a rule
// cannot be dodged with a build tag.
package arch_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// module is the import path of the module whose packages are checked.
const module = "github.com/reehub/reehub"

// rule forbids packages matched by from (and not by except) to import any
// path under one of deny.
type rule struct {
	name   string
	from   []string // package path prefixes, relative to module ("" is every package)
	except []string // package path prefixes, relative to module, exempt from the rule
	deny   []string // import path prefixes; a leading "./" means relative to module
	why    string
}

// importRules returns reehub's import directions. Prefixes match a path and everything below it.
func importRules() []rule {
	return []rule{
		{
			name: "server_talks_to_services_only",
			from: []string{"server"},
			deny: []string{"./store", "./runtime", "gorm.io", "github.com/containers/podman"},
			why:  "server calls service/...; storage and runtime are behind the services",
		},
		{
			name: "services_see_no_http",
			from: []string{"service"},
			// The url upload fetcher is an HTTP client, never a handler.
			except: []string{"service/fossology/fetch"},
			deny:   []string{"github.com/gin-gonic/gin", "net/http", "./gen", "./server", "gorm.io"},
			why:    "services speak domain types; HTTP and generated API types stay in server, GORM stays in store",
		},
		{
			name: "upload_fetcher_is_only_a_client",
			from: []string{"service/fossology/fetch"},
			deny: []string{"github.com/gin-gonic/gin", "./gen", "./server", "gorm.io"},
			why:  "the url/vcs upload fetcher may use net/http as a client, and nothing else of the HTTP layer",
		},
		{
			name:   "gorm_only_in_store",
			from:   []string{""},
			except: []string{"store"},
			deny:   []string{"gorm.io"},
			why:    "only store may use GORM; others use store's types and functions",
		},
		{
			name:   "podman_bindings_only_in_runtime",
			from:   []string{""},
			except: []string{"runtime/podman", "runtime/baseimage"},
			deny:   []string{"github.com/containers/podman"},
			why:    "only runtime/podman and runtime/baseimage may use the Podman bindings",
		},
		{
			name: "analysis_is_a_pure_library",
			from: []string{"analysis"},
			deny: []string{
				"./server", "./service", "./store", "./runtime/podman", "./gen",
				"github.com/gin-gonic/gin", "gorm.io", "github.com/containers/podman",
			},
			why: "analysis has no HTTP, no database and no Podman",
		},
		{
			name: "lower_layers_never_import_upper_layers",
			from: []string{"store", "runtime", "analysis", "archive", "fault", "metrics"},
			deny: []string{"./server", "./service", "./cmd", "./gen", "./tests", "./bench"},
			why:  "dependencies point down only (server -> service -> store, runtime, analysis)",
		},
		{
			name:   "generated_client_only_in_tests",
			from:   []string{""},
			except: []string{"tests", "bench", "cmd/reehub/internal/cli"},
			deny:   []string{"./gen/client"},
			why:    "gen/client is the Go SDK of the tests, the benchmarks and the command-line client; the server never calls its own API",
		},
	}
}

// pkg is one package of the module as far as the rules need it.
type pkg struct {
	path  string              // import path relative to module ("" for the module root)
	files map[string][]string // non-test file path (relative to the module root) -> import paths
	lines map[string]int      // "file\x00import" -> line
}

// violation is one forbidden import.
type violation struct {
	rule, pkg, imp, file, why string
	line                      int
}

func (v violation) String() string {
	return fmt.Sprintf("%s:%d: package %s imports %q, forbidden by rule %s: %s",
		v.file, v.line, v.pkg, v.imp, v.rule, v.why)
}

// under reports whether path is prefix or below it; the empty prefix matches everything.
func under(path, prefix string) bool {
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// denied reports whether imp (a full import path) is under one of deny.
func denied(imp string, deny []string) bool {
	for _, d := range deny {
		if rel, ok := strings.CutPrefix(d, "./"); ok {
			d = module + "/" + rel
		}
		if under(imp, d) {
			return true
		}
	}
	return false
}

// applies reports whether r governs the package at relative path p.
func (r rule) applies(p string) bool {
	in := slices.ContainsFunc(r.from, func(f string) bool { return under(p, f) })
	out := slices.ContainsFunc(r.except, func(e string) bool { return under(p, e) })
	return in && !out
}

// check returns every violation of rules by pkgs, sorted by file and line.
func check(rules []rule, pkgs []pkg) []violation {
	var out []violation
	for _, r := range rules {
		for _, p := range pkgs {
			if !r.applies(p.path) {
				continue
			}
			for file, imps := range p.files {
				for _, imp := range imps {
					if denied(imp, r.deny) {
						out = append(out, violation{
							rule: r.name, pkg: module + "/" + p.path, imp: imp,
							file: file, line: p.lines[file+"\x00"+imp], why: r.why,
						})
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b violation) int {
		return strings.Compare(fmt.Sprintf("%s\x00%09d\x00%s", a.file, a.line, a.rule),
			fmt.Sprintf("%s\x00%09d\x00%s", b.file, b.line, b.rule))
	})
	return out
}

// listed is the part of `go list -json` output the test reads.
type listed struct {
	ImportPath     string
	Dir            string
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	Error          *struct{ Err string }
}

// moduleRoot walks up from the working directory to the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the working directory")
		dir = parent
	}
}

// load lists the module's packages with the go command and parses the import
// clauses of their non-test files, including files excluded by build constraints.
func load(t *testing.T, root string) []pkg {
	t.Helper()
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command must be on PATH")
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Dir,GoFiles,CgoFiles,IgnoredGoFiles,Error", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list ./... in %s: %s", root, stderr.String())

	fset := token.NewFileSet()
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var l listed
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "decode go list output")
		require.Nil(t, l.Error, "go list cannot load %s, so its imports cannot be checked: %+v", l.ImportPath, l.Error)
		if l.ImportPath != module && !strings.HasPrefix(l.ImportPath, module+"/") {
			continue
		}
		p := pkg{
			path:  strings.TrimPrefix(strings.TrimPrefix(l.ImportPath, module), "/"),
			files: map[string][]string{},
			lines: map[string]int{},
		}
		names := slices.Concat(l.GoFiles, l.CgoFiles, l.IgnoredGoFiles)
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			full := filepath.Join(l.Dir, name)
			rel, err := filepath.Rel(root, full)
			require.NoError(t, err)
			f, err := parser.ParseFile(fset, full, nil, parser.ImportsOnly)
			require.NoError(t, err, "parse imports of %s", rel)
			for _, spec := range f.Imports {
				imp, err := strconv.Unquote(spec.Path.Value)
				require.NoError(t, err, "%s: import %s", rel, spec.Path.Value)
				p.files[rel] = append(p.files[rel], imp)
				p.lines[rel+"\x00"+imp] = fset.Position(spec.Pos()).Line
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestImportDirection fails for every import in the module that breaks one of
// the rules, naming the file, the line, the import and the rule.
func TestImportDirection(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	pkgs := load(t, root)

	// Guard against a vacuous pass: the layers the rules govern must be found.
	paths := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		paths = append(paths, p.path)
	}
	for _, want := range []string{"server", "store", "runtime/podman", "gen/client"} {
		require.Contains(t, paths, want, "go list in %s did not find package %s", root, want)
	}
	rules := importRules()
	for _, r := range rules {
		require.True(t, slices.ContainsFunc(paths, r.applies), "rule %s applies to no package; update it", r.name)
	}

	vs := check(rules, pkgs)
	if len(vs) > 0 {
		lines := make([]string, len(vs))
		for i, v := range vs {
			lines[i] = v.String()
		}
		t.Fatalf("%d forbidden import(s) (rules in tests/arch/imports_test.go, explained in docs/development.md):\n%s",
			len(vs), strings.Join(lines, "\n"))
	}
}

// TestRules shows that each rule catches what it should and lets through what it should.
func TestRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		from string // package path relative to module
		imp  string // full import path
		want []string
	}{
		{"server imports store", "server", module + "/store", []string{"server_talks_to_services_only"}},
		{"server imports store/blob", "server", module + "/store/blob", []string{"server_talks_to_services_only"}},
		{"server imports runtime/proxy", "server", module + "/runtime/proxy", []string{"server_talks_to_services_only"}},
		{"server imports gorm", "server", "gorm.io/gorm", []string{"gorm_only_in_store", "server_talks_to_services_only"}},
		{"server imports podman bindings", "server/x", "github.com/containers/podman/v5/pkg/bindings",
			[]string{"podman_bindings_only_in_runtime", "server_talks_to_services_only"}},
		{"server imports services", "server", module + "/service/ree", nil},
		{"server imports gen/api", "server", module + "/gen/api", nil},
		{"service imports gin", "service/ree", "github.com/gin-gonic/gin", []string{"services_see_no_http"}},
		{"service imports net/http", "service/auth", "net/http", []string{"services_see_no_http"}},
		{"service imports net/http/httptest", "service/auth", "net/http/httptest", []string{"services_see_no_http"}},
		{"service imports gen/api", "service/process", module + "/gen/api", []string{"services_see_no_http"}},
		{"service imports gen/client", "service/process", module + "/gen/client",
			[]string{"generated_client_only_in_tests", "services_see_no_http"}},
		{"service imports store", "service/process", module + "/store", nil},
		{"the url upload fetcher imports net/http", "service/fossology/fetch", "net/http", nil},
		{"the fetcher's siblings do not", "service/fossology/report", "net/http", []string{"services_see_no_http"}},
		{"the fetcher imports gin", "service/fossology/fetch", "github.com/gin-gonic/gin", []string{"upload_fetcher_is_only_a_client"}},
		{"service imports net", "service/ree", "net", nil},
		{"service imports go-oidc", "service/auth", "github.com/coreos/go-oidc/v3/oidc", nil},
		{"store imports gorm", "store", "gorm.io/driver/postgres", nil},
		{"store subpackage imports gorm", "store/blob", "gorm.io/gorm", nil},
		{"storehouse is not store", "storehouse", "gorm.io/gorm", []string{"gorm_only_in_store"}},
		{"cmd imports gorm", "cmd/reehub", "gorm.io/gorm", []string{"gorm_only_in_store"}},
		{"runtime/podman imports bindings", "runtime/podman", "github.com/containers/podman/v5/pkg/bindings", nil},
		{"runtime/baseimage imports bindings", "runtime/baseimage", "github.com/containers/podman/v5/pkg/bindings/images", nil},
		{"runtime/proxy imports bindings", "runtime/proxy", "github.com/containers/podman/v5/pkg/bindings",
			[]string{"podman_bindings_only_in_runtime"}},
		{"cmd imports bindings", "cmd/reehub", "github.com/containers/podman/v5/pkg/specgen",
			[]string{"podman_bindings_only_in_runtime"}},
		{"containers/common is not podman", "service/ree", "github.com/containers/common/libnetwork/types", nil},
		{"analysis imports service", "analysis/sbom", module + "/service/ree",
			[]string{"analysis_is_a_pure_library", "lower_layers_never_import_upper_layers"}},
		{"analysis imports runtime/podman", "analysis/scan", module + "/runtime/podman", []string{"analysis_is_a_pure_library"}},
		{"analysis imports gin", "analysis", "github.com/gin-gonic/gin", []string{"analysis_is_a_pure_library"}},
		{"analysis imports runtime/proxy", "analysis/scan", module + "/runtime/proxy", nil},
		{"analysis imports fault", "analysis/license", module + "/fault", nil},
		{"store imports service", "store", module + "/service/auth", []string{"lower_layers_never_import_upper_layers"}},
		{"runtime imports server", "runtime/proxy", module + "/server", []string{"lower_layers_never_import_upper_layers"}},
		{"runtime/baseimage imports runtime/podman", "runtime/baseimage", module + "/runtime/podman", nil},
		{"cmd imports gen/client", "cmd/reehub", module + "/gen/client", []string{"generated_client_only_in_tests"}},
		{"the CLI imports gen/client", "cmd/reehub/internal/cli", module + "/gen/client", nil},
		{"gen/api imports gen/client", "gen/api", module + "/gen/client", []string{"generated_client_only_in_tests"}},
		{"tests import gen/client", "tests", module + "/gen/client", nil},
		{"tests subpackage imports gen/client", "tests/e2e", module + "/gen/client", nil},
		{"bench imports gen/client", "bench/ree", module + "/gen/client", nil},
		{"generated clientele is not gen/client", "cmd/reehub", module + "/gen/clientele", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := tt.from + "/x.go"
			p := pkg{
				path:  tt.from,
				files: map[string][]string{file: {tt.imp}},
				lines: map[string]int{file + "\x00" + tt.imp: 7},
			}
			var got []string
			for _, v := range check(importRules(), []pkg{p}) {
				got = append(got, v.rule)
				require.Equal(t, file, v.file)
				require.Equal(t, 7, v.line)
				require.Contains(t, v.String(), fmt.Sprintf("%s:7: package %s/%s imports %q", file, module, tt.from, tt.imp))
			}
			slices.Sort(got)
			require.Equal(t, tt.want, got)
		})
	}
}
