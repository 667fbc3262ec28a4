package podman_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/podman"
)

// testBase is a busybox image imported once per test binary.
const testBase = "localhost/reehub-podman-test-busybox:latest"

var baseOnce sync.Once
var baseErr error

type testBundle struct {
	rt  *podman.Runtime
	ctx context.Context
}

// setup connects to the real service (skipping when it is absent) and makes
// sure the busybox test base image exists.
func setup(t *testing.T) testBundle {
	t.Helper()
	uri := os.Getenv("REEHUB_PODMAN_SOCKET")
	if uri == "" {
		uri = podman.DefaultURI
	}
	sock := strings.TrimPrefix(uri, "unix://")
	if _, err := os.Stat(sock); err != nil {
		t.Skipf("podman service socket %s absent (run scripts/setup-host.sh): %v", sock, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	rt, err := podman.Connect(ctx, uri)
	require.NoError(t, err)
	baseOnce.Do(func() { baseErr = importBusybox(ctx, rt) })
	require.NoError(t, baseErr)
	return testBundle{rt: rt, ctx: ctx}
}

// importBusybox imports a root file system of busybox-static with relative
// applet links.
func importBusybox(ctx context.Context, rt *podman.Runtime) error {
	if _, err := rt.InspectImage(ctx, testBase); err == nil {
		return nil
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("busybox-static is needed for the test image: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin/", "etc/", "tmp/", "proc/", "sys/", "dev/", "run/", "root/", "var/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(bb); err != nil {
		return err
	}
	for _, a := range []string{"sh", "cat", "echo", "sleep", "ls", "rm", "chmod", "grep", "wget", "timeout", "sha256sum", "test", "true", "false", "mkdir", "date", "wc", "ln"} {
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + a, Linkname: "busybox", Mode: 0o777, Typeflag: tar.TypeSymlink}); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	_, err = rt.ImportImage(ctx, &buf, podman.ImportOpts{
		Reference: testBase,
		Changes:   []string{"ENV PATH=/bin", `CMD ["sh"]`},
	})
	return err
}

// writeContext writes files (name -> content) into a fresh directory.
func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		out = append(out, p)
		return err
	}))
	return out
}

func uniqueTag(t *testing.T) string {
	t.Helper()
	var b [4]byte
	_, _ = io.ReadFull(randReader{}, b[:])
	return "localhost/reehub-podman-test-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "-" + hex.EncodeToString(b[:]) + ":latest"
}

type randReader struct{}

func (randReader) Read(p []byte) (int, error) {
	f, err := os.Open("/dev/urandom")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Read(p)
}

// archiveContains reports whether needle occurs in the archive, looking
// inside gzip-compressed members as well.
func archiveContains(t *testing.T, archive []byte, needle []byte) bool {
	t.Helper()
	if bytes.Contains(archive, needle) {
		return true
	}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		_, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return false
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			plain, err := io.ReadAll(zr)
			require.NoError(t, err)
			if bytes.Contains(plain, needle) {
				return true
			}
		}
	}
}

func TestConnectBadSocket(t *testing.T) {
	t.Parallel()
	uri := "unix://" + filepath.Join(t.TempDir(), "missing.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := podman.Connect(ctx, uri)
	require.Error(t, err)
	require.ErrorIs(t, err, fault.ErrUnavailable)
	msg := err.Error()
	require.NotContains(t, msg, "\n")
	require.True(t, strings.HasPrefix(msg, "podman service not reachable at "+uri+" ("), msg)
	require.True(t, strings.HasSuffix(msg, `): run "sudo scripts/setup-host.sh" or set REEHUB_PODMAN_SOCKET`), msg)
}

func TestVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v, err := b.rt.Version(b.ctx)
	require.NoError(t, err)
	require.Regexp(t, `^\d+\.\d+\.\d+`, v)
}

