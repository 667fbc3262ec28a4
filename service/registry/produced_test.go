package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/registry"
	"github.com/reehub/reehub/store"
)

// testStore opens a fresh store: SQLite, or Postgres when
// REEHUB_TEST_DATABASE_URL is set.
func testStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	cfg := store.Config{SQLitePath: filepath.Join(t.TempDir(), "reehub.db")}
	if url := os.Getenv("REEHUB_TEST_DATABASE_URL"); url != "" {
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		defer conn.Close(ctx)
		name := "reehub_registry_" + uuid.NewString()[:8]
		_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
		require.NoError(t, err)
		c := conn.Config()
		cfg = store.Config{PostgresURL: fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", c.User, c.Password, c.Host, c.Port, name)}
	}
	st, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestAnnotateProduced merges a domain's provenance into a registered
// process image's specifics and renames it (the Studio family's hook).
func TestAnnotateProduced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testStore(t)
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
