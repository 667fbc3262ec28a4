package tests

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// newUser creates a user with a password through the admin API and returns a client for it.
func newUser(t testing.TB, in *instance) *api {
	t.Helper()
	name := "u" + randomHex(5)
	pw := "pw-" + randomHex(8)
	role := client.AccountRoleUser
	resp, err := admin(t, in).AccountCreateUserWithResponse(context.Background(), client.AccountNewUser{Name: name, Password: &pw, Role: &role})
	require.NoError(t, err)
	require.Equal(t, 201, resp.StatusCode(), string(resp.Body))
	return newClient(t, in, basic(name, pw))
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	me, err := admin(t, suite.main).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, me.StatusCode())
	require.Equal(t, client.AccountRoleAdmin, me.JSON200.Role)

	wrong, err := newClient(t, suite.main, basic("admin", "wrong")).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, wrong.StatusCode())
	require.Contains(t, wrong.HTTPResponse.Header.Get("WWW-Authenticate"), "Bearer")

	unknown, err := newClient(t, suite.main, basic("nobody", "whatever")).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, unknown.StatusCode())

	garbage, err := newClient(t, suite.main, bearer("not.a.jwt")).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, garbage.StatusCode())
}

func TestUsersAndRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alice := newUser(t, suite.main)

	// A plain user may not create users.
	pw := "long-enough-password"
	resp, err := alice.AccountCreateUserWithResponse(ctx, client.AccountNewUser{Name: "mallory" + randomHex(3), Password: &pw})
	require.NoError(t, err)
	require.Equal(t, 403, resp.StatusCode())

	// Names are unique.
	name := "dup" + randomHex(4)
	first, err := admin(t, suite.main).AccountCreateUserWithResponse(ctx, client.AccountNewUser{Name: name, Password: &pw})
	require.NoError(t, err)
	require.Equal(t, 201, first.StatusCode())
	again, err := admin(t, suite.main).AccountCreateUserWithResponse(ctx, client.AccountNewUser{Name: name, Password: &pw})
	require.NoError(t, err)
	require.Equal(t, 409, again.StatusCode())

	// Bad input is a 400: invalid name, short password, unknown field.
	short := "short"
	bad, err := admin(t, suite.main).AccountCreateUserWithResponse(ctx, client.AccountNewUser{Name: "Bad Name!", Password: &short})
	require.NoError(t, err)
	require.Equal(t, 400, bad.StatusCode())
	raw, err := admin(t, suite.main).AccountCreateUserWithBodyWithResponse(ctx, "application/json", stringsReader(`{"name":"okname","role":"root"}`))
	require.NoError(t, err)
	require.Equal(t, 400, raw.StatusCode())
	notJSON, err := admin(t, suite.main).AccountCreateUserWithBodyWithResponse(ctx, "application/json", stringsReader(`{"name":`))
	require.NoError(t, err)
	require.Equal(t, 400, notJSON.StatusCode())
}

func TestPersonalTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alice := newUser(t, suite.main)

	days := 1
	created, err := alice.AccountCreateTokenWithResponse(ctx, client.AccountNewToken{Name: "ci", Scopes: []client.AccountScope{client.AccountScopeRead}, ExpiresInDays: &days})
	require.NoError(t, err)
	require.Equal(t, 201, created.StatusCode(), string(created.Body))
	secret := created.JSON201.Token
	require.NotEmpty(t, secret)

	// The token works as Bearer and as the Basic password, with read scope only.
	viaBearer := newClient(t, suite.main, bearer(secret))
	me, err := viaBearer.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, me.StatusCode())
	list, err := viaBearer.ReeProcessListWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, 200, list.StatusCode())
	write, err := viaBearer.AccountCreateTokenWithResponse(ctx, client.AccountNewToken{Name: "x", Scopes: []client.AccountScope{client.AccountScopeRead}})
	require.NoError(t, err)
	require.Equal(t, 403, write.StatusCode(), "a read token cannot POST")

	// A user cannot mint an admin-scope token.
	adminScope, err := alice.AccountCreateTokenWithResponse(ctx, client.AccountNewToken{Name: "adm", Scopes: []client.AccountScope{client.AccountScopeAdmin}})
	require.NoError(t, err)
	require.Equal(t, 403, adminScope.StatusCode())

	// Listed without the secret; revoked tokens stop working; another user's token id is 404.
	tokens, err := alice.AccountListTokensWithResponse(ctx)
	require.NoError(t, err)
	require.Len(t, *tokens.JSON200, 1)
	other := newUser(t, suite.main)
	del, err := other.AccountDeleteTokenWithResponse(ctx, created.JSON201.Id)
	require.NoError(t, err)
	require.Equal(t, 404, del.StatusCode())
	del, err = alice.AccountDeleteTokenWithResponse(ctx, created.JSON201.Id)
	require.NoError(t, err)
	require.Equal(t, 204, del.StatusCode())
	me, err = viaBearer.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, me.StatusCode())
}

func TestOIDCBearer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sub := "sub-" + randomHex(6)
	tok := suite.issuer.token(t, sub, "oidc"+randomHex(3), time.Hour, nil)
	c := newClient(t, suite.main, bearer(tok))
	me, err := c.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, me.StatusCode(), string(me.Body))
	require.Equal(t, client.AccountRoleUser, me.JSON200.Role)
	again, err := c.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, me.JSON200.Id, again.JSON200.Id, "the subject maps to one user")

	expired := suite.issuer.token(t, sub, "x", -time.Minute, nil)
	resp, err := newClient(t, suite.main, bearer(expired)).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, resp.StatusCode())

	forger, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	forged := suite.issuer.token(t, sub, "x", time.Hour, forger)
	resp, err = newClient(t, suite.main, bearer(forged)).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, resp.StatusCode())
}