func TestBuildSecretsDoNotLeak(t *testing.T) {
	t.Parallel()
	b := setup(t)
	secret := "SECRET-" + strings.TrimSuffix(strings.TrimPrefix(uniqueTag(t), "localhost/"), ":latest")
	sum := sha256.Sum256([]byte(secret))
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM " + testBase + "\n" +
			"COPY . /ctx\n" +
			"RUN --mount=type=secret,id=token,target=/run/token sha256sum /run/token\n",
		"data/file.txt": "hello\n",
	})
	before := listDir(t, dir)
	tag := uniqueTag(t)
	var log bytes.Buffer
	id, err := b.rt.Build(b.ctx, podman.BuildOpts{
		ContextDir: dir, Tag: tag, Log: &log,
		Secrets: map[string][]byte{"token": []byte(secret)},
		Labels:  map[string]string{"io.reehub.test": "secrets"},
	})
	require.NoError(t, err, log.String())
	t.Cleanup(func() { _ = b.rt.RemoveImage(context.Background(), id) })
	require.Contains(t, log.String(), hex.EncodeToString(sum[:]), "the RUN step saw the secret")
	require.Equal(t, before, listDir(t, dir), "the build wrote into the context directory")

	img, err := b.rt.InspectImage(b.ctx, tag)
	require.NoError(t, err)
	require.Equal(t, id, img.ID)
	require.Equal(t, "secrets", img.Labels["io.reehub.test"])

	for _, format := range []podman.ArchiveFormat{podman.DockerArchive, podman.OCIArchive} {
		var archive bytes.Buffer
		require.NoError(t, b.rt.ExportImage(b.ctx, id, format, &archive))
		require.False(t, archiveContains(t, archive.Bytes(), []byte(secret)), "%s archive holds the secret", format)
		require.False(t, archiveContains(t, archive.Bytes(), []byte(".reehub-secret-")), "%s archive names a secret file", format)
		require.False(t, archiveContains(t, archive.Bytes(), []byte("reehub-build-")), "%s archive holds the build marker", format)
		require.True(t, archiveContains(t, archive.Bytes(), []byte("sha256sum /run/token")), "%s archive has no history (search is blind)", format)
	}

	files, err := b.rt.ImageFiles(b.ctx, id)
	require.NoError(t, err)
	var ctxFiles []string
	for p := range files {
		if strings.HasPrefix(p, "/ctx/") {
			ctxFiles = append(ctxFiles, p)
		}
	}
	require.ElementsMatch(t, []string{"/ctx/Dockerfile", "/ctx/data", "/ctx/data/file.txt"}, ctxFiles)
	_, hasToken := files["/run/token"]
	require.False(t, hasToken)
}

func TestBuildInternalNetwork(t *testing.T) {
	t.Parallel()
	b := setup(t)
	name := "reehub-test-net-" + hex.EncodeToString(sha256.New().Sum([]byte(t.Name())))[:8] + fmt.Sprint(time.Now().UnixNano()%100000)
	nw, err := b.rt.CreateNetwork(b.ctx, name, true, map[string]string{"io.reehub.test": "net"})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.rt.RemoveNetwork(context.Background(), name)) })
	require.Equal(t, name, nw.Name)
	require.NotNil(t, net.ParseIP(nw.Gateway), nw.Gateway)

	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + testBase + "\n" +
		"RUN grep recorder /etc/hosts; if timeout 5 wget -q -O /dev/null http://deb.debian.org/debian/; then echo NET=online; else echo NET=offline; fi\n"})
	var log bytes.Buffer
	id, err := b.rt.Build(b.ctx, podman.BuildOpts{
		ContextDir: dir, Network: name, AddHosts: []string{"recorder:" + nw.Gateway}, NoCache: true, Log: &log,
	})
	require.NoError(t, err, log.String())
	t.Cleanup(func() { _ = b.rt.RemoveImage(context.Background(), id) })
	require.Contains(t, log.String(), "NET=offline")
	require.Regexp(t, nw.Gateway+`\s+recorder`, log.String())
}

func TestBuildTimestampSameID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM " + testBase + "\nCOPY a.txt /a.txt\nRUN echo built > /built && mkdir -p /x/y\n",
		"a.txt":      "a\n",
	})
	ts := time.Unix(0, 0)
	var ids []string
	for range 2 {
		id, err := b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: dir, Timestamp: &ts, NoCache: true})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	t.Cleanup(func() { _ = b.rt.RemoveImage(context.Background(), ids[0]) })
	require.Equal(t, ids[0], ids[1])
	img, err := b.rt.InspectImage(b.ctx, ids[0])
	require.NoError(t, err)
	require.True(t, img.Created.Equal(ts), "created %s", img.Created)
}

func TestExportLoadRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + testBase + "\nRUN echo round > /trip\n"})
	tag := uniqueTag(t)
	id, err := b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: dir, Tag: tag, NoCache: true})
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, b.rt.ExportImage(b.ctx, tag, podman.DockerArchive, f))
	require.NoError(t, f.Close())
	require.NoError(t, b.rt.RemoveImage(b.ctx, id))
	_, err = b.rt.InspectImage(b.ctx, id)
	require.ErrorIs(t, err, fault.ErrNotFound)

	f, err = os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	names, err := b.rt.LoadImage(b.ctx, f)
	require.NoError(t, err)
	require.Contains(t, names, tag)
	img, err := b.rt.InspectImage(b.ctx, tag)
	require.NoError(t, err)
	require.Equal(t, id, img.ID)

	// The podman CLI loads the same archive.
	if podmanBin, err := exec.LookPath("podman"); err == nil {
		require.NoError(t, b.rt.RemoveImage(b.ctx, id))
		out, err := exec.CommandContext(b.ctx, podmanBin, "load", "-i", path).CombinedOutput()
		require.NoError(t, err, string(out))
		img, err = b.rt.InspectImage(b.ctx, tag)
		require.NoError(t, err)
		require.Equal(t, id, img.ID)
	}
	require.NoError(t, b.rt.TagImage(b.ctx, id, tag+"-second"))
	img, err = b.rt.InspectImage(b.ctx, tag+"-second")
	require.NoError(t, err)
	require.Equal(t, id, img.ID)

	var oci bytes.Buffer
	require.NoError(t, b.rt.ExportImage(b.ctx, id, podman.OCIArchive, &oci))
	require.True(t, archiveContains(t, oci.Bytes(), []byte("imageLayoutVersion")))

	require.NoError(t, b.rt.RemoveImage(b.ctx, id))
	require.NoError(t, b.rt.RemoveImage(b.ctx, id), "removing a missing image is not an error")
	err = b.rt.ExportImage(b.ctx, id, podman.DockerArchive, io.Discard)
	require.ErrorIs(t, err, fault.ErrNotFound)
}

func TestImageFilesDiff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + testBase + "\n" +
		"RUN echo new > /etc/new.conf && chmod 600 /etc/new.conf && ln -s /etc/new.conf /etc/link && rm /bin/wc && chmod 700 /root\n"})
	id, err := b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: dir, NoCache: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.rt.RemoveImage(context.Background(), id) })

	base, err := b.rt.ImageFiles(b.ctx, testBase)
	require.NoError(t, err)
	child, err := b.rt.ImageFiles(b.ctx, id)
	require.NoError(t, err)
	require.Equal(t, "link:busybox", base["/bin/sh"])
	require.Equal(t, "dir 0755 0:0", base["/etc"])
	sum := sha256.Sum256([]byte("new\n"))
	require.Equal(t, "sha256:"+hex.EncodeToString(sum[:])+" 0600 0:0", child["/etc/new.conf"])
	require.Equal(t, "link:/etc/new.conf", child["/etc/link"])
	// A RUN step leaves empty mount points for /etc/hostname, /etc/hosts
	// and /etc/resolv.conf in its layer when the base image lacks them.
	require.Equal(t, []string{"/bin/wc", "/etc/hostname", "/etc/hosts", "/etc/link", "/etc/new.conf", "/etc/resolv.conf", "/root"}, podman.DiffFiles(base, child))
	_, ok := base["/etc/hosts"]
	require.False(t, ok, "creating the container for ImageFiles added /etc/hosts")
	require.Equal(t, "sha256:"+hex.EncodeToString(sha256.New().Sum(nil))+" 0755 0:0", child["/etc/hosts"], "/etc/hosts content leaked from the build")

	_, err = b.rt.ImageFiles(b.ctx, "localhost/reehub-no-such-image:latest")
	require.ErrorIs(t, err, fault.ErrNotFound)
}

func TestTopLayerFiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + testBase + "\n" +
		"RUN echo new > /etc/new.conf && chmod 600 /etc/new.conf && ln -s /etc/new.conf /etc/link && ln /etc/new.conf /etc/hard && rm /bin/wc\n" +
		"RUN chmod 700 /root\n"})
	id, err := b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: dir, NoCache: true, Squash: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.rt.RemoveImage(context.Background(), id) })

	top, err := b.rt.TopLayerFiles(b.ctx, id)
	require.NoError(t, err)
	all, err := b.rt.ImageFiles(b.ctx, id)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte("new\n"))
	require.Equal(t, "sha256:"+hex.EncodeToString(sum[:])+" 0600 0:0", top["/etc/new.conf"])
	require.Equal(t, top["/etc/new.conf"], top["/etc/hard"], "a hard link is described by its content")
	require.Equal(t, "link:/etc/new.conf", top["/etc/link"])
	require.Equal(t, "deleted", top["/bin/wc"])
	require.Equal(t, "dir 0700 0:0", top["/root"], "both RUN steps are in the squashed layer")
	_, ok := top["/bin/sh"]
	require.False(t, ok, "files of the base are not listed")
	require.Less(t, len(top), len(all)/2)
	for p, d := range top {
		if d != "deleted" {
			require.Equal(t, all[p], d, "%s is described as ImageFiles describes it", p)
		}
	}

	entries, err := b.rt.TopLayerEntries(b.ctx, id, 16)
	require.NoError(t, err)
	require.Equal(t, top["/etc/new.conf"], entries["/etc/new.conf"].Desc)
	require.Equal(t, int64(4), entries["/etc/new.conf"].Size)
	require.Equal(t, "new\n", string(entries["/etc/new.conf"].Text), "small text files come with their content")
	require.Equal(t, "deleted", entries["/bin/wc"].Desc)
	require.Nil(t, entries["/root"].Text)

	_, err = b.rt.TopLayerFiles(b.ctx, "localhost/reehub-no-such-image:latest")
	require.ErrorIs(t, err, fault.ErrNotFound)
}

func TestDiffFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b map[string]string
		want []string
	}{
		{name: "equal", a: map[string]string{"/a": "x"}, b: map[string]string{"/a": "x"}, want: nil},
		{name: "changed", a: map[string]string{"/a": "x", "/b": "y"}, b: map[string]string{"/a": "z", "/b": "y"}, want: []string{"/a"}},
		{name: "added and removed", a: map[string]string{"/b": "y", "/c": "1"}, b: map[string]string{"/a": "x", "/b": "y"}, want: []string{"/a", "/c"}},
		{name: "both empty", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, podman.DiffFiles(tt.a, tt.b))
		})
	}
}

func TestBuildFailureQuotesOutput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + testBase + "\nRUN echo the-last-words && false\n"})
	_, err := b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: dir, NoCache: true})
	require.Error(t, err)
	require.Contains(t, err.Error(), "the-last-words")

	_, err = b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: dir, Dockerfile: "../Dockerfile"})
	require.ErrorIs(t, err, fault.ErrInvalid)

	dir = writeContext(t, map[string]string{"Dockerfile": "FROM localhost/reehub-not-local:latest\nRUN true\n"})
	_, err = b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: dir})
	require.Error(t, err, "a missing base image is never pulled")
}

// lineWatcher signals once a line containing want was written.
type lineWatcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// TestBuildCancelLeavesNothing runs alone (not parallel): in one CI run a
// build of TestBuildsCannotReachOtherBuildsProxies that ran while this test
// cancelled its own build failed with "while running runtime: signal:
// killed" (2026-12-02). The cause is not found yet (the cancel kills only
// the steps marked with its own build's nonce); until it is, the cancel
// does not overlap the package's other builds.
func TestBuildCancelLeavesNothing(t *testing.T) {
	b := setup(t)
	tag := uniqueTag(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + testBase + "\nRUN echo step-started && sleep 120 && echo finished > /done\n"})
	w := &lineWatcher{want: "step-started", seen: make(chan struct{})}
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := b.rt.Build(ctx, podman.BuildOpts{ContextDir: dir, Tag: tag, NoCache: true, Log: w})
		done <- err
	}()
	select {
	case <-w.seen:
	case err := <-done:
		t.Fatalf("build ended before it was cancelled: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the RUN step did not start")
	}
	t0 := time.Now()
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(45 * time.Second):
		t.Fatal("Build did not return after cancel")
	}
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(t0), 20*time.Second)
	t.Logf("cancel returned after %s", time.Since(t0))

	// Nothing of this build is left: no step process, no working container,
	// no image (the service would have committed it after the sleep).
	// The step's process is killed by the cancel, but it may take the kernel a
	// moment to reap it: wait for the condition rather than sample it once.
	require.Eventually(t, func() bool {
		out, _ := exec.Command("sh", "-c", "ps -eo args | grep -c '[s]leep 120'").Output()
		return strings.TrimSpace(string(out)) == "0"
	}, 30*time.Second, 100*time.Millisecond, "the RUN step still runs")
	ps, err := exec.Command("podman", "ps", "--all", "--external", "--format", "{{.ID}} {{.Names}} {{.CreatedAt}}").CombinedOutput()
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(ps)), "\n") {
		if line == "" {
			continue
		}
		created := strings.Join(strings.Fields(line)[2:4], " ")
		ts, perr := time.Parse("2006-01-02 15:04:05.999999999", created)
		if perr == nil && ts.After(t0.Add(-30*time.Second)) && strings.Contains(line, "busybox-working-container") {
			// Another test's build may run at the same time; ours ran the sleep.
			t.Logf("working container still present (maybe another test's): %s", line)
		}
	}
	_, err = b.rt.InspectImage(b.ctx, tag)
	require.ErrorIs(t, err, fault.ErrNotFound)
}

