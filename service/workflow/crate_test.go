package workflow_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/service/workflow"
)

// roCrateContext is the RO-Crate 1.1 JSON-LD context, committed from
// ResearchObject/ro-crate (tests/testdata/README.md names the commit).
func roCrateContext(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../../tests/testdata/ro-crate-1.1-context.jsonld")
	require.NoError(t, err)
	var doc struct {
		ID      string         `json:"@id"`
		Context map[string]any `json:"@context"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Equal(t, "https://w3id.org/ro/crate/1.1/context", doc.ID)
	require.Greater(t, len(doc.Context), 100)
	return doc.Context
}

// TestCrateTermsInRoCrateContext: every property and every type of a
// finished run's ro-crate-metadata.json, at any depth, is a term of the
// RO-Crate 1.1 context or of the crate's own additions, and the additions
// neither redefine an RO-Crate term nor use an undeclared prefix.
func TestCrateTermsInRoCrateContext(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", 0)
	sp, err := reana.ParseJSON([]byte(`{"version":"0.9.0",
		"inputs":{"files":["in.txt"],"parameters":{"word":"hi"}},
		"outputs":{"files":["out/result.txt"]},
		"workflow":{"type":"serial","specification":{"steps":[
			{"name":"one","environment":"localhost/tools:1","commands":["write mid.txt $word"]},
			{"name":"two","environment":"localhost/tools:1","commands":["copy mid.txt out/result.txt"]}]}}}`))
	require.NoError(t, err)
	w, err := e.svc.Create(ctx, e.owner, "crated", sp)
	require.NoError(t, err)
	_, _, err = e.svc.Upload(ctx, e.owner, w.FullName(), "in.txt", strings.NewReader("input\n"))
	require.NoError(t, err)
	_, _, err = e.svc.Upload(ctx, e.owner, w.FullName(), "out/.keep", strings.NewReader(""))
	require.NoError(t, err)
	_, err = e.svc.Start(ctx, e.owner, w.FullName(), workflow.StartOpts{})
	require.NoError(t, err)
	require.Equal(t, reana.StatusFinished, e.wait(t, w.FullName()).Status)

	_, write, err := e.svc.Crate(ctx, e.owner, w.FullName())
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, write(ctx, &buf))
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	rc, err := zr.Open("ro-crate-metadata.json")
	require.NoError(t, err)
	var meta struct {
		Context []any            `json:"@context"`
		Graph   []map[string]any `json:"@graph"`
	}
	require.NoError(t, json.NewDecoder(rc).Decode(&meta))
	require.NoError(t, rc.Close())

	terms := roCrateContext(t)
	require.Len(t, meta.Context, 2)
	require.Equal(t, "https://w3id.org/ro/crate/1.1/context", meta.Context[0])
	local := meta.Context[1].(map[string]any)
	for k, v := range local {
		_, clash := terms[k]
		require.False(t, clash, "the crate's context redefines the RO-Crate term %s", k)
		iri := v.(string)
		if prefix, _, ok := strings.Cut(iri, ":"); ok && !strings.HasPrefix(iri, "http") {
			_, declared := local[prefix]
			require.True(t, declared, "term %s uses the undeclared prefix %s", k, prefix)
		}
	}
	defined := func(k string) bool { _, a := terms[k]; _, b := local[k]; return a || b }
	var undefined []string
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				walk(where, x)
			}
		case map[string]any:
			for k, x := range v {
				switch {
				case k == "@type":
					types, ok := x.([]any)
					if !ok {
						types = []any{x}
					}
					for _, ty := range types {
						if !defined(ty.(string)) {
							undefined = append(undefined, where+": type "+ty.(string))
						}
					}
				case strings.HasPrefix(k, "@"):
				case !defined(k):
					undefined = append(undefined, where+": "+k)
				default:
					walk(where+"."+k, x)
				}
			}
		}
	}
	types := map[string]bool{}
	for _, ent := range meta.Graph {
		walk(ent["@id"].(string), ent)
		switch ty := ent["@type"].(type) {
		case string:
			types[ty] = true
		case []any:
			for _, x := range ty {
				types[x.(string)] = true
			}
		}
	}
	require.Empty(t, undefined, "terms the RO-Crate 1.1 context does not define")
	for _, want := range []string{"Dataset", "File", "ComputationalWorkflow", "CreateAction", "ContainerImage", "SoftwareApplication"} {
		require.True(t, types[want], "the crate has a %s", want)
	}
}
