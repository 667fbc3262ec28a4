package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/store"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// accountServer is the real HTTP handler on a SQLite store with the auth
// service only, logging at debug level into logs.
type accountServer struct {
	url  string
	logs *syncBuffer
	auth *auth.Service
}

func newAccountServer(t *testing.T, limits auth.LoginLimits) accountServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "reehub.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := auth.New(st, log, auth.Config{LoginLimits: limits, JWTKey: bytes.Repeat([]byte("k"), 32)})
	_, _, err = svc.EnsureAdmin(ctx, "admin-password")
	require.NoError(t, err)
	noPodman := func(context.Context) (string, error) { return "", errors.New("this test runs without Podman") }
	h, err := New(Deps{Auth: svc, Log: log, PodmanVersion: noPodman, PingDatabase: st.Ping}, Config{UploadDir: dir})
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return accountServer{url: ts.URL, logs: logs, auth: svc}
}

// do sends a request and returns the status, the headers and the body.
func (a accountServer) do(t *testing.T, method, path string, header http.Header, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func authz(v string) http.Header { return http.Header{"Authorization": {v}} }

func basicAuth(user, pass string) http.Header {
	return authz("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
}

// adminToken creates a token for the admin through the API.
func (a accountServer) adminToken(t *testing.T) string {
	t.Helper()
	status, _, body := a.do(t, "POST", "/api/auth/tokens", basicAuth("admin", "admin-password"), `{"name":"t","scopes":["read","write"]}`)
	require.Equal(t, 201, status, body)
	var out struct{ Token string }
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	return out.Token
}

func TestCredentialsAreNeverEchoed(t *testing.T) {
	t.Parallel()
	a := newAccountServer(t, auth.LoginLimits{})
	const secret = "reeh_SuperSecretValue123"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		header string
		leak   []string
	}{
		{"token without a scheme", secret, []string{secret, "SuperSecret"}},
		{"token and garbage without a scheme", secret + "xyz", []string{"SuperSecret"}},
		{"unknown scheme", "Token " + secret, []string{"SuperSecret"}},
		{"scheme-like secret", "reeh_SuperSecretValue123 more", []string{"SuperSecret"}},
		{"Basic that is not base64", "Basic " + secret + "!!", []string{"SuperSecret"}},
		{"Basic without a colon", "Basic " + b64(secret), []string{"SuperSecret", b64(secret)}},
		{"Basic with a wrong token", "Basic " + b64("admin:"+secret), []string{"SuperSecret", b64("admin:" + secret)}},
		{"Basic with a bad password", "Basic " + b64("admin:SuperSecretPass"), []string{"SuperSecret"}},
		{"Bearer with a wrong token", "Bearer " + secret, []string{"SuperSecret"}},
		{"Bearer with a bad JWT", "Bearer eyJhbGciOiJIUzI1NiJ9.SuperSecret.sig", []string{"SuperSecret"}},
		{"empty Bearer", "Bearer ", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := a.do(t, "GET", "/api/auth/me", authz(tc.header), "")
			require.Equal(t, 401, status, body)
			for _, l := range tc.leak {
				require.NotContains(t, body, l)
			}
		})
	}
	logs := a.logs.String()
	require.Contains(t, logs, "request refused", "the refusals were logged (at debug level)")
	require.NotContains(t, logs, "SuperSecret")
	require.NotContains(t, logs, b64(secret))
}

