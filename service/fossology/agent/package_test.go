package agent_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/rpmpack"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/service/fossology/agent"
)

// TestPackagesOfRPM: the package agent reports an rpm in the upload from
// its header, as FOSSology's pkgagent does, with a package URL.
func TestPackagesOfRPM(t *testing.T) {
	t.Parallel()
	r, err := rpmpack.NewRPM(rpmpack.RPMMetaData{Name: "hello", Version: "1.2", Release: "3.fc40", Arch: "x86_64", Epoch: 2,
		Licence: "MIT", Vendor: "Fedora Project", Compressor: "xz"})
	require.NoError(t, err)
	r.AddFile(rpmpack.RPMFile{Name: "/usr/share/licenses/hello/LICENSE", Body: []byte("Permission is hereby granted, free of charge\n"), Mode: 0o644})
	var buf bytes.Buffer
	require.NoError(t, r.Write(&buf))
	dir := t.TempDir()
	src := filepath.Join(dir, "in.rpm")
	require.NoError(t, os.WriteFile(src, buf.Bytes(), 0o644))
	tree, err := unpack.Unpack(context.Background(), unpack.Source{Path: src, Name: "hello.rpm"}, filepath.Join(dir, "tree"), unpack.Limits{})
	require.NoError(t, err)
	fs, err := agent.Packages(context.Background(), tree)
	require.NoError(t, err)
	require.True(t, has(fs, agent.Package, agent.TypePackage, "hello.rpm", "pkg:rpm/fedora/hello@1.2-3.fc40?arch=x86_64&epoch=2"), "%+v", fs)
}
