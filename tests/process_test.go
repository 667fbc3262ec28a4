package tests

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

type listParams = client.ReeProcessListParams

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func mustUUID(s string) openapi_types.UUID {
	var u openapi_types.UUID
	if err := u.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return u
}

// startedID reads the uuid of a ProcessStarted body.
func startedID(t testing.TB, body []byte) openapi_types.UUID {
	t.Helper()
	var p client.ReeProcessStarted
	require.NoError(t, json.Unmarshal(body, &p))
	require.Equal(t, "/api/process/status/"+p.Uuid.String(), p.StatusEndpoint)
	return p.Uuid
}

// waitFinal polls the status until the process ends (bounded).
func waitFinal(t testing.TB, c *api, id openapi_types.UUID) client.ReeProcessStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := c.ReeProcessStatusWithResponse(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, 200, st.StatusCode(), string(st.Body))
		switch st.JSON200.Status {
		case client.ReeProcessStateProcessed, client.ReeProcessStateFailed, client.ReeProcessStateCancelled:
			return *st.JSON200
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("process %s did not end in time", id)
	return client.ReeProcessStatus{}
}

// waitStatus polls until the process reaches status (bounded).
func waitStatus(t testing.TB, c *api, id openapi_types.UUID, want client.ReeProcessState) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := c.ReeProcessStatusWithResponse(context.Background(), id)
		require.NoError(t, err)
		if st.JSON200.Status == want {
			return
		}
		require.False(t, st.JSON200.Status == client.ReeProcessStateFailed || st.JSON200.Status == client.ReeProcessStateProcessed || st.JSON200.Status == client.ReeProcessStateCancelled,
			"process ended as %s (%s) before reaching %s", st.JSON200.Status, deref(st.JSON200.Reason), want)
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("process %s never reached %s", id, want)
}

// logOf returns the process log.
func logOf(t testing.TB, c *api, id openapi_types.UUID) string {
	t.Helper()
	r, err := c.ReeProcessLogWithResponse(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, 200, r.StatusCode())
	return string(r.Body)
}

// download saves the output zip of a processed process and returns its path.
func download(t testing.TB, c *api, id openapi_types.UUID) string {
	t.Helper()
	resp, err := c.ReeProcessDownload(context.Background(), id)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "application/zip", resp.Header.Get("Content-Type"))
	p := filepath.Join(t.TempDir(), id.String()+".zip")
	f, err := os.Create(p)
	require.NoError(t, err)
	_, err = io.Copy(f, resp.Body)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return p
}

// record starts a recording and waits for it to end.
func record(t testing.TB, c *api, zip string, fields ...[2]string) (openapi_types.UUID, client.ReeProcessStatus) {
	t.Helper()
	status, body := c.submit(t, "/api/recording/create", form{filePath: zip, fields: fields})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)
	return id, waitFinal(t, c, id)
}

// replay starts a replay of a defined REE and waits for it to end.
func replay(t testing.TB, c *api, path, zip string) (openapi_types.UUID, client.ReeProcessStatus) {
	t.Helper()
	status, body := c.submit(t, path, form{filePath: zip})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)
	return id, waitFinal(t, c, id)
}
