package proxy

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// hopByHop lists the headers that belong to one connection, plus the proxy's
// own, which are never forwarded.
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// newUpstreamTLSConfig trusts roots (nil: the system roots) when recording.
func newUpstreamTLSConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

// serveOuter handles what arrives on the listening socket: CONNECT and
// absolute-form plain HTTP requests.
func (p *Proxy) serveOuter(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.handleConnect(w, r)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "reehub proxy: only absolute http:// requests and CONNECT are proxied", http.StatusBadRequest)
		return
	}
	p.handle(w, r, r.RequestURI, stripUserinfo(r.RequestURI))
}

// serveInner handles requests that arrive inside an intercepted TLS tunnel.
func (p *Proxy) serveInner(w http.ResponseWriter, r *http.Request) {
	authority, _ := r.Context().Value(authorityKey{}).(string)
	if authority == "" || !strings.HasPrefix(r.RequestURI, "/") {
		http.Error(w, "reehub proxy: unexpected request inside a tunnel", http.StatusBadRequest)
		return
	}
	u := "https://" + authority + r.RequestURI
	p.handle(w, r, u, u)
}

// handleConnect answers CONNECT by terminating TLS with a minted certificate
// and handing the connection to the inner server.
func (p *Proxy) handleConnect(w http.ResponseWriter, r *http.Request) {
	if p.cfg.CA == nil {
		http.Error(w, "reehub proxy: CONNECT is refused: HTTPS interception is not configured", http.StatusMethodNotAllowed)
		return
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || host == "" {
		http.Error(w, "reehub proxy: CONNECT needs host:port", http.StatusBadRequest)
		return
	}
	authority := r.Host
	if port == "443" {
		authority = host
		if strings.Contains(host, ":") {
			authority = "[" + host + "]"
		}
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "reehub proxy: cannot hijack the connection", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		p.logf("CONNECT %s: hijack: %v", r.Host, err)
		return
	}
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
		conn.Close()
		return
	}
	ca := p.cfg.CA
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hello.ServerName
			if name == "" {
				name = host
			}
			return ca.leaf(name)
		},
	}
	p.tunnels.push(tls.Server(&tunnelConn{Conn: conn, r: brw.Reader, authority: authority}, cfg))
}

// handle serves one proxied request. upstreamURL is what is fetched (it may
// carry user info); keyURL is the URL as sent, without user info.
func (p *Proxy) handle(w http.ResponseWriter, r *http.Request, upstreamURL, keyURL string) {
	p.handlers.Add(1)
	defer p.handlers.Done()
	accept := strings.Join(r.Header.Values("Accept"), ", ")
	key := requestKey(r.Method, keyURL, accept)

	p.mu.Lock()
	p.stats.Requests++
	e, ok := p.lookupLocked(key, r.Method, keyURL, accept)
	if ok {
		p.stats.Hits++
	} else if p.cfg.Mode == Replay {
		p.stats.Misses++
		p.missed[keyURL] = true
	}
	p.mu.Unlock()

	switch {
	case ok:
		n, err := p.serveEntry(w, r, e)
		if err != nil {
			p.logf("%s %s %d hit, serving failed after %dB: %v", r.Method, keyURL, e.Status, n, err)
			return
		}
		p.logf("%s %s %d hit %dB", r.Method, keyURL, e.Status, n)
	case p.cfg.Mode == Replay:
		p.logf("MISS %s %s", r.Method, keyURL)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "reehub replay: not recorded: %s %s\n", r.Method, keyURL)
	default:
		p.record(w, r, upstreamURL, keyURL, accept, key)
	}
}

// lookupLocked finds the entry for key; a HEAD request may be answered from
// the recorded GET of the same URL.
func (p *Proxy) lookupLocked(key, method, keyURL, accept string) (entry, bool) {
	if e, ok := p.entries[key]; ok {
		return e, true
	}
	if method == http.MethodHead {
		if e, ok := p.entries[requestKey(http.MethodGet, keyURL, accept)]; ok {
			return e, true
		}
	}
	return entry{}, false
}

// serveEntry answers from the recording: the recorded status and headers and
// the full body (no ranges, no conditional answers).
func (p *Proxy) serveEntry(w http.ResponseWriter, r *http.Request, e entry) (int64, error) {
	h := w.Header()
	for k, v := range e.Header {
		h[k] = append([]string(nil), v...)
	}
	if e.Method != http.MethodHead {
		h.Set("Content-Length", strconv.FormatInt(e.Size, 10))
	}
	if r.Method == http.MethodHead || !bodyAllowed(e.Status) {
		w.WriteHeader(e.Status)
		return 0, nil
	}
	f, err := os.Open(blobPath(p.cfg.Dir, e.SHA256))
	if err != nil {
		h.Del("Content-Length")
		http.Error(w, "reehub proxy: recorded body is unreadable", http.StatusInternalServerError)
		return 0, fmt.Errorf("open blob: %w", err)
	}
	defer f.Close()
	w.WriteHeader(e.Status)
	return io.Copy(w, f)
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199) && status != http.StatusNoContent && status != http.StatusNotModified
}

