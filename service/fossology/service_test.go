package fossology_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology"
	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/clearing"
	"github.com/reehub/reehub/service/fossology/fossologytest"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
	"github.com/reehub/reehub/store/storetest"
)

// instance is one reehub's FOSSology service with its engine.
type instance struct {
	store  *store.Store
	engine *job.Engine
	svc    *fossology.Service
}

func start(t *testing.T, cfg store.Config, dir string) *instance {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := job.New(st, blobs, log, job.Config{DataDir: dir, PollInterval: 50 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond,
		StaleAfter: time.Second, Queues: map[string]job.QueueConfig{job.QueueScans: {MaxWorkers: 1}}})
	require.NoError(t, err)
	svc, err := fossology.New(st, blobs, eng, log, fossology.Config{DataDir: dir})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	return &instance{store: st, engine: eng, svc: svc}
}

func (in *instance) stop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, in.engine.Stop(ctx))
	require.NoError(t, in.store.Close())
}

// caller makes a user with a group.
func caller(t *testing.T, st *store.Store, name string) fossology.Caller {
	t.Helper()
	ctx := context.Background()
	u := store.User{Name: name, Role: store.RoleUser}
	require.NoError(t, st.CreateUser(ctx, &u))
	g := store.Group{Name: name + "-group"}
	require.NoError(t, st.CreateGroup(ctx, &g))
	require.NoError(t, st.AddMember(ctx, g.ID, u.ID))
	return fossology.Caller{UserID: u.ID, UserName: name, GroupID: g.ID}
}

// eventually retries fn until it stops answering not-ready.
func eventually[T any](t *testing.T, fn func() (T, error)) T {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v, err := fn()
		if !errors.Is(err, fault.ErrUnavailable) {
			require.NoError(t, err)
			return v
		}
		require.True(t, time.Now().Before(deadline), "still not ready: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
}

func upload(t *testing.T, in *instance, c fossology.Caller, name string, content []byte) int64 {
	t.Helper()
	ctx := context.Background()
	f, err := in.svc.StoreFile(ctx, bytes.NewReader(content))
	require.NoError(t, err)
	id, err := in.svc.CreateUpload(ctx, c, fossology.NewUpload{FolderID: store.TopFolderID, Type: fossology.UploadFile, Name: name, File: &f})
	require.NoError(t, err)
	eventually(t, func() (fossology.Upload, error) { return in.svc.Upload(ctx, c, id) })
	return id
}

func waitJob(t *testing.T, in *instance, c fossology.Caller, id int64) fossology.JobView {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v, err := in.svc.Job(context.Background(), c, id)
		require.NoError(t, err)
		if v.Status == fossology.JobCompleted || v.Status == fossology.JobFailed {
			return v
		}
		require.True(t, time.Now().Before(deadline))
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScanAndGroups: an upload is unpacked and scanned on the engine, its
// results are the fixture's, and another group sees none of it.
func TestScanAndGroups(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			dir := t.TempDir()
			in := start(t, storetest.Config(t, d, dir, "reehub_foss"), dir)
			defer in.stop(t)
			ctx := context.Background()
			alice, bob := caller(t, in.store, "alice"), caller(t, in.store, "bob")
			id := upload(t, in, alice, fossologytest.Name, fossologytest.Archive(t))

			_, _, err := in.svc.Licenses(ctx, alice, id, fossology.LicenseQuery{Agents: "ojo"})
			require.ErrorIs(t, err, fossology.ErrAgentNotScheduled)
			job, warning, err := in.svc.ScheduleJobs(ctx, alice, store.TopFolderID, id, fossology.ScanOptions{
				Analysis: fossology.Analysis{Bucket: true, Nomos: true, Monk: true, Ojo: true, CopyrightEmailAuthor: true},
				Decider:  fossology.Decider{NomosMonk: true, OjoDecider: true}}, nil)
			require.NoError(t, err)
			require.Equal(t, fossology.BucketWarning, warning)
			v := waitJob(t, in, alice, job)
			require.Equal(t, fossology.JobCompleted, v.Status, v.Reason)
			require.NotNil(t, v.FirstFindingAt)
			requireDecidedAsAfterThePass(t, in.store, id)

			sum, err := in.svc.Summary(ctx, alice, id)
			require.NoError(t, err)
			require.Equal(t, fossologytest.Name, sum.UploadName)
			require.GreaterOrEqual(t, sum.UniqueLicenses, 3)
			lic, _, err := in.svc.Licenses(ctx, alice, id, fossology.LicenseQuery{Agents: "nomos,monk,ojo", License: true})
			require.NoError(t, err)
			found := map[string][]string{}
			for _, e := range lic {
				found[e.FilePath] = e.Findings.Scanner
			}
			require.Contains(t, found[fossologytest.Name+"/project/src/hello.c"], "GPL-2.0-or-later")

			_, err = in.svc.Upload(ctx, bob, id)
			require.ErrorIs(t, err, fault.ErrNotFound, "another group's upload")
			_, err = in.svc.Job(ctx, bob, job)
			require.ErrorIs(t, err, fault.ErrNotFound)
			_, _, err = in.svc.ScheduleJobs(ctx, bob, store.TopFolderID, id, fossology.ScanOptions{Analysis: fossology.Analysis{Nomos: true}}, nil)
			require.ErrorIs(t, err, fault.ErrNotFound)
		})
	}
}

