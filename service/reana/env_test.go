package reana_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// fakeProcesses maps owner/uuidOrDigest to the process's image name
// (localhost/reehub/<uuid>); a value "invalid" stands for a process with no
// usable image.
type fakeProcesses map[string]string

func (p fakeProcesses) ProcessImage(_ context.Context, owner int64, key string) (string, string, error) {
	ref, ok := p[fmt.Sprintf("%d/%s", owner, key)]
	switch {
	case !ok:
		return "", "", fault.NotFoundf("no process %s", key)
	case ref == "invalid":
		return "", "", fault.Invalidf("the image of recording %s was released", key)
	}
	return strings.TrimPrefix(ref, "localhost/reehub/"), ref, nil
}

const alice, bob = int64(1), int64(2)

func TestResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const procUUID = "3d6bc1d9-4f8f-4c0a-8c3e-0b1b2a3c4d5e"
	const procDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const recUUID = "5e6bc1d9-4f8f-4c0a-8c3e-0b1b2a3c4d5e"
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
		fakeProcesses{"1/" + procUUID: "localhost/reehub/" + procUUID, "1/" + procDigest: "localhost/reehub/" + procUUID, "1/" + recUUID: "invalid"}, aliases)

	tests := []struct {
		req, image, digest, alias string
		src                       reana.EnvSource
	}{
		{"python_3_11", "aaa", "sha256:da", "", reana.EnvCatalogue},
		{"docker.io/library/python:3.11-slim", "aaa", "sha256:da", "python_3_11", reana.EnvCatalogue},
		{"python:3.11-slim", "aaa", "sha256:da", "python_3_11", reana.EnvCatalogue},
		{"docker.io/reanahub/reana-env-root6", "ccc", "sha256:dc", "localhost/mytools:1.0", reana.EnvLocal},
		{procUUID, "bbb", "sha256:bbb", "", reana.EnvProcess},
		{strings.ToUpper(procUUID), "bbb", "sha256:bbb", "", reana.EnvProcess},
		{"reehub/" + procUUID, "bbb", "sha256:bbb", "", reana.EnvProcess},
		{"localhost/reehub/" + procUUID, "bbb", "sha256:bbb", "", reana.EnvProcess},
		{"localhost/reehub/" + procUUID + ":latest", "bbb", "sha256:bbb", "", reana.EnvProcess},
		{procDigest, "bbb", "sha256:bbb", "", reana.EnvProcess},
		{"localhost/mytools:1.0", "ccc", "sha256:dc", "", reana.EnvLocal},
	}
	for _, tc := range tests {
		env, err := r.Resolve(ctx, alice, tc.req)
		require.NoError(t, err, tc.req)
		want := reana.Environment{Requested: tc.req, Alias: tc.alias, Source: tc.src, Image: tc.image, Digest: tc.digest}
		if tc.src == reana.EnvProcess {
			want.Process = procUUID
		}
		require.Equal(t, want, env, tc.req)
	}

	_, err = r.Resolve(ctx, bob, procUUID)
	require.ErrorIs(t, err, fault.ErrInvalid, "another user's process image is unknown to bob")
	_, err = r.Resolve(ctx, bob, "localhost/reehub/"+procUUID)
	require.ErrorIs(t, err, fault.ErrInvalid, "even by its image name, which is a local image")
	require.ErrorContains(t, err, "is unknown")
	_, err = r.Resolve(ctx, alice, recUUID)
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, "was released", "the process's own reason is kept")
	_, err = r.Resolve(ctx, alice, "docker.io/library/ubuntu:22.04")
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, `environment "docker.io/library/ubuntu:22.04" is unknown`)
	_, err = r.Resolve(ctx, alice, "not_built")
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
	_, err := r.Resolve(context.Background(), alice, "python_3_11")
	require.True(t, errors.Is(err, fault.ErrUnavailable), "an unreachable runtime is not an unknown image: %v", err)
}

// loadingProcesses stands for the REE service when a process's image was
// released: ProcessImage loads it back (into images) under its name.
type loadingProcesses struct {
	images fakeImages
	id     string
	loads  int
	as     podman.Image
}

func (p *loadingProcesses) ProcessImage(_ context.Context, owner int64, key string) (string, string, error) {
	if owner != alice || key != p.id {
		return "", "", fault.NotFoundf("no process %s", key)
	}
	p.loads++
	p.images["localhost/reehub/"+p.id] = p.as
	p.images[p.as.ID] = p.as
	return p.id, "localhost/reehub/" + p.id, nil
}

// TestEnsure: a process's image released after creation is loaded back
// before the step runs, and must be the image the workflow pinned; other
// environments are the runtime's business.
func TestEnsure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const id = "3d6bc1d9-4f8f-4c0a-8c3e-0b1b2a3c4d5e"
	images := fakeImages{}
	procs := &loadingProcesses{images: images, id: id, as: podman.Image{ID: "bbb"}}
	r := reana.NewResolver(images, nil, procs, nil)
	env, err := r.Resolve(ctx, alice, "reehub/"+id)
	require.NoError(t, err)
	require.Equal(t, 1, procs.loads)
	require.Equal(t, reana.Environment{Requested: "reehub/" + id, Source: reana.EnvProcess, Image: "bbb", Digest: "sha256:bbb", Process: id}, env)

	require.NoError(t, r.Ensure(ctx, alice, env))
	require.Equal(t, 1, procs.loads, "a present image is not loaded again")
	delete(images, "bbb")
	delete(images, "localhost/reehub/"+id)
	require.NoError(t, r.Ensure(ctx, alice, env))
	require.Equal(t, 2, procs.loads, "a released image is loaded back")
	require.Contains(t, images, "bbb")

	delete(images, "bbb")
	procs.as = podman.Image{ID: "other"}
	err = r.Ensure(ctx, alice, env)
	require.ErrorIs(t, err, fault.ErrInvalid, "a different image is not what the workflow was created with")
	require.ErrorContains(t, err, "not the bbb")
	require.NoError(t, r.Ensure(ctx, alice, reana.Environment{Source: reana.EnvLocal, Image: "gone"}), "only process images are loaded back")
}
