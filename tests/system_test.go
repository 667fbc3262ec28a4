package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPingVersionAndDocs(t *testing.T) {
	t.Parallel()
	c := newClient(t, suite.main, nil)
	ctx := context.Background()

	ping, err := c.SystemPingWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, ping.StatusCode())
	require.Equal(t, "OK", ping.JSON200.Message)

	v, err := c.SystemVersionWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, v.StatusCode())
	require.NotEmpty(t, *v.JSON200.PodmanVersion, "the Podman service is reachable, so its version is reported")
	wantDB := "sqlite"
	if suite.postgresURL != "" {
		wantDB = "postgres"
	}
	require.Equal(t, wantDB, string(v.JSON200.Database))

	for path, want := range map[string]string{
		"/openapi.yaml": "openapi: 3.0.3",
		"/openapi.json": `"openapi": "3.0.3"`,
		"/docs/":        "swagger",
	} {
		resp, err := http.Get(suite.main.url + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode, path)
		require.Contains(t, strings.ToLower(string(b)), strings.ToLower(want), path)
	}
}

// TestErrorModel checks that router fallbacks and validation failures use the one error shape.
func TestErrorModel(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, method, path string
		auth               bool
		status             int
	}{
		{"unknown path", "GET", "/api/nope", true, 404},
		{"wrong method", "DELETE", "/api/ping", false, 405},
		{"no credentials", "GET", "/api/process/list", false, 401},
		{"malformed uuid", "GET", "/api/process/status/not-a-uuid", true, 400},
		{"bad query type", "GET", "/api/process/list?limit=many", true, 400},
		{"query out of range", "GET", "/api/process/list?limit=100000", true, 400},
		{"bad enum", "GET", "/api/process/list?status=sleeping", true, 400},
		{"unknown image", "GET", "/api/image/download/no_such_image", true, 404},
		{"bad image name", "GET", "/api/image/download/..%2Fetc", true, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, suite.main.url+tc.path, nil)
			require.NoError(t, err)
			if tc.auth {
				req.SetBasicAuth("admin", suite.main.password)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			requireErrorBody(t, resp, tc.status)
			if tc.status == 401 {
				require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
			}
		})
	}
}

func requireErrorBody(t testing.TB, resp *http.Response, status int) {
	t.Helper()
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Type    string `json:"type"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, status, body.Code)
	require.Equal(t, "ERROR", body.Type)
	require.NotEmpty(t, body.Message)
}
