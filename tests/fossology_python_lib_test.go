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

// TestFossologyPythonLibrary runs the real fossology-python library through
// tests/clients/fossology_python_workflow.py (token, folders, a file and a url
// upload, every agent and decider, summary, licenses, copyrights, five report
// formats, clean-up) against the FOSSology tests' instance, behind the proxy
// that validates every answer against openapi.yaml. Opt-in: the library is
// not on Debian, so REEHUB_FOSSOLOGY_PYTHON must name a checkout of
// github.com/fossology/fossology-python (4.x), with python3-requests,
// python3-tenacity and python3-click installed (Debian's /usr/bin/python3 runs it).
func TestFossologyPythonLibrary(t *testing.T) {
	src := os.Getenv("REEHUB_FOSSOLOGY_PYTHON")
	if src == "" {
		t.Skip("REEHUB_FOSSOLOGY_PYTHON (a checkout of fossology-python 4.x) is not set")
	}
	e := fossology(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "project.zip")
	require.NoError(t, os.WriteFile(file, e.archive, 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "clients/fossology_python_workflow.py", src, // Debian's, with its python3-* packages
		validatingProxy(t, e.in)+"/repo", "admin", e.in.password, file, e.files.URL+"/project.zip")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err, "the library's workflow failed")
	require.Contains(t, string(out), "fossology-python workflow: done")
}
