package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/server"
	"github.com/reehub/reehub/service/auth"
)

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// serve wires configuration, store, runtime, services and HTTP server, and
// runs until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, stderr)
	// Take the address before anything else: a taken port must not leave a
	// database, a one-time admin password or a started job engine behind.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	if abs, err := filepath.Abs(cfg.DataDir); err == nil {
		log.Info("data directory", "path", abs)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	rt, err := podman.Connect(ctx, cfg.PodmanSocket)
	if err != nil {
		return err
	}
	if cfg.BuildBases {
		if err := ensureBases(ctx, rt, cfg.DataDir, stderr); err != nil {
			return err
		}
	}
	stk, err := openStack(ctx, cfg, rt, log, nil)
	if err != nil {
		return err
	}
	defer stk.close()
	st, blobs, engine, procs, catalog, reeSvc := stk.store, stk.blobs, stk.engine, stk.procs, stk.catalog, stk.ree
	workflows, foss := stk.workflows, stk.foss
	jwtKey, err := auth.LoadOrCreateKey(filepath.Join(cfg.DataDir, auth.JWTKeyFile))
	if err != nil {
		return err
	}
	authSvc := auth.New(st, log, auth.Config{OIDCIssuer: cfg.OIDCIssuer, OIDCAudience: cfg.OIDCAudience, JWTKey: jwtKey})
	generated, created, err := authSvc.EnsureAdmin(ctx, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if created && generated != "" {
		fmt.Fprintf(stderr, "reehub: created user admin with password %s (shown once; set REEHUB_ADMIN_PASSWORD to choose it)\n", generated)
	}
	if err := engine.Start(ctx); err != nil {
		return err
	}
	hooksCtx, stopHooks := context.WithCancel(ctx)
	defer stopHooks()
	go foss.RunWebhooks(hooksCtx, time.Second)
	handler, err := server.New(server.Deps{
		Auth: authSvc, Processes: procs, REE: reeSvc, Catalog: catalog, Workflows: workflows, Fossology: foss, Studio: stk.studio,
		PodmanVersion: rt.Version, PingDatabase: st.Ping, Usage: engine.Usage, Log: log,
	}, server.Config{
		Version: version, Database: string(st.Dialect()), MaxUploadBytes: cfg.MaxUploadBytes, UploadDir: blobs.TempDir(),
		MaxTokenDays: cfg.TokenMaxDays,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Info("reehub listening", "addr", "http://"+ln.Addr().String(), "docs", "http://"+ln.Addr().String()+"/docs", "database", st.Dialect(), "podman", rt.URI())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	return engine.Stop(shutdownCtx)
}

func ensureBases(ctx context.Context, rt *podman.Runtime, dataDir string, log io.Writer) error {
	opts := baseimage.EnsureOpts{WorkDir: filepath.Join(dataDir, "tmp"), Log: log}
	if err := baseimage.EnsureAll(ctx, rt, opts); err != nil {
		return fmt.Errorf("base images: %w", err)
	}
	return nil
}

// buildBaseImages is `reehub base-images`: it builds the missing base images.
func buildBaseImages(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig("base-images", args, stderr)
	if err != nil {
		return err
	}
	rt, err := podman.Connect(ctx, cfg.PodmanSocket)
	if err != nil {
		return err
	}
	if err := ensureBases(ctx, rt, cfg.DataDir, stderr); err != nil {
		return err
	}
	var names []string
	for _, d := range baseimage.Catalogue() {
		names = append(names, d.Name)
	}
	fmt.Fprintf(stderr, "reehub: base images ready: %s\n", strings.Join(names, ", "))
	return nil
}

// upstreamRoots returns the system roots plus the CAs in file, or nil (system
// roots only) when file is empty.
func upstreamRoots(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("upstream CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("upstream CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}
