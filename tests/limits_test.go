package tests

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// TestUploadLimits runs an instance with small limits: an upload over the size
// limit is a 413, and so are zips over the entry and size limits.
func TestUploadLimits(t *testing.T) {
	t.Parallel()
	in, err := startInstance(instanceOpts{name: "limits-" + randomHex(3), database: freshDBOrEmpty(t), extraEnv: []string{
		"REEHUB_MAX_UPLOAD_BYTES=1048576", "REEHUB_ARCHIVE_MAX_ENTRIES=50", "REEHUB_ARCHIVE_MAX_BYTES=2097152",
	}})
	require.NoError(t, err)
	defer in.stop()
	c := admin(t, in)

	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7919 % 251) // barely compressible
	}
	tooBig := writeTemp(t, big)
	status, body := c.submit(t, "/api/recording/create", form{filePath: tooBig})
	require.Equal(t, 413, status, string(body))
	require.Contains(t, string(body), "limit")

	var many []zipEntry
	for i := range 60 {
		many = append(many, zipEntry{name: fmt.Sprintf("f%03d.txt", i), body: "x"})
	}
	status, body = c.submit(t, "/api/recording/create", form{filePath: project(t, "FROM python_3_11\n", many...)})
	require.Equal(t, 413, status, string(body))
	require.Contains(t, string(body), "entries")

	status, body = c.submit(t, "/api/recording/create", form{filePath: project(t, "FROM python_3_11\n",
		zipEntry{name: "zeros", body: strings.Repeat("\x00", 3<<20), method: 8})})
	require.Equal(t, 413, status, string(body))

	// The instance still works after refusing them.
	ok, body := c.submit(t, "/api/recording/create", form{filePath: project(t, "FROM debian_bookworm\nRUN true\n")})
	require.Equal(t, 200, ok, string(body))
	require.Equal(t, client.ReeProcessStateProcessed, waitFinal(t, c, startedID(t, body)).Status)
}

// TestImageDownloadLoads downloads a base image and loads it with podman.
func TestImageDownloadLoads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := admin(t, suite.main)
	list, err := c.ReeImageListWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, list.StatusCode())
	names := map[string]client.ReeBaseImage{}
	for _, img := range *list.JSON200 {
		names[img.Name] = img
		require.Equal(t, "/api/image/download/"+img.Name, img.DownloadEndpoint)
	}
	require.Contains(t, names, "python_3_11")
	require.Contains(t, names, "debian_bookworm")
	require.True(t, *names["debian_bookworm"].Available)

	resp, err := c.ReeImageDownload(ctx, "debian_bookworm")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "application/x-tar", resp.Header.Get("Content-Type"))
	p := filepath.Join(t.TempDir(), "debian_bookworm.tar")
	f, err := os.Create(p)
	require.NoError(t, err)
	_, err = io.Copy(f, resp.Body)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	out, err := exec.Command("podman", "load", "-i", p).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), strings.TrimPrefix(*names["debian_bookworm"].Digest, "sha256:")[:12])
}

func TestProcessListPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newUser(t, suite.main)
	var ids []string
	for i := range 3 {
		status, body := c.submit(t, "/api/recording/create", form{filePath: project(t, "FROM debian_bookworm\nRUN true\n"),
			fields: [][2]string{{"tag", fmt.Sprintf("page-%d", i)}}})
		require.Equal(t, 200, status, string(body))
		ids = append(ids, startedID(t, body).String())
	}
	limit, offset := 2, 0
	first, err := c.ReeProcessListWithResponse(ctx, &listParams{Limit: &limit, Offset: &offset})
	require.NoError(t, err)
	require.Equal(t, 3, first.JSON200.Total)
	require.Len(t, first.JSON200.Items, 2)
	require.Equal(t, ids[2], first.JSON200.Items[0].Uuid.String(), "newest first")
	offset = 2
	second, err := c.ReeProcessListWithResponse(ctx, &listParams{Limit: &limit, Offset: &offset})
	require.NoError(t, err)
	require.Len(t, second.JSON200.Items, 1)
	require.Equal(t, ids[0], second.JSON200.Items[0].Uuid.String())
	kind := client.ReeProcessKindRecording
	byKind, err := c.ReeProcessListWithResponse(ctx, &listParams{Kind: &kind})
	require.NoError(t, err)
	require.Equal(t, 3, byKind.JSON200.Total)
	for _, id := range ids {
		require.Equal(t, client.ReeProcessStateProcessed, waitFinal(t, c, mustUUID(id)).Status)
	}
}
