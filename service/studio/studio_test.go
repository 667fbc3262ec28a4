package studio_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/studio"
	"github.com/reehub/reehub/store"
	"github.com/reehub/reehub/store/blob"
	"github.com/reehub/reehub/store/storetest"
)

type env struct {
	st   *store.Store
	svc  *studio.Service
	dir  string
	a, b int64 // two users
}

// setup builds the service on a fresh database without Podman: everything
// but builds and the package indexes works without it.
func setup(t *testing.T, dialect string, cfg studio.Config) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, storetest.Config(t, dialect, dir, "reehub_studio"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := job.New(st, blobs, log, job.Config{DataDir: dir, Queues: map[string]job.QueueConfig{job.QueueAppliances: {MaxWorkers: 1}},
		PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	cfg.CacheDir, cfg.StagingDir = filepath.Join(dir, "cache"), filepath.Join(dir, "staging")
	require.NoError(t, os.MkdirAll(cfg.StagingDir, 0o755))
	svc, err := studio.New(st, blobs, eng, nil, nil, nil, log, cfg)
	require.NoError(t, err)
	e := &env{st: st, svc: svc, dir: dir}
	for i, name := range []string{"alice", "bob"} {
		u := store.User{Name: name, Role: store.RoleUser}
		require.NoError(t, st.CreateUser(ctx, &u))
		if i == 0 {
			e.a = u.ID
		} else {
			e.b = u.ID
		}
	}
	return e
}

func code(err error) string {
	var se *studio.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

func (e *env) stage(t *testing.T, content string) string {
	t.Helper()
	f, err := os.CreateTemp(e.dir, "upload-*")
	require.NoError(t, err)
	_, err = f.WriteString(content)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return f.Name()
}

func ptr[T any](v T) *T { return &v }

func TestAppliancesFilesAndPackages(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := setup(t, dialect, studio.Config{})
			sets, err := e.svc.TemplateSets(ctx)
			require.NoError(t, err)
			require.Len(t, sets, 1)
			require.Equal(t, "default", sets[0].Name)
			var debian int64
			for _, tpl := range sets[0].Templates {
				if tpl.BaseImage == "debian_bookworm" {
					debian = tpl.ID
				}
			}
			require.NotZero(t, debian, "the Debian template")
			_, err = e.svc.TemplateSet(ctx, "mono")
			require.Equal(t, "invalid_template_set", code(err))

			// Cloning: i686 by default, a generated name, the template's repositories.
			a, err := e.svc.Create(ctx, e.a, debian, "", "")
			require.NoError(t, err)
			require.Equal(t, "i686", a.Arch)
			require.NotEmpty(t, a.Name)
			require.Len(t, a.RepositoryIDs, 3, "bookworm, updates and security")
			require.Equal(t, debian, *a.ParentID)
			_, err = e.svc.Create(ctx, e.a, debian, "x", "ppc64")
			require.Equal(t, "invalid_architecture", code(err))
			_, err = e.svc.Create(ctx, e.a, 424242, "x", "x86_64")
			require.Equal(t, "invalid_appliance_id", code(err))
			require.ErrorIs(t, err, fault.ErrNotFound)

			// Another user sees nothing of it, not even to clone it.
			_, err = e.svc.Appliance(ctx, e.b, a.ID)
			require.Equal(t, "invalid_appliance_id", code(err))
			_, err = e.svc.Create(ctx, e.b, a.ID, "theft", "x86_64")
			require.Equal(t, "invalid_appliance_id", code(err))
			list, err := e.svc.Appliances(ctx, e.b)
			require.NoError(t, err)
			require.Empty(t, list)

			// Overlay files: mode and owner kept, paths that escape refused.
			f, err := e.svc.AddFile(ctx, e.a, a.ID, e.stage(t, "k=v\n"), "app.conf",
				studio.FileMeta{Path: ptr("/etc/reehub"), Owner: ptr("root"), Group: ptr("adm"), Permissions: ptr("0640")})
			require.NoError(t, err)
			require.Equal(t, "/etc/reehub", f.Path)
			require.Equal(t, "adm", f.Group)
			require.Equal(t, "0640", f.Permissions)
			require.True(t, f.Enabled)
			require.EqualValues(t, 4, f.Size)
			for _, bad := range []studio.FileMeta{
				{Path: ptr("/etc/../../x")}, {Path: ptr("relative")}, {Filename: ptr("../x")},
				{Permissions: ptr("999")}, {Owner: ptr("root; rm -rf /")},
			} {
				_, err := e.svc.AddFile(ctx, e.a, a.ID, e.stage(t, "x"), "x.conf", bad)
				require.ErrorIs(t, err, fault.ErrInvalid, "%+v", bad)
			}
			_, err = e.svc.UpdateFile(ctx, e.a, f.ID, studio.FileMeta{Path: ptr("/../etc")})
			require.Equal(t, "invalid_path", code(err))
			f2, err := e.svc.UpdateFile(ctx, e.a, f.ID, studio.FileMeta{Enabled: ptr(false)})
			require.NoError(t, err)
			require.False(t, f2.Enabled)
			_, err = e.svc.File(ctx, e.b, f.ID)
			require.Equal(t, "invalid_overlay_file_id", code(err))

			// Uploaded packages: a .deb is read, an .rpm refused naming .deb.
			_, err = e.svc.UploadRpm(ctx, e.a, "", e.stage(t, "\xed\xab\xee\xdb\x03\x00rpm"), "tool-1.0.x86_64.rpm")
			require.Equal(t, "invalid_file", code(err))
			require.ErrorContains(t, err, ".deb")
			_, err = e.svc.UploadRpm(ctx, e.a, "SLED11", e.stage(t, "x"), "x.deb")
			require.Equal(t, "invalid_base_system", code(err))
			if _, lerr := exec.LookPath("dpkg-deb"); lerr == nil {
				deb := buildDeb(t, e.dir)
				r, err := e.svc.UploadRpm(ctx, e.a, "bookworm", deb, "hello.deb")
				require.NoError(t, err)
				require.Equal(t, "reehub-hello", r.Package)
				require.Equal(t, "1.0-1", r.Version)
				rs, err := e.svc.Rpms(ctx, e.a, "bookworm")
				require.NoError(t, err)
				require.Len(t, rs, 1)
				_, err = e.svc.Rpm(ctx, e.b, r.ID)
				require.Equal(t, "invalid_rpm_id", code(err))
				q, err := e.svc.Quota(ctx, e.a)
				require.NoError(t, err)
				require.Equal(t, "15GB", q.Available)
			}

			// The user repository is created once and added to the appliance.
			repos, err := e.svc.AddUserRepository(ctx, e.a, a.ID)
			require.NoError(t, err)
			require.Len(t, repos, 4)
			require.Equal(t, "deb-local", repos[3].Type)
			again, err := e.svc.AddUserRepository(ctx, e.a, a.ID)
			require.NoError(t, err)
			require.Equal(t, repos, again)
			_, err = e.svc.Repository(ctx, e.b, repos[3].ID)
			require.Equal(t, "invalid_repository_id", code(err))
			_, err = e.svc.AddRepository(ctx, e.a, a.ID, 999999)
			require.Equal(t, "invalid_repository_id", code(err))

			// Builds: xen and the disk types (no assembler) and i686 are refused before anything runs.
			_, err = e.svc.Start(ctx, e.a, a.ID, studio.StartOpts{ImageType: "xen"})
			require.Equal(t, "invalid_image_type", code(err))
			_, err = e.svc.Start(ctx, e.a, a.ID, studio.StartOpts{ImageType: "oem"})
			require.Equal(t, "invalid_image_type", code(err))
			require.ErrorContains(t, err, "disk")
			_, err = e.svc.Start(ctx, e.a, a.ID, studio.StartOpts{ImageType: "oci"})
			require.Equal(t, "invalid_architecture", code(err))
			_, err = e.svc.Build(ctx, e.a, 999999, "invalid_build_id")
			require.Equal(t, "invalid_build_id", code(err))
			require.Equal(t, "invalid_running_build_id", code(e.svc.Cancel(ctx, e.a, 999999)))

			// Deleting the appliance removes its files.
			require.NoError(t, e.svc.Delete(ctx, e.a, a.ID))
			_, err = e.svc.File(ctx, e.a, f.ID)
			require.Equal(t, "invalid_overlay_file_id", code(err))
			require.Equal(t, "invalid_appliance_id", code(e.svc.Delete(ctx, e.a, a.ID)))
		})
	}
}

