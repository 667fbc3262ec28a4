package blob_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store/blob"
)

// age sets the blob's modification time back by d, as if it was stored d ago.
func age(t *testing.T, s *blob.Store, digest string, d time.Duration) {
	t.Helper()
	p, err := s.Path(digest)
	require.NoError(t, err)
	old := time.Now().Add(-d)
	require.NoError(t, os.Chtimes(p, old, old))
}

func garbage(yes bool) func(context.Context) (bool, error) {
	return func(context.Context) (bool, error) { return yes, nil }
}

// TestCollectGrace: Collect removes a blob only when it is older than the
// grace period and the caller's re-check still says it is garbage; a Put
// of the same content renews the time, so an upload that is not yet a row
// survives a collection that had picked its blob.
func TestCollectGrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		age       time.Duration
		reput     bool
		stillGone bool
		removed   bool
	}{
		{name: "old and unreferenced", age: 2 * time.Hour, stillGone: true, removed: true},
		{name: "younger than the grace period", age: 10 * time.Minute, stillGone: true},
		{name: "referenced at the re-check", age: 2 * time.Hour, stillGone: false},
		{name: "stored again after it aged", age: 2 * time.Hour, reput: true, stillGone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := blob.OpenFor(t.TempDir(), "a")
			require.NoError(t, err)
			ref, err := s.Put(ctx, strings.NewReader("content of "+tc.name))
			require.NoError(t, err)
			age(t, s, ref.Digest, tc.age)
			if tc.reput {
				_, err := s.Put(ctx, strings.NewReader("content of "+tc.name))
				require.NoError(t, err)
			}
			freed, err := s.Collect(ctx, ref.Digest, time.Hour, garbage(tc.stillGone))
			require.NoError(t, err)
			_, statErr := s.Stat(ctx, ref.Digest)
			if tc.removed {
				require.Equal(t, ref.Size, freed)
				require.ErrorIs(t, statErr, fault.ErrNotFound)
				return
			}
			require.Zero(t, freed)
			require.NoError(t, statErr, "a kept blob is back in place")
			f, err := s.Open(ctx, ref.Digest)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		})
	}
}

// TestHoldsAcrossInstances: two instances (separate databases) share one
// blob directory; a blob both stored is removed only after both let go.
func TestHoldsAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, err := blob.OpenFor(dir, "instance-a")
	require.NoError(t, err)
	b, err := blob.OpenFor(dir, "instance-b")
	require.NoError(t, err)
	shared, err := a.Put(ctx, strings.NewReader("same upload"))
	require.NoError(t, err)
	_, err = b.Put(ctx, strings.NewReader("same upload"))
	require.NoError(t, err)
	onlyA, err := a.Put(ctx, strings.NewReader("a's own"))
	require.NoError(t, err)
	for _, d := range []string{shared.Digest, onlyA.Digest} {
		age(t, a, d, 2*time.Hour)
	}
	others, err := a.OtherHolders(context.Background(), shared.Digest)
	require.NoError(t, err)
	require.Equal(t, []string{"instance-b"}, others)

	// A's database references neither: its own goes, the shared one stays.
	freed, err := a.Collect(ctx, shared.Digest, time.Hour, garbage(true))
	require.NoError(t, err)
	require.Zero(t, freed, "b holds it")
	freed, err = a.Collect(ctx, onlyA.Digest, time.Hour, garbage(true))
	require.NoError(t, err)
	require.Equal(t, onlyA.Size, freed)

	// B still references the shared blob; once it lets go, it goes.
	gone, err := b.Release(context.Background(), shared.Digest, 0)
	require.NoError(t, err)
	require.True(t, gone)
	freed, err = a.Collect(ctx, shared.Digest, time.Hour, garbage(true))
	require.NoError(t, err)
	require.Equal(t, shared.Size, freed)
}

// TestReleaseKeepsARenewedHold: an instance's hold renewed within the grace
// period (a Put whose row is not yet written) is not released.
func TestReleaseKeepsARenewedHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, err := blob.OpenFor(dir, "a")
	require.NoError(t, err)
	other, err := blob.OpenFor(dir, "b")
	require.NoError(t, err)
	ref, err := a.Put(ctx, strings.NewReader("x"))
	require.NoError(t, err)
	gone, err := a.Release(context.Background(), ref.Digest, time.Hour)
	require.NoError(t, err)
	require.False(t, gone)
	holders, err := other.OtherHolders(context.Background(), ref.Digest)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, holders)
}

// TestWalkAndRestoreAside: Walk lists every blob; a blob left moved aside
// by a crash in the middle of Collect is put back.
func TestWalkAndRestoreAside(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blob.Open(dir)
	require.NoError(t, err)
	ref, err := s.Put(ctx, strings.NewReader("walk me"))
	require.NoError(t, err)
	var seen []string
	require.NoError(t, s.Walk(ctx, func(i blob.Info) error { seen = append(seen, i.Digest); return nil }))
	require.Equal(t, []string{ref.Digest}, seen)

	p, err := s.Path(ref.Digest)
	require.NoError(t, err)
	require.NoError(t, os.Rename(p, dir+"/trash/"+strings.TrimPrefix(ref.Digest, "sha256:")+".0123456789abcdef"))
	_, err = s.Stat(ctx, ref.Digest)
	require.ErrorIs(t, err, fault.ErrNotFound)
	require.NoError(t, s.RestoreAside())
	_, err = s.Stat(ctx, ref.Digest)
	require.NoError(t, err)
}
