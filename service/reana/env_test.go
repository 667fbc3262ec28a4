package reana_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/reana"
)

type fakeImages map[string]podman.Image

func (f fakeImages) InspectImage(_ context.Context, ref string) (podman.Image, error) {
	if img, ok := f[ref]; ok {
		return img, nil
	}
	return podman.Image{}, fault.NotFoundf("image %s not known", ref)
}

type fakeCatalogue []string

func (c fakeCatalogue) Has(name string) bool {
	for _, n := range c {
		if n == name {
			return true
		}
	}
	return false
}

type fakeProcesses map[string]string // owner+"/"+uuidOrDigest -> ref

func (p fakeProcesses) ProcessImage(_ context.Context, owner, key string) (string, error) {
	if ref, ok := p[owner+"/"+key]; ok {
		return ref, nil
	}
	return "", fault.NotFoundf("no process %s", key)
}

func TestResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const procUUID = "3d6bc1d9-4f8f-4c0a-8c3e-0b1b2a3c4d5e"
	const procDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	images := fakeImages{
		"localhost/python_3_11:latest":     {ID: "aaa", Digest: "sha256:da"},
		"localhost/reehub/" + procUUID:     {ID: "bbb"},
		"localhost/mytools:1.0":            {ID: "ccc", Digest: "sha256:dc"},
		"localhost/debian_bookworm:latest": {ID: "ddd"},
	}
	aliasFile := filepath.Join(t.TempDir(), "aliases.yaml")
	require.NoError(t, os.WriteFile(aliasFile, []byte("docker.io/library/python:3.11-slim: python_3_11\nreanahub/reana-env-root6: localhost/mytools:1.0\n"), 0o644))
	aliases, err := reana.LoadAliases(aliasFile)
	require.NoError(t, err)
	none, err := reana.LoadAliases(filepath.Join(t.TempDir(), "missing.yaml"))
	require.NoError(t, err)
	require.Empty(t, none)

	r := reana.NewResolver(images, fakeCatalogue{"python_3_11", "debian_bookworm", "not_built"},
		fakeProcesses{"alice/" + procUUID: "localhost/reehub/" + procUUID, "alice/" + procDigest: "localhost/reehub/" + procUUID}, aliases)

	tests := []struct {
		req, image, digest, alias string
		src                       reana.EnvSource
	}{
		{"python_3_11", "aaa", "sha256:da", "", reana.EnvCatalogue},
		{"docker.io/library/python:3.11-slim", "aaa", "sha256:da", "python_3_11", reana.EnvCatalogue},
		{"python:3.11-slim", "aaa", "sha256:da", "python_3_11", reana.EnvCatalogue},
		{"docker.io/reanahub/reana-env-root6", "ccc", "sha256:dc", "localhost/mytools:1.0", reana.EnvLocal},
		{procUUID, "bbb", "sha256:bbb", "", reana.EnvProcess},
		{procDigest, "bbb", "sha256:bbb", "", reana.EnvProcess},
		{"localhost/mytools:1.0", "ccc", "sha256:dc", "", reana.EnvLocal},
	}
	for _, tc := range tests {
		env, err := r.Resolve(ctx, "alice", tc.req)
		require.NoError(t, err, tc.req)
		require.Equal(t, reana.Environment{Requested: tc.req, Alias: tc.alias, Source: tc.src, Image: tc.image, Digest: tc.digest}, env, tc.req)
	}

	_, err = r.Resolve(ctx, "bob", procUUID)
	require.ErrorIs(t, err, fault.ErrInvalid, "another user's process image is unknown to bob")
	_, err = r.Resolve(ctx, "alice", "docker.io/library/ubuntu:22.04")
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, `environment "docker.io/library/ubuntu:22.04" is unknown`)
	_, err = r.Resolve(ctx, "alice", "not_built")
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, "not built")

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("- a list\n"), 0o644))
	_, err = reana.LoadAliases(bad)
	require.Error(t, err)
}

type failingImages struct{}

func (failingImages) InspectImage(context.Context, string) (podman.Image, error) {
	return podman.Image{}, fault.Unavailablef("podman down")
}

func TestResolveUnavailable(t *testing.T) {
	t.Parallel()
	r := reana.NewResolver(failingImages{}, nil, nil, nil)
	_, err := r.Resolve(context.Background(), "alice", "python_3_11")
	require.True(t, errors.Is(err, fault.ErrUnavailable), "an unreachable runtime is not an unknown image: %v", err)
}
