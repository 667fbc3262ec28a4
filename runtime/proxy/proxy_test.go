package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
)

// upstream is a real HTTP or HTTPS origin server for the proxy to record.
type upstream struct {
	srv   *httptest.Server
	hits  atomic.Int64
	mu    sync.Mutex
	seen  []http.Header // request headers of /headers
	roots *x509.CertPool
}

// genReader yields n deterministic pseudo-random bytes (xorshift).
type genReader struct {
	state uint64
	left  int64
}

func (g *genReader) Read(b []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > g.left {
		b = b[:g.left]
	}
	for i := range b {
		g.state ^= g.state << 13
		g.state ^= g.state >> 7
		g.state ^= g.state << 17
		b[i] = byte(g.state)
	}
	g.left -= int64(len(b))
	return len(b), nil
}

const bigSize = 200 << 20

func newUpstream(t *testing.T, useTLS bool) *upstream {
	t.Helper()
	u := &upstream{}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("ETag", `"e1"`)
		w.Header().Set("Set-Cookie", "session=secret")
		w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
		fmt.Fprintf(w, "body of %s %s", r.Method, r.URL.EscapedPath())
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		http.Error(w, "no such thing", http.StatusNotFound)
	})
	mux.HandleFunc("/accept", func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		w.Header().Set("Vary", "Accept")
		fmt.Fprintf(w, "accept=%s", r.Header.Get("Accept"))
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.mu.Lock()
		u.seen = append(u.seen, r.Header.Clone())
		u.mu.Unlock()
		// A server that would honour Range if it saw one.
		http.ServeContent(w, r, "f.txt", time.Unix(1_700_000_000, 0), strings.NewReader("0123456789abcdefghij"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		w.Header().Set("Content-Length", fmt.Sprint(bigSize))
		_, _ = io.Copy(w, &genReader{state: 42, left: bigSize})
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		for i := range 3 {
			fmt.Fprintf(w, "part%d;", i)
			w.(http.Flusher).Flush()
		}
	})
	if useTLS {
		u.srv = httptest.NewTLSServer(mux)
		u.roots = x509.NewCertPool()
		u.roots.AddCert(u.srv.Certificate())
	} else {
		u.srv = httptest.NewServer(mux)
	}
	t.Cleanup(u.srv.Close)
	return u
}

type bundle struct {
	ca  *CA
	dir string
	log *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func setup(t *testing.T) bundle {
	t.Helper()
	ca, err := NewCA()
	require.NoError(t, err)
	return bundle{ca: ca, dir: t.TempDir(), log: &syncBuffer{}}
}

func (b bundle) start(t *testing.T, mode Mode, roots *x509.CertPool) *Proxy {
	t.Helper()
	p, err := Start(context.Background(), Config{Mode: mode, Dir: b.dir, Addr: "127.0.0.1:0", CA: b.ca, Log: b.log, RootCAs: roots})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// client returns an HTTP client that uses p and trusts ca (and nothing else).
func client(t *testing.T, p *Proxy, ca *CA) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca.CertPEM()))
	tr := &http.Transport{
		Proxy:              http.ProxyURL(&url.URL{Scheme: "http", Host: p.Addr()}),
		DisableCompression: true,
	}
	tr.TLSClientConfig = newUpstreamTLSConfig(pool)
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type fetched struct {
	status int
	body   string
	header http.Header
}

func fetch(t *testing.T, c *http.Client, method, u string, hdr map[string]string) fetched {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return fetched{status: resp.StatusCode, body: string(body), header: resp.Header}
}

