package dockerfile_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/runtime/dockerfile"
	"github.com/reehub/reehub/runtime/proxy"
)

const podmanSocket = "/run/podman/podman.sock"

// podmanEnv is what the real-build tests share: a unique suffix, an internal
// network and its gateway.
type podmanEnv struct {
	suffix  string
	network string
	gateway string
}

func setupPodman(t *testing.T) podmanEnv {
	t.Helper()
	if _, err := os.Stat(podmanSocket); err != nil {
		t.Skipf("real Podman build skipped: %s is absent (run scripts/setup-host.sh)", podmanSocket)
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("real Podman build skipped: podman is not installed")
	}
	if testing.Short() {
		t.Skip("real Podman build skipped in -short mode")
	}
	b := make([]byte, 4)
	_, err := rand.Read(b)
	require.NoError(t, err)
	env := podmanEnv{suffix: hex.EncodeToString(b)}
	env.network = "reehub-trust-test-" + env.suffix
	podman(t, "network", "create", "--internal", env.network)
	t.Cleanup(func() { _, _ = exec.Command("podman", "network", "rm", "-f", env.network).CombinedOutput() })
	env.gateway = strings.TrimSpace(podman(t, "network", "inspect", env.network, "--format", "{{range .Subnets}}{{.Gateway}}{{end}}"))
	require.NotNil(t, net.ParseIP(env.gateway), "gateway %q", env.gateway)
	return env
}

func podman(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command("podman", args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "podman %s\n%s\n%s", strings.Join(args, " "), out.String(), errOut.String())
	return out.String()
}

// busyboxImage imports a tiny image: busybox-static (sh, env, test, cat) and
// the static Go client in testdata/fetch.
func busyboxImage(t *testing.T, suffix string) string {
	t.Helper()
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("real Podman build skipped: /bin/busybox (busybox-static) is not installed")
	}
	root := t.TempDir()
	for _, d := range []string{"bin", "usr/bin", "etc", "tmp", "run"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	bb, err := os.ReadFile("/bin/busybox")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755))
	for _, applet := range []string{"sh", "cat", "test", "ls", "echo", "grep", "env"} {
		require.NoError(t, os.Symlink("busybox", filepath.Join(root, "bin", applet)))
	}
	require.NoError(t, os.Symlink("../../bin/busybox", filepath.Join(root, "usr/bin/env")))
	build := exec.Command("go", "build", "-o", filepath.Join(root, "bin/fetch"), "./testdata/fetch")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	ref := "localhost/reehub-trust-test:" + suffix
	tarCmd := exec.Command("tar", "-C", root, "-c", ".")
	imp := exec.Command("podman", "import", "-", ref)
	pipe, err := tarCmd.StdoutPipe()
	require.NoError(t, err)
	imp.Stdin = pipe
	require.NoError(t, tarCmd.Start())
	out, err = imp.CombinedOutput()
	require.NoError(t, err, string(out))
	require.NoError(t, tarCmd.Wait())
	t.Cleanup(func() { _, _ = exec.Command("podman", "rmi", "-f", ref).CombinedOutput() })
	return ref
}

// buildRun is one real podman build through a proxy.
type buildRun struct {
	env        podmanEnv
	dockerfile []byte
	proxyAddr  string
	secrets    map[string][]byte
	tag        string
}

// build runs podman build on the internal network with the trust secrets
// and the proxy as https_proxy/http_proxy, and returns the image ID.
func (b buildRun) build(t *testing.T) string {
	t.Helper()
	ctxDir := t.TempDir()
	secretDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), b.dockerfile, 0o644))
	_, port, err := net.SplitHostPort(b.proxyAddr)
	require.NoError(t, err)
	proxyURL := "http://reehub-proxy:" + port
	args := []string{"build", "--network", b.env.network, "--add-host", "reehub-proxy:" + b.env.gateway,
		"--build-arg", "https_proxy=" + proxyURL, "--build-arg", "http_proxy=" + proxyURL,
		"--timestamp", "0", "--pull=never", "--no-cache", "-t", b.tag}
	for _, id := range []string{dockerfile.SecretCA, dockerfile.SecretAptConf, dockerfile.SecretWgetrc} {
		p := filepath.Join(secretDir, id)
		require.NoError(t, os.WriteFile(p, b.secrets[id], 0o600))
		args = append(args, "--secret", "id="+id+",src="+p)
	}
	args = append(args, "-f", filepath.Join(ctxDir, "Dockerfile"), ctxDir)
	podman(t, args...)
	t.Cleanup(func() { _, _ = exec.Command("podman", "rmi", "-f", b.tag).CombinedOutput() })
	return strings.TrimSpace(podman(t, "image", "inspect", "--format", "{{.Id}}", b.tag))
}

