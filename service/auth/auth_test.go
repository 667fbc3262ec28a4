package auth_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/store/storetest"
)

// fixture is a service with an admin and a login clock.
type fixture struct {
	svc   *auth.Service
	admin auth.Principal
	key   []byte
	now   *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func setup(t *testing.T, limits auth.LoginLimits) fixture {
	t.Helper()
	ctx := context.Background()
	key, err := auth.LoadOrCreateKey(filepath.Join(t.TempDir(), auth.JWTKeyFile))
	require.NoError(t, err)
	c := &clock{t: time.Now()}
	svc := auth.New(storetest.Open(t, "reehub_auth"), slog.New(slog.NewTextHandler(io.Discard, nil)), auth.Config{JWTKey: key, LoginLimits: limits, NowFunc: c.Now})
	_, created, err := svc.EnsureAdmin(ctx, "admin-password")
	require.NoError(t, err)
	require.True(t, created)
	admin, err := svc.Basic(ctx, "admin", "admin-password")
	require.NoError(t, err)
	return fixture{svc: svc, admin: admin, key: key, now: c}
}

func (f fixture) user(t *testing.T, name, password string) auth.Account {
	t.Helper()
	acc, err := f.svc.CreateUser(context.Background(), f.admin, auth.NewUser{Name: name, Password: password, Email: name + "@example.org", FullName: "User " + name})
	require.NoError(t, err)
	return acc
}

func TestUsersHaveADefaultGroup(t *testing.T) {
	t.Parallel()
	f := setup(t, auth.LoginLimits{})
	ctx := context.Background()
	alice := f.user(t, "alice", "alice-password")
	require.Len(t, alice.UUID, 36)
	require.Equal(t, "alice", alice.DefaultGroup)
	require.Equal(t, []string{"alice"}, alice.Groups)
	require.True(t, alice.HasPassword)

	me, err := f.svc.Me(ctx, f.admin)
	require.NoError(t, err)
	require.Equal(t, "admin", me.DefaultGroup, "the first admin has a default group too")

	_, err = f.svc.CreateGroup(ctx, f.admin, "bob")
	require.NoError(t, err)
	_, err = f.svc.CreateUser(ctx, f.admin, auth.NewUser{Name: "bob"})
	require.ErrorIs(t, err, fault.ErrConflict, "the default group takes the user's name")
	users, err := f.svc.Users(ctx, f.admin)
	require.NoError(t, err)
	require.Len(t, users, 2, "the failed user was rolled back with their group")

	p, err := f.svc.Basic(ctx, "alice", "alice-password")
	require.NoError(t, err)
	_, err = f.svc.CreateUser(ctx, p, auth.NewUser{Name: "carol"})
	require.ErrorIs(t, err, fault.ErrForbidden)
	_, err = f.svc.Users(ctx, p)
	require.ErrorIs(t, err, fault.ErrForbidden)

	for _, bad := range []auth.NewUser{
		{Name: "Bad Name"}, {Name: "ok", Password: "short"}, {Name: "ok2", Email: "not an email"},
		{Name: "ok3", FullName: "line\nbreak"}, {Name: "ok4", Role: "root"},
	} {
		_, err := f.svc.CreateUser(ctx, f.admin, bad)
		require.ErrorIs(t, err, fault.ErrInvalid, "%+v", bad)
	}
}

func TestLongPasswordsWork(t *testing.T) {
	t.Parallel()
	f := setup(t, auth.LoginLimits{})
	ctx := context.Background()
	pw := strings.Repeat("a long passphrase ", 10)[:150]
	f.user(t, "dora", pw)
	_, err := f.svc.Basic(ctx, "dora", pw)
	require.NoError(t, err)
	_, err = f.svc.Basic(ctx, "dora", pw[:72])
	require.ErrorIs(t, err, fault.ErrUnauthenticated, "the characters past 72 bytes count")
	_, err = f.svc.CreateUser(ctx, f.admin, auth.NewUser{Name: "eve", Password: strings.Repeat("x", 257)})
	require.ErrorIs(t, err, fault.ErrInvalid)
}

func TestUpdateAndDisableUser(t *testing.T) {
	t.Parallel()
	f := setup(t, auth.LoginLimits{})
	ctx := context.Background()
	alice := f.user(t, "alice", "alice-password")
	p, err := f.svc.Basic(ctx, "alice", "alice-password")
	require.NoError(t, err)
	_, secret, err := f.svc.CreateToken(ctx, p, auth.NewToken{Name: "ci", Scopes: []auth.Scope{auth.ScopeRead}})
	require.NoError(t, err)

	name, role := "Alice L.", auth.RoleAdmin
	acc, err := f.svc.UpdateUser(ctx, f.admin, alice.UUID, auth.UserUpdate{FullName: &name, Role: &role})
	require.NoError(t, err)
	require.Equal(t, "Alice L.", acc.FullName)
	require.Equal(t, auth.RoleAdmin, acc.Role)
	require.Equal(t, "alice@example.org", acc.Email, "absent fields keep their value")
	p, err = f.svc.Basic(ctx, "alice", "alice-password")
	require.NoError(t, err)
	require.Equal(t, auth.RoleAdmin, p.User.Role, "a role change shows at once (the login cache is dropped)")

	newPW := "a-new-password"
	_, err = f.svc.UpdateUser(ctx, f.admin, alice.UUID, auth.UserUpdate{Password: &newPW})
	require.NoError(t, err)
	_, err = f.svc.Basic(ctx, "alice", "alice-password")
	require.ErrorIs(t, err, fault.ErrUnauthenticated)
	_, err = f.svc.Basic(ctx, "alice", newPW)
	require.NoError(t, err)

	require.NoError(t, f.svc.DisableUser(ctx, f.admin, alice.UUID))
	_, err = f.svc.Basic(ctx, "alice", newPW)
	require.ErrorIs(t, err, fault.ErrUnauthenticated, "a disabled user cannot log in")
	_, err = f.svc.Bearer(ctx, secret)
	require.ErrorIs(t, err, fault.ErrUnauthenticated, "disabling revoked the tokens")
	got, err := f.svc.User(ctx, f.admin, alice.UUID)
	require.NoError(t, err)
	require.True(t, got.Disabled)
	no := false
	_, err = f.svc.UpdateUser(ctx, f.admin, alice.UUID, auth.UserUpdate{Disabled: &no})
	require.NoError(t, err)
	_, err = f.svc.Basic(ctx, "alice", newPW)
	require.NoError(t, err)

	yes, plain := true, auth.RoleUser
	_, err = f.svc.UpdateUser(ctx, f.admin, f.admin.User.UUID, auth.UserUpdate{Disabled: &yes})
	require.ErrorIs(t, err, fault.ErrConflict)
	_, err = f.svc.UpdateUser(ctx, f.admin, f.admin.User.UUID, auth.UserUpdate{Role: &plain})
	require.ErrorIs(t, err, fault.ErrConflict)
	_, err = f.svc.UpdateUser(ctx, f.admin, uuid.NewString(), auth.UserUpdate{Role: &plain})
	require.ErrorIs(t, err, fault.ErrNotFound)
}

func TestAdminIssuesTokenForPasswordlessUser(t *testing.T) {
	t.Parallel()
	f := setup(t, auth.LoginLimits{})
	ctx := context.Background()
	robot, err := f.svc.CreateUser(ctx, f.admin, auth.NewUser{Name: "robot"})
	require.NoError(t, err)
	require.False(t, robot.HasPassword)
	_, err = f.svc.Basic(ctx, "robot", "")
	require.ErrorIs(t, err, fault.ErrUnauthenticated)

	tok, secret, err := f.svc.IssueToken(ctx, f.admin, robot.UUID, auth.NewToken{Name: "ci", Scopes: []auth.Scope{auth.ScopeRead, auth.ScopeWrite}})
	require.NoError(t, err)
	require.Equal(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, tok.Scopes)
	p, err := f.svc.Bearer(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, "robot", p.User.Name)
	require.True(t, p.Allows(auth.ScopeWrite))
	p, err = f.svc.Basic(ctx, "robot", secret)
	require.NoError(t, err, "the token is also the Basic password")
	list, err := f.svc.Tokens(ctx, p)
	require.NoError(t, err)
	require.Len(t, list, 1, "the token belongs to the robot")

	_, _, err = f.svc.IssueToken(ctx, f.admin, robot.UUID, auth.NewToken{Name: "adm", Scopes: []auth.Scope{auth.ScopeAdmin}})
	require.ErrorIs(t, err, fault.ErrForbidden, "admin scope only for admins")
	_, _, err = f.svc.IssueToken(ctx, p, robot.UUID, auth.NewToken{Name: "x", Scopes: []auth.Scope{auth.ScopeRead}})
	require.ErrorIs(t, err, fault.ErrForbidden, "only admins issue tokens for others")
	_, _, err = f.svc.IssueToken(ctx, f.admin, uuid.NewString(), auth.NewToken{Name: "x", Scopes: []auth.Scope{auth.ScopeRead}})
	require.ErrorIs(t, err, fault.ErrNotFound)
	_, _, err = f.svc.IssueToken(ctx, f.admin, robot.UUID, auth.NewToken{Name: "x", Scopes: []auth.Scope{auth.ScopeRead}, ExpiresIn: 3651 * 24 * time.Hour})
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.NoError(t, f.svc.DisableUser(ctx, f.admin, robot.UUID))
	_, _, err = f.svc.IssueToken(ctx, f.admin, robot.UUID, auth.NewToken{Name: "x", Scopes: []auth.Scope{auth.ScopeRead}})
	require.ErrorIs(t, err, fault.ErrConflict)
}

func TestGroupsAndGroupFor(t *testing.T) {
	t.Parallel()
	f := setup(t, auth.LoginLimits{})
	ctx := context.Background()
	alice, bob := f.user(t, "alice", "alice-password"), f.user(t, "bob", "bob-password")
	pa, err := f.svc.Basic(ctx, "alice", "alice-password")
	require.NoError(t, err)
	pb, err := f.svc.Basic(ctx, "bob", "bob-password")
	require.NoError(t, err)

	lab, err := f.svc.CreateGroup(ctx, f.admin, "lab")
	require.NoError(t, err)
	require.False(t, lab.Personal)
	require.Empty(t, lab.Members)
	_, err = f.svc.CreateGroup(ctx, f.admin, "lab")
	require.ErrorIs(t, err, fault.ErrConflict)
	_, err = f.svc.CreateGroup(ctx, pa, "mine")
	require.ErrorIs(t, err, fault.ErrForbidden)
	require.NoError(t, f.svc.AddMember(ctx, f.admin, lab.UUID, alice.UUID))
	require.NoError(t, f.svc.AddMember(ctx, f.admin, lab.UUID, alice.UUID), "twice is fine")
	require.ErrorIs(t, f.svc.AddMember(ctx, pa, lab.UUID, bob.UUID), fault.ErrForbidden)
	require.ErrorIs(t, f.svc.AddMember(ctx, f.admin, lab.UUID, uuid.NewString()), fault.ErrNotFound)

	g, err := f.svc.Group(ctx, pa, lab.UUID)
	require.NoError(t, err)
	require.Equal(t, []auth.Member{{UUID: alice.UUID, Name: "alice"}}, g.Members)
	_, err = f.svc.Group(ctx, pb, lab.UUID)
	require.ErrorIs(t, err, fault.ErrNotFound, "bob is not in lab")
	mine, err := f.svc.Groups(ctx, pa)
	require.NoError(t, err)
	require.Equal(t, []string{"alice", "lab"}, []string{mine[0].Name, mine[1].Name})
	require.True(t, mine[0].Personal)
	all, err := f.svc.Groups(ctx, f.admin)
	require.NoError(t, err)
	require.Len(t, all, 4, "admin, alice, bob, lab")
	acc, err := f.svc.Me(ctx, pa)
	require.NoError(t, err)
	require.Equal(t, []string{"alice", "lab"}, acc.Groups)

	// groupName resolution: empty is the default group; only a member may act in a group.
	got, err := f.svc.GroupFor(ctx, pa, "")
	require.NoError(t, err)
	require.Equal(t, "alice", got.Name)
	got, err = f.svc.GroupFor(ctx, pa, "lab")
	require.NoError(t, err)
	require.Equal(t, lab.ID, got.ID)
	_, err = f.svc.GroupFor(ctx, pb, "lab")
	require.ErrorIs(t, err, fault.ErrForbidden)
	_, errUnknown := f.svc.GroupFor(ctx, pb, "nosuch")
	require.ErrorIs(t, errUnknown, fault.ErrForbidden)
	require.Equal(t, strings.Replace(err.Error(), "lab", "nosuch", 1), errUnknown.Error(), "an unknown group answers like a foreign one")
	_, err = f.svc.GroupFor(ctx, pb, "alice")
	require.ErrorIs(t, err, fault.ErrForbidden, "another user's default group")
	_, err = f.svc.GroupFor(ctx, f.admin, "lab")
	require.NoError(t, err, "admins act in any group")

	personal, err := f.svc.GroupFor(ctx, pa, "")
	require.NoError(t, err)
	require.ErrorIs(t, f.svc.RemoveMember(ctx, f.admin, personal.UUID, alice.UUID), fault.ErrConflict, "nobody leaves their default group")
	require.NoError(t, f.svc.RemoveMember(ctx, f.admin, lab.UUID, alice.UUID))
	require.ErrorIs(t, f.svc.RemoveMember(ctx, f.admin, lab.UUID, alice.UUID), fault.ErrNotFound)
	_, err = f.svc.GroupFor(ctx, pa, "lab")
	require.ErrorIs(t, err, fault.ErrForbidden)
}

func TestFailedBasicLoginsAreLimited(t *testing.T) {
	t.Parallel()
	f := setup(t, auth.LoginLimits{UserBurst: 3, UserEvery: time.Minute, AddrBurst: 5, AddrEvery: time.Minute})
	ctx := context.Background()
	f.user(t, "alice", "alice-password")
	f.user(t, "bob", "bob-password")
	from := func(addr string) context.Context { return auth.WithClientAddr(ctx, addr) }

	// Bob logs in once, so that his credentials are known good.
	_, err := f.svc.Basic(from("192.0.2.2:1"), "bob", "bob-password")
	require.NoError(t, err)

	// Per user: three failures, then even the right password is refused unchecked.
	for i := range 3 {
		_, err := f.svc.Basic(from(fmt.Sprintf("198.51.100.%d:1", i)), "alice", "wrong")
		require.ErrorIs(t, err, fault.ErrUnauthenticated)
	}
	_, err = f.svc.Basic(from("198.51.100.9:1"), "alice", "alice-password")
	require.ErrorIs(t, err, fault.ErrRateLimited)
	var limited *fault.LimitedError
	require.ErrorAs(t, err, &limited)
	require.Equal(t, time.Minute, limited.RetryAfter)
	require.Contains(t, err.Error(), "retry in 60 seconds")

	// Per address: an unknown name counts like a known one; five failures from
	// one address, under different names, lock out that address.
	for i := range 5 {
		_, err := f.svc.Basic(from("203.0.113.5:4000"), fmt.Sprintf("nobody%d", i), "x")
		require.ErrorIs(t, err, fault.ErrUnauthenticated)
	}
	_, err = f.svc.Basic(from("203.0.113.5:4001"), "carol", "x")
	require.ErrorIs(t, err, fault.ErrRateLimited)
	// ...but a login verified before still works from there, and other addresses are unaffected.
	_, err = f.svc.Basic(from("203.0.113.5:4002"), "bob", "bob-password")
	require.NoError(t, err)
	_, err = f.svc.Basic(from("192.0.2.3:1"), "nobody9", "x")
	require.ErrorIs(t, err, fault.ErrUnauthenticated)

	// Time refills the buckets.
	f.now.Add(time.Minute)
	_, err = f.svc.Basic(from("198.51.100.9:1"), "alice", "alice-password")
	require.NoError(t, err)
}

func TestFOSSologyJWT(t *testing.T) {
	t.Parallel()
	f := setup(t, auth.LoginLimits{})
	ctx := context.Background()
	f.user(t, "alice", "alice-password")
	pa, err := f.svc.Basic(ctx, "alice", "alice-password")
	require.NoError(t, err)

	tok, signed, err := f.svc.MintJWT(ctx, pa, auth.NewToken{Name: "fossology", Scopes: []auth.Scope{auth.ScopeRead}, ExpiresIn: 24 * time.Hour})
	require.NoError(t, err)
	p, err := f.svc.Bearer(ctx, signed)
	require.NoError(t, err)
	require.Equal(t, "alice", p.User.Name)
	require.Equal(t, "jwt", p.Method)
	require.Equal(t, []auth.Scope{auth.ScopeRead}, p.Scopes)

	// The claims are FOSSology's: exp, nbf, jti = base64("<token id>.<user id>"), scope.
	var claims jwt.MapClaims
	_, err = jwt.ParseWithClaims(signed, &claims, func(*jwt.Token) (any, error) { return f.key, nil })
	require.NoError(t, err)
	require.Equal(t, "read", claims["scope"])
	require.Contains(t, claims, "exp")
	require.Contains(t, claims, "nbf")
	require.Equal(t, fmt.Sprintf("%d.%d", tok.ID, pa.User.ID), mustB64(t, claims["jti"].(string)))

	sign := func(key []byte, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		require.NoError(t, err)
		return s
	}
	now := time.Now()
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"exp": now.Add(time.Hour).Unix(), "nbf": now.Unix(), "jti": claims["jti"], "scope": "read"}
	}
	widened := base()
	widened["scope"] = "read write admin"
	p, err = f.svc.Bearer(ctx, sign(f.key, widened))
	require.NoError(t, err)
	require.Equal(t, []auth.Scope{auth.ScopeRead}, p.Scopes, "a claim cannot widen what the token row grants")

	bad := map[string]string{"forged key": sign([]byte(strings.Repeat("k", 32)), base())}
	expired := base()
	expired["exp"] = now.Add(-time.Hour).Unix()
	bad["expired"] = sign(f.key, expired)
	early := base()
	early["nbf"] = now.Add(time.Hour).Unix()
	bad["not yet valid"] = sign(f.key, early)
	noExp := base()
	delete(noExp, "exp")
	bad["no exp"] = sign(f.key, noExp)
	otherUser := base()
	otherUser["jti"] = b64(fmt.Sprintf("%d.%d", tok.ID, f.admin.User.ID))
	bad["jti of another user"] = sign(f.key, otherUser)
	_, personalSecret, err := f.svc.CreateToken(ctx, pa, auth.NewToken{Name: "p", Scopes: []auth.Scope{auth.ScopeRead}})
	require.NoError(t, err)
	require.NotEmpty(t, personalSecret)
	personal, err := f.svc.Tokens(ctx, pa)
	require.NoError(t, err)
	asJWT := base()
	asJWT["jti"] = b64(fmt.Sprintf("%d.%d", personal[len(personal)-1].ID, pa.User.ID))
	bad["personal token row"] = sign(f.key, asJWT)
	for name, raw := range bad {
		_, err := f.svc.Bearer(ctx, raw)
		require.ErrorIs(t, err, fault.ErrUnauthenticated, name)
	}

	// Revoking the token row revokes the JWT.
	require.NoError(t, f.svc.DeleteToken(ctx, pa, tok.ID))
	_, err = f.svc.Bearer(ctx, signed)
	require.ErrorIs(t, err, fault.ErrUnauthenticated)

	// Without a key no JWT is minted or accepted.
	keyless := auth.New(storetest.Open(t, "reehub_auth"), slog.New(slog.NewTextHandler(io.Discard, nil)), auth.Config{})
	_, _, err = keyless.MintJWT(ctx, pa, auth.NewToken{Name: "x", Scopes: []auth.Scope{auth.ScopeRead}})
	require.ErrorIs(t, err, fault.ErrUnavailable)
	_, err = keyless.Bearer(ctx, sign(f.key, base()))
	require.ErrorIs(t, err, fault.ErrUnauthenticated)
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, auth.JWTKeyFile)
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := auth.LoadOrCreateKey(path)
			require.NoError(t, err)
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		require.Equal(t, keys[0], k, "processes starting together agree on one key")
	}
	require.Len(t, keys[0], 32)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temp file is left")

	short := filepath.Join(dir, "short.key")
	require.NoError(t, os.WriteFile(short, []byte("tiny"), 0o600))
	_, err = auth.LoadOrCreateKey(short)
	require.Error(t, err)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func mustB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return string(b)
}
