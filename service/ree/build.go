package ree

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/metrics"
	"github.com/reehub/reehub/runtime/dockerfile"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/runtime/proxy"
)

// proxyHost is the name RUN steps reach the proxy by (an /etc/hosts entry).
const proxyHost = "reehub-proxy"

// nondeterministicFiles change on every build whatever its inputs (apt's
// binary caches, logs, ldconfig's cache); the last step of every recorded
// build removes them so that a replay can reproduce the image digest.
var nondeterministicFiles = []string{
	"/var/cache/apt/pkgcache.bin", "/var/cache/apt/srcpkgcache.bin",
	"/var/log/dpkg.log", "/var/log/alternatives.log", "/var/log/apt/history.log",
	"/var/log/apt/term.log", "/var/log/apt/eipp.log.xz", "/var/cache/ldconfig/aux-cache",
	"/var/cache/debconf/config.dat-old", "/var/cache/debconf/templates.dat-old",
	"/var/lib/dpkg/status-old", "/var/lib/dpkg/diversions-old",
	"/root/.cache/pip",
}

// nondeterministicCachesV3 are the tool caches that format v3 removes as
// well: they record when they were used (Go's build cache entries carry the
// time they were written and trim.txt the last trim; npm's cacache index has
// a "time" per entry; npm writes a log named by the time), and nothing in the
// image needs them. Home directories of other users are covered by the glob
// (the clean-up step is shell form).
var nondeterministicCachesV3 = []string{
	"/root/.cache/go-build", "/home/*/.cache/go-build",
	"/root/.npm/_cacache", "/root/.npm/_logs", "/root/.npm/_update-notifier-last-checked",
	"/home/*/.npm/_cacache", "/home/*/.npm/_logs", "/home/*/.npm/_update-notifier-last-checked",
	"/home/*/.cache/pip",
}

// buildSpec says which normalisations the build text carries: those of the
// defined-REE format it is recorded in (a replay builds the text of the
// recording's format, so older defined REEs still rebuild byte-identical
// text) and the recording's SOURCE_DATE_EPOCH.
type buildSpec struct {
	Format          string
	SourceDateEpoch int64
}

// buildText is the Dockerfile reehub builds: bases pinned to image IDs, CA
// trust injected into every RUN, and a final clean-up step. In format v3 every
// RUN also gets SOURCE_DATE_EPOCH (the recording's) and the clean-up removes
// the tool caches of nondeterministicCachesV3. It depends only on the user's
// Dockerfile, the base image IDs and spec, never on the CA or proxy address,
// so that recording and replay build byte-identical text.
func buildText(df *dockerfile.File, baseIDs map[string]string, spec buildSpec) (text []byte, digest string) {
	df.RewriteBases(baseIDs)
	clean := nondeterministicFiles
	var out []byte
	if spec.Format == manifestFormatV1 || spec.Format == manifestFormatV2 {
		out = df.InjectTrust()
	} else {
		out = df.InjectTrustEnv([]string{"SOURCE_DATE_EPOCH=" + strconv.FormatInt(spec.SourceDateEpoch, 10)})
		clean = append(append([]string(nil), clean...), nondeterministicCachesV3...)
	}
	var b strings.Builder
	b.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		b.WriteByte('\n')
	}
	user := lastUser(string(out))
	if user != "" {
		b.WriteString("USER root\n")
	}
	b.WriteString("RUN rm -rf " + strings.Join(clean, " ") + "\n")
	if user != "" {
		b.WriteString("USER " + user + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return []byte(b.String()), hex.EncodeToString(sum[:])
}

// lastUser returns the argument of the last USER instruction of the final stage.
func lastUser(text string) string {
	user := ""
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			user = ""
		case "USER":
			if len(f) > 1 {
				user = strings.Join(f[1:], " ")
			}
		}
	}
	return user
}

// buildRun is one Podman build behind the proxy on a private network.
type buildRun struct {
	ProcessID    string
	ContextDir   string
	Dockerfile   []byte
	Mode         proxy.Mode
	RecordingDir string
	Timestamp    time.Time
	Log          io.Writer
}

// buildResult is what a build produced.
type buildResult struct {
	ImageID string
	Stats   proxy.Stats
}

