package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// TestFossologyGroupsSeeTheirOwn: folders, uploads, jobs and reports belong to
// a group; the top folder (id 1) is every group's; another group's rows are not found.
func TestFossologyGroupsSeeTheirOwn(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	alice := newUser(t, st, "alice")
	ga, gb := store.Group{Name: "ga"}, store.Group{Name: "gb"}
	require.NoError(t, st.CreateGroup(ctx, &ga))
	require.NoError(t, st.CreateGroup(ctx, &gb))

	top, err := st.FossologyFolderOf(ctx, gb.ID, store.TopFolderID)
	require.NoError(t, err)
	require.Equal(t, "Software Repository", top.Name)
	f := store.FossologyFolder{GroupID: &ga.ID, ParentID: ptr(store.TopFolderID), Name: "F"}
	require.NoError(t, st.CreateFossologyFolder(ctx, &f))
	require.Greater(t, f.ID, store.TopFolderID, "new folders come after the top folder")
	_, err = st.FossologyFolderOf(ctx, gb.ID, f.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)
	fs, err := st.FossologyFolders(ctx, ga.ID)
	require.NoError(t, err)
	require.Len(t, fs, 2)
	require.ErrorIs(t, st.UpdateFossologyFolder(ctx, ga.ID, store.TopFolderID, map[string]any{"name": "x"}), fault.ErrNotFound)

	u := store.FossologyUpload{GroupID: ga.ID, OwnerID: alice.ID, FolderID: f.ID, Name: "p.tar.gz", UploadType: "file", State: "queued", Size: 5 << 30}
	require.NoError(t, st.CreateFossologyUpload(ctx, &u))
	got, err := st.FossologyUploadOf(ctx, ga.ID, u.ID)
	require.NoError(t, err)
	require.Equal(t, "F", got.FolderName)
	require.Equal(t, int64(5<<30), got.Size, "sizes beyond 32 bits")
	_, err = st.FossologyUploadOf(ctx, gb.ID, u.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)
	list, total, err := st.ListFossologyUploads(ctx, store.FossologyUploadFilter{GroupID: ga.ID, NameLike: "P.TAR", Limit: 10})
	require.NoError(t, err)
	require.Equal(t, int64(1), total)
	require.Len(t, list, 1)

	require.NoError(t, st.ReplaceFossologyItems(ctx, u.ID, []store.FossologyItem{{UploadID: u.ID, ItemID: 1, Path: "p.tar.gz", Kind: "container"}, {UploadID: u.ID, ItemID: 2, Path: "p.tar.gz/a.c", Kind: "file"}}))
	require.NoError(t, st.ReplaceFossologyItems(ctx, u.ID, []store.FossologyItem{{UploadID: u.ID, ItemID: 1, Path: "p.tar.gz", Kind: "container"}}))
	items, err := st.FossologyItems(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, items, 1, "replaced, not added")

	require.NoError(t, st.AddFossologyFindings(ctx, []store.FossologyFinding{{UploadID: u.ID, Agent: "nomos", Path: "p.tar.gz/a.c", Type: "license", Value: "MIT"}, {UploadID: u.ID, Agent: "ojo", Path: "p.tar.gz/a.c", Type: "license", Value: "MIT"}}))
	require.NoError(t, st.DeleteFossologyFindings(ctx, u.ID, "nomos"))
	finds, err := st.FossologyFindings(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, finds, 1)
	require.Equal(t, "ojo", finds[0].Agent)

	d := store.FossologyDecision{UploadID: u.ID, Path: "p.tar.gz/a.c", Status: "WIP", Source: "user", DecidedAt: st.Now()}
	require.NoError(t, st.PutFossologyDecisions(ctx, []store.FossologyDecision{d}))
	d.Status, d.Licenses = "IDENTIFIED", "MIT"
	require.NoError(t, st.PutFossologyDecisions(ctx, []store.FossologyDecision{d}))
	ds, err := st.FossologyDecisions(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "IDENTIFIED", ds[0].Status)
	// A decider's decisions leave a file that has one alone.
	decided := st.Now()
	require.NoError(t, st.AddFossologyDecisions(ctx, []store.FossologyDecision{
		{UploadID: u.ID, Path: "p.tar.gz/a.c", Status: "IDENTIFIED", Licenses: "GPL-2.0-only", Source: "nomos_monk", DecidedAt: decided},
		{UploadID: u.ID, Path: "p.tar.gz/b.c", Status: "IDENTIFIED", Licenses: "MIT", Source: "ojo_decider", DecidedAt: decided},
	}))
	ds, err = st.FossologyDecisions(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.Equal(t, []string{"MIT", "MIT"}, []string{ds[0].Licenses, ds[1].Licenses})
	require.Equal(t, []string{"user", "ojo_decider"}, []string{ds[0].Source, ds[1].Source})
	require.WithinDuration(t, decided, ds[1].DecidedAt, time.Microsecond, "the time as stored (Postgres keeps microseconds)")

	j := mkJob(t, st, alice.ID, "fossology", "fossology_scan", nil)
	fj := store.FossologyJob{JobID: j.ID, UploadID: u.ID, Kind: "scan", Agents: "nomos", WebhookURL: "http://x", WebhookState: "pending"}
	require.NoError(t, st.CreateFossologyJob(ctx, &fj))
	_, err = st.FossologyJobOf(ctx, gb.ID, fj.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)
	jobs, total, err := st.ListFossologyJobs(ctx, ga.ID, u.ID, 10, 0)
	require.NoError(t, err)
	require.Equal(t, int64(1), total)
	require.Equal(t, j.ID, jobs[0].JobID)
	_, engine, err := st.FossologyJobsOfUpload(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, "queued", engine[0].State)
	due, err := st.DueWebhooks(ctx, st.Now())
	require.NoError(t, err)
	require.Len(t, due, 1)

	r := store.FossologyReport{UploadID: u.ID, Format: "dep5"}
	require.NoError(t, st.CreateFossologyReport(ctx, &r))
	_, err = st.FossologyReportOf(ctx, gb.ID, r.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)

	require.NoError(t, st.DeleteFossologyUpload(ctx, u.ID))
	items, err = st.FossologyItems(ctx, u.ID)
	require.NoError(t, err)
	require.Empty(t, items, "the tree goes with its upload")
	_, err = st.FossologyReportByID(ctx, r.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)
}

// BenchmarkAddFossologyFindings stores 20000 findings in batches of 2000,
// as a scan job's writer does.
func BenchmarkAddFossologyFindings(b *testing.B) {
	st := open(b)
	ctx := context.Background()
	owner := newUser(b, st, "bench")
	g := store.Group{Name: "gbench"}
	require.NoError(b, st.CreateGroup(ctx, &g))
	u := store.FossologyUpload{GroupID: g.ID, OwnerID: owner.ID, FolderID: store.TopFolderID, Name: "p.tar.gz", UploadType: "file", State: "queued"}
	require.NoError(b, st.CreateFossologyUpload(ctx, &u))
	fs := make([]store.FossologyFinding, 2000)
	for i := range fs {
		fs[i] = store.FossologyFinding{UploadID: u.ID, Agent: "nomos", Path: "p.tar.gz/src/some/dir/file.c", SHA1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
			Type: "license", Value: "GPL-2.0-or-later", Rule: "notice", StartLine: i, EndLine: i + 3}
	}
	for b.Loop() {
		for range 10 {
			require.NoError(b, st.AddFossologyFindings(ctx, slices.Clone(fs)))
		}
	}
}