func TestAccessTokenQueryParameter(t *testing.T) {
	t.Parallel()
	a := newAccountServer(t, auth.LoginLimits{})
	tok := a.adminToken(t)

	status, _, body := a.do(t, "GET", "/api/auth/me?access_token="+url.QueryEscape(tok), nil, "")
	require.Equal(t, 200, status, body)
	require.Contains(t, body, `"name":"admin"`)
	status, _, body = a.do(t, "GET", "/api/auth/me?x=1&access%5Ftoken="+tok+"&y=2", nil, "")
	require.Equal(t, 200, status, body, "a percent-encoded name is the same parameter")

	// A wrong or revoked token, a token and a header, and a 404 all keep it out of body and logs.
	bogus := "reeh_QueryBogusSecret"
	status, _, body = a.do(t, "GET", "/api/auth/me?access_token="+bogus, nil, "")
	require.Equal(t, 401, status)
	require.NotContains(t, body, "QueryBogus")
	status, _, body = a.do(t, "GET", "/api/auth/me?access_token="+tok, basicAuth("admin", "admin-password"), "")
	require.Equal(t, 401, status, "two credentials are refused")
	require.NotContains(t, body, tok)
	status, _, body = a.do(t, "GET", "/api/no/such/path?access_token="+tok, nil, "")
	require.Equal(t, 404, status)
	require.NotContains(t, body, tok)
	status, _, _ = a.do(t, "POST", "/api/auth/tokens?access_token="+tok, nil, `{"name":`)
	require.Equal(t, 400, status)

	logs := a.logs.String()
	require.Contains(t, logs, `url="/api/auth/me?x=1&y=2"`, "the request log keeps the other parameters")
	require.Contains(t, logs, "url=/api/no/such/path ")
	require.NotContains(t, logs, tok)
	require.NotContains(t, logs, tok[len(auth.TokenPrefix):])
	require.NotContains(t, logs, "QueryBogus")
}

func TestQueryParamRedaction(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, rest, value string }{
		{"access_token=abc", "", "abc"},
		{"a=1&access_token=abc&b=2", "a=1&b=2", "abc"},
		{"access%5Ftoken=abc&b=%20x", "b=%20x", "abc"},
		{"access_token=&access_token=second", "", "second"},
		{"access_token_x=1", "access_token_x=1", ""},
	}
	for _, tc := range tests {
		rest, value, _ := cutQueryParam(tc.raw, accessTokenParam)
		require.Equal(t, tc.rest, rest, tc.raw)
		require.Equal(t, tc.value, value, tc.raw)
	}
	u, err := url.Parse("/api/x?a=1&access_token=secret")
	require.NoError(t, err)
	require.Equal(t, "/api/x?a=1&access_token=REDACTED", redactedURL(u))
}

func TestFailedLoginsGet429(t *testing.T) {
	t.Parallel()
	a := newAccountServer(t, auth.LoginLimits{UserBurst: 2, UserEvery: time.Hour, AddrBurst: 100, AddrEvery: time.Second})
	tok := a.adminToken(t)
	for range 2 {
		status, _, _ := a.do(t, "GET", "/api/auth/me", basicAuth("admin", "wrong-password"), "")
		require.Equal(t, 401, status)
	}
	status, h, body := a.do(t, "GET", "/api/auth/me", basicAuth("other", "wrong-password"), "")
	require.Equal(t, 401, status, "another user name is not limited: %s", body)
	require.Empty(t, h.Get("Retry-After"))
	status, h, body = a.do(t, "GET", "/api/auth/me", basicAuth("admin", "the-right-one?"), "")
	require.Equal(t, 429, status, body)
	retry, err := strconv.Atoi(h.Get("Retry-After"))
	require.NoError(t, err)
	require.True(t, retry > 3500 && retry <= 3600, "one attempt comes back within UserEvery: %d", retry)
	require.Contains(t, body, `"code":429`)
	require.Contains(t, body, "too many failed logins")
	// A Bearer token is not a Basic login: the admin keeps working with one.
	status, _, body = a.do(t, "GET", "/api/auth/me", authz("Bearer "+tok), "")
	require.Equal(t, 200, status, body)
}

func TestLongPasswordThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newAccountServer(t, auth.LoginLimits{})
	pw := strings.Repeat("0123456789", 10) // 100 characters: past bcrypt's 72 bytes
	status, _, body := a.do(t, "POST", "/api/auth/users", basicAuth("admin", "admin-password"),
		`{"name":"longpw","password":"`+pw+`"}`)
	require.Equal(t, 201, status, body)
	require.NotContains(t, body, "bcrypt")
	status, _, body = a.do(t, "GET", "/api/auth/me", basicAuth("longpw", pw), "")
	require.Equal(t, 200, status, body)
	status, _, _ = a.do(t, "GET", "/api/auth/me", basicAuth("longpw", pw[:72]), "")
	require.Equal(t, 401, status, "the characters past 72 bytes count")
}
