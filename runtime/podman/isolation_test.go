package podman_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/runtime/proxy"
)

// TestBuildsCannotReachOtherBuildsProxies runs a build on one internal
// network while the proxy of another build listens on that other network's
// gateway: the build reaches its own proxy and not the other one, and nothing
// outside.
func TestBuildsCannotReachOtherBuildsProxies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(rec, "index.json"), []byte(`{"version":1,"entries":[]}`), 0o644))

	start := func(tag string) (podman.Network, string) {
		name := fmt.Sprintf("reehub-test-iso-%s-%d", tag, time.Now().UnixNano()%1000000)
		nw, err := b.rt.CreateNetwork(b.ctx, name, true, nil)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, b.rt.RemoveNetwork(context.Background(), name)) })
		px, err := proxy.Start(b.ctx, proxy.Config{Mode: proxy.Replay, Dir: rec, Addr: net.JoinHostPort(nw.Gateway, "0")})
		require.NoError(t, err)
		t.Cleanup(func() { _ = px.Close() })
		return nw, px.Addr()
	}
	own, ownAddr := start("a")
	_, otherAddr := start("b")

	probe := func(label, addr string) string {
		return fmt.Sprintf("if timeout 5 wget -O /dev/null http://%s/probe 2>&1 | grep -q 'HTTP/1.1'; then echo %s=reached; else echo %s=blocked; fi; ", addr, label, label)
	}
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + testBase + "\nRUN " +
		probe("OWN", ownAddr) + probe("OTHER", otherAddr) + probe("OUTSIDE", "deb.debian.org:80") + "true\n"})
	var log bytes.Buffer
	id, err := b.rt.Build(b.ctx, podman.BuildOpts{ContextDir: dir, Network: own.Name, NoCache: true, Log: &log})
	require.NoError(t, err, log.String())
	t.Cleanup(func() { _ = b.rt.RemoveImage(context.Background(), id) })
	require.Contains(t, log.String(), "OWN=reached", "a build reaches its own proxy")
	require.Contains(t, log.String(), "OTHER=blocked", "a build cannot reach another build's proxy")
	require.Contains(t, log.String(), "OUTSIDE=blocked", "a build has no route out")
}
