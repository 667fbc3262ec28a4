package store_test

import (
	"context"
	"fmt"
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
	u := fossologyUpload(b, st)
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

// TestFindingsInSets: findings come back as they were stored (every field,
// in order, without the agents left out), a step's delete takes only its
// agent's, and the findings go with their upload.
func TestFindingsInSets(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	u := fossologyUpload(t, st)
	first := []store.FossologyFinding{
		{UploadID: u.ID, Agent: "nomos", Path: "p.tar.gz/a.c", SHA1: "aa", Type: "license", Value: "GPL-2.0-or-later", Rule: "notice", StartLine: 3, EndLine: 9},
		{UploadID: u.ID, Agent: "copyright_email_author", Path: "p.tar.gz/a.c", Type: "copyright", Value: "Copyright (c) 2020 \u00e9, \"q\" <a@b>", StartLine: 1, EndLine: 1},
		{UploadID: u.ID, Agent: "nomos", Path: "p.tar.gz/b.c", SHA1: "bb", Type: "license", Value: "MIT", Expression: "MIT OR Apache-2.0"},
	}
	second := []store.FossologyFinding{{UploadID: u.ID, Agent: "ojo", Path: "p.tar.gz/c.c", SHA1: "cc", Type: "license", Value: "Apache-2.0"}}
	require.NoError(t, st.AddFossologyFindings(ctx, first))
	require.NoError(t, st.AddFossologyFindings(ctx, second))
	require.NoError(t, st.AddFossologyFindings(ctx, nil))
	got, err := st.FossologyFindings(ctx, u.ID)
	require.NoError(t, err)
	// Sets are per agent: within a batch an agent's findings stay together.
	require.Equal(t, []store.FossologyFinding{first[0], first[2], first[1], second[0]}, got)
	got, err = st.FossologyFindings(ctx, u.ID, "nomos", "ojo")
	require.NoError(t, err)
	require.Equal(t, []store.FossologyFinding{first[1]}, got)

	require.NoError(t, st.DeleteFossologyFindings(ctx, u.ID, "nomos"))
	got, err = st.FossologyFindings(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, []store.FossologyFinding{first[1], second[0]}, got)
	require.NoError(t, st.DeleteFossologyUpload(ctx, u.ID))
	got, err = st.FossologyFindings(ctx, u.ID)
	require.NoError(t, err)
	require.Empty(t, got)
}

// TestFindingsMigrateIntoSets: findings stored one per row before the
// finding sets move into sets, each agent's in their order.
func TestFindingsMigrateIntoSets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := freshConfig(t)
	st, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	u := fossologyUpload(t, st)
	// Back to the schema before the migration, with findings as rows.
	db := st.SQLDB()
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if st.Dialect() == store.Postgres {
		id = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	for _, q := range []string{
		"DROP TABLE fossology_finding_sets",
		"DELETE FROM schema_migrations WHERE version = '20261205001000_fossology_finding_sets'",
		"CREATE TABLE fossology_findings (id " + id + `, upload_id BIGINT NOT NULL REFERENCES fossology_uploads(id) ON DELETE CASCADE,
			agent TEXT NOT NULL, path TEXT NOT NULL, sha1 TEXT NOT NULL DEFAULT '', type TEXT NOT NULL, value TEXT NOT NULL,
			expression TEXT NOT NULL DEFAULT '', rule TEXT NOT NULL DEFAULT '', start_line INTEGER NOT NULL DEFAULT 0, end_line INTEGER NOT NULL DEFAULT 0)`,
		fmt.Sprintf(`INSERT INTO fossology_findings (upload_id, agent, path, sha1, type, value, expression, rule, start_line, end_line) VALUES
			(%[1]d, 'ojo', 'p/z.c', 'zz', 'license', 'MIT', '', 'spdx', 1, 1),
			(%[1]d, 'nomos', 'p/a.c', 'aa', 'license', 'GPL-2.0-only', '', 'notice', 2, 5),
			(%[1]d, 'ojo', 'p/a.c', 'aa', 'license', 'Zlib', '', '', 0, 0),
			(%[1]d, 'copyright_email_author', 'p/a.c', '', 'copyright', 'Copyright 2001 O''Brien', '', '', 1, 1)`, u.ID),
	} {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	require.NoError(t, st.Close())

	st, err = store.Open(ctx, cfg)
	require.NoError(t, err)
	defer st.Close()
	got, err := st.FossologyFindings(ctx, u.ID)
	require.NoError(t, err)
	f := func(agent, path, sha1, typ, value, rule string, start, end int) store.FossologyFinding {
		return store.FossologyFinding{UploadID: u.ID, Agent: agent, Path: path, SHA1: sha1, Type: typ, Value: value, Rule: rule, StartLine: start, EndLine: end}
	}
	require.Equal(t, []store.FossologyFinding{
		f("ojo", "p/z.c", "zz", "license", "MIT", "spdx", 1, 1), f("ojo", "p/a.c", "aa", "license", "Zlib", "", 0, 0),
		f("nomos", "p/a.c", "aa", "license", "GPL-2.0-only", "notice", 2, 5),
		f("copyright_email_author", "p/a.c", "", "copyright", "Copyright 2001 O'Brien", "", 1, 1),
	}, got)
	var old int
	err = st.SQLDB().QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'fossology_findings'").Scan(&old)
	if st.Dialect() != store.Postgres {
		err = st.SQLDB().QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'fossology_findings'").Scan(&old)
	}
	require.NoError(t, err)
	require.Zero(t, old, "the table of rows is gone")
}

// fossologyUpload creates an upload in a new group.
func fossologyUpload(t testing.TB, st *store.Store) store.FossologyUpload {
	t.Helper()
	ctx := context.Background()
	owner := newUser(t, st, "owner")
	g := store.Group{Name: "g-owner"}
	require.NoError(t, st.CreateGroup(ctx, &g))
	u := store.FossologyUpload{GroupID: g.ID, OwnerID: owner.ID, FolderID: store.TopFolderID, Name: "p.tar.gz", UploadType: "file", State: "queued"}
	require.NoError(t, st.CreateFossologyUpload(ctx, &u))
	return u
}
