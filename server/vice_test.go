package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRegistryCORSAndRegistration: a configured origin's preflight is
// answered without credentials and its responses carry the origin; another
// origin gets nothing; with open registration anyone registers, and the
// answer echoes the password while GET /v1/user echoes only what the
// request presented.
func TestRegistryCORSAndRegistration(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{corsOrigins: []string{"http://ui.example:8081"}, openRegistration: true})
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", h.url+"/v1/images", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	ok := pre("http://ui.example:8081")
	require.Equal(t, 204, ok.StatusCode)
	require.Equal(t, "http://ui.example:8081", ok.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, ok.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	require.Empty(t, pre("http://evil.example").Header.Get("Access-Control-Allow-Origin"))

	req, _ := http.NewRequest("POST", h.url+"/v1/user", strings.NewReader(`{"username":"carol","password":"carols-password","email":"carol@example.org","fullname":"Carol"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://ui.example:8081")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "http://ui.example:8081", resp.Header.Get("Access-Control-Allow-Origin"))

	req, _ = http.NewRequest("GET", h.url+"/v1/user", nil)
	req.SetBasicAuth("carol", "carols-password")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var buf strings.Builder
	_, _ = io.Copy(&buf, resp.Body)
	require.Contains(t, buf.String(), `"password":"carols-password"`)
	require.Contains(t, buf.String(), `"username":"carol"`)
}
