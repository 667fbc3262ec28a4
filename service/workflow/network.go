package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"

	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/runtime/proxy"
	"github.com/reehub/reehub/service/reana"
)

// A step with `network: true` (reehub's extension to REANA's step keys)
// reaches the network only through reehub's recording proxy, as REE
// recordings do: its containers run on an internal Podman network of their
// own whose only way out is the proxy on the network's gateway. The first run
// records every response into the workspace, under
// .reehub/network/<step>/ (index.json and blobs/sha256/...); a later run of
// that step in a workspace that holds its recording (a restart, a re-run
// from the workflow's RO-Crate, which carries the workspace's files) replays
// it offline, and a request that is not in the recording fails, naming
// the URL. The recording is a workspace directory like any other: it can be
// downloaded, declared as an output, or uploaded into a new workflow's
// workspace to replay the step there.

// proxyHost is the name the step's containers reach the proxy by.
const proxyHost = "reehub-proxy"

// caPath is where the bundle of trusted CAs (the host's and the proxy's) is
// mounted in a step's containers.
const caPath = "/etc/reehub/ca-bundle.pem"

// NetworkDir is the workspace directory that holds the steps' recordings.
const NetworkDir = ".reehub/network"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// recordingDir is the recording of step in workspace dir.
func recordingDir(workspace, step string) string {
	return filepath.Join(workspace, filepath.FromSlash(NetworkDir), unsafeName.ReplaceAllString(step, "_"))
}

// stepNetwork is the network and proxy of one step's run.
type stepNetwork struct {
	name   string
	mode   proxy.Mode
	px     *proxy.Proxy
	env    map[string]string
	mounts []podman.Mount
	hosts  []string
}

// openNetwork creates the step's internal network and starts the proxy on
// its gateway: in replay mode when the workspace holds the step's
// recording, else recording into it. tmp holds the CA bundle; log receives
// one line per request.
func (s *Service) openNetwork(ctx context.Context, jobID string, pos int, step reana.Step, workspace, tmp string, log io.Writer) (*stepNetwork, error) {
	name := fmt.Sprintf("reehub-wf-%.8s-%d", jobID, pos)
	_ = s.rt.RemoveNetwork(ctx, name) // left by a killed attempt
	netw, err := s.rt.CreateNetwork(ctx, name, true, map[string]string{reana.LabelJob: jobID})
	if err != nil {
		return nil, fmt.Errorf("step %q: create its network: %w", step.Name, err)
	}
	n := &stepNetwork{name: name, mode: proxy.Record}
	fail := func(err error) (*stepNetwork, error) {
		_ = s.rt.RemoveNetwork(context.WithoutCancel(ctx), name)
		return nil, err
	}
	dir := recordingDir(workspace, step.Name)
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		n.mode = proxy.Replay
	} else if !errors.Is(err, os.ErrNotExist) {
		return fail(fmt.Errorf("step %q: its recording: %w", step.Name, err))
	}
	ca, err := proxy.NewCA()
	if err != nil {
		return fail(fmt.Errorf("step %q: proxy CA: %w", step.Name, err))
	}
	roots, err := os.ReadFile(s.cfg.HostRootsFile)
	if err != nil {
		return fail(fmt.Errorf("step %q: read host CA bundle %s: %w", step.Name, s.cfg.HostRootsFile, err))
	}
	bundle := filepath.Join(tmp, fmt.Sprintf("ca-%d.pem", pos))
	if err := os.WriteFile(bundle, append(append(roots, '\n'), ca.CertPEM()...), 0o644); err != nil {
		return fail(fmt.Errorf("step %q: write CA bundle: %w", step.Name, err))
	}
	n.px, err = proxy.Start(ctx, proxy.Config{
		Mode: n.mode, Dir: dir, Addr: net.JoinHostPort(netw.Gateway, "0"), CA: ca, Log: log, RootCAs: s.cfg.UpstreamRoots,
	})
	if err != nil {
		return fail(fmt.Errorf("step %q: start the %s proxy: %w", step.Name, n.mode, err))
	}
	_, port, _ := net.SplitHostPort(n.px.Addr())
	url := "http://" + proxyHost + ":" + port
	n.env = map[string]string{
		"http_proxy": url, "https_proxy": url, "HTTP_PROXY": url, "HTTPS_PROXY": url, "no_proxy": "", "NO_PROXY": "",
		"SSL_CERT_FILE": caPath, "REQUESTS_CA_BUNDLE": caPath, "CURL_CA_BUNDLE": caPath, "PIP_CERT": caPath,
		"NODE_EXTRA_CA_CERTS": caPath, "GIT_SSL_CAINFO": caPath,
	}
	n.mounts = []podman.Mount{{Source: bundle, Target: caPath, ReadOnly: true}}
	n.hosts = []string{proxyHost + ":" + netw.Gateway}
	return n, nil
}

// close stops the proxy (writing the recording's index) and removes the
// network; it returns what the proxy served.
func (n *stepNetwork) close(ctx context.Context, rt Runtime) (proxy.Stats, error) {
	err := n.px.Close()
	stats := n.px.Stats()
	if rerr := rt.RemoveNetwork(context.WithoutCancel(ctx), n.name); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return stats, err
}

// redacting writes through a Redactor (the proxy's request lines may carry
// a secret in a URL).
type redacting struct {
	w   io.Writer
	red *reana.Redactor
}

func (r redacting) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.red.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
