package tests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/require"
	gcblob "gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob"

	"github.com/reehub/reehub/gen/client"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/store/blob/weedtest"
)

// startS3 starts SeaweedFS (bin/weed, scripts/build-weed.sh) on loopback
// with a new bucket and returns the bucket's blob store URL; it skips the
// test when there is no weed binary (REEHUB_TEST_REQUIRE_S3=1 fails instead).
func startS3(t *testing.T) string {
	t.Helper()
	bin := weedtest.Binary("..")
	if bin == "" {
		if weedtest.Required() {
			t.Fatal("no weed binary: run scripts/build-weed.sh")
		}
		t.Skip("no weed binary (scripts/build-weed.sh builds it)")
	}
	srv, err := weedtest.Start(bin, t.TempDir(), 2*time.Minute)
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	name := "reehub-scale-" + randomHex(4)
	u := "s3://" + name + "?endpoint=" + srv.Endpoint + "&use_path_style=true&region=us-east-1&disable_https=true"
	ctx := context.Background()
	b, err := gcblob.OpenBucket(ctx, u)
	require.NoError(t, err)
	var c *s3.Client
	require.True(t, b.As(&c))
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	return u
}

// podmanLeft lists the containers and networks of the given processes left
// on the Podman service at socket.
func podmanLeft(t *testing.T, socket string, ids []openapi_types.UUID) []string {
	t.Helper()
	var left []string
	out, err := exec.Command("podman", "--url", socket, "ps", "-a", "--format", `{{.Names}} {{index .Labels "io.reehub.process"}}`).CombinedOutput()
	require.NoError(t, err, string(out))
	nets, err := exec.Command("podman", "--url", socket, "network", "ls", "--format", "{{.Name}}").CombinedOutput()
	require.NoError(t, err, string(nets))
	for _, id := range ids {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, id.String()) {
				left = append(left, "container "+line)
			}
		}
		for _, n := range strings.Fields(string(nets)) {
			if n == "reehub-"+id.String()[:13] {
				left = append(left, "network "+n)
			}
		}
	}
	return left
}

