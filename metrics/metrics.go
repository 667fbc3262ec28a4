// Package metrics is reehub's Prometheus instrumentation (client_golang): one
// registry per process, built by cmd/reehub and passed down to the HTTP layer,
// the job engine and the families' services, which record what happens
// through the typed methods here. Every method is safe on a nil *Metrics (it
// records nothing), so code built without metrics (tests, `reehub gc`) needs
// no special case. docs/operations.md lists the series.
//
// It depends on nothing of reehub, so any layer may import it; only the
// series' names and labels are decided here.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds reehub's registry and its series.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	jobTransitions *prometheus.CounterVec
	jobWait        *prometheus.HistogramVec
	jobDuration    *prometheus.HistogramVec
	stepDuration   *prometheus.HistogramVec
	buildDuration  *prometheus.HistogramVec

	proxyRequests *prometheus.CounterVec

	gcRuns       *prometheus.CounterVec
	gcFreed      *prometheus.CounterVec
	gcFreedBytes *prometheus.CounterVec
}

// durationBuckets fit requests (milliseconds) as well as builds (minutes).
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// New returns a registry with the Go runtime and process collectors and
// every reehub series.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reehub_http_requests_total",
			Help: "HTTP requests answered, by operation (the OpenAPI operationId, else the route, else \"unmatched\"), method and status code.",
		}, []string{"operation", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reehub_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its response, by operation and status code.",
			Buckets: durationBuckets,
		}, []string{"operation", "status"}),
		jobTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reehub_job_transitions_total",
			Help: "Jobs entering a state (queued, running, succeeded, failed, cancelled), by family and kind.",
		}, []string{"family", "kind", "state"}),
		jobWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reehub_job_wait_seconds",
			Help:    "Time a job waited from its submission to the start of its first attempt, by family, kind and queue.",
			Buckets: durationBuckets,
		}, []string{"family", "kind", "queue"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reehub_job_duration_seconds",
			Help:    "Time from a job's start to its end, by family, kind and end state (a recording or replay is the ree family; a scan the fossology family).",
			Buckets: durationBuckets,
		}, []string{"family", "kind", "state"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reehub_job_step_duration_seconds",
			Help:    "Time a job's step ran, by family, kind, step and how it ended.",
			Buckets: durationBuckets,
		}, []string{"family", "kind", "step", "state"}),
		buildDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reehub_build_duration_seconds",
			Help:    "Time of the Podman build of a recording or replay (proxy up to proxy down), by proxy mode (record, replay) and result (ok, failed).",
			Buckets: durationBuckets,
		}, []string{"mode", "result"}),
		proxyRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reehub_proxy_requests_total",
			Help: "Requests of builds through the recording proxy, counted when the build ends, by mode (record, replay) and outcome (recorded, replayed, missed, failed).",
		}, []string{"mode", "outcome"}),
		gcRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reehub_gc_runs_total",
			Help: "Garbage collection runs, by result (ok, error).",
		}, []string{"result"}),
		gcFreed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reehub_gc_freed_total",
			Help: "Things garbage collection removed, by kind (jobs, blobs, images, networks, resources, work_dirs, temp_files, tombstones).",
		}, []string{"kind"}),
		gcFreedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reehub_gc_freed_bytes_total",
			Help: "Bytes garbage collection freed, by kind (blobs, images, files).",
		}, []string{"kind"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.jobTransitions, m.jobWait, m.jobDuration, m.stepDuration,
		m.buildDuration, m.proxyRequests, m.gcRuns, m.gcFreed, m.gcFreedBytes,
	)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// HTTPRequest records one answered request.
func (m *Metrics) HTTPRequest(operation, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	code := strconv.Itoa(status)
	m.httpRequests.WithLabelValues(operation, method, code).Inc()
	m.httpDuration.WithLabelValues(operation, code).Observe(d.Seconds())
}

// JobState records a job entering state.
func (m *Metrics) JobState(family, kind, state string) {
	if m == nil {
		return
	}
	m.jobTransitions.WithLabelValues(family, kind, state).Inc()
}

// JobWait records how long a job waited before its first attempt started.
func (m *Metrics) JobWait(family, kind, queue string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobWait.WithLabelValues(family, kind, queue).Observe(max(d, 0).Seconds())
}

