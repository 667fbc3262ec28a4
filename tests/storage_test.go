package tests

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // the "sqlite" driver, to delete a row by hand
	"github.com/jackc/pgx/v5"
	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// imageExists reports whether Podman has the image of process id.
func imageExists(id openapi_types.UUID) bool {
	return exec.Command("podman", "image", "exists", "localhost/reehub/"+id.String()).Run() == nil
}

// blobExists reports whether the blob store in dir holds the blob of sha256 hex.
func blobExists(t testing.TB, dir, hexSum string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, "sha256", hexSum[:2], hexSum))
	if err != nil {
		require.True(t, os.IsNotExist(err), "%v", err)
	}
	return err == nil
}

// deleteProcess deletes a process through the API and returns the status.
func deleteProcess(t testing.TB, c *api, id openapi_types.UUID) int {
	t.Helper()
	resp, err := c.ReeProcessDeleteWithResponse(context.Background(), id)
	require.NoError(t, err)
	return resp.StatusCode()
}

func statusCode(t testing.TB, c *api, id openapi_types.UUID) int {
	t.Helper()
	st, err := c.ReeProcessStatusWithResponse(context.Background(), id)
	require.NoError(t, err)
	return st.StatusCode()
}

// gcReport is the JSON that `reehub gc` prints.
type gcReport struct {
	JobsExpired, BlobsRemoved, BlobsHeldElsewhere, ImagesRemoved, NetworksRemoved, WorkDirsRemoved, TempFilesRemoved int
	BlobBytes, FileBytes                                                                                             int64
}

// runGC runs `reehub gc` on the instance's data directory and database.
func runGC(t testing.TB, in *instance, args ...string) gcReport {
	t.Helper()
	cmd := exec.Command(suite.bin, append([]string{"gc", "--data-dir", in.dataDir}, args...)...)
	cmd.Env = in.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	t.Logf("reehub gc: %s", tail(stderr.String(), 5))
	var rep gcReport
	require.NoError(t, json.Unmarshal(out, &rep), string(out))
	require.Contains(t, stderr.String(), "garbage collection", "gc logs what it freed")
	return rep
}

