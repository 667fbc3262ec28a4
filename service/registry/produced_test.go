package registry_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/registry"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/storetest"
)

// TestAnnotateProduced merges a domain's provenance into a registered
// process image's specifics and renames it (the Studio family's hook).
func TestAnnotateProduced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t, "reehub_registry")
	u := store.User{Name: "alice", Role: store.RoleUser}
	require.NoError(t, st.CreateUser(ctx, &u))
	now := time.Now().UTC()
	row := store.RegistryImage{ID: uuid.NewString(), OwnerID: u.ID, Title: "recording p1", ImageType: "declarative", Origin: "{}",
		Specifics: `{"provenance":{"process_id":"p1","reehub_version":"dev"},"sbom":{"packages":3}}`, ProcessID: "p1", CreatedAt: now, StoredAt: &now}
	require.NoError(t, st.SaveRegistryImage(ctx, &row))
	svc, err := registry.New(st, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), registry.Config{DataDir: t.TempDir()})
	require.NoError(t, err)

	require.NoError(t, svc.AnnotateProduced(ctx, "p1", "app 1.0.0", map[string]any{"studio": map[string]any{"build_id": 7}}))
	got, err := st.RegistryImageByProcess(ctx, "p1")
	require.NoError(t, err)
	require.Equal(t, "app 1.0.0", got.Title)
	var spec struct {
		Provenance map[string]any `json:"provenance"`
		SBOM       map[string]any `json:"sbom"`
	}
	require.NoError(t, json.Unmarshal([]byte(got.Specifics), &spec))
	require.Equal(t, "p1", spec.Provenance["process_id"], "the recording's provenance stays")
	require.Equal(t, map[string]any{"build_id": float64(7)}, spec.Provenance["studio"])
	require.EqualValues(t, 3, spec.SBOM["packages"])

	err = svc.AnnotateProduced(ctx, "p2", "", nil)
	require.ErrorIs(t, err, fault.ErrNotFound)
}
