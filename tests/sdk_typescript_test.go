package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTypeScriptSDK builds sdk/typescript with the pinned TypeScript and runs
// its node:test suite against the live server, through a proxy that
// validates every answer against openapi.yaml: ping, Basic and Bearer each
// on their own scheme, a multipart upload from a file stream, a streamed
// base image download counted without holding it, and the error model as a
// thrown ReehubError. make test installs the tools first
// (scripts/setup-contract-tools.sh).
func TestTypeScriptSDK(t *testing.T) {
	t.Parallel()
	bin, err := filepath.Abs("../tools/contract/node_modules/.bin")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(bin, "tsc")); err != nil {
		t.Skip("the TypeScript tools are not installed: run `make tools` (scripts/setup-contract-tools.sh); make test does")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	sdk, err := filepath.Abs("../sdk/typescript")
	require.NoError(t, err)
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	build := exec.CommandContext(ctx, filepath.Join(bin, "tsc"), "-p", "tsconfig.json")
	build.Dir, build.Env = sdk, env
	out, err := build.CombinedOutput()
	require.NoError(t, err, "tsc:\n%s", out)

	zipPath := project(t, "FROM python_3_11\nRUN echo from-typescript > /sdk.txt\n")
	run := exec.CommandContext(ctx, filepath.Join(bin, "node"), "--test", "--test-reporter=spec", "test/")
	run.Dir = sdk
	run.Env = append(env,
		"REEHUB_TEST_SERVER="+validatingProxy(t, suite.main),
		"REEHUB_TEST_ADMIN_PASSWORD="+suite.main.password,
		"REEHUB_TEST_PROJECT_ZIP="+zipPath)
	out, err = run.CombinedOutput()
	require.NoError(t, err, "node --test:\n%s", out)
	require.Contains(t, string(out), "pass 5")
	t.Logf("node --test:\n%s", out)
}
