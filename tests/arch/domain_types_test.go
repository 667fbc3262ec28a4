package arch_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// storeLeaks lists where the exported API of the Go files in dir mentions a
// type of package store, or has an exported field that names a secret's hash:
// the results of exported functions and methods, and exported fields
// of exported types.
func storeLeaks(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var leaks []string
	mentionsStore := func(n ast.Node) bool {
		found := false
		ast.Inspect(n, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "store" {
					found = true
				}
			}
			return !found
		})
		return found
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv != nil {
					recv := d.Recv.List[0].Type
					if star, ok := recv.(*ast.StarExpr); ok {
						recv = star.X
					}
					if id, ok := recv.(*ast.Ident); ok && !id.IsExported() {
						continue
					}
				}
				// Parameters may take the store (New's dependency); results never hand a store type out.
				if d.Type.Results != nil && mentionsStore(d.Type.Results) {
					leaks = append(leaks, fset.Position(d.Pos()).String()+": func "+d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok || !ts.Name.IsExported() {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						if mentionsStore(ts.Type) {
							leaks = append(leaks, fset.Position(ts.Pos()).String()+": type "+ts.Name.Name)
						}
						continue
					}
					for _, fld := range st.Fields.List {
						exported := len(fld.Names) == 0 // embedded
						for _, n := range fld.Names {
							if n.IsExported() {
								exported = true
								if strings.HasSuffix(n.Name, "Hash") {
									leaks = append(leaks, fset.Position(n.Pos()).String()+": field "+ts.Name.Name+"."+n.Name)
								}
							}
						}
						if exported && mentionsStore(fld.Type) {
							leaks = append(leaks, fset.Position(fld.Pos()).String()+": field of "+ts.Name.Name)
						}
					}
				}
			}
		}
	}
	return leaks
}

// TestAuthOwnsItsTypes holds the seam between server and service/auth: no
// exported function, method or field of service/auth hands out a store row
// (and with it a password or token hash).
func TestAuthOwnsItsTypes(t *testing.T) {
	t.Parallel()
	require.Empty(t, storeLeaks(t, filepath.Join(moduleRoot(t), "service", "auth")))
}

// TestStoreLeaksAreFound shows the check failing on an API that aliases a store row.
func TestStoreLeaksAreFound(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `package auth

import "github.com/reehub/reehub/store"

type User = store.User

type Principal struct {
	Row          store.User
	PasswordHash string
	secret       store.Token
}

func (s *Service) Get() (store.User, error) { return store.User{}, nil }

func hidden() store.User { return store.User{} }

func New(st *store.Store) *Service { return nil }
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o600))
	leaks := storeLeaks(t, dir)
	require.Len(t, leaks, 4, "%v", leaks)
}