// TestTwoInstancesOneStore: two reehub instances (API and workers each) on
// one Postgres database and one S3 bucket, each with its own Podman
// service. Ten recordings are submitted to the first; the second takes some
// and is SIGKILLed during a build; every recording completes (the killed one
// retried on the first), none runs twice to completion, the second pays its
// clean-up when it is back, no container or network of the recordings is
// left on either Podman, and every output downloads from either instance.
func TestTwoInstancesOneStore(t *testing.T) {
	if suite.postgresURL == "" {
		t.Skip("several instances share a Postgres database (REEHUB_TEST_DATABASE_URL)")
	}
	// One S3 bucket; without a weed binary (and REEHUB_TEST_REQUIRE_S3 unset)
	// one blob directory shared by the instances instead.
	blobEnv := []string{}
	if weedtest.Binary("..") != "" || weedtest.Required() {
		blobEnv = append(blobEnv, "REEHUB_BLOB_URL="+startS3(t))
	} else {
		t.Log("no weed binary: the instances share a blob directory instead of an S3 bucket")
		blobEnv = append(blobEnv, "REEHUB_BLOB_DIR="+t.TempDir())
	}
	// b's Podman has no base image: b loads debian_bookworm from the archive
	// a saved in the bucket when it recorded with it (not a debootstrap).
	podman2 := startFreshPodman(t)
	db := freshDBOrEmpty(t)
	common := append(blobEnv, "REEHUB_WORKERS=3", "AWS_ACCESS_KEY_ID=reehub", "AWS_SECRET_ACCESS_KEY=reehub-test")
	a, err := startInstance(instanceOpts{name: "scale-a-" + randomHex(3), database: db, extraEnv: append([]string{"REEHUB_WORKER_HOST=host-a"}, common...)})
	require.NoError(t, err)
	defer a.stop()
	ca := admin(t, a)

	// Distinct small projects, each with a build step long enough to be
	// caught running; no network, no apt.
	projects := make([]string, 10)
	for i := range projects {
		projects[i] = project(t, fmt.Sprintf("FROM debian_bookworm\nRUN echo recording %d > /which && sleep 12\n", i))
	}
	// The first one on a alone, before b is started.
	first, final := record(t, ca, projects[0])
	require.Equal(t, client.ReeProcessStateProcessed, final.Status, "reason: %s\n%s", deref(final.Reason), tail(logOf(t, ca, first), 30))

	// b runs one job at a time, so that it completes one recording and is
	// killed during a later one while a's three workers take the rest.
	bEnv := append([]string{"REEHUB_WORKER_HOST=host-b", "REEHUB_PODMAN_SOCKET=" + podman2}, append(common, "REEHUB_WORKERS=1")...)
	b, err := startInstance(instanceOpts{name: "scale-b-" + randomHex(3), database: db, extraEnv: bEnv})
	require.NoError(t, err)
	defer b.stop()
	b.password = a.password // one database: one admin
	cb := admin(t, b)

	ids := []openapi_types.UUID{first}
	for _, p := range projects[1:] {
		status, body := ca.submit(t, "/api/recording/create", form{filePath: p})
		require.Equal(t, 200, status, string(body))
		ids = append(ids, startedID(t, body))
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(ctx)
	// Kill b while one of its recordings builds, once it has completed one.
	var killed string
	for deadline := time.Now().Add(10 * time.Minute); killed == ""; time.Sleep(200 * time.Millisecond) {
		var done int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE host = 'host-b' AND state = 'succeeded'`).Scan(&done))
		if done > 0 {
			err := conn.QueryRow(ctx, `SELECT j.id FROM jobs j JOIN job_steps s ON s.job_id = j.id
				WHERE j.host = 'host-b' AND j.state = 'running' AND s.name = 'record' AND s.state = 'running' LIMIT 1`).Scan(&killed)
			if err != nil && err != pgx.ErrNoRows {
				require.NoError(t, err)
			}
		}
		require.True(t, time.Now().Before(deadline), "host b never completed a recording and then ran another")
	}
	// The live log of b's running recording reads from a (b's log file is
	// on b's disk; the chunks b records in the database are everyone's).
	killedID := openapi_types.UUID(uuid.MustParse(killed))
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(logOf(t, ca, killedID), "reehub: recording Dockerfile"); time.Sleep(200 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "a never showed the live log of b's running recording:\n%s", logOf(t, ca, killedID))
	}
	time.Sleep(2 * time.Second) // into the build
	b.kill()

	hosts := map[string]int{}
	for _, id := range ids {
		final := waitFinal(t, ca, id)
		require.Equal(t, client.ReeProcessStateProcessed, final.Status, "%s: %s\n%s", id, deref(final.Reason), tail(logOf(t, ca, id), 30))
		require.Equal(t, 1, strings.Count(logOf(t, ca, id), "reehub: job succeeded"), "%s ran to completion once", id)
		var host string
		var attempt int
		require.NoError(t, conn.QueryRow(ctx, `SELECT host, attempt FROM jobs WHERE id = $1`, id.String()).Scan(&host, &attempt))
		hosts[host]++
		if id.String() == killed {
			require.Equal(t, "host-a", host, "the killed recording was retried on a")
			require.Equal(t, 2, attempt)
		}
	}
	require.Positive(t, hosts["host-b"], "b completed recordings before it was killed: %v", hosts)
	require.Equal(t, imageID(t, "unix:///run/podman/podman.sock", baseimage.Ref("debian_bookworm")),
		imageID(t, podman2, baseimage.Ref("debian_bookworm")), "b loaded a's base image from the bucket")
	var debts int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM job_host_cleanups WHERE host = 'host-b'`).Scan(&debts))
	require.Equal(t, 1, debts, "b owes the clean-up of the killed attempt")

	// b comes back and cleans what the killed attempt left on its Podman.
	require.NoError(t, b.start())
	for deadline := time.Now().Add(2 * time.Minute); debts > 0; time.Sleep(300 * time.Millisecond) {
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM job_host_cleanups`).Scan(&debts))
		require.True(t, time.Now().Before(deadline), "b did not pay its clean-up")
	}
	require.Empty(t, podmanLeft(t, "unix:///run/podman/podman.sock", ids), "on a's Podman")
	require.Empty(t, podmanLeft(t, podman2, ids), "on b's Podman")

	for _, id := range ids {
		sa, sb := fileSum(t, download(t, ca, id)), fileSum(t, download(t, cb, id))
		require.Equal(t, sa, sb, "%s downloads the same from both instances", id)
	}

	// `reehub base-images` on a saves the catalogue for the other hosts; on
	// b, whose Podman still lacks python_3_11 (b only recorded FROM
	// debian_bookworm), it loads that archive instead of a debootstrap.
	baseImages := func(socket string) string {
		cmd := exec.Command(suite.bin, "base-images", "--data-dir", t.TempDir())
		cmd.Env = append(os.Environ(), append([]string{"REEHUB_DATABASE_URL=" + db, "REEHUB_PODMAN_SOCKET=" + socket}, common...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	require.Contains(t, baseImages("unix:///run/podman/podman.sock"), "saved for other hosts: debian_bookworm, python_3_11")
	out := baseImages(podman2)
	require.Contains(t, out, `msg="base image loaded from the archive another host saved" image=python_3_11`)
	require.NotContains(t, out, "debootstrap")
	require.Equal(t, imageID(t, "unix:///run/podman/podman.sock", "localhost/python_3_11"), imageID(t, podman2, "localhost/python_3_11"))
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// imageID is the ID of image ref on the Podman service at socket.
func imageID(t *testing.T, socket, ref string) string {
	t.Helper()
	out, err := exec.Command("podman", "--url", socket, "image", "inspect", "--format", "{{.Id}}", ref).CombinedOutput()
	require.NoError(t, err, string(out))
	return strings.TrimSpace(string(out))
}
