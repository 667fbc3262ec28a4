package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// maxRequestsPerClient bounds each load client's loop besides the duration.
const maxRequestsPerClient = 2_000_000

// loadResult is the outcome of one load run.
type loadResult struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// RPS is completed successful requests per second.
func (l loadResult) RPS() float64 { return float64(l.Requests) / l.Elapsed.Seconds() }

// load sends GET url from clients concurrent keep-alive clients for d and
// measures throughput and latency. Every response must be 200 with want as body.
func load(ctx context.Context, url string, header http.Header, want []byte, clients int, d time.Duration) (loadResult, error) {
	tr := &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients,
		DisableCompression: true, IdleConnTimeout: time.Minute,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type clientResult struct {
		lat    []time.Duration
		errors int
		first  error
	}
	results := make([]clientResult, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cr := &results[i]
			cr.lat = make([]time.Duration, 0, 1<<16)
			buf := make([]byte, 0, len(want)+64)
			for n := 0; n < maxRequestsPerClient && ctx.Err() == nil; n++ {
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					cr.errors++
					cr.first = err
					return
				}
				req.Header = header
				t0 := time.Now()
				res, err := hc.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					cr.errors++
					if cr.first == nil {
						cr.first = err
					}
					continue
				}
				buf, err = readInto(buf[:0], res.Body)
				lat := time.Since(t0)
				if err != nil || res.StatusCode != http.StatusOK || string(buf) != string(want) {
					cr.errors++
					if cr.first == nil {
						cr.first = fmt.Errorf("HTTP %d, body %q, err %v", res.StatusCode, buf, err)
					}
					continue
				}
				cr.lat = append(cr.lat, lat)
			}
		}()
	}
	wg.Wait()
	var res loadResult
	res.Elapsed = time.Since(start)
	var all []time.Duration
	var first error
	for _, cr := range results {
		all = append(all, cr.lat...)
		res.Errors += cr.errors
		if first == nil {
			first = cr.first
		}
	}
	res.Requests = len(all)
	if res.Requests == 0 {
		return res, fmt.Errorf("no successful request to %s (first error: %v)", url, first)
	}
	if res.Errors > 0 {
		return res, fmt.Errorf("%d failed requests to %s (first: %v)", res.Errors, url, first)
	}
	slices.Sort(all)
	res.P50 = all[len(all)/2]
	res.P99 = all[min(len(all)-1, len(all)*99/100)]
	return res, nil
}

func readInto(buf []byte, body io.ReadCloser) ([]byte, error) {
	defer body.Close()
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512)
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// bareServer is a bare Gin handler on a loopback port that answers every GET of
// path with body and contentType: the baseline for the status endpoint.
type bareServer struct {
	srv *http.Server
	url string
}

func startBare(path, contentType string, body []byte) (*bareServer, error) {
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.GET(path, func(c *gin.Context) { c.Data(http.StatusOK, contentType, body) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &bareServer{srv: &http.Server{Handler: engine, ReadHeaderTimeout: 10 * time.Second}}
	b.url = "http://" + ln.Addr().String() + path
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *bareServer) close() { _ = b.srv.Close() }
