package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		var out, errOut bytes.Buffer
		require.NoError(t, run(context.Background(), args, &out, &errOut), args)
		require.Contains(t, out.String(), "commands:", args)
		require.Contains(t, out.String(), "-addr", "the server's flags are listed")
		require.Contains(t, out.String(), "REEHUB_DATA_DIR")
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"help", "serve"}, &out, &out))
	require.Contains(t, out.String(), "usage: reehub serve")
	for _, args := range [][]string{{"--version"}, {"version"}, {"-v"}} {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), args, &out, &out), args)
		require.Equal(t, "reehub "+version+"\n", out.String(), args)
	}
	require.ErrorContains(t, run(context.Background(), []string{"frobnicate"}, &out, &out), "unknown command")
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
		"--podman-socket", "unix:///nonexistent/podman.sock", "--build-base-images=false"}, &stderr, &stderr)
	require.ErrorContains(t, err, "listen on "+ln.Addr().String())
	_, statErr := os.Stat(data)
	require.True(t, os.IsNotExist(statErr), "nothing is created when the port is taken")
	require.False(t, strings.Contains(stderr.String(), "password"), stderr.String())
}
