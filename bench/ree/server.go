package main

import (
	"context"
	"io"

	"github.com/reehub/reehub/bench/internal/benchserver"
)

// reehub is a server of bench/internal/benchserver (shared with the other
// benches), with this bench's own requests as methods.
type reehub struct {
	*benchserver.Server
}

// serverOpts configures a server.
type serverOpts = benchserver.Opts

// startServer starts a reehub server for the bench.
func startServer(ctx context.Context, o serverOpts) (*reehub, error) {
	s, err := benchserver.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	return &reehub{Server: s}, nil
}

// readAll drains and closes a response body.
func readAll(rc io.ReadCloser) ([]byte, error) {
	defer rc.Close()
	return io.ReadAll(rc)
}
