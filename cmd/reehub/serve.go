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
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/metrics"
	"github.com/reehub/reehub/runtime/baseimage"
	"github.com/reehub/reehub/runtime/podman"
	"github.com/reehub/reehub/server"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/ree"
)

// newLogger returns the server's logger at level, in format "json" (one
// object a line) or "text" (key=value, the default).
func newLogger(level, format string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// adminHandler serves the admin listener: the metrics, a health check
// (200 while running reports true, 503 otherwise) and net/http/pprof,
// without authentication; nothing else of reehub is there.
func adminHandler(m *metrics.Metrics, running func() bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !running() {
			http.Error(w, "stopping", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// serve wires configuration, store, runtime, services and HTTP server, and
// runs until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, stderr)
	if err != nil {
		return err
	}
	return runInstance(ctx, cfg, true, stderr)
}

// work is `reehub worker`: an instance that runs jobs and serves no API
// (only the admin listener, when --admin-addr is set).
func work(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig("worker", args, stderr)
	if err != nil {
		return err
	}
	return runInstance(ctx, cfg, false, stderr)
}

// runInstance runs one reehub instance until ctx ends: the API when withAPI
// is set, the job engine's workers unless cfg.Workers is 0.
func runInstance(ctx context.Context, cfg config, withAPI bool, stderr io.Writer) error {
	log := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	// Take the addresses before anything else: a taken port must not leave a
	// database, a one-time admin password or a started job engine behind.
	var ln net.Listener
	var err error
	if withAPI {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
		defer ln.Close()
	}
	var adminLn net.Listener
	if cfg.AdminAddr != "" {
		if adminLn, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			return fmt.Errorf("listen on the admin address %s: %w", cfg.AdminAddr, err)
		}
		defer adminLn.Close()
	}
	reg := metrics.New()
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
	stk, err := openStack(ctx, cfg, rt, log, reg, nil)
	if err != nil {
		return err
	}
	defer stk.close()
	if cfg.BuildBases {
		if err := loadSharedBases(ctx, rt, stk.ree, log); err != nil {
			return err
		}
		if err := ensureBases(ctx, rt, cfg.DataDir, stderr); err != nil {
			return err
		}
	}
	st, blobs, engine, procs, catalog, reeSvc := stk.store, stk.blobs, stk.engine, stk.procs, stk.catalog, stk.ree
	workflows, foss := stk.workflows, stk.foss
	if !withAPI {
		return runWorker(ctx, log, stk, reg, adminLn, rt.URI(), cfg.Host)
	}
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
		Auth: authSvc, Processes: procs, REE: reeSvc, Catalog: catalog, Workflows: workflows, Fossology: foss, Registry: stk.registry, Studio: stk.studio,
		PodmanVersion: rt.Version, PingDatabase: st.Ping, Usage: engine.Usage, Log: log, Metrics: reg,
	}, server.Config{
		Version: version, Database: string(st.Dialect()), MaxUploadBytes: cfg.MaxUploadBytes, UploadDir: blobs.TempDir(),
		MaxTokenDays:     cfg.TokenMaxDays,
		OpenRegistration: cfg.OpenRegistration, CORSOrigins: splitList(cfg.CORSOrigins),
	})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Info("reehub listening", "addr", "http://"+ln.Addr().String(), "docs", "http://"+ln.Addr().String()+"/docs", "database", st.Dialect(), "podman", rt.URI(),
		"host", cfg.Host, "workers", cfg.Workers)
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	var adminSrv *http.Server
	if adminLn != nil {
		adminSrv = &http.Server{Handler: adminHandler(reg, engine.Running), ReadHeaderTimeout: 10 * time.Second}
		log.Info("reehub admin listener (metrics, pprof; no authentication)", "addr", "http://"+adminLn.Addr().String(), "metrics", "http://"+adminLn.Addr().String()+"/metrics")
		go func() { errc <- adminSrv.Serve(adminLn) }()
	}
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
	if adminSrv != nil {
		if err := adminSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("admin http shutdown", "err", err)
		}
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

// loadSharedBases loads into Podman the catalogue base images it lacks of
// which some host saved an archive (`reehub base-images`, or a recording FROM
// it), so that a new worker host does not build them again with debootstrap.
func loadSharedBases(ctx context.Context, rt *podman.Runtime, reeSvc *ree.Service, log *slog.Logger) error {
	for _, d := range baseimage.Catalogue() {
		if d.OnDemand {
			continue
		}
		if _, err := rt.InspectImage(ctx, baseimage.Ref(d.Name)); !errors.Is(err, fault.ErrNotFound) {
			continue
		}
		shared, err := reeSvc.SharedBase(ctx, d.Name)
		if err != nil {
			return err
		}
		if !shared {
			continue
		}
		if err := reeSvc.FetchBase(ctx, d.Name); err != nil {
			return fmt.Errorf("base images: %w", err)
		}
		log.Info("base image loaded from the archive another host saved", "image", d.Name)
	}
	return nil
}

// buildBaseImages is `reehub base-images`: it builds the missing base
// images. With a shared database (Postgres: several hosts) it first loads the
// missing ones another host saved, and then saves the archive of each in the
// blob store for the other hosts.
func buildBaseImages(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig("base-images", args, stderr)
	if err != nil {
		return err
	}
	rt, err := podman.Connect(ctx, cfg.PodmanSocket)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" { // SQLite: one host, nothing to share
		if err := ensureBases(ctx, rt, cfg.DataDir, stderr); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "reehub: base images ready: %s\n", strings.Join(catalogueBuilt(), ", "))
		return nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	log := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	stk, err := openStack(ctx, cfg, rt, log, metrics.New(), nil)
	if err != nil {
		return err
	}
	defer stk.close()
	if err := loadSharedBases(ctx, rt, stk.ree, log); err != nil {
		return err
	}
	if err := ensureBases(ctx, rt, cfg.DataDir, stderr); err != nil {
		return err
	}
	names := catalogueBuilt()
	for _, name := range names {
		if err := stk.ree.ShareBase(ctx, name); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "reehub: base images ready and saved for other hosts: %s\n", strings.Join(names, ", "))
	return nil
}