func TestDiskSeam(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, "sqlite", studio.Config{Disks: &studio.Disks{
		BootPackages: func(string, string) []string { return []string{"linux-image-amd64"} },
		Assemble:     func(context.Context, studio.DiskRequest) (string, error) { return "", errors.New("not here") },
	}})
	a, err := e.svc.Create(ctx, e.a, 1, "disk", "i686")
	require.NoError(t, err)
	// With an assembler, oem is a known type: the refusal is the architecture's.
	_, err = e.svc.Start(ctx, e.a, a.ID, studio.StartOpts{ImageType: "oem"})
	require.Equal(t, "invalid_architecture", code(err))
	_, err = e.svc.Start(ctx, e.a, a.ID, studio.StartOpts{ImageType: "xen"})
	require.Equal(t, "invalid_image_type", code(err))
	require.ErrorContains(t, err, "oem")

	_, err = studio.New(e.st, nil, nil, nil, nil, nil, nil, studio.Config{CacheDir: e.dir, StagingDir: e.dir, Disks: &studio.Disks{}})
	require.Error(t, err, "a seam without functions is refused")
}

func buildDeb(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "pkg")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte("Package: reehub-hello\nVersion: 1.0-1\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: test\n"), 0o644))
	deb := filepath.Join(dir, "hello.deb")
	out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, deb).CombinedOutput()
	require.NoError(t, err, string(out))
	return deb
}