func TestRecordThenReplay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tls  bool
	}{
		{name: "http", tls: false},
		{name: "https", tls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			up := newUpstream(t, tt.tls)
			base := up.srv.URL

			type req struct {
				method, path string
				hdr          map[string]string
			}
			reqs := []req{
				{method: "GET", path: "/pool/main/p/python3/libpython3_3.11%2bdeb12.deb"},
				{method: "GET", path: "/a?x=1&y=%7e"},
				{method: "GET", path: "/missing"},
				{method: "HEAD", path: "/head-only"},
				{method: "GET", path: "/accept", hdr: map[string]string{"Accept": "application/vnd.npm.install-v1+json"}},
				{method: "GET", path: "/accept", hdr: map[string]string{"Accept": "application/json"}},
				{method: "GET", path: "/chunked"},
			}

			rec := b.start(t, Record, up.roots)
			c := client(t, rec, b.ca)
			want := map[int]fetched{}
			for i, r := range reqs {
				want[i] = fetch(t, c, r.method, base+r.path, r.hdr)
			}
			require.Equal(t, 404, want[2].status)
			require.Equal(t, "accept=application/vnd.npm.install-v1+json", want[4].body)
			require.Equal(t, "accept=application/json", want[5].body)
			require.Equal(t, "part0;part1;part2;", want[6].body)
			require.Equal(t, "body of GET /pool/main/p/python3/libpython3_3.11%2bdeb12.deb", want[0].body)
			require.Empty(t, want[0].header.Get("Set-Cookie"), "recording answers carry only stored headers")
			require.NoError(t, rec.Close())
			st := rec.Stats()
			require.Equal(t, len(reqs), st.Requests)
			require.Equal(t, len(reqs), st.Recorded)
			require.Zero(t, st.Errors)

			sum, err := Verify(b.dir)
			require.NoError(t, err)
			require.Equal(t, len(reqs), sum.Entries)
			index, err := os.ReadFile(filepath.Join(b.dir, "index.json"))
			require.NoError(t, err)
			require.NotContains(t, string(index), "session=secret")
			require.Contains(t, string(index), "%2bdeb12", "URL escaping is kept as sent")

			up.srv.Close()
			hitsBefore := up.hits.Load()

			// Replay with a different CA: the recording does not depend on it.
			b.ca, err = NewCA()
			require.NoError(t, err)
			rep := b.start(t, Replay, nil)
			c = client(t, rep, b.ca)
			for i, r := range reqs {
				got := fetch(t, c, r.method, base+r.path, r.hdr)
				require.Equal(t, want[i].status, got.status, r.path)
				require.Equal(t, want[i].body, got.body, r.path)
				require.Equal(t, want[i].header.Get("Content-Type"), got.header.Get("Content-Type"), r.path)
				require.Equal(t, want[i].header.Get("ETag"), got.header.Get("ETag"), r.path)
			}
			// A Range request replays the full body.
			got := fetch(t, c, "GET", base+"/a?x=1&y=%7e", map[string]string{"Range": "bytes=0-3"})
			require.Equal(t, 200, got.status)
			require.Equal(t, want[1].body, got.body)
			// HEAD of a recorded GET answers from the GET.
			got = fetch(t, c, "HEAD", base+"/missing", nil)
			require.Equal(t, 404, got.status)

			miss := base + "/not/recorded"
			got = fetch(t, c, "GET", miss, nil)
			require.Equal(t, 404, got.status)
			require.Equal(t, "reehub replay: not recorded: GET "+miss+"\n", got.body)
			// Differently escaped URL is a different key.
			got = fetch(t, c, "GET", base+"/a?x=1&y=~", nil)
			require.Equal(t, 404, got.status)
			got = fetch(t, c, "GET", miss, nil)
			require.Equal(t, 404, got.status)

			require.NoError(t, rep.Close())
			st = rep.Stats()
			require.Equal(t, 3, st.Misses)
			require.Equal(t, []string{base + "/a?x=1&y=~", miss}, st.MissedURLs)
			require.Equal(t, len(reqs)+2, st.Hits)
			require.Equal(t, hitsBefore, up.hits.Load(), "replay never goes upstream")
			require.Contains(t, b.log.String(), "proxy: MISS GET "+miss)
		})
	}
}

func TestRecordStripsHeadersAndCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tls  bool
	}{
		{name: "http", tls: false},
		{name: "https", tls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			up := newUpstream(t, tt.tls)
			p := b.start(t, Record, up.roots)
			c := client(t, p, b.ca)
			u := up.srv.URL + "/headers"
			if !tt.tls {
				u = strings.Replace(u, "http://", "http://alice:s3cret@", 1)
			}
			got := fetch(t, c, "GET", u, map[string]string{
				"Range":           "bytes=2-5",
				"If-None-Match":   `"x"`,
				"Accept-Encoding": "gzip",
				"Authorization":   "Bearer tok",
				"Cookie":          "c=1",
			})
			require.Equal(t, 200, got.status, "Range was stripped, so the full body comes back")
			require.Equal(t, "0123456789abcdefghij", got.body)
			require.NoError(t, p.Close())

			require.Len(t, up.seen, 1)
			seen := up.seen[0]
			require.Empty(t, seen.Get("Range"))
			require.Empty(t, seen.Get("If-None-Match"))
			require.Empty(t, seen.Get("Accept-Encoding"))
			if !tt.tls {
				require.NotEmpty(t, seen.Get("Authorization"), "user info is still sent upstream")
			}
			index, err := os.ReadFile(filepath.Join(b.dir, "index.json"))
			require.NoError(t, err)
			for _, secret := range []string{"s3cret", "alice", "tok", "c=1"} {
				require.NotContains(t, string(index), secret)
			}
			require.Contains(t, string(index), `"url": "`+up.srv.URL+`/headers"`)
		})
	}
}

func TestRecordSameURLOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	up := newUpstream(t, true)
	p := b.start(t, Record, up.roots)
	c := client(t, p, b.ca)
	first := fetch(t, c, "GET", up.srv.URL+"/twice", nil)
	second := fetch(t, c, "GET", up.srv.URL+"/twice", nil)
	require.Equal(t, first.body, second.body)
	require.NoError(t, p.Close())
	require.EqualValues(t, 1, up.hits.Load())
	st := p.Stats()
	require.Equal(t, 1, st.Recorded)
	require.Equal(t, 1, st.Hits)
	sum, err := Verify(b.dir)
	require.NoError(t, err)
	require.Equal(t, 1, sum.Entries)
}

func TestRecordingIsDeterministic(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, true)
	var indexes [2][]byte
	for i := range indexes {
		b := setup(t)
		p := b.start(t, Record, up.roots)
		c := client(t, p, b.ca)
		var wg sync.WaitGroup
		for _, path := range []string{"/c", "/a", "/b", "/missing", "/chunked"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("GET", up.srv.URL+path, nil)
				resp, err := c.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
		require.NoError(t, p.Close())
		var err error
		indexes[i], err = os.ReadFile(filepath.Join(b.dir, "index.json"))
		require.NoError(t, err)
	}
	require.Equal(t, string(indexes[0]), string(indexes[1]))
}