func hostRoots(t *testing.T) []byte {
	t.Helper()
	roots, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return nil
	}
	return roots
}

// TestPodmanBuildThroughProxy records a real podman build whose RUN steps
// (shell and exec form) fetch an HTTPS URL from a local TLS server through
// the proxy on an internal network, then replays it with a new CA and a new
// proxy port after the server is gone, and checks that both builds give the
// same image ID and that the image keeps no trace of the CA or the secrets.
func TestPodmanBuildThroughProxy(t *testing.T) {
	t.Parallel()
	env := setupPodman(t)
	base := busyboxImage(t, env.suffix)

	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.URL.Path)
	}))
	defer upstream.Close()
	upRoots := x509.NewCertPool()
	upRoots.AddCert(upstream.Certificate())

	src := fmt.Sprintf(`FROM testbase
# shell form: the secrets are mounted and the variables exported
RUN fetch %[1]s/shell > /shell.txt \
  # a comment inside the continuation
  && test -r /run/reehub-ca.pem && test -r /run/reehub-apt.conf && test -r /run/reehub-wgetrc \
  && test "$SSL_CERT_FILE" = /run/reehub-ca.pem && test "$APT_CONFIG" = /run/reehub-apt.conf \
  && grep -q 'BEGIN CERTIFICATE' "$SSL_CERT_FILE" && grep -q CaInfo "$APT_CONFIG"
run ["fetch", "-o", "/exec.txt", "%[1]s/exec"]
RUN cat /shell.txt /exec.txt
`, upstream.URL)
	f, err := dockerfile.Parse([]byte(src))
	require.NoError(t, err)
	require.Equal(t, []string{"testbase"}, f.Bases())
	f.RewriteBases(map[string]string{"testbase": base})
	rewritten := f.InjectTrust()

	dir := t.TempDir()
	var caPEMs [][]byte
	run := func(mode proxy.Mode, tag string) (string, proxy.Stats) {
		ca, err := proxy.NewCA()
		require.NoError(t, err)
		caPEMs = append(caPEMs, ca.CertPEM())
		var log bytes.Buffer
		p, err := proxy.Start(context.Background(), proxy.Config{
			Mode: mode, Dir: dir, Addr: net.JoinHostPort(env.gateway, "0"), CA: ca, Log: &log, RootCAs: upRoots,
		})
		require.NoError(t, err)
		id := buildRun{
			env: env, dockerfile: rewritten, proxyAddr: p.Addr(), tag: tag,
			secrets: dockerfile.TrustFiles(ca.CertPEM(), hostRoots(t)),
		}.build(t)
		require.NoError(t, p.Close())
		t.Logf("%s proxy log:\n%s", mode, log.String())
		return id, p.Stats()
	}

	recID, st := run(proxy.Record, "localhost/reehub-trust-test-record:"+env.suffix)
	require.Equal(t, 2, st.Recorded)
	require.Zero(t, st.Errors)
	_, err = proxy.Verify(dir)
	require.NoError(t, err)

	upstream.Close()
	repID, st := run(proxy.Replay, "localhost/reehub-trust-test-replay:"+env.suffix)
	require.Equal(t, 2, st.Hits)
	require.Zero(t, st.Misses)
	require.Equal(t, recID, repID, "record and replay (different CA, different proxy port) give the same image")

	// The final image: the bodies are there, the trust is not.
	out := podman(t, "run", "--rm", "--network", "none", repID, "sh", "-c",
		`cat /shell.txt; echo; cat /exec.txt; echo; ls /run; env`)
	require.Contains(t, out, "hello from /shell")
	require.Contains(t, out, "hello from /exec")
	for _, leak := range []string{"reehub-ca.pem", "reehub-apt.conf", "reehub-wgetrc", "SSL_CERT_FILE", "reehub-proxy"} {
		require.NotContains(t, out, leak)
	}
	cfg := podman(t, "image", "inspect", "--format", "{{.Config.Env}} {{.Config.Labels}}", repID)
	require.NotContains(t, cfg, "SSL_CERT_FILE")
	require.NotContains(t, cfg, "proxy")
	history := podman(t, "history", "--no-trunc", "--format", "{{.CreatedBy}}", repID)
	require.NotContains(t, history, "reehub-proxy")
	t.Logf("image %s history:\n%s", repID, history)

	// No layer of the saved image holds either build CA or the apt.conf.
	archive := filepath.Join(t.TempDir(), "image.tar")
	podman(t, "save", "--format", "docker-archive", "-o", archive, repID)
	layers := extractedContent(t, archive)
	require.Contains(t, layers, "hello from /shell", "the search does see layer contents")
	for _, pem := range caPEMs {
		body := strings.Split(string(pem), "\n")[1]
		require.NotContains(t, layers, body, "a build CA reached the image")
	}
	require.NotContains(t, layers, "Acquire::https::CaInfo")
}

