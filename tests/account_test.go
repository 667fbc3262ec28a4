package tests

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// createUser creates a user through the admin API and returns it with its password.
func createUser(t *testing.T, in *instance, pw *string) client.AccountUser {
	t.Helper()
	name := "u" + randomHex(5)
	resp, err := admin(t, in).AccountCreateUserWithResponse(context.Background(), client.AccountNewUser{Name: name, Password: pw})
	require.NoError(t, err)
	require.Equal(t, 201, resp.StatusCode(), string(resp.Body))
	return *resp.JSON201
}

func TestAuthAccountsAndGroups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	adm := admin(t, suite.main)
	pw := "pw-" + randomHex(8)
	full := "Alice Liddell"
	created, err := adm.AccountCreateUserWithResponse(ctx, client.AccountNewUser{Name: "a" + randomHex(5), Password: &pw, FullName: &full})
	require.NoError(t, err)
	require.Equal(t, 201, created.StatusCode(), string(created.Body))
	alice := *created.JSON201
	require.Equal(t, alice.Name, alice.DefaultGroup)
	require.Equal(t, []string{alice.Name}, alice.Groups)
	require.Equal(t, full, alice.FullName)
	ac := newClient(t, suite.main, basic(alice.Name, pw))

	// Admins list, read and change users; users cannot.
	list, err := adm.AccountListUsersWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, list.StatusCode())
	found := false
	for _, u := range *list.JSON200 {
		found = found || u.Uuid == alice.Uuid
	}
	require.True(t, found)
	forbidden, err := ac.AccountListUsersWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 403, forbidden.StatusCode())
	got, err := adm.AccountGetUserWithResponse(ctx, alice.Uuid)
	require.NoError(t, err)
	require.Equal(t, 200, got.StatusCode())
	require.Equal(t, alice.Name, got.JSON200.Name)
	missing, err := adm.AccountGetUserWithResponse(ctx, uuid.New())
	require.NoError(t, err)
	require.Equal(t, 404, missing.StatusCode())
	status, body := rawGet(t, suite.main, "/api/auth/users/not-a-uuid", "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:"+suite.main.password)))
	require.Equal(t, 400, status, body)
	email := "alice@example.org"
	patched, err := adm.AccountUpdateUserWithResponse(ctx, alice.Uuid, client.AccountUserUpdate{Email: &email})
	require.NoError(t, err)
	require.Equal(t, 200, patched.StatusCode(), string(patched.Body))
	require.Equal(t, email, patched.JSON200.Email)
	require.Equal(t, full, patched.JSON200.FullName)
	empty, err := adm.AccountUpdateUserWithBodyWithResponse(ctx, alice.Uuid, "application/json", stringsReader(`{}`))
	require.NoError(t, err)
	require.Equal(t, 400, empty.StatusCode(), "an update names at least one field")
	me, err := adm.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	no := false
	self, err := adm.AccountUpdateUserWithResponse(ctx, me.JSON200.Uuid, client.AccountUserUpdate{Disabled: ptr(true)})
	require.NoError(t, err)
	require.Equal(t, 409, self.StatusCode(), "an admin cannot disable themself")

	// Groups: an admin creates one and adds alice; alice sees it, another user does not.
	g, err := adm.AccountCreateGroupWithResponse(ctx, client.AccountNewGroup{Name: "lab" + randomHex(4)})
	require.NoError(t, err)
	require.Equal(t, 201, g.StatusCode(), string(g.Body))
	lab := *g.JSON201
	dup, err := adm.AccountCreateGroupWithResponse(ctx, client.AccountNewGroup{Name: lab.Name})
	require.NoError(t, err)
	require.Equal(t, 409, dup.StatusCode())
	taken, err := adm.AccountCreateUserWithResponse(ctx, client.AccountNewUser{Name: lab.Name})
	require.NoError(t, err)
	require.Equal(t, 409, taken.StatusCode(), "a user's default group would take the group's name")
	byUser, err := ac.AccountCreateGroupWithResponse(ctx, client.AccountNewGroup{Name: "x" + randomHex(4)})
	require.NoError(t, err)
	require.Equal(t, 403, byUser.StatusCode())
	add, err := adm.AccountAddGroupMemberWithResponse(ctx, lab.Uuid, alice.Uuid)
	require.NoError(t, err)
	require.Equal(t, 204, add.StatusCode(), string(add.Body))
	mine, err := ac.AccountListGroupsWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, mine.StatusCode())
	require.Len(t, *mine.JSON200, 2)
	seen, err := ac.AccountGetGroupWithResponse(ctx, lab.Uuid)
	require.NoError(t, err)
	require.Equal(t, 200, seen.StatusCode())
	require.Equal(t, []client.AccountGroupMember{{Uuid: alice.Uuid, Name: alice.Name}}, seen.JSON200.Members)
	other := newUser(t, suite.main)
	hidden, err := other.AccountGetGroupWithResponse(ctx, lab.Uuid)
	require.NoError(t, err)
	require.Equal(t, 404, hidden.StatusCode())
	aliceMe, err := ac.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{alice.Name, lab.Name}, aliceMe.JSON200.Groups)

	var personal client.AccountGroup
	for _, gr := range *mine.JSON200 {
		if gr.Personal {
			personal = gr
		}
	}
	require.Equal(t, alice.Name, personal.Name)
	leave, err := adm.AccountRemoveGroupMemberWithResponse(ctx, personal.Uuid, alice.Uuid)
	require.NoError(t, err)
	require.Equal(t, 409, leave.StatusCode(), "nobody leaves their default group")
	rm, err := adm.AccountRemoveGroupMemberWithResponse(ctx, lab.Uuid, alice.Uuid)
	require.NoError(t, err)
	require.Equal(t, 204, rm.StatusCode())
	rm, err = adm.AccountRemoveGroupMemberWithResponse(ctx, lab.Uuid, alice.Uuid)
	require.NoError(t, err)
	require.Equal(t, 404, rm.StatusCode())

	// Disabling revokes: the password stops working; enabling brings it back.
	dis, err := adm.AccountDisableUserWithResponse(ctx, alice.Uuid)
	require.NoError(t, err)
	require.Equal(t, 204, dis.StatusCode())
	refused, err := ac.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, refused.StatusCode())
	en, err := adm.AccountUpdateUserWithResponse(ctx, alice.Uuid, client.AccountUserUpdate{Disabled: &no})
	require.NoError(t, err)
	require.Equal(t, 200, en.StatusCode())
	require.False(t, en.JSON200.Disabled)
	back, err := ac.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, back.StatusCode())
}

