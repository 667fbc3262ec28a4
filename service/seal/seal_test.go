package seal_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/service/seal"
)

func TestSealOpenAndKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := seal.Load(dir, "k.key", "")
	require.NoError(t, err)
	s := b.Seal("env/1", []byte("hunter2"))
	require.NotContains(t, s, "hunter2")
	v, err := b.Open("env/1", s)
	require.NoError(t, err)
	require.Equal(t, "hunter2", string(v))
	_, err = b.Open("env/2", s)
	require.Error(t, err, "a sealed value is bound to its row")
	fi, err := os.Stat(filepath.Join(dir, "k.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b2, err := seal.Load(dir, "k.key", "")
	require.NoError(t, err)
	v, err = b2.Open("env/1", s)
	require.NoError(t, err, "the key survives a restart")
	require.Equal(t, "hunter2", string(v))
}
