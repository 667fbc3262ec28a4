package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/service/job"
)

// collectGarbage is `reehub gc`: one garbage collection (with retention
// when REEHUB_RETENTION or --retention is set) on the configured data
// directory and database, beside a running server or without one. It logs
// what it freed and prints the report as JSON on stdout.
func collectGarbage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("gc", args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	rt, err := podman.Connect(ctx, cfg.PodmanSocket)
	if err != nil {
		return err
	}
	// A periodic loop belongs to serve; this run is the one collection.
	cfg.GCInterval = 0
	// A server may be running beside: only what is older than the grace
	// period is left over.
	stk, err := openStack(ctx, cfg, rt, log, nil, &cfg.GCGrace)
	if err != nil {
		return err
	}
	defer stk.close()
	rep, err := stk.engine.GC(ctx, job.GCOpts{Grace: cfg.GCGrace, Retention: cfg.Retention})
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if jerr := enc.Encode(rep); jerr != nil && err == nil {
		err = jerr
	}
	return err
}