// requireDecidedAsAfterThePass checks that the decisions nomos_monk and
// ojo_decider made file by file during a scan's pass are those they make,
// in that order, over the upload's stored findings after it.
func requireDecidedAsAfterThePass(t *testing.T, st *store.Store, uploadID int64) {
	t.Helper()
	ctx := context.Background()
	rows, err := st.FossologyFindings(ctx, uploadID)
	require.NoError(t, err)
	fs := make([]agent.Finding, len(rows))
	for i, r := range rows {
		fs[i] = agent.Finding{Agent: agent.Agent(r.Agent), Path: r.Path, SHA1: r.SHA1, Type: agent.Type(r.Type), Value: r.Value}
	}
	now := time.Now()
	nomosMonk := clearing.NomosMonk(fs, nil, now)
	want := clearing.Merge(nil, nomosMonk, clearing.OjoDecider(fs, clearing.Merge(nil, nomosMonk), now))
	stored, err := st.FossologyDecisions(ctx, uploadID)
	require.NoError(t, err)
	got := map[string]string{}
	sources := map[string]bool{}
	for _, d := range stored {
		got[d.Path] = d.Source + " " + d.Licenses
		sources[d.Source] = true
	}
	wanted := map[string]string{}
	for p, d := range want {
		wanted[p] = string(d.Source) + " " + strings.Join(d.Licenses, " ")
	}
	require.Equal(t, wanted, got)
	require.True(t, sources[string(clearing.SourceNomosMonk)] && sources[string(clearing.SourceOjo)], "the fixture has files for both deciders: %v", got)
}

// bigTree is a tar.gz of n text files, enough for a scan to be interrupted.
func bigTree(t *testing.T, n int) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for i := range n {
		body := []byte(fmt.Sprintf("// SPDX-License-Identifier: MIT\n// Copyright %d Example\n%s\n", 2000+i%20, bytes.Repeat([]byte("int x; "), 200)))
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("big/f%05d.c", i), Mode: 0o644, Size: int64(len(body))}))
		_, err := tw.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