// TestDeleteProcess: record the same zip twice (the two share the input
// blob), download, delete one: its image, its own blobs and its work
// directory are gone, the other's and the shared input stay; another user
// cannot delete it; images are removed after packaging unless kept.
func TestDeleteProcess(t *testing.T) {
	ctx := context.Background()
	in, err := startInstance(instanceOpts{name: "delete-" + randomHex(3), database: freshDBOrEmpty(t)})
	require.NoError(t, err)
	defer in.stop()
	c := newUser(t, in)
	other := newUser(t, in)
	blobs := filepath.Join(in.dataDir, "blobs")
	zipPath := project(t, "FROM debian_bookworm\nRUN echo stored > /stored\n")
	inputSum := fileSHA(t, zipPath)

	kept, st := record(t, c, zipPath, [2]string{"keep_image", "true"})
	require.Equal(t, client.ReeProcessStateProcessed, st.Status, deref(st.Reason))
	require.True(t, *st.KeepImage)
	second, st2 := record(t, c, zipPath)
	require.Equal(t, client.ReeProcessStateProcessed, st2.Status, deref(st2.Reason))
	require.True(t, imageExists(kept), "keep_image keeps the image after packaging")
	require.False(t, imageExists(second), "by default the image is a cache, removed once packaged")
	require.Contains(t, logOf(t, c, second), "removed image localhost/reehub/"+second.String())
	keptOut, secondOut := fileSHA(t, download(t, c, kept)), fileSHA(t, download(t, c, second))
	require.True(t, blobExists(t, blobs, inputSum))
	require.True(t, blobExists(t, blobs, keptOut))

	usage := func() client.SystemBlobUsage {
		u, err := admin(t, in).SystemUsageWithResponse(ctx)
		require.NoError(t, err)
		require.Equal(t, 200, u.StatusCode(), string(u.Body))
		require.Positive(t, u.JSON200.Database.Bytes)
		return u.JSON200.Blobs
	}
	before := usage()
	require.Positive(t, before.Outputs)
	require.Positive(t, before.Inputs)
	u, err := c.SystemUsageWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 403, u.StatusCode(), "usage is for admins")

	require.Equal(t, 404, deleteProcess(t, other, kept), "another user's process is not found")
	require.Equal(t, 204, deleteProcess(t, c, kept))
	require.Equal(t, 404, statusCode(t, c, kept))
	require.Equal(t, 404, deleteProcess(t, c, kept))
	require.False(t, imageExists(kept), "the kept image goes with its process")
	require.False(t, blobExists(t, blobs, keptOut), "its output is gone")
	require.True(t, blobExists(t, blobs, inputSum), "the input the other recording shares stays")
	require.True(t, blobExists(t, blobs, secondOut))
	_, err = os.Stat(filepath.Join(in.dataDir, "work", kept.String()))
	require.True(t, os.IsNotExist(err))
	_, err = os.Stat(filepath.Join(in.dataDir, "logs", kept.String()+".log"))
	require.True(t, os.IsNotExist(err))
	after := usage()
	require.Less(t, after.Total, before.Total)
	require.Less(t, after.Count, before.Count)
	require.Equal(t, fileSHA(t, download(t, c, second)), secondOut, "the other process is intact")

	// The replay of a recording whose image is gone still compares image IDs
	// from the manifest.
	rid, rst := replay(t, c, "/api/replay/create", download(t, c, second))
	require.Equal(t, client.ReeProcessStateProcessed, rst.Status, deref(rst.Reason))
	var r report
	require.NoError(t, json.Unmarshal(readZipEntry(t, download(t, c, rid), "report.json"), &r))
	require.NotEmpty(t, r.RecordedImageID)
	require.Equal(t, r.RecordedImageID == r.RebuiltImageID, r.Identical)
	require.False(t, imageExists(rid))

	// An admin may delete any user's process; with the last reference the project zip goes.
	require.Equal(t, 204, deleteProcess(t, admin(t, in), second))
	require.False(t, blobExists(t, blobs, inputSum), "no process references the project zip any more")
	require.True(t, blobExists(t, blobs, secondOut), "the second's output is the replay's input")
	require.Equal(t, 204, deleteProcess(t, c, rid))
	require.False(t, blobExists(t, blobs, secondOut), "the replay's input goes with the replay")
}

// TestDeleteRunningProcess: deleting a running process cancels it, waits
// until it stopped and removes what it left.
func TestDeleteRunningProcess(t *testing.T) {
	c := newUser(t, suite.main)
	status, body := c.submit(t, "/api/recording/create", form{filePath: project(t, slowDockerfile)})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)
	waitStatus(t, c, id, client.ReeProcessStateRunning)
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(logOf(t, c, id), "started"); time.Sleep(200 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the slow step never started")
	}
	// Other packages' (and other checkouts') builds may run at the same time:
	// this build's container is one of those that exist now.
	before := podmanLeftovers(t, id.String())
	require.Equal(t, 204, deleteProcess(t, c, id))
	require.Equal(t, 404, statusCode(t, c, id))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		left := intersect(before, podmanLeftovers(t, id.String()))
		if len(left) == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "left behind: %v", left)
	}
	require.False(t, imageExists(id))
	_, err := os.Stat(filepath.Join(suite.main.dataDir, "work", id.String()))
	require.True(t, os.IsNotExist(err))
}

