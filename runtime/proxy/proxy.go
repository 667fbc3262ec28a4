// Package proxy is reehub's record/replay forward proxy.
//
// During a recording build every HTTP request and every HTTPS request (CONNECT,
// terminated with leaf certificates minted from a per-build CA) goes through the
// proxy, which forwards it upstream and stores the response content-addressed in
// a recording directory:
//
//	DIR/index.json              entries sorted by key (method, URL, Accept)
//	DIR/blobs/sha256/<hex>      response bodies exactly as the server sent them
//
// During a replay build the proxy never goes upstream: it answers recorded
// requests from the directory and everything else with 404, counting each miss
// so that the caller can fail the build even when the tool ignored the 404.
package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reehub/reehub/fault"
)

// Mode selects what the proxy does with a request.
type Mode int

const (
	// Record forwards every request upstream and stores the response.
	Record Mode = iota
	// Replay answers only from the recording and never goes upstream.
	Replay
)

// String returns "record" or "replay".
func (m Mode) String() string {
	switch m {
	case Record:
		return "record"
	case Replay:
		return "replay"
	default:
		return fmt.Sprintf("mode(%d)", int(m))
	}
}

// defaultMaxBodyBytes is the per-response cap when Config.MaxBodyBytes is 0.
const defaultMaxBodyBytes = 4 << 30

// shutdownGrace is how long Close waits for in-flight requests before it
// closes their connections.
const shutdownGrace = 30 * time.Second

// Config configures a proxy.
type Config struct {
	// Mode is Record or Replay.
	Mode Mode
	// Dir is the recording directory (Dir/index.json, Dir/blobs/sha256/<hex>).
	// Record mode creates it and starts an empty recording (an existing index
	// is replaced on Close); replay mode requires its index.
	Dir string
	// Addr is the "host:port" to listen on; port 0 picks a free port. The host
	// may be an address not yet on any interface (a podman bridge gateway
	// appears only when a container attaches): the socket is bound with
	// IP_FREEBIND.
	Addr string
	// CA mints the certificates for intercepted HTTPS. Without it, CONNECT
	// requests are refused with 405.
	CA *CA
	// Log receives one line per request; nil discards them.
	Log io.Writer
	// RootCAs is the upstream trust when recording; nil means the system roots.
	RootCAs *x509.CertPool
	// MaxBodyBytes caps each recorded response body; 0 means 4 GiB. A larger
	// response is not recorded and the client's connection is aborted.
	MaxBodyBytes int64
}

// Stats counts what a proxy has served so far.
type Stats struct {
	// Requests is the number of proxied requests (CONNECT tunnels excluded).
	Requests int
	// Hits is the number of requests answered from the recording.
	Hits int
	// Recorded is the number of responses stored (record mode).
	Recorded int
	// Misses is the number of requests the recording could not answer
	// (replay mode).
	Misses int
	// Errors is the number of requests that failed upstream or while
	// streaming (record mode); such responses are not recorded.
	Errors int
	// MissedURLs lists the missed URLs, sorted and unique.
	MissedURLs []string
}

// Proxy is a running record/replay proxy.
type Proxy struct {
	cfg       Config
	ln        net.Listener
	outer     *http.Server
	inner     *http.Server
	tunnels   *connListener
	transport *http.Transport
	serveErr  chan error

	handlers sync.WaitGroup

	mu       sync.Mutex
	entries  map[string]entry
	stats    Stats
	missed   map[string]bool
	closed   bool
	closeErr error
}

// Start validates cfg, binds the listener and starts serving. ctx bounds the
// setup only; the proxy runs until Close.
func Start(ctx context.Context, cfg Config) (*Proxy, error) {
	if cfg.Dir == "" {
		return nil, fault.Invalidf("proxy: recording directory is required")
	}
	if cfg.Mode != Record && cfg.Mode != Replay {
		return nil, fault.Invalidf("proxy: unknown mode %d", int(cfg.Mode))
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = defaultMaxBodyBytes
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	p := &Proxy{cfg: cfg, entries: map[string]entry{}, missed: map[string]bool{}, serveErr: make(chan error, 2)}
	switch cfg.Mode {
	case Record:
		if err := os.MkdirAll(filepath.Join(cfg.Dir, "blobs", "sha256"), 0o755); err != nil {
			return nil, fmt.Errorf("create recording directory: %w", err)
		}
		p.transport = &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			DisableCompression:    true,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 5 * time.Minute,
		}
		p.transport.TLSClientConfig = newUpstreamTLSConfig(cfg.RootCAs)
	case Replay:
		entries, _, err := readIndex(cfg.Dir)
		if err != nil {
			return nil, err
		}
		p.entries = entries
	}
	ln, err := listenFreebind(ctx, cfg.Addr)
	if err != nil {
		return nil, err
	}
	p.ln = ln
	p.tunnels = newConnListener(ln.Addr())
	p.outer = &http.Server{Handler: http.HandlerFunc(p.serveOuter), ReadHeaderTimeout: time.Minute}
	p.inner = &http.Server{
		Handler:           http.HandlerFunc(p.serveInner),
		ReadHeaderTimeout: time.Minute,
		ConnContext:       tunnelContext,
		// An empty map disables HTTP/2 on intercepted connections.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	go func() { p.serveErr <- p.outer.Serve(ln) }()
	go func() { p.serveErr <- p.inner.Serve(p.tunnels) }()
	return p, nil
}

// listenFreebind listens on addr with IP_FREEBIND (IPV6_FREEBIND for IPv6),
// so that the address need not exist yet.
func listenFreebind(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(network, _ string, c syscall.RawConn) error {
		var sockErr error
		err := c.Control(func(fd uintptr) {
			if network == "tcp6" {
				sockErr = unix.SetsockoptInt(int(fd), unix.SOL_IPV6, unix.IPV6_FREEBIND, 1)
			} else {
				sockErr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1)
			}
		})
		if err != nil {
			return err
		}
		return sockErr
	}}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("proxy listen %s: %w", addr, err)
	}
	return ln, nil
}

// Addr returns the address the proxy listens on, as "host:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.MissedURLs = make([]string, 0, len(p.missed))
	for u := range p.missed {
		s.MissedURLs = append(s.MissedURLs, u)
	}
	sort.Strings(s.MissedURLs)
	return s
}

// Close stops accepting requests, waits for in-flight requests (closing
// their connections after 30 seconds) and, in record mode, writes
// index.json atomically with entries sorted by key. Calling it again returns
// the first result.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		err := p.closeErr
		p.mu.Unlock()
		return err
	}
	p.closed = true
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var errs []error
	if err := p.outer.Shutdown(ctx); err != nil {
		errs = append(errs, p.outer.Close())
	}
	if err := p.inner.Shutdown(ctx); err != nil {
		errs = append(errs, p.inner.Close())
	}
	p.handlers.Wait()
	for range 2 {
		if err := <-p.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("proxy serve: %w", err))
		}
	}
	if p.transport != nil {
		p.transport.CloseIdleConnections()
	}
	if p.cfg.Mode == Record {
		p.mu.Lock()
		entries := make(map[string]entry, len(p.entries))
		for k, e := range p.entries {
			entries[k] = e
		}
		p.mu.Unlock()
		errs = append(errs, writeIndex(p.cfg.Dir, entries))
	}
	err := errors.Join(errs...)
	p.mu.Lock()
	p.closeErr = err
	p.mu.Unlock()
	return err
}

func (p *Proxy) logf(format string, args ...any) {
	fmt.Fprintf(p.cfg.Log, "proxy: "+format+"\n", args...)
}
