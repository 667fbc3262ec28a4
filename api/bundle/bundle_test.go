package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRepositoryBundle: the committed openapi.yaml is what api/ bundles to.
func TestRepositoryBundle(t *testing.T) {
	t.Parallel()
	got, err := bundle("../../api")
	require.NoError(t, err)
	want, err := os.ReadFile("../../openapi.yaml")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "run make gen")
}

const commonYAML = `openapi: 3.0.3
info: {title: t, version: 0.1.0}
security:
  - basicAuth: []
x-reehub-families: [demo]
tags: []
paths: {}
components:
  securitySchemes:
    basicAuth: {type: http, scheme: basic}
  schemas:
    Error: {type: object}
`

func writeAPI(t *testing.T, family string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "common.yaml"), []byte(commonYAML), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "demo.yaml"), []byte(family), 0o644))
	return dir
}

// TestNamingRules: each rule of docs/contract.md fails a family file that breaks it.
func TestNamingRules(t *testing.T) {
	t.Parallel()
	good := `tags:
  - name: "demo: things"
paths:
  /things:
    get:
      operationId: demoListThings
      tags: ["demo: things"]
      x-reehub-scope: read
      summary: s
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/DemoThing'}
  /open:
    get:
      operationId: demoOpen
      tags: ["demo: things"]
      security: []
      summary: s
      responses:
        '200': {description: ok}
components:
  schemas:
    DemoThing: {type: object}
`
	_, err := bundle(writeAPI(t, good))
	require.NoError(t, err)

	cases := map[string][3]string{ // old, new, the error that names the rule
		"tag without family":     {`name: "demo: things"`, `name: "things"`, `tag "things" must be "demo: "`},
		"operationId prefix":     {"operationId: demoListThings", "operationId: listThings", `operationId "listThings" must start with "demo"`},
		"lower after prefix":     {"operationId: demoListThings", "operationId: demolistThings", `operationId "demolistThings" must start`},
		"missing scope":          {"      x-reehub-scope: read\n", "", `x-reehub-scope must be read, write or admin, not ""`},
		"unknown scope":          {"x-reehub-scope: read", "x-reehub-scope: everything", `not "everything"`},
		"scope on open op":       {"security: []\n", "security: []\n      x-reehub-scope: read\n", "an open operation has no x-reehub-scope"},
		"schema prefix":          {"DemoThing: {type: object}", "DemoThing: {type: object}\n    Thing: {type: object}", `component schemas/Thing must start with "Demo"`},
		"foreign tag":            {`tags: ["demo: things"]` + "\n      x-reehub-scope", `tags: ["other: things"]` + "\n      x-reehub-scope", "needs exactly one tag declared in its file"},
		"common name redeclared": {"DemoThing: {type: object}", "DemoThing: {type: object}\n    Error: {type: object}", `component schemas/Error must start with "Demo"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bad := strings.Replace(good, c[0], c[1], 1)
			require.NotEqual(t, good, bad, "the case must change the file")
			_, err := bundle(writeAPI(t, bad))
			require.ErrorContains(t, err, c[2])
		})
	}
}
