package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/cmd/reehub/internal/cli"
)

func TestHelpAndVersion(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		var out, errOut bytes.Buffer
		require.NoError(t, run(ctx, args, stdio{out: &out, err: &errOut}), args)
		for _, want := range []string{"Server commands", "serve", "record", "login", "workflows", "uploads", "completion"} {
			require.Contains(t, out.String(), want, args)
		}
	}
	for _, args := range [][]string{{"help", "serve"}, {"serve", "--help"}} {
		var out bytes.Buffer
		err := run(ctx, args, stdio{out: &out, err: &out})
		require.True(t, err == nil || errors.Is(err, flag.ErrHelp), "%v", err)
		require.Contains(t, out.String(), "usage: reehub serve", args)
		require.Contains(t, out.String(), "-addr", "the server's flags are listed")
		require.Contains(t, out.String(), "REEHUB_DATA_DIR")
	}
	for _, args := range [][]string{{"--version"}, {"version"}, {"-v"}} {
		var out bytes.Buffer
		require.NoError(t, run(ctx, args, stdio{out: &out, err: &out}), args)
		require.Equal(t, "reehub "+version+"\n", out.String(), args)
	}
	var out bytes.Buffer
	err := run(ctx, []string{"frobnicate"}, stdio{out: &out, err: &out})
	require.ErrorContains(t, err, "unknown command")
	require.Equal(t, cli.ExitUsage, cli.ExitCode(err))
	err = run(ctx, []string{"serve", "--no-such-flag"}, stdio{out: &out, err: &out})
	require.Equal(t, cli.ExitUsage, cli.ExitCode(err), "%v", err)
}

func TestDefaultToServe(t *testing.T) {
	root := newRoot(context.Background(), stdio{out: io.Discard, err: io.Discard})
	tests := []struct{ in, want []string }{
		{nil, []string{"serve"}},
		{[]string{"--addr", ":5000"}, []string{"serve", "--addr", ":5000"}},
		{[]string{"--output", "json", "ps"}, []string{"--output", "json", "ps"}},
		{[]string{"--help"}, []string{"--help"}},
		{[]string{"record", "dir"}, []string{"record", "dir"}},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, defaultToServe(root, tc.in), tc.in)
	}
}

// TestServeListensFirst: a taken address fails before the data directory, the
// database or an admin password exist.
func TestServeListensFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	t.Setenv("REEHUB_ADMIN_PASSWORD", "")
	var stderr bytes.Buffer
	err = run(context.Background(), []string{"serve", "--addr", ln.Addr().String(), "--data-dir", data,
		"--podman-socket", "unix:///nonexistent/podman.sock", "--build-base-images=false"}, stdio{out: &stderr, err: &stderr})
	require.ErrorContains(t, err, "listen on "+ln.Addr().String())
	_, statErr := os.Stat(data)
	require.True(t, os.IsNotExist(statErr), "nothing is created when the port is taken")
	require.False(t, strings.Contains(stderr.String(), "password"), stderr.String())
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "30d", want: 30 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "0", want: 0},
		{in: "d", wantErr: true},
		{in: "-1h", wantErr: true},
		{in: "3 days", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDuration(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseDuration(%q) = %s, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseDuration(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestQueuesFlag: --queues names the queues a worker takes jobs from; an
// unknown queue is a usage error naming the real ones.
func TestQueuesFlag(t *testing.T) {
	cfg, err := parseConfig("worker", []string{"--queues", "scans, workflows"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"scans", "workflows"}, cfg.Queues)
	_, err = parseConfig("worker", []string{"--queues", "scans,gpu"}, io.Discard)
	require.ErrorContains(t, err, `no queue "gpu" (queues: appliances, builds, deployments, scans, workflows)`)
}

// TestPollIntervalFlag: --poll-interval sets how often the scans queue is
// polled (250ms by default); what is not a duration of at least 50ms is a
// usage error.
func TestPollIntervalFlag(t *testing.T) {
	t.Setenv("REEHUB_POLL_INTERVAL", "")
	cfg, err := parseConfig("serve", nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 250*time.Millisecond, cfg.PollInterval)
	cfg, err = parseConfig("serve", []string{"--poll-interval", "100ms"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 100*time.Millisecond, cfg.PollInterval)
	for _, bad := range []string{"abc", "10ms", "-1s"} {
		_, err = parseConfig("serve", []string{"--poll-interval", bad}, io.Discard)
		require.ErrorContains(t, err, "at least 50ms", bad)
	}
}