// TestScanResumesAfterRestart: a scan interrupted by a stop is resumed by the
// next instance from the step that did not finish, and completes.
func TestScanResumesAfterRestart(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			dir := t.TempDir()
			cfg := storetest.Config(t, d, dir, "reehub_foss")
			in := start(t, cfg, dir)
			ctx := context.Background()
			alice := caller(t, in.store, "alice")
			// nomos and monk make the scan long enough that no machine finishes
			// it before the stop below.
			const files = 6000
			id := upload(t, in, alice, "big.tar.gz", bigTree(t, files))
			job, _, err := in.svc.ScheduleJobs(ctx, alice, store.TopFolderID, id, fossology.ScanOptions{
				Analysis: fossology.Analysis{Mimetype: true, Nomos: true, Monk: true, Ojo: true, CopyrightEmailAuthor: true}}, nil)
			require.NoError(t, err)
			for deadline := time.Now().Add(time.Minute); ; {
				v, err := in.svc.Job(ctx, alice, job)
				require.NoError(t, err)
				if v.Status == fossology.JobProcessing && v.ETA > 0 {
					break
				}
				require.NotEqual(t, fossology.JobCompleted, v.Status, "the scan ended before it could be interrupted")
				require.True(t, time.Now().Before(deadline))
				time.Sleep(20 * time.Millisecond)
			}
			in.stop(t)

			in = start(t, cfg, dir)
			defer in.stop(t)
			v := waitJob(t, in, alice, job)
			require.Equal(t, fossology.JobCompleted, v.Status, v.Reason)
			lic, _, err := in.svc.Licenses(ctx, alice, id, fossology.LicenseQuery{Agents: "ojo", License: true})
			require.NoError(t, err)
			mit := 0
			for _, e := range lic {
				if len(e.Findings.Scanner) == 1 && e.Findings.Scanner[0] == "MIT" {
					mit++
				}
			}
			require.Equal(t, files, mit, "every file scanned once, none twice")
			cr, err := in.svc.Copyrights(ctx, alice, id)
			require.NoError(t, err)
			require.Len(t, cr, 20)
		})
	}
}

// TestServerUploads: only admins upload from the server, and only from the
// allowed directories; a directory is uploaded as a tar of its files.
func TestServerUploads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed")
	require.NoError(t, os.MkdirAll(filepath.Join(allowed, "proj", "src"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(allowed, "proj", "src", "a.c"), []byte("// SPDX-License-Identifier: MIT\n"), 0o644))
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.Config(t, "sqlite", dir, "reehub_foss"))
	require.NoError(t, err)
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := job.New(st, blobs, log, job.Config{DataDir: dir, PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	svc, err := fossology.New(st, blobs, eng, log, fossology.Config{DataDir: dir, ServerDirs: []string{allowed}})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	in := &instance{store: st, engine: eng, svc: svc}
	defer in.stop(t)

	user := caller(t, st, "alice")
	_, err = svc.CreateUpload(ctx, user, fossology.NewUpload{FolderID: store.TopFolderID, Type: fossology.UploadServer, ServerPath: filepath.Join(allowed, "proj")})
	require.ErrorIs(t, err, fault.ErrForbidden, "users may not upload from the server")
	admin := user
	admin.Admin = true
	_, err = svc.CreateUpload(ctx, admin, fossology.NewUpload{FolderID: store.TopFolderID, Type: fossology.UploadServer, ServerPath: dir})
	require.ErrorIs(t, err, fault.ErrForbidden, "only from the allowed directories")
	_, err = svc.CreateUpload(ctx, admin, fossology.NewUpload{FolderID: store.TopFolderID, Type: fossology.UploadServer, ServerPath: filepath.Join(allowed, "..", "allowed", "..")})
	require.ErrorIs(t, err, fault.ErrForbidden, "no way out with ..")
	id, err := svc.CreateUpload(ctx, admin, fossology.NewUpload{FolderID: store.TopFolderID, Type: fossology.UploadServer, ServerPath: filepath.Join(allowed, "proj")})
	require.NoError(t, err)
	u := eventually(t, func() (fossology.Upload, error) { return svc.Upload(ctx, admin, id) })
	require.Equal(t, "proj", u.Name)
	require.Len(t, u.Hash.SHA256, 64)
	items, _, err := svc.Tree(ctx, admin, id, 1, 100)
	require.NoError(t, err)
	var paths []string
	for _, it := range items {
		paths = append(paths, it.Item.Path)
	}
	require.Contains(t, paths, "proj/src/a.c")
}