// TestRetentionSparesKept: with retention 0, every ended process is deleted
// but the one marked to keep (PUT /api/process/keep/{uuid}, or keep=true at
// creation); `reehub gc --retention 0` and the engine's periodic job agree.
func TestRetentionSparesKept(t *testing.T) {
	ctx := context.Background()
	in, err := startInstance(instanceOpts{name: "retention-" + randomHex(3), database: freshDBOrEmpty(t)})
	require.NoError(t, err)
	defer in.stop()
	c := newUser(t, in)
	df := "FROM debian_bookworm\nRUN echo %s > /which\n"
	var ids []openapi_types.UUID
	for _, w := range []string{"a", "b", "c"} {
		id, st := record(t, c, project(t, strings.ReplaceAll(df, "%s", w)))
		require.Equal(t, client.ReeProcessStateProcessed, st.Status, deref(st.Reason))
		ids = append(ids, id)
	}
	keep, err := c.ReeProcessKeepWithResponse(ctx, ids[0])
	require.NoError(t, err)
	require.Equal(t, 200, keep.StatusCode(), string(keep.Body))
	require.True(t, *keep.JSON200.Keep)
	// Marked and unmarked again: not kept.
	_, err = c.ReeProcessKeepWithResponse(ctx, ids[1])
	require.NoError(t, err)
	unkeep, err := c.ReeProcessUnkeepWithResponse(ctx, ids[1])
	require.NoError(t, err)
	require.False(t, *unkeep.JSON200.Keep)

	rep := runGC(t, in, "--retention", "0", "--gc-grace", "0")
	require.Equal(t, 2, rep.JobsExpired)
	require.Positive(t, rep.BlobsRemoved)
	require.Equal(t, 200, statusCode(t, c, ids[0]))
	require.Equal(t, 404, statusCode(t, c, ids[1]))
	require.Equal(t, 404, statusCode(t, c, ids[2]))
	download(t, c, ids[0])

	// The engine's own periodic job, with keep=true given at creation.
	in.stop()
	in.env = append(in.env, "REEHUB_RETENTION=0", "REEHUB_GC_INTERVAL=1s")
	require.NoError(t, in.start())
	status, body := c.submit(t, "/api/recording/create", form{filePath: project(t, strings.ReplaceAll(df, "%s", "d")), fields: [][2]string{{"keep", "true"}}})
	require.Equal(t, 200, status, string(body))
	keptAtStart := startedID(t, body)
	status, body = c.submit(t, "/api/recording/create", form{filePath: project(t, strings.ReplaceAll(df, "%s", "e"))})
	require.Equal(t, 200, status, string(body))
	expires := startedID(t, body)
	for deadline := time.Now().Add(5 * time.Minute); statusCode(t, c, expires) != 404; time.Sleep(time.Second) {
		require.True(t, time.Now().Before(deadline), "retention never deleted the ended process")
	}
	st := waitFinal(t, c, keptAtStart)
	require.Equal(t, client.ReeProcessStateProcessed, st.Status)
	require.True(t, *st.Keep)
	time.Sleep(2 * time.Second) // another GC round
	require.Equal(t, 200, statusCode(t, c, keptAtStart))
	require.Equal(t, 200, statusCode(t, c, ids[0]))
}