func ptr[T any](v T) *T { return &v }

func TestAuthAdminIssuesTokenForPasswordlessUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	robot := createUser(t, suite.main, nil)
	noLogin, err := newClient(t, suite.main, basic(robot.Name, "")).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, noLogin.StatusCode())

	issued, err := admin(t, suite.main).AccountIssueUserTokenWithResponse(ctx, robot.Uuid,
		client.AccountNewToken{Name: "ci", Scopes: []client.AccountScope{client.AccountScopeRead, client.AccountScopeWrite}})
	require.NoError(t, err)
	require.Equal(t, 201, issued.StatusCode(), string(issued.Body))
	rc := newClient(t, suite.main, bearer(issued.JSON201.Token))
	me, err := rc.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, me.StatusCode())
	require.Equal(t, robot.Uuid, me.JSON200.Uuid)
	list, err := rc.ReeProcessListWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, 200, list.StatusCode())

	adminScope, err := admin(t, suite.main).AccountIssueUserTokenWithResponse(ctx, robot.Uuid,
		client.AccountNewToken{Name: "adm", Scopes: []client.AccountScope{client.AccountScopeAdmin}})
	require.NoError(t, err)
	require.Equal(t, 403, adminScope.StatusCode(), "the admin scope needs the admin role")
	byRobot, err := rc.AccountIssueUserTokenWithResponse(ctx, robot.Uuid,
		client.AccountNewToken{Name: "x", Scopes: []client.AccountScope{client.AccountScopeRead}})
	require.NoError(t, err)
	require.Equal(t, 403, byRobot.StatusCode())
	unknown, err := admin(t, suite.main).AccountIssueUserTokenWithResponse(ctx, uuid.New(),
		client.AccountNewToken{Name: "x", Scopes: []client.AccountScope{client.AccountScopeRead}})
	require.NoError(t, err)
	require.Equal(t, 404, unknown.StatusCode())
}

