package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseVersion(t *testing.T) {
	for _, ok := range []string{"0.1.0", "1.0.0", "10.20.30"} {
		if _, err := parseVersion(ok); err != nil {
			t.Errorf("parseVersion(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0-rc.1", "1.0.0+b", "1.0.0.0"} {
		if _, err := parseVersion(bad); err == nil {
			t.Errorf("parseVersion(%q) accepted it", bad)
		}
	}
}

func TestRequired(t *testing.T) {
	rel := version{0, 2, 3}
	cases := []struct {
		work version
		l    level
		ok   bool
	}{
		{version{0, 2, 3}, same, true},
		{version{0, 2, 2}, same, false},
		{version{0, 1, 9}, minor, false},
		{version{0, 2, 3}, patch, false},
		{version{0, 2, 4}, patch, true},
		{version{0, 2, 4}, minor, false},
		{version{0, 3, 0}, minor, true},
		{version{1, 0, 0}, minor, true},
		{version{0, 3, 0}, breaking, false},
		{version{0, 2, 3}, breaking, false},
		{version{1, 0, 0}, breaking, true},
		{version{2, 1, 0}, breaking, true},
	}
	for _, c := range cases {
		err := required(rel, c.work, c.l)
		if (err == nil) != c.ok {
			t.Errorf("required(%s, %s, %s) = %v, want ok=%v", rel, c.work, c.l, err, c.ok)
		}
	}
}

// oasdiffBin is the oasdiff that `make contract` builds. The gate cannot be
// tested without it: the test is skipped when it is absent, except under
// `make contract`, which sets REEHUB_OASDIFF and so makes its absence a failure.
func oasdiffBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("REEHUB_OASDIFF"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("REEHUB_OASDIFF: %v", err)
		}
		return p
	}
	p, err := filepath.Abs("../../bin/oasdiff")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skip("bin/oasdiff is not built (make contract builds it and runs this test)")
	}
	return p
}

// edit returns a copy of the committed contract with info.version set to v,
// changed by fn.
func edit(t *testing.T, v string, fn func(doc map[string]any)) map[string]any {
	t.Helper()
	doc, err := readDoc("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc["info"].(map[string]any)["version"] = v
	if fn != nil {
		fn(doc)
	}
	return doc
}

func write(t *testing.T, path string, doc map[string]any) {
	t.Helper()
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func paths(doc map[string]any) map[string]any { return doc["paths"].(map[string]any) }

// TestGate runs the gate with the real oasdiff on the committed contract as
// release 1.4.2 and edited copies of it as the working contract.
func TestGate(t *testing.T) {
	bin := oasdiffBin(t)
	removePath := func(doc map[string]any) { delete(paths(doc), "/api/version") }
	addPath := func(doc map[string]any) {
		paths(doc)["/api/extra"] = map[string]any{"get": map[string]any{
			"operationId": "systemExtra", "tags": []any{"system: health"}, "summary": "Extra", "security": []any{},
			"responses": map[string]any{"200": map[string]any{"description": "ok"}},
		}}
	}
	narrowEnum := func(doc map[string]any) {
		s := doc["components"].(map[string]any)["schemas"].(map[string]any)["ReeProcessKind"].(map[string]any)
		s["enum"] = []any{"recording"}
	}
	newRequiredField := func(doc map[string]any) {
		s := doc["components"].(map[string]any)["schemas"].(map[string]any)["AccountNewToken"].(map[string]any)
		s["properties"].(map[string]any)["owner"] = map[string]any{"type": "string"}
		s["required"] = append(s["required"].([]any), "owner")
	}
	describe := func(doc map[string]any) {
		paths(doc)["/api/ping"].(map[string]any)["get"].(map[string]any)["description"] = "Reworded."
	}
	cases := []struct {
		name    string
		version string
		fn      func(map[string]any)
		want    string // "" for success, else a part of the error
	}{
		{"unchanged", "1.4.2", nil, ""},
		{"lower version", "1.4.1", nil, "lower than the released 1.4.2"},
		{"malformed version", "1.5", nil, "not a semantic version"},
		{"path removed, same version", "1.4.2", removePath, "breaks release 1.4.2"},
		{"path removed, minor bump", "1.5.0", removePath, "announce it with 2.0.0"},
		{"path removed, major bump", "2.0.0", removePath, ""},
		{"enum narrowed, minor bump", "1.5.0", narrowEnum, "breaks release 1.4.2"},
		{"required request field added, minor bump", "1.5.0", newRequiredField, "breaks release 1.4.2"},
		{"path added, same version", "1.4.2", addPath, "at least 1.5.0"},
		{"path added, patch bump", "1.4.3", addPath, "at least 1.5.0"},
		{"path added, minor bump", "1.5.0", addPath, ""},
		{"description changed, same version", "1.4.2", describe, "a patch release needs at least 1.4.3"},
		{"description changed, patch bump", "1.4.3", describe, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			rel := filepath.Join(dir, "released")
			if err := os.Mkdir(rel, 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(rel, "1.4.2.yaml"), edit(t, "1.4.2", nil))
			write(t, filepath.Join(rel, "0.9.0.yaml"), edit(t, "0.9.0", removePath))
			spec := filepath.Join(dir, "openapi.yaml")
			write(t, spec, edit(t, c.version, c.fn))
			r, err := check(context.Background(), bin, rel, spec)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("gate failed: %v (changes: %v)", err, r.changes)
			case c.want != "" && err == nil:
				t.Fatalf("gate passed (%s), want an error with %q", r.level, c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("gate error %q, want one with %q", err, c.want)
			}
		})
	}
}

// TestReleaseFileVersion refuses a release file whose info.version is not its name.
func TestReleaseFileVersion(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "1.0.0.yaml"), edit(t, "1.0.1", nil))
	if _, err := newestRelease(dir); err == nil || !strings.Contains(err.Error(), "not 1.0.0") {
		t.Fatalf("newestRelease = %v, want a version mismatch", err)
	}
}

// TestCommittedContract runs the gate as `make contract` does, on the
// repository's openapi.yaml and api/released.
func TestCommittedContract(t *testing.T) {
	bin := oasdiffBin(t)
	r, err := check(context.Background(), bin, "../released", "../../openapi.yaml")
	if err != nil {
		t.Fatalf("gate on the committed contract: %v (changes: %v)", err, r.changes)
	}
}