// record forwards the request upstream and streams the response to the client
// and, hashed, to a temporary blob that becomes the recording.
func (p *Proxy) record(w http.ResponseWriter, r *http.Request, upstreamURL, keyURL, accept, key string) {
	fail := func(status int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		p.mu.Lock()
		p.stats.Errors++
		p.mu.Unlock()
		p.logf("%s %s ERROR %s", r.Method, keyURL, msg)
		if status != 0 {
			http.Error(w, "reehub record: "+msg, status)
		}
	}
	var body io.Reader
	if r.ContentLength != 0 {
		body = r.Body
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, upstreamURL, body)
	if err != nil {
		fail(http.StatusBadRequest, "bad URL: %v", err)
		return
	}
	out.ContentLength = r.ContentLength
	copyRequestHeader(out.Header, r.Header)
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		fail(http.StatusBadGateway, "upstream: %v", err)
		return
	}
	defer resp.Body.Close()
	if resp.ContentLength > p.cfg.MaxBodyBytes {
		fail(http.StatusBadGateway, "response of %d bytes exceeds the limit of %d", resp.ContentLength, p.cfg.MaxBodyBytes)
		return
	}
	tmp, err := os.CreateTemp(filepath.Join(p.cfg.Dir, "blobs", "sha256"), ".partial-*")
	if err != nil {
		fail(http.StatusInternalServerError, "create blob: %v", err)
		return
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()

	header := filterHeader(resp.Header)
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	hash := sha256.New()
	var n int64
	if r.Method != http.MethodHead && bodyAllowed(resp.StatusCode) {
		n, err = copyBody(io.MultiWriter(tmp, hash), w, io.LimitReader(resp.Body, p.cfg.MaxBodyBytes+1))
		switch {
		case err != nil:
			fail(0, "streaming failed after %dB: %v", n, err)
			abort()
		case n > p.cfg.MaxBodyBytes:
			fail(0, "response exceeds the limit of %d bytes", p.cfg.MaxBodyBytes)
			abort()
		case resp.ContentLength >= 0 && n != resp.ContentLength:
			fail(0, "response has %d bytes, Content-Length says %d", n, resp.ContentLength)
			abort()
		}
	}
	if err := tmp.Close(); err != nil {
		fail(0, "write blob: %v", err)
		return
	}
	sum := hex.EncodeToString(hash.Sum(nil))
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		fail(0, "write blob: %v", err)
		return
	}
	if err := os.Rename(tmp.Name(), blobPath(p.cfg.Dir, sum)); err != nil {
		fail(0, "store blob: %v", err)
		return
	}
	e := entry{Key: key, Method: r.Method, URL: keyURL, Accept: accept, Status: resp.StatusCode, Header: header, SHA256: sum, Size: n}
	p.mu.Lock()
	_, dup := p.entries[key]
	if !dup {
		p.entries[key] = e
		p.stats.Recorded++
	}
	p.mu.Unlock()
	state := "recorded"
	if dup {
		state = "recorded-again (kept first)"
	}
	p.logf("%s %s %d %s %dB", r.Method, keyURL, resp.StatusCode, state, n)
}

// abort ends the handler so that net/http closes the client connection
// without finishing the response: a truncated chunked body must not look
// complete. http.ErrAbortHandler is net/http's documented way to do this and
// is recovered silently by the server.
func abort() {
	panic(http.ErrAbortHandler)
}

// copyBody copies src to store and to the client. A client that goes away
// stops the copy too (its request context cancels the upstream request).
func copyBody(store io.Writer, client http.ResponseWriter, src io.Reader) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		m, rerr := src.Read(buf)
		if m > 0 {
			if _, err := store.Write(buf[:m]); err != nil {
				return n, fmt.Errorf("store: %w", err)
			}
			if _, err := client.Write(buf[:m]); err != nil {
				return n, fmt.Errorf("client: %w", err)
			}
			n += int64(m)
		}
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			return n, fmt.Errorf("upstream: %w", rerr)
		}
	}
}

// copyRequestHeader copies what upstream should see: not the hop-by-hop
// headers, and not Range, conditional headers or Accept-Encoding, so that
// upstream always sends the full, unencoded-by-request body.
func copyRequestHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = append([]string(nil), v...)
	}
	for _, f := range strings.Split(strings.Join(src.Values("Connection"), ","), ",") {
		if f = strings.TrimSpace(f); f != "" {
			dst.Del(f)
		}
	}
	for _, h := range hopByHop {
		dst.Del(h)
	}
	for k := range dst {
		if strings.HasPrefix(k, "If-") {
			dst.Del(k)
		}
	}
	dst.Del("Range")
	dst.Del("Accept-Encoding")
}

// stripUserinfo removes "user:pass@" from an absolute URL without touching
// any other byte (escaping stays exactly as sent).
func stripUserinfo(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		return raw[:i+3] + rest[at+1:]
	}
	return raw
}

// authorityKey carries a tunnel's CONNECT authority into request contexts.
type authorityKey struct{}

// tunnelConn is a hijacked CONNECT connection: it reads what the server
// already buffered first and remembers the CONNECT authority.
type tunnelConn struct {
	net.Conn
	r         *bufio.Reader
	authority string
}

func (c *tunnelConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// tunnelContext is the inner server's ConnContext.
func tunnelContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		if t, ok := tc.NetConn().(*tunnelConn); ok {
			return context.WithValue(ctx, authorityKey{}, t.authority)
		}
	}
	return ctx
}

// connListener is a net.Listener fed with intercepted tunnel connections.
type connListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// push hands c to the inner server, or closes it when the proxy is closing.
func (l *connListener) push(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