// JobEnded records a job's run time, from its start to its end state.
func (m *Metrics) JobEnded(family, kind, state string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobDuration.WithLabelValues(family, kind, state).Observe(max(d, 0).Seconds())
}

// StepEnded records a step's run time and how it ended.
func (m *Metrics) StepEnded(family, kind, step, state string, d time.Duration) {
	if m == nil {
		return
	}
	m.stepDuration.WithLabelValues(family, kind, step, state).Observe(max(d, 0).Seconds())
}

// ProxyStats are the counts of one build's recording proxy.
type ProxyStats struct {
	Recorded, Replayed, Missed, Failed int
}

// Build records a recording or replay build (mode "record" or "replay"): its
// duration, whether it succeeded, and what its proxy served.
func (m *Metrics) Build(mode string, ok bool, d time.Duration, s ProxyStats) {
	if m == nil {
		return
	}
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.buildDuration.WithLabelValues(mode, result).Observe(max(d, 0).Seconds())
	for outcome, n := range map[string]int{"recorded": s.Recorded, "replayed": s.Replayed, "missed": s.Missed, "failed": s.Failed} {
		// Every outcome's series exists from the first build on, also at 0.
		m.proxyRequests.WithLabelValues(mode, outcome).Add(float64(n))
	}
}

// GCFreed is what one garbage collection run removed.
type GCFreed struct {
	// Counts by kind: jobs, blobs, images, networks, resources, work_dirs, temp_files, tombstones.
	Counts map[string]int64
	// Bytes by kind: blobs, images, files.
	Bytes map[string]int64
	// OK is false when the run ended with an error (what it freed still counts).
	OK bool
}

// GC records a garbage collection run.
func (m *Metrics) GC(f GCFreed) {
	if m == nil {
		return
	}
	result := "ok"
	if !f.OK {
		result = "error"
	}
	m.gcRuns.WithLabelValues(result).Inc()
	for k, n := range f.Counts {
		m.gcFreed.WithLabelValues(k).Add(float64(n))
	}
	for k, n := range f.Bytes {
		m.gcFreedBytes.WithLabelValues(k).Add(float64(n))
	}
}

// Sample is one value of a gauge family read at scrape time, with its label
// values in the order the family declares them.
type Sample struct {
	Labels []string
	Value  float64
}

// GaugeFunc registers gauges read at scrape time: read returns the current
// samples of every gauge named in names (name -> help and labels), and its
// result is reused for ttl (0: read at every scrape), so that an expensive
// read (walking the blob store) does not run at every scrape. A failing read
// keeps the last good samples and is counted in reehub_scrape_errors_total.
func (m *Metrics) GaugeFunc(gauges []Gauge, ttl time.Duration, read func(ctx context.Context) (map[string][]Sample, error)) {
	if m == nil {
		return
	}
	c := &funcCollector{ttl: ttl, read: read, descs: map[string]*prometheus.Desc{}}
	for _, g := range gauges {
		c.descs[g.Name] = prometheus.NewDesc(g.Name, g.Help, g.Labels, nil)
	}
	c.errors = prometheus.NewCounter(prometheus.CounterOpts{
		Name:        "reehub_scrape_errors_total",
		Help:        "Failed reads of gauges that are computed at scrape time, by the gauges' group.",
		ConstLabels: prometheus.Labels{"group": gauges[0].Name},
	})
	m.reg.MustRegister(c, c.errors)
}

// Gauge names one gauge family of GaugeFunc.
type Gauge struct {
	Name, Help string
	Labels     []string
}

// funcCollector is the collector behind GaugeFunc.
type funcCollector struct {
	ttl    time.Duration
	read   func(ctx context.Context) (map[string][]Sample, error)
	descs  map[string]*prometheus.Desc
	errors prometheus.Counter

	mu     sync.Mutex
	at     time.Time
	cached map[string][]Sample
}

// Describe sends the gauges' descriptions.
func (c *funcCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect reads the samples (or reuses them within ttl) and sends them.
func (c *funcCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.cached == nil || time.Since(c.at) >= c.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		samples, err := c.read(ctx)
		cancel()
		if err != nil {
			c.errors.Inc()
		} else {
			c.cached, c.at = samples, time.Now()
		}
	}
	samples := c.cached
	c.mu.Unlock()
	for name, ss := range samples {
		d := c.descs[name]
		if d == nil {
			continue
		}
		for _, s := range ss {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, s.Value, s.Labels...)
		}
	}
}