// deleteJobRow deletes a job row by hand, as an operator might; the
// database still leaves a tombstone.
func deleteJobRow(t testing.TB, in *instance, database, id string) {
	t.Helper()
	if database != "" {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, database)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DELETE FROM jobs WHERE id = $1", id)
		require.NoError(t, err)
		return
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(in.dataDir, "reehub.db")+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer db.Close()
	res, err := db.Exec("DELETE FROM jobs WHERE id = ?", id)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

// TestGCAfterKill: reehub is killed while one recording builds and another
// packages, and their process rows are deleted by hand, so that no recovery
// will ever retry them: `reehub gc` frees the orphaned network, build
// container, image and files.
func TestGCAfterKill(t *testing.T) {
	database := freshDBOrEmpty(t)
	in, err := startInstance(instanceOpts{name: "gckill-" + randomHex(3), database: database})
	require.NoError(t, err)
	defer in.stop()
	c := newUser(t, in)
	status, body := c.submit(t, "/api/recording/create", form{filePath: project(t, "FROM debian_bookworm\nRUN echo started && sleep 20\n")})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)
	waitStatus(t, c, id, client.ReeProcessStateRunning)
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(logOf(t, c, id), "started"); time.Sleep(200 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the slow step never started")
	}
	// The second is killed while it packages: its image is built and not yet released.
	status, body = c.submit(t, "/api/recording/create", form{filePath: project(t, "FROM debian_bookworm\nRUN echo packaged > /p\n")})
	require.Equal(t, 200, status, string(body))
	packing := startedID(t, body)
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(logOf(t, c, packing), "reehub: recorded"); time.Sleep(50 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the second recording never packaged")
	}
	in.kill()
	require.True(t, imageExists(packing), "the recording killed while packaging left its image")
	network := "network reehub-" + id.String()[:13]
	require.Contains(t, podmanLeftovers(t, id.String()), network, "the killed build left its network behind")
	_, err = os.Stat(filepath.Join(in.dataDir, "work", id.String()))
	require.NoError(t, err, "and its work directory")
	deleteJobRow(t, in, database, id.String())
	deleteJobRow(t, in, database, packing.String())

	rep := runGC(t, in, "--gc-grace", "0")
	require.Positive(t, rep.NetworksRemoved, "%+v", rep)
	require.Positive(t, rep.ImagesRemoved, "%+v", rep)
	require.False(t, imageExists(packing))
	require.Positive(t, rep.WorkDirsRemoved+rep.TempFilesRemoved)
	require.NotContains(t, podmanLeftovers(t, id.String()), network)
	require.False(t, imageExists(id))
	for _, p := range []string{filepath.Join("work", id.String()), filepath.Join("logs", id.String()+".log"), filepath.Join("logs", id.String())} {
		_, err := os.Stat(filepath.Join(in.dataDir, p))
		require.True(t, os.IsNotExist(err), "%s is removed", p)
	}
	// A process this database never knew is not touched: another instance may own it.
	foreign := "localhost/reehub/00000000-0000-4000-8000-" + randomHex(6)
	out, err := exec.Command("podman", "tag", "localhost/debian_bookworm:latest", foreign).CombinedOutput()
	require.NoError(t, err, string(out))
	defer exec.Command("podman", "rmi", foreign).Run()
	runGC(t, in, "--gc-grace", "0")
	require.NoError(t, exec.Command("podman", "image", "exists", foreign).Run(), "another instance's image stays")
}

// TestSharedBlobStore: two instances with their own databases share one
// blob directory and record the same zip; one deletes its process and
// collects garbage with no grace period: the other's blobs (the shared
// input among them) all stay.
func TestSharedBlobStore(t *testing.T) {
	shared := filepath.Join(suite.work, "shared-blobs-"+randomHex(3))
	var ins []*instance
	for _, name := range []string{"share-a-", "share-b-"} {
		in, err := startInstance(instanceOpts{name: name + randomHex(3), database: freshDBOrEmpty(t), extraEnv: []string{"REEHUB_BLOB_DIR=" + shared}})
		require.NoError(t, err)
		defer in.stop()
		ins = append(ins, in)
	}
	zipPath := project(t, "FROM debian_bookworm\nRUN echo shared > /shared\n")
	inputSum := fileSHA(t, zipPath)
	ca, cb := newUser(t, ins[0]), newUser(t, ins[1])
	aID, ast := record(t, ca, zipPath)
	require.Equal(t, client.ReeProcessStateProcessed, ast.Status, deref(ast.Reason))
	bID, bst := record(t, cb, zipPath)
	require.Equal(t, client.ReeProcessStateProcessed, bst.Status, deref(bst.Reason))
	aOut, bOut := fileSHA(t, download(t, ca, aID)), fileSHA(t, download(t, cb, bID))

	require.Equal(t, 204, deleteProcess(t, ca, aID))
	rep := runGC(t, ins[0], "--gc-grace", "0")
	require.False(t, blobExists(t, shared, aOut), "a's own output goes")
	require.True(t, blobExists(t, shared, inputSum), "b's input, which a also stored, stays")
	require.True(t, blobExists(t, shared, bOut), "b's output stays")
	require.Positive(t, rep.BlobsHeldElsewhere, "the shared input is reported as held by b")
	require.Equal(t, bOut, fileSHA(t, download(t, cb, bID)))
	logText := logOf(t, cb, bID)
	require.Contains(t, logText, "reehub: job succeeded", "b's log blob is intact")

	// Once b lets go too, the input goes.
	require.Equal(t, 204, deleteProcess(t, cb, bID))
	runGC(t, ins[1], "--gc-grace", "0")
	require.False(t, blobExists(t, shared, inputSum))
}