func TestReplayConcurrent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	up := newUpstream(t, true)
	rec := b.start(t, Record, up.roots)
	c := client(t, rec, b.ca)
	for i := range 10 {
		fetch(t, c, "GET", fmt.Sprintf("%s/f/%d", up.srv.URL, i), nil)
	}
	require.NoError(t, rec.Close())

	rep := b.start(t, Replay, nil)
	c = client(t, rep, b.ca)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				path := fmt.Sprintf("/f/%d", i)
				if g%5 == 0 {
					path = fmt.Sprintf("/nope/%d", i)
				}
				resp, err := c.Get(up.srv.URL + path)
				if err != nil {
					errs <- err
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					errs <- err
					continue
				}
				if g%5 != 0 && string(body) != "body of GET "+path {
					errs <- fmt.Errorf("%s: got %q", path, body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, rep.Close())
	st := rep.Stats()
	require.Equal(t, 200, st.Requests)
	require.Equal(t, 160, st.Hits)
	require.Equal(t, 40, st.Misses)
	require.Len(t, st.MissedURLs, 10)
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	record := func(t *testing.T) (string, map[string]entry) {
		b := setup(t)
		p := b.start(t, Record, nil)
		c := client(t, p, b.ca)
		fetch(t, c, "GET", up.srv.URL+"/one", nil)
		fetch(t, c, "GET", up.srv.URL+"/two", nil)
		require.NoError(t, p.Close())
		entries, _, err := readIndex(b.dir)
		require.NoError(t, err)
		_, err = Verify(b.dir)
		require.NoError(t, err)
		return b.dir, entries
	}
	blobOf := func(dir string, entries map[string]entry, path string) string {
		return blobPath(dir, entries[requestKey("GET", up.srv.URL+path, "")].SHA256)
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T, dir string, entries map[string]entry)
		wantMsg string
	}{
		{
			name: "altered blob",
			tamper: func(t *testing.T, dir string, entries map[string]entry) {
				p := blobOf(dir, entries, "/two")
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				data[0] ^= 1
				require.NoError(t, os.WriteFile(p, data, 0o644))
			},
			wantMsg: "/two has sha256",
		},
		{
			name: "missing blob",
			tamper: func(t *testing.T, dir string, entries map[string]entry) {
				require.NoError(t, os.Remove(blobOf(dir, entries, "/one")))
			},
			wantMsg: "/one is missing",
		},
		{
			name: "truncated blob",
			tamper: func(t *testing.T, dir string, entries map[string]entry) {
				require.NoError(t, os.Truncate(blobOf(dir, entries, "/one"), 3))
			},
			wantMsg: "/one has 3 bytes",
		},
		{
			name: "index edited to another digest",
			tamper: func(t *testing.T, dir string, entries map[string]entry) {
				replaceInIndex(t, dir, entries[requestKey("GET", up.srv.URL+"/one", "")].SHA256, strings.Repeat("ab", 32))
			},
			wantMsg: "/one is missing",
		},
		{
			name: "index edited size",
			tamper: func(t *testing.T, dir string, entries map[string]entry) {
				replaceInIndex(t, dir, `"size": 16`, `"size": 17`)
			},
			wantMsg: "index says 17",
		},
		{
			name: "index edited url",
			tamper: func(t *testing.T, dir string, entries map[string]entry) {
				replaceInIndex(t, dir, `"url": "`+up.srv.URL+`/one"`, `"url": "`+up.srv.URL+`/eno"`)
			},
			wantMsg: "does not match",
		},
		{
			name: "index path traversal",
			tamper: func(t *testing.T, dir string, entries map[string]entry) {
				replaceInIndex(t, dir, entries[requestKey("GET", up.srv.URL+"/one", "")].SHA256, "../../../../etc/passwd")
			},
			wantMsg: "invalid sha256",
		},
		{
			name: "index not JSON",
			tamper: func(t *testing.T, dir string, entries map[string]entry) {
				replaceInIndex(t, dir, `"entries"`, `"entries`)
			},
			wantMsg: "does not parse",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, entries := record(t)
			tt.tamper(t, dir, entries)
			_, err := Verify(dir)
			require.Error(t, err)
			require.ErrorIs(t, err, fault.ErrInvalid)
			require.Contains(t, err.Error(), tt.wantMsg)
		})
	}

	t.Run("no index", func(t *testing.T) {
		t.Parallel()
		_, err := Verify(t.TempDir())
		require.ErrorIs(t, err, fault.ErrNotFound)
	})
}

func replaceInIndex(t *testing.T, dir, old, repl string) {
	t.Helper()
	p := filepath.Join(dir, "index.json")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Contains(t, string(data), old)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(data), old, repl, 1)), 0o644))
}

// TestLargeBodyStreams records and replays a 200 MB body over HTTPS and checks
// that the heap stays flat (far below the body size).
func TestLargeBodyStreams(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("200 MB transfer skipped in -short mode")
	}
	b := setup(t)
	up := newUpstream(t, true)
	wantHash := sha256.New()
	_, err := io.Copy(wantHash, &genReader{state: 42, left: bigSize})
	require.NoError(t, err)
	want := hex.EncodeToString(wantHash.Sum(nil))

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	get := func(p *Proxy) string {
		c := client(t, p, b.ca)
		resp, err := c.Get(up.srv.URL + "/big")
		require.NoError(t, err)
		defer resp.Body.Close()
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		require.NoError(t, err)
		require.EqualValues(t, bigSize, n)
		return hex.EncodeToString(h.Sum(nil))
	}
	rec := b.start(t, Record, up.roots)
	require.Equal(t, want, get(rec))
	require.NoError(t, rec.Close())
	up.srv.Close()
	rep := b.start(t, Replay, nil)
	require.Equal(t, want, get(rep))
	require.NoError(t, rep.Close())
	close(stop)
	<-sampled

	sum, err := Verify(b.dir)
	require.NoError(t, err)
	require.EqualValues(t, bigSize, sum.Bytes)
	t.Logf("peak HeapInuse while recording and replaying %d MB: %.1f MB", bigSize>>20, float64(peak.Load())/(1<<20))
	require.Less(t, peak.Load(), uint64(64<<20), "the body must stream, not be buffered")
}

func TestMaxBodyBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
	}{
		{name: "declared length", path: "/headers"},
		{name: "chunked", path: "/chunked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			up := newUpstream(t, false)
			p, err := Start(context.Background(), Config{Mode: Record, Dir: b.dir, Addr: "127.0.0.1:0", MaxBodyBytes: 10})
			require.NoError(t, err)
			c := client(t, p, b.ca)
			resp, err := c.Get(up.srv.URL + tt.path)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					require.Equal(t, http.StatusBadGateway, resp.StatusCode)
				}
			}
			require.NoError(t, p.Close())
			require.Equal(t, 1, p.Stats().Errors)
			require.Zero(t, p.Stats().Recorded)
			sum, err := Verify(b.dir)
			require.NoError(t, err)
			require.Zero(t, sum.Entries)
			left, err := os.ReadDir(filepath.Join(b.dir, "blobs", "sha256"))
			require.NoError(t, err)
			require.Empty(t, left, "no partial blob stays behind")
		})
	}
}

func TestReplayNeedsIndex(t *testing.T) {
	t.Parallel()
	_, err := Start(context.Background(), Config{Mode: Replay, Dir: t.TempDir(), Addr: "127.0.0.1:0"})
	require.ErrorIs(t, err, fault.ErrNotFound)
}

// TestFreebind binds an address that is on no interface, as the podman
// bridge gateway is before a container attaches. No traffic goes there.
func TestFreebind(t *testing.T) {
	t.Parallel()
	p, err := Start(context.Background(), Config{Mode: Record, Dir: t.TempDir(), Addr: "10.254.254.1:0"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(p.Addr(), "10.254.254.1:"), p.Addr())
	require.NotEqual(t, "10.254.254.1:0", p.Addr())
	require.NoError(t, p.Close())
}

func TestConnectWithoutCA(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, true)
	p, err := Start(context.Background(), Config{Mode: Record, Dir: t.TempDir(), Addr: "127.0.0.1:0", RootCAs: up.roots})
	require.NoError(t, err)
	defer p.Close()
	tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: p.Addr()})}
	defer tr.CloseIdleConnections()
	_, err = (&http.Client{Transport: tr}).Get(up.srv.URL)
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "Method Not Allowed") || errors.Is(err, io.EOF), err.Error())
}

func TestIndexJSONShape(t *testing.T) {
	t.Parallel()
	b := setup(t)
	up := newUpstream(t, false)
	p := b.start(t, Record, nil)
	c := client(t, p, b.ca)
	fetch(t, c, "GET", up.srv.URL+"/x", map[string]string{"Accept": "text/plain"})
	require.NoError(t, p.Close())
	data, err := os.ReadFile(filepath.Join(b.dir, "index.json"))
	require.NoError(t, err)
	var idx struct {
		Version int `json:"version"`
		Entries []struct {
			Key    string              `json:"key"`
			Accept string              `json:"accept"`
			Header map[string][]string `json:"header"`
		} `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(data, &idx))
	require.Equal(t, 1, idx.Version)
	require.Len(t, idx.Entries, 1)
	require.Equal(t, "GET "+up.srv.URL+"/x accept=text/plain", idx.Entries[0].Key)
	require.NotContains(t, idx.Entries[0].Header, "Date")
	require.NotContains(t, idx.Entries[0].Header, "Set-Cookie")
	require.Equal(t, []string{"text/plain"}, idx.Entries[0].Header["Content-Type"])
}