// rawGet sends a GET with the given Authorization header (none if empty) and
// returns the status and body, validated against the spec.
func rawGet(t *testing.T, in *instance, path, authorization string) (int, string) {
	t.Helper()
	c := newClient(t, in, nil)
	req, err := http.NewRequest("GET", in.url+path, nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := c.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestAuthAccessTokenQueryNeverReachesTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alice := newUser(t, suite.main)
	created, err := alice.AccountCreateTokenWithResponse(ctx, client.AccountNewToken{Name: "reana", Scopes: []client.AccountScope{client.AccountScopeRead}})
	require.NoError(t, err)
	require.Equal(t, 201, created.StatusCode())
	secret := created.JSON201.Token

	// What reana-client sends: the token in access_token.
	status, body := rawGet(t, suite.main, "/api/auth/me?access_token="+url.QueryEscape(secret), "")
	require.Equal(t, 200, status, body)
	status, _ = rawGet(t, suite.main, "/api/process/list?limit=1&access_token="+url.QueryEscape(secret), "")
	require.Equal(t, 200, status)
	bogus := "reeh_E2eBogusQuerySecret"
	status, body = rawGet(t, suite.main, "/api/auth/me?access_token="+bogus, "")
	require.Equal(t, 401, status)
	require.NotContains(t, body, "E2eBogus")
	status, _ = rawGet(t, suite.main, "/api/process/status/not-a-uuid?access_token="+url.QueryEscape(secret), "")
	require.Equal(t, 400, status)

	log, err := os.ReadFile(suite.main.logPath)
	require.NoError(t, err)
	require.Contains(t, string(log), "url=\"/api/process/list?limit=1", "requests are logged, without the token")
	require.NotContains(t, string(log), secret)
	require.NotContains(t, string(log), strings.TrimPrefix(secret, "reeh_"))
	require.NotContains(t, string(log), "E2eBogus")
}

func TestAuthCredentialsAreNeverEchoed(t *testing.T) {
	t.Parallel()
	const secret = "reeh_E2eNeverEchoed42"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, h := range []string{
		secret,                      // a token without a scheme
		"Token " + secret,           // an unknown scheme
		"Basic " + secret + "==",    // not base64
		"Basic " + b64(secret),      // no colon
		"Basic " + b64("x:"+secret), // a wrong token as password
		"Bearer " + secret,          // a wrong token
	} {
		status, body := rawGet(t, suite.main, "/api/auth/me", h)
		require.Equal(t, 401, status, h)
		require.NotContains(t, body, "E2eNever", h)
		require.NotContains(t, body, b64(secret), h)
	}
	log, err := os.ReadFile(suite.main.logPath)
	require.NoError(t, err)
	require.NotContains(t, string(log), "E2eNever")
}

func TestAuthLongPasswords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pw := strings.Repeat("long passphrase ", 7)[:100]
	u := createUser(t, suite.main, &pw)
	me, err := newClient(t, suite.main, basic(u.Name, pw)).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, me.StatusCode(), string(me.Body))
	cut, err := newClient(t, suite.main, basic(u.Name, pw[:72])).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, cut.StatusCode(), "every character counts")
	longest := strings.Repeat("é", 256)
	resp, err := admin(t, suite.main).AccountCreateUserWithResponse(ctx, client.AccountNewUser{Name: "l" + randomHex(5), Password: &longest})
	require.NoError(t, err)
	require.Equal(t, 201, resp.StatusCode(), "the spec's longest password is accepted: %s", resp.Body)
}

// TestAuthFailedLoginLimit runs its own instance so that its failures do not
// count against the shared instance's loopback address.
func TestAuthFailedLoginLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in, err := startInstance(instanceOpts{name: "logins-" + randomHex(3), database: freshDBOrEmpty(t)})
	require.NoError(t, err)
	defer in.stop()
	pw := "pw-" + randomHex(8)
	u := createUser(t, in, &pw)
	good := newClient(t, in, basic(u.Name, pw))
	me, err := good.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, me.StatusCode())

	wrong := newClient(t, in, basic(u.Name, "wrong-password"))
	for i := range 10 { // the default burst per user name
		resp, err := wrong.AccountMeWithResponse(ctx)
		require.NoError(t, err)
		require.Equal(t, 401, resp.StatusCode(), "attempt %d", i+1)
	}
	resp, err := wrong.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 429, resp.StatusCode(), string(resp.Body))
	retry, err := strconv.Atoi(resp.HTTPResponse.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.True(t, retry >= 1 && retry <= 6, "one attempt comes back within 6 seconds: %d", retry)
	// A client that logged in before keeps working; a fresh login of that name waits.
	me, err = good.AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, me.StatusCode())
	// Other user names are limited only by the address (30 failures).
	other, err := newClient(t, in, basic("nobody", "x")).AccountMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, other.StatusCode())
}