// extractedContent unpacks a docker-archive and its layer tars and returns
// all file contents concatenated.
func extractedContent(t *testing.T, archive string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("tar", "-C", dir, "-xf", archive).CombinedOutput()
	require.NoError(t, err, string(out))
	var all strings.Builder
	layerDir := t.TempDir()
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".tar") {
			return err
		}
		sub := filepath.Join(layerDir, filepath.Base(p)+".d")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		if out, err := exec.Command("tar", "-C", sub, "-xf", p).CombinedOutput(); err != nil {
			return fmt.Errorf("untar %s: %v: %s", p, err, out)
		}
		return nil
	}))
	require.NoError(t, filepath.Walk(layerDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		all.Write(data)
		return nil
	}))
	return all.String()
}

// TestPodmanAptThroughProxy runs apt over HTTPS (deb.debian.org, a Debian
// image without ca-certificates) through the recording proxy on an internal
// network, then replays it offline. It checks that apt trusts the bundle only
// through the rewritten RUN's APT_CONFIG and still reads the image's own
// apt.conf.d. It needs network access to deb.debian.org and a Debian
// bookworm image (REEHUB_TEST_DEBIAN_IMAGE, localhost/debian_bookworm or
// localhost/reehub-trust-debian-test).
func TestPodmanAptThroughProxy(t *testing.T) {
	t.Parallel()
	env := setupPodman(t)
	image := ""
	for _, ref := range []string{os.Getenv("REEHUB_TEST_DEBIAN_IMAGE"), "localhost/debian_bookworm", "localhost/reehub-trust-debian-test"} {
		if ref != "" && exec.Command("podman", "image", "exists", ref).Run() == nil {
			image = ref
			break
		}
	}
	if image == "" {
		t.Skip("apt build skipped: no Debian bookworm image (set REEHUB_TEST_DEBIAN_IMAGE or import a debootstrap as localhost/debian_bookworm)")
	}
	if resp, err := http.Head("https://deb.debian.org/debian/dists/bookworm/InRelease"); err != nil {
		t.Skipf("apt build skipped: deb.debian.org unreachable: %v", err)
	} else {
		resp.Body.Close()
	}

	src := `FROM debian
RUN echo 'APT::Install-Recommends "false";' > /etc/apt/apt.conf.d/99reehub-test \
 && echo 'deb https://deb.debian.org/debian bookworm main' > /etc/apt/sources.list \
 && ! test -e /etc/ssl/certs/ca-certificates.crt
RUN apt-config dump | grep -q '^APT::Install-Recommends "false";' \
 && apt-config dump | grep -q '^Acquire::https::CaInfo "/run/reehub-ca.pem";' \
 && apt-get update && apt-get install -y hello && hello
`
	f, err := dockerfile.Parse([]byte(src))
	require.NoError(t, err)
	f.RewriteBases(map[string]string{"debian": image})
	rewritten := f.InjectTrust()

	dir := t.TempDir()
	run := func(mode proxy.Mode, tag string) proxy.Stats {
		ca, err := proxy.NewCA()
		require.NoError(t, err)
		var log bytes.Buffer
		p, err := proxy.Start(context.Background(), proxy.Config{
			Mode: mode, Dir: dir, Addr: net.JoinHostPort(env.gateway, "0"), CA: ca, Log: &log,
		})
		require.NoError(t, err)
		buildRun{
			env: env, dockerfile: rewritten, proxyAddr: p.Addr(), tag: tag,
			secrets: dockerfile.TrustFiles(ca.CertPEM(), hostRoots(t)),
		}.build(t)
		require.NoError(t, p.Close())
		t.Logf("%s proxy log:\n%s", mode, log.String())
		return p.Stats()
	}
	st := run(proxy.Record, "localhost/reehub-trust-apt-record:"+env.suffix)
	require.NotZero(t, st.Recorded)
	require.Zero(t, st.Errors)
	sum, err := proxy.Verify(dir)
	require.NoError(t, err)
	t.Logf("recorded %d responses, %d bytes", sum.Entries, sum.Bytes)

	st = run(proxy.Replay, "localhost/reehub-trust-apt-replay:"+env.suffix)
	require.Zero(t, st.Misses, "missed: %v", st.MissedURLs)
	require.Equal(t, st.Requests, st.Hits)
}
