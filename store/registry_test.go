package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// TestRegistryRows: owners see only their rows, search by text and package,
// manifests by digest and tag (a digest delete takes its tags), tags in
// order with paging, referrers by subject, and blob links per repository.
func TestRegistryRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := open(t)
	alice, bob := newUser(t, st, "ralice"), newUser(t, st, "rbob")
	now := time.Now().UTC()
	for i, im := range []store.RegistryImage{
		{ID: "i1", OwnerID: alice.ID, Title: "Web Server", ContentType: "docker-image", Packages: "\nopenssl@3.0.15-1\ndpkg@1.21.22\n", CreatedAt: now},
		{ID: "i2", OwnerID: alice.ID, Title: "disk 50%", ContentType: "disk-qcow2", CreatedAt: now.Add(time.Second)},
		{ID: "i3", OwnerID: bob.ID, Title: "web", ContentType: "docker-image", Packages: "\nopenssl@3.0.2\n", CreatedAt: now},
	} {
		require.NoError(t, st.SaveRegistryImage(ctx, &im), i)
	}
	got, err := st.RegistryImages(ctx, store.RegistryImageFilter{OwnerID: alice.ID, Text: "web"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "i1", got[0].ID)
	got, err = st.RegistryImages(ctx, store.RegistryImageFilter{OwnerID: alice.ID, Text: "qcow"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	got, err = st.RegistryImages(ctx, store.RegistryImageFilter{OwnerID: alice.ID, Text: "%"})
	require.NoError(t, err)
	require.Len(t, got, 1, "a LIKE wildcard in the text is literal")
	got, err = st.RegistryImages(ctx, store.RegistryImageFilter{OwnerID: alice.ID, Package: "openssl"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	got, err = st.RegistryImages(ctx, store.RegistryImageFilter{OwnerID: alice.ID, Package: "open"})
	require.NoError(t, err)
	require.Empty(t, got, "package names match whole")
	_, err = st.RegistryImageOf(ctx, bob.ID, "i1")
	require.ErrorIs(t, err, fault.ErrNotFound)
	require.ErrorIs(t, st.DeleteRegistryImage(ctx, bob.ID, "i1"), fault.ErrNotFound)

	put := func(repo, ref, digest, subject string) {
		require.NoError(t, st.PutRegistryManifest(ctx, &store.RegistryManifest{Repo: repo, Ref: ref, Digest: digest, MediaType: "m", Subject: subject, Body: "{}", CreatedAt: now}))
	}
	put("r", "sha256:a", "sha256:a", "")
	put("r", "v2", "sha256:a", "")
	put("r", "v1", "sha256:a", "")
	put("r", "sha256:b", "sha256:b", "sha256:a")
	put("r", "v3", "sha256:b", "sha256:a")
	tags, err := st.RegistryTags(ctx, "r", "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"v1", "v2", "v3"}, tags)
	tags, err = st.RegistryTags(ctx, "r", "v1", 1)
	require.NoError(t, err)
	require.Equal(t, []string{"v2"}, tags)
	refs, err := st.RegistryReferrers(ctx, "r", "sha256:a", "")
	require.NoError(t, err)
	require.Len(t, refs, 1, "only the digest row of a referrer")
	n, err := st.DeleteRegistryManifestRefs(ctx, "r", "sha256:a", true)
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
	tags, err = st.RegistryTags(ctx, "r", "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"v3"}, tags)

	require.NoError(t, st.LinkRegistryBlob(ctx, "r", "sha256:c"))
	require.NoError(t, st.LinkRegistryBlob(ctx, "r", "sha256:c"), "linking twice is fine")
	ok, err := st.RegistryBlobLinked(ctx, "other", "sha256:c")
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, st.UnlinkRegistryBlob(ctx, "r", "sha256:c"))
	require.ErrorIs(t, st.UnlinkRegistryBlob(ctx, "r", "sha256:c"), fault.ErrNotFound)
}
