package store_test

import (
	"context"
	"database/sql"
	"os"
	"path"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

func TestUserUUIDsAndUpdates(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	a, b := newUser(t, st, "ann"), newUser(t, st, "ben")
	require.Len(t, a.UUID, 36)
	require.NotEqual(t, a.UUID, b.UUID)
	got, err := st.UserByUUID(ctx, a.UUID)
	require.NoError(t, err)
	require.Equal(t, "ann", got.Name)
	_, err = st.UserByUUID(ctx, "00000000-0000-4000-8000-000000000000")
	require.ErrorIs(t, err, fault.ErrNotFound)

	got.Email, got.FullName, got.Role, got.Disabled = "ann@example.org", "Ann A", store.RoleAdmin, true
	require.NoError(t, st.UpdateUser(ctx, got))
	again, err := st.UserByID(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, "ann@example.org", again.Email)
	require.Equal(t, store.RoleAdmin, again.Role)
	require.True(t, again.Disabled)
	again.Disabled = false // a zero value is written too
	require.NoError(t, st.UpdateUser(ctx, again))
	again, err = st.UserByID(ctx, a.ID)
	require.NoError(t, err)
	require.False(t, again.Disabled)
	require.ErrorIs(t, st.UpdateUser(ctx, store.User{ID: 999999, Role: store.RoleUser}), fault.ErrNotFound)

	all, err := st.Users(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"ann", "ben"}, []string{all[0].Name, all[1].Name})
}

func TestGroupsAndMembers(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	a, b := newUser(t, st, "ann"), newUser(t, st, "ben")
	personal := store.Group{Name: "ann", PersonalUserID: &a.ID}
	require.NoError(t, st.CreateGroup(ctx, &personal))
	lab := store.Group{Name: "lab"}
	require.NoError(t, st.CreateGroup(ctx, &lab))
	require.ErrorIs(t, st.CreateGroup(ctx, &store.Group{Name: "lab"}), fault.ErrConflict)
	require.ErrorIs(t, st.CreateGroup(ctx, &store.Group{Name: "ann2", PersonalUserID: &a.ID}), fault.ErrConflict, "one default group per user")

	require.NoError(t, st.AddMember(ctx, personal.ID, a.ID))
	require.NoError(t, st.AddMember(ctx, lab.ID, a.ID))
	require.NoError(t, st.AddMember(ctx, lab.ID, b.ID))
	require.NoError(t, st.AddMember(ctx, lab.ID, b.ID), "adding a member twice is no error")

	g, err := st.PersonalGroup(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, "ann", g.Name)
	_, err = st.PersonalGroup(ctx, b.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)
	byName, err := st.GroupByName(ctx, "lab")
	require.NoError(t, err)
	require.Equal(t, lab.UUID, byName.UUID)
	byUUID, err := st.GroupByUUID(ctx, lab.UUID)
	require.NoError(t, err)
	require.Equal(t, "lab", byUUID.Name)

	of, err := st.GroupsOf(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"ann", "lab"}, []string{of[0].Name, of[1].Name})
	ms, err := st.Memberships(ctx, []int64{lab.ID})
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, "ann", ms[0].UserName)
	require.Equal(t, b.UUID, ms[1].UserUUID)
	mu, err := st.MembershipsOfUsers(ctx, []int64{a.ID})
	require.NoError(t, err)
	require.Len(t, mu, 2)

	in, err := st.IsMember(ctx, lab.ID, b.ID)
	require.NoError(t, err)
	require.True(t, in)
	require.NoError(t, st.RemoveMember(ctx, lab.ID, b.ID))
	require.ErrorIs(t, st.RemoveMember(ctx, lab.ID, b.ID), fault.ErrNotFound)
	in, err = st.IsMember(ctx, lab.ID, b.ID)
	require.NoError(t, err)
	require.False(t, in)
}

func TestTokenKindsAndRevocation(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	u := newUser(t, st, "ann")
	p := store.Token{UserID: u.ID, Name: "p", Prefix: "reeh_x", Hash: "h1", Scopes: "read"}
	j := store.Token{UserID: u.ID, Name: "j", Kind: store.TokenJWT, Prefix: "jwt", Hash: "h2", Scopes: "read,write"}
	require.NoError(t, st.CreateToken(ctx, &p))
	require.NoError(t, st.CreateToken(ctx, &j))
	got, err := st.TokenByID(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, store.TokenPersonal, got.Kind, "the default kind is personal")
	got, err = st.TokenByID(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, store.TokenJWT, got.Kind)
	require.NoError(t, st.DeleteTokensOf(ctx, u.ID))
	_, err = st.TokenByID(ctx, j.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)
}

// TestAuthMigrationUpgradesExistingUsers applies only the first migration,
// writes users as 0.1 did, then opens the store: each user gets a UUID and a
// default group named after them, with them as its member.
func TestAuthMigrationUpgradesExistingUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := freshConfig(t)
	driver, dsn, dialect := "sqlite", "file:"+cfg.SQLitePath, "sqlite"
	if cfg.PostgresURL != "" {
		driver, dsn, dialect = "pgx", cfg.PostgresURL, "postgres"
	}
	raw, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	first, err := os.ReadFile(path.Join("migrations", dialect, "0001_init.sql"))
	require.NoError(t, err)
	for _, stmt := range strings.Split(string(first), ";\n") {
		if strings.TrimSpace(stmt) != "" {
			_, err := raw.ExecContext(ctx, stmt)
			require.NoError(t, err, stmt)
		}
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`,
		`INSERT INTO schema_migrations (version, applied_at) VALUES ('0001_init', CURRENT_TIMESTAMP)`,
		`INSERT INTO users (name, password_hash, role, created_at) VALUES ('old1', '', 'admin', CURRENT_TIMESTAMP)`,
		`INSERT INTO users (name, password_hash, role, created_at) VALUES ('old2', '', 'user', CURRENT_TIMESTAMP)`,
		`INSERT INTO tokens (user_id, name, prefix, hash, scopes, created_at, expires_at) VALUES (1, 't', 'reeh_', 'h', 'read', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
	} {
		_, err := raw.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	require.NoError(t, raw.Close())

	st, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	seen := map[string]bool{}
	for _, name := range []string{"old1", "old2"} {
		u, err := st.UserByName(ctx, name)
		require.NoError(t, err)
		require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, u.UUID)
		require.False(t, seen[u.UUID])
		seen[u.UUID] = true
		g, err := st.PersonalGroup(ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, name, g.Name)
		in, err := st.IsMember(ctx, g.ID, u.ID)
		require.NoError(t, err)
		require.True(t, in)
	}
	tok, err := st.TokenByID(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, store.TokenPersonal, tok.Kind)
}
