package tests

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/reehub/reehub/gen/client"
)

// TestDocsBrowser opens /docs (Swagger UI) in Debian's chromium with
// puppeteer-core (tests/browser/docs.mjs): every tag and operation is listed
// in the spec's order, a try before authorizing gets a 401 without a Basic
// challenge (no browser login dialog), Basic and a token each authorize,
// "Try it out" runs ping, an authenticated list and a multipart upload, and
// a screenshot is saved. Every answer the page gets passes through a proxy
// that validates it against openapi.yaml. make test installs chromium (the
// test group of scripts/packages.txt) and puppeteer-core (tools/contract).
func TestDocsBrowser(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		// make test installs chromium (scripts/setup-packages.sh test); only a
		// machine where that cannot be done (no Debian chromium) gets here.
		t.Skip("skipping the /docs browser test: chromium is not installed and could not be (`sudo bash scripts/setup-packages.sh test` installs Debian's chromium): " + err.Error())
	}
	modules, err := filepath.Abs("../tools/contract/node_modules")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(modules, "puppeteer-core")); err != nil {
		t.Skip("skipping the /docs browser test: puppeteer-core is not installed (`make tools` or scripts/setup-contract-tools.sh installs tools/contract; make test does): " + err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	dir := t.TempDir()
	expected := filepath.Join(dir, "expected.json")
	b, err := json.Marshal(specOperationsByTag(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(expected, b, 0o644))

	tok, err := admin(t, suite.main).AccountCreateTokenWithResponse(ctx, client.AccountNewToken{Name: "docs-" + randomHex(4), Scopes: []client.AccountScope{"read", "write"}})
	require.NoError(t, err)
	require.Equal(t, 201, tok.StatusCode(), string(tok.Body))

	// The screenshot goes to REEHUB_TEST_SCREENSHOTS when set (CI keeps it),
	// else to the run's directory (kept when a test fails).
	shots := cmp.Or(os.Getenv("REEHUB_TEST_SCREENSHOTS"), suite.work)
	require.NoError(t, os.MkdirAll(shots, 0o755))
	screenshot := filepath.Join(shots, "docs.png")
	run := exec.CommandContext(ctx, filepath.Join(modules, ".bin", "node"), "browser/docs.mjs")
	run.Env = append(os.Environ(),
		"REEHUB_DOCS_URL="+validatingProxy(t, suite.main),
		"REEHUB_ADMIN_PASSWORD="+suite.main.password,
		"REEHUB_TOKEN="+tok.JSON201.Token,
		"REEHUB_EXPECTED="+expected,
		"REEHUB_PROJECT_ZIP="+project(t, "FROM python_3_11\nRUN echo from-swagger-ui > /docs.txt\n"),
		"REEHUB_SCREENSHOT="+screenshot,
		"REEHUB_CHROMIUM="+chromium,
		"REEHUB_NODE_MODULES="+modules)
	out, err := run.CombinedOutput()
	require.NoError(t, err, "tests/browser/docs.mjs:\n%s", out)
	t.Logf("%s", out)
	png, err := os.ReadFile(screenshot)
	require.NoError(t, err, "the screenshot is saved")
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "the screenshot is a PNG")
	require.Greater(t, len(png), 10_000, "the screenshot shows the page, not an empty image")
}

// tagOperations is one tag of the spec with its operations, in order.
type tagOperations struct {
	Tag        string   `json:"tag"`
	Operations []string `json:"operations"`
}

// specOperationsByTag lists what Swagger UI must show: the spec's tags in the
// order of its tags list, each with its operations in the order of paths.
func specOperationsByTag(t *testing.T) []tagOperations {
	t.Helper()
	raw, err := os.ReadFile("../openapi.yaml")
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	root := doc.Content[0]
	get := func(m *yaml.Node, key string) *yaml.Node {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		return nil
	}
	var order []string
	for _, tag := range get(root, "tags").Content {
		order = append(order, get(tag, "name").Value)
	}
	ops := map[string][]string{}
	methods := []string{"get", "put", "post", "delete", "patch", "head", "options"}
	paths := get(root, "paths")
	for i := 1; i < len(paths.Content); i += 2 {
		item := paths.Content[i]
		for j := 0; j+1 < len(item.Content); j += 2 {
			if !slices.Contains(methods, item.Content[j].Value) {
				continue
			}
			op := item.Content[j+1]
			for _, tag := range get(op, "tags").Content {
				ops[tag.Value] = append(ops[tag.Value], get(op, "operationId").Value)
				if !slices.Contains(order, tag.Value) {
					order = append(order, tag.Value)
				}
			}
		}
	}
	var out []tagOperations
	for _, tag := range order {
		if len(ops[tag]) > 0 {
			out = append(out, tagOperations{Tag: tag, Operations: ops[tag]})
		}
	}
	return out
}