func TestCleanupByLabel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	value := strings.TrimSuffix(strings.TrimPrefix(uniqueTag(t), "localhost/"), ":latest")
	labels := map[string]string{"io.reehub.job": value}
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + testBase + "\nRUN echo labelled > /l\n"})
	id, err := b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: dir, Labels: labels, NoCache: true})
	require.NoError(t, err)
	nw, err := b.rt.CreateNetwork(b.ctx, value[len(value)-20:], false, labels)
	require.NoError(t, err)

	imgs, err := b.rt.ListImages(b.ctx, labels)
	require.NoError(t, err)
	require.Len(t, imgs, 1)
	require.Equal(t, id, imgs[0].ID)

	require.NoError(t, b.rt.Cleanup(b.ctx, "io.reehub.job", value))
	imgs, err = b.rt.ListImages(b.ctx, labels)
	require.NoError(t, err)
	require.Empty(t, imgs)
	_, err = b.rt.InspectImage(b.ctx, id)
	require.ErrorIs(t, err, fault.ErrNotFound)
	out, err := exec.Command("podman", "network", "exists", nw.Name).CombinedOutput()
	require.Error(t, err, "network %s still exists: %s", nw.Name, out)
	require.NoError(t, b.rt.RemoveNetwork(b.ctx, nw.Name), "removing a missing network is not an error")
}

// TestBuildFixedHostname: RUN steps that join a persistent UTS namespace see
// its hostname (hostname, /etc/hostname, $HOSTNAME), so two builds that
// write it give one image ID; without it each step sees its container's ID.
func TestBuildFixedHostname(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a persistent UTS namespace needs root")
	}
	b := setup(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "ns", "uts")
	require.NoError(t, podman.PrepareUTSNamespace(b.ctx, path, "reehub-test"))
	t.Cleanup(func() {
		_ = exec.Command("umount", path).Run()
		_ = exec.Command("umount", filepath.Dir(path)).Run()
	})
	require.NoError(t, podman.PrepareUTSNamespace(b.ctx, path, "reehub-test"), "a second call finds the namespace")
	require.Error(t, podman.PrepareUTSNamespace(b.ctx, path, "other"), "the namespace has another hostname")

	ctxDir := writeContext(t, map[string]string{
		"Dockerfile": "FROM " + testBase + "\nRUN hostname > /h && cat /etc/hostname >> /h && echo \"$HOSTNAME\" >> /h\n",
	})
	ts := time.Unix(0, 0)
	var ids []string
	for _, uts := range []string{path, path, ""} {
		id, err := b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: ctxDir, Timestamp: &ts, NoCache: true, UTSNamespace: uts})
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.rt.RemoveImage(context.Background(), id) })
		ids = append(ids, id)
	}
	require.Equal(t, ids[0], ids[1], "the same hostname in both builds")
	require.NotEqual(t, ids[0], ids[2], "a step's own UTS namespace has its container's ID as hostname")
	files, err := b.rt.ImageFiles(b.ctx, ids[0])
	require.NoError(t, err)
	sum := sha256.Sum256([]byte("reehub-test\n\n\n"))
	require.Equal(t, "sha256:"+hex.EncodeToString(sum[:])+" 0644 0:0", files["/h"])
}