// catalogueBuilt names the catalogue images built ahead of use (not the
// on-demand ones).
func catalogueBuilt() []string {
	var names []string
	for _, d := range baseimage.Catalogue() {
		if !d.OnDemand {
			names = append(names, d.Name)
		}
	}
	return names
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

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// runWorker runs the job engine of a worker instance (no API) and its admin
// listener, if any, until ctx ends, then stops the engine gracefully.
func runWorker(ctx context.Context, log *slog.Logger, stk *stack, reg *metrics.Metrics, adminLn net.Listener, podmanURI, host string) error {
	if err := stk.engine.Start(ctx); err != nil {
		return err
	}
	hooksCtx, stopHooks := context.WithCancel(ctx)
	defer stopHooks()
	go stk.foss.RunWebhooks(hooksCtx, time.Second)
	log.Info("reehub worker running", "host", host, "database", stk.store.Dialect(), "podman", podmanURI)
	errc := make(chan error, 1)
	var adminSrv *http.Server
	if adminLn != nil {
		adminSrv = &http.Server{Handler: adminHandler(reg, stk.engine.Running), ReadHeaderTimeout: 10 * time.Second}
		log.Info("reehub admin listener (health, metrics, pprof; no authentication)", "addr", "http://"+adminLn.Addr().String())
		go func() { errc <- adminSrv.Serve(adminLn) }()
	}
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("admin listener: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if adminSrv != nil {
		if serr := adminSrv.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			log.Warn("admin http shutdown", "err", serr)
		}
	}
	return errors.Join(err, stk.engine.Stop(shutdownCtx))
}