// runBuild creates the process's internal network, starts the proxy on its
// gateway, builds, and tears both down. The build can reach only the proxy.
func (s *Service) runBuild(ctx context.Context, b buildRun) (buildResult, error) {
	var res buildResult
	netw, err := s.rt.CreateNetwork(ctx, networkName(b.ProcessID), true, processLabels(b.ProcessID))
	if err != nil {
		return res, fmt.Errorf("create build network: %w", err)
	}
	defer func() {
		if err := s.rt.RemoveNetwork(context.WithoutCancel(ctx), netw.Name); err != nil {
			s.log.Warn("remove build network", "network", netw.Name, "err", err)
		}
	}()
	ca, err := proxy.NewCA()
	if err != nil {
		return res, fmt.Errorf("build CA: %w", err)
	}
	px, err := proxy.Start(ctx, proxy.Config{
		Mode: b.Mode, Dir: b.RecordingDir, Addr: net.JoinHostPort(netw.Gateway, "0"), CA: ca, Log: b.Log,
		RootCAs: s.cfg.UpstreamRoots,
	})
	if err != nil {
		return res, fmt.Errorf("start %s proxy: %w", b.Mode, err)
	}
	_, port, _ := net.SplitHostPort(px.Addr())
	proxyURL := "http://" + proxyHost + ":" + port
	roots, err := os.ReadFile(s.cfg.HostRootsFile)
	if err != nil {
		_ = px.Close()
		return res, fmt.Errorf("read host CA bundle %s: %w", s.cfg.HostRootsFile, err)
	}
	fmt.Fprintf(b.Log, "reehub: building on network %s; all traffic goes through the %s proxy\n", netw.Name, b.Mode)
	buildStart := time.Now()
	tag := imageName(b.ProcessID)
	id, buildErr := s.rt.Build(ctx, podman.BuildOpts{
		ContextDir:        b.ContextDir,
		DockerfileContent: b.Dockerfile,
		Tag:               tag,
		Marks:             processLabels(b.ProcessID),
		Network:           netw.Name,
		AddHosts:          []string{proxyHost + ":" + netw.Gateway},
		BuildArgs: map[string]string{
			"http_proxy": proxyURL, "https_proxy": proxyURL, "HTTP_PROXY": proxyURL, "HTTPS_PROXY": proxyURL,
			"no_proxy": "", "NO_PROXY": "",
		},
		Secrets:      dockerfile.TrustFiles(ca.CertPEM(), roots),
		Timestamp:    &b.Timestamp,
		NoCache:      true,
		Squash:       true,
		UTSNamespace: s.cfg.BuildUTSNamespace,
		Log:          b.Log,
	})
	closeErr := px.Close()
	res.Stats = px.Stats()
	if ctx.Err() == nil {
		s.cfg.Metrics.Build(b.Mode.String(), buildErr == nil && closeErr == nil, time.Since(buildStart), metrics.ProxyStats{
			Recorded: res.Stats.Recorded, Replayed: res.Stats.Hits, Missed: res.Stats.Misses, Failed: res.Stats.Errors,
		})
	}
	fmt.Fprintf(b.Log, "reehub: proxy served %d requests (%d recorded, %d replayed, %d not in the recording)\n",
		res.Stats.Requests, res.Stats.Recorded, res.Stats.Hits, res.Stats.Misses)
	if buildErr != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if errors.Is(buildErr, fault.ErrUnavailable) {
			return res, buildErr
		}
		msg := fmt.Sprintf("the build failed: %v", buildErr)
		if len(res.Stats.MissedURLs) > 0 {
			msg += fmt.Sprintf("; requests not in the recording: %s", strings.Join(res.Stats.MissedURLs, ", "))
		}
		return res, fault.New(fault.ErrInvalid, msg)
	}
	if closeErr != nil {
		return res, fmt.Errorf("close proxy: %w", closeErr)
	}
	if b.Mode == proxy.Record && res.Stats.Errors > 0 {
		return res, fault.Invalidf("%d downloads of the build failed or were cut off while recording (see the log); the recording would be incomplete", res.Stats.Errors)
	}
	res.ImageID = id
	return res, nil
}
