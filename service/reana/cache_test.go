package reana_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/service/reana"
)

func TestCacheKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorkspace(t)
	upload(t, w, "data/in.txt", "1\n")
	upload(t, w, "code/run.py", "print(1)\n")
	inputs, err := w.HashFiles(ctx)
	require.NoError(t, err)
	require.Equal(t, "4355a46b19d348dc2f57c046f8ef63d4538ebb936000f3c9ee954a27460dd865", inputs["data/in.txt"])

	base := reana.CacheKey([]string{"python3 code/run.py"}, "sha256:env", inputs)
	require.Len(t, base, 64)
	require.Equal(t, base, reana.CacheKey([]string{"python3 code/run.py"}, "sha256:env", inputs), "deterministic")
	require.NotEqual(t, base, reana.CacheKey([]string{"python3 code/run.py --x"}, "sha256:env", inputs), "command")
	require.NotEqual(t, base, reana.CacheKey([]string{"python3 code/run.py"}, "sha256:other", inputs), "environment")
	require.NotEqual(t, base, reana.CacheKey([]string{"python3", "code/run.py"}, "sha256:env", inputs), "command boundaries")

	upload(t, w, "data/in.txt", "2\n")
	changedInputs, err := w.HashFiles(ctx)
	require.NoError(t, err)
	require.NotEqual(t, base, reana.CacheKey([]string{"python3 code/run.py"}, "sha256:env", changedInputs), "input file")

	upload(t, w, "results/out.txt", "r")
	after, err := w.HashFiles(ctx)
	require.NoError(t, err)
	changed, removed := reana.Changed(inputs, after)
	require.Equal(t, []string{"data/in.txt", "results/out.txt"}, changed)
	require.Empty(t, removed)
	_, _, err = w.Delete(ctx, "code/run.py")
	require.NoError(t, err)
	after, err = w.HashFiles(ctx)
	require.NoError(t, err)
	_, removed = reana.Changed(inputs, after)
	require.Equal(t, []string{"code/run.py"}, removed)
}
