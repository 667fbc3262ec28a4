package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
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

// TestMirror: x-reehub-mirror serves a family's paths under a second prefix
// with suffixed operationIds, and the copies obey the same rules.
func TestMirror(t *testing.T) {
	t.Parallel()
	family := `x-reehub-mirror: {from: /repo/api/v1, to: /api/v1, operationIdSuffix: V1}
tags:
  - name: "demo: things"
paths:
  /repo/api/v1/things/{id}:
    get:
      operationId: demoGetThing
      tags: ["demo: things"]
      x-reehub-scope: read
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200': {description: ok}
  /other:
    get:
      operationId: demoOther
      tags: ["demo: things"]
      x-reehub-scope: read
      responses:
        '200': {description: ok}
components: {}
`
	out, err := bundle(writeAPI(t, family))
	require.NoError(t, err)
	doc := string(out)
	require.Contains(t, doc, "/repo/api/v1/things/{id}:")
	require.Contains(t, doc, "/api/v1/things/{id}:")
	require.Contains(t, doc, "operationId: demoGetThingV1")
	require.NotContains(t, doc, "demoOtherV1", "paths outside the prefix are not mirrored")
	require.NotContains(t, doc, "x-reehub-mirror")

	_, err = bundle(writeAPI(t, strings.Replace(family, "/other:", "/api/v1/things/{id}:", 1)))
	require.ErrorContains(t, err, "/api/v1/things/{id}")
	_, err = bundle(writeAPI(t, strings.Replace(family, "operationIdSuffix: V1", "operationIdSuffix: v1", 1)))
	require.ErrorContains(t, err, "x-reehub-mirror needs")
	_, err = bundle(writeAPI(t, strings.Replace(family, "from: /repo/api/v1", "from: /nothing", 1)))
	require.ErrorContains(t, err, "no path starts with /nothing")
}

// TestFossologyFamily bundles api/ with the FOSSology family listed (it is
// not in x-reehub-families until its handlers exist, so that gen/ and the
// server are unchanged) and checks the family's own rules: every path is
// served under /repo/api/v1 and /api/v1, every error is the Error model and
// every created resource answers the {code, message, type} model.
func TestFossologyFamily(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files, err := filepath.Glob("../../api/*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if filepath.Base(f) == "common.yaml" && !regexp.MustCompile(`x-reehub-families: \[[^\]]*\bfossology\b`).Match(b) {
			old := "x-reehub-families: [system, account, ree"
			require.Contains(t, string(b), old)
			b = []byte(strings.Replace(string(b), old, old+", fossology", 1))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	out, err := bundle(dir)
	require.NoError(t, err)

	type operation struct {
		OperationID string `yaml:"operationId"`
		Tags        []string
		Responses   map[string]struct {
			Ref     string `yaml:"$ref"`
			Content map[string]struct {
				Schema struct {
					Ref string `yaml:"$ref"`
				}
			}
		}
	}
	var raw struct {
		Paths map[string]map[string]yaml.Node
	}
	require.NoError(t, yaml.Unmarshal(out, &raw))
	var doc struct {
		Paths map[string]map[string]operation
	}
	doc.Paths = map[string]map[string]operation{}
	for p, item := range raw.Paths {
		doc.Paths[p] = map[string]operation{}
		for key, node := range item {
			if !slices.Contains(methods, key) {
				continue // path-level parameters, summary, ...
			}
			var op operation
			require.NoError(t, node.Decode(&op))
			doc.Paths[p][key] = op
		}
	}
	ops := 0
	for p, item := range doc.Paths {
		rest, ok := strings.CutPrefix(p, "/repo/api/v1/")
		if !ok {
			continue
		}
		twin, ok := doc.Paths["/api/v1/"+rest]
		require.True(t, ok, "%s has no /api/v1 twin", p)
		for method, op := range item {
			ops++
			require.True(t, strings.HasPrefix(op.OperationID, "fossology"), op.OperationID)
			require.Equal(t, op.OperationID+"V1", twin[method].OperationID)
			require.Len(t, op.Tags, 1)
			require.True(t, strings.HasPrefix(op.Tags[0], "fossology: "))
			for code, r := range op.Responses {
				where := method + " " + p + " " + code
				switch {
				case code >= "400":
					if r.Ref != "" {
						require.Regexp(t, `^#/components/responses/(Fossology[A-Za-z]+|Unauthorized|Forbidden|TooLarge|InternalError)$`, r.Ref, where)
						continue
					}
					require.Equal(t, "#/components/schemas/ApiError", r.Content["application/json"].Schema.Ref, where)
				case code == "201":
					require.Regexp(t, `#/components/schemas/Fossology(Created|Info|Token)$`, r.Content["application/json"].Schema.Ref, where)
				}
			}
		}
	}
	require.Equal(t, 32, ops, "operations under /repo/api/v1")
}
