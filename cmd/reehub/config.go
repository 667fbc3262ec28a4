package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reehub/reehub/archive"
	"github.com/reehub/reehub/cmd/reehub/internal/cli"
	"github.com/reehub/reehub/service/fossology/fetch"
	"github.com/reehub/reehub/service/job"
)

// config is reehub's configuration: each setting is a flag with a matching
// REEHUB_* environment variable; a flag given on the command line wins.
type config struct {
	Addr    string
	DataDir string
	BlobDir string
	// BlobURL, when set, names the blob store: file:///path, or
	// s3://bucket?endpoint=...&region=...&use_path_style=true (blob.OpenURL).
	BlobURL        string
	DatabaseURL    string
	AdminPassword  string
	OIDCIssuer     string
	OIDCAudience   string
	PodmanSocket   string
	MaxUploadBytes int64
	Archive        archive.Limits
	// Workers is how many builds run at once here; 0 (serve only) makes an
	// API-only instance that runs no job.
	Workers int
	// Host names this worker host to the other instances (job.Config.Host):
	// the machine whose Podman service PodmanSocket is.
	Host string
	// Queues names the job queues this instance's workers take jobs from
	// (job.Config.Serve); empty: every queue.
	Queues         []string
	JobMaxAttempts int
	LogLevel       string
	// LogFormat is text or json (the server's log, the access log included).
	LogFormat string
	// BuildHostname is the hostname RUN steps of recordings and replays see
	// (through a persistent UTS namespace on this host); empty: Podman's
	// random one per step.
	BuildHostname string
	// AdminAddr, when set, is a second listen address that serves /metrics
	// and /debug/pprof/ without authentication (bind it to loopback or a
	// private network).
	AdminAddr      string
	UpstreamCAFile string
	DebianMirror   string
	BuildBases     bool
	// RegisterProduced registers every image a recording, replay or SBOM
	// build produced in the image registry (an export, an SBOM scan and an
	// ingest per process).
	RegisterProduced bool
	ReanaQuota       int64
	ReanaAliases     string
	// UploadAllowedHosts are hosts exempt from the address rules of
	// FOSSology url and vcs uploads and webhooks (fetch.ParseAllowList).
	UploadAllowedHosts []string
	// UploadServerDirs are the directories admins may make server uploads from.
	UploadServerDirs []string
	// TokenMaxDays caps the lifetime of FOSSology tokens.
	TokenMaxDays int
	// ScanEntries is the most entries one FOSSology upload may unpack to.
	ScanEntries int
	// Retention deletes ended processes older than it (nil: off).
	Retention  *time.Duration
	GCInterval time.Duration
	GCGrace    time.Duration
	// PollInterval is how often the scans queue is looked at for new jobs
	// (the queues of long jobs four times less often).
	PollInterval time.Duration
	// OpenRegistration opens POST /v1/user to everyone.
	OpenRegistration bool
	// CORSOrigins is a comma-separated list of origins allowed to call the API from a browser.
	CORSOrigins string
}

// parseConfig reads the flags in args over the environment; usage and flag
// errors go to out.
func parseConfig(name string, args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("reehub "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: reehub %s [flags]\n\nflags (each also read from the environment variable named in parentheses):\n", name)
		fs.PrintDefaults()
	}
	str := func(p *string, name, env, def, usage string) {
		if v, ok := os.LookupEnv(env); ok {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ($"+env+")")
	}
	var intErr error
	i64 := func(p *int64, name, env string, def int64, usage string) {
		if v, ok := os.LookupEnv(env); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				intErr = errors.Join(intErr, fmt.Errorf("%s: %q is not an integer", env, v))
			} else {
				def = n
			}
		}
		fs.Int64Var(p, name, def, usage+" ($"+env+")")
	}
	str(&c.Addr, "addr", "REEHUB_ADDR", "localhost:5000", "listen address")
	str(&c.DataDir, "data-dir", "REEHUB_DATA_DIR", "./data", "data directory (SQLite file, blobs, logs)")
	str(&c.BlobDir, "blob-dir", "REEHUB_BLOB_DIR", "", "blob store directory; empty uses blobs/ in the data directory (instances with their own databases may share one)")
	str(&c.BlobURL, "blob-url", "REEHUB_BLOB_URL", "", "blob store URL: file:///path, or s3://bucket?endpoint=http://host:port&region=R&use_path_style=true for an S3-compatible store shared by instances on several machines (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); empty uses --blob-dir")
	str(&c.DatabaseURL, "database-url", "REEHUB_DATABASE_URL", "", "Postgres URL; empty uses SQLite in the data directory")
	str(&c.AdminPassword, "admin-password", "REEHUB_ADMIN_PASSWORD", "", "password of the admin user created on first start; empty generates one")
	str(&c.OIDCIssuer, "oidc-issuer", "REEHUB_OIDC_ISSUER", "", "OIDC issuer whose access tokens are accepted as Bearer tokens")
	str(&c.OIDCAudience, "oidc-audience", "REEHUB_OIDC_AUDIENCE", "", "expected audience of OIDC tokens; empty skips the check")
	str(&c.PodmanSocket, "podman-socket", "REEHUB_PODMAN_SOCKET", "unix:///run/podman/podman.sock", "Podman service URL")
	str(&c.BuildHostname, "build-hostname", "REEHUB_BUILD_HOSTNAME", "reehub", "hostname that RUN steps of recordings and replays see, through a UTS namespace under /run/reehub/uts (needs root and a Podman service on this host); empty: the random one Podman gives each step")
	str(&c.UpstreamCAFile, "upstream-ca-file", "REEHUB_UPSTREAM_CA_FILE", "", "PEM file of extra CAs the recording proxy trusts upstream (private mirrors)")
	str(&c.DebianMirror, "debian-mirror", "REEHUB_DEBIAN_MIRROR", "", "Debian mirror URL for apt in SBOM-strategy builds (e.g. a snapshot.debian.org archive); empty keeps the base image's sources")
	str(&c.LogLevel, "log-level", "REEHUB_LOG_LEVEL", "info", "debug, info, warn or error")
	str(&c.LogFormat, "log-format", "REEHUB_LOG_FORMAT", "text", "log format: text (key=value) or json (one object a line)")
	str(&c.AdminAddr, "admin-addr", "REEHUB_ADMIN_ADDR", "", "admin listen address serving /metrics and /debug/pprof/ without authentication (e.g. localhost:5001); empty: none (/metrics is then served to admins on the main address)")
	str(&c.ReanaAliases, "reana-aliases", "REEHUB_REANA_ALIASES", "", "YAML file mapping environment names of reana.yaml files (docker.io/library/python:3.11-slim) to reehub images (python_3_11)")
	i64(&c.ReanaQuota, "reana-quota-bytes", "REEHUB_REANA_QUOTA_BYTES", 0, "each user's disk quota over their REANA workspaces; 0 means none")
	i64(&c.MaxUploadBytes, "max-upload-bytes", "REEHUB_MAX_UPLOAD_BYTES", 8<<30, "largest accepted upload")
	var entries, ratio, workers, attempts int64
	i64(&entries, "archive-max-entries", "REEHUB_ARCHIVE_MAX_ENTRIES", 10000, "most entries in an uploaded zip")
	i64(&c.Archive.MaxTotalBytes, "archive-max-bytes", "REEHUB_ARCHIVE_MAX_BYTES", 16<<30, "largest total uncompressed size of an uploaded zip")
	i64(&ratio, "archive-max-ratio", "REEHUB_ARCHIVE_MAX_RATIO", 200, "largest uncompressed/compressed ratio of a zip entry")
	i64(&workers, "workers", "REEHUB_WORKERS", 4, "builds (recordings, replays) that run at once; 0 (serve only): an API-only instance that runs no job (`reehub worker` instances run them)")
	hostname, _ := os.Hostname()
	if hostname == "" {
		hostname = "local"
	}
	str(&c.Host, "host", "REEHUB_WORKER_HOST", hostname, "this worker host's name, unique among the instances on one database (its Podman service's leftovers are cleaned by it alone); defaults to the host name")
	var queues string
	str(&queues, "queues", "REEHUB_QUEUES", "", "comma-separated job queues this instance's workers take jobs from ("+strings.Join(slices.Sorted(maps.Keys(job.DefaultQueues())), ", ")+"); empty: all. A host that cannot run a family's jobs leaves its queue out")
	i64(&attempts, "job-max-attempts", "REEHUB_JOB_MAX_ATTEMPTS", 3, "attempts a job gets when reehub is killed while it runs, before it fails")
	var allowed, serverDirs string
	str(&allowed, "upload-allowed-hosts", "REEHUB_UPLOAD_ALLOWED_HOSTS", "", "hosts (host, host:port, address or CIDR) FOSSology url/vcs uploads and webhooks may reach although they are loopback, private or link-local")
	str(&serverDirs, "upload-server-dirs", "REEHUB_UPLOAD_SERVER_DIRS", "", "colon-separated directories admins may make FOSSology server uploads from")
	var tokenDays, scanEntries int64
	i64(&tokenDays, "token-max-days", "REEHUB_TOKEN_MAX_DAYS", 30, "longest lifetime of a FOSSology token, in days")
	i64(&scanEntries, "scan-max-entries", "REEHUB_SCAN_MAX_ENTRIES", 500000, "most entries one FOSSology upload may unpack to")
	var retention, gcInterval, gcGrace, pollInterval string
	str(&pollInterval, "poll-interval", "REEHUB_POLL_INTERVAL", "250ms", "how often the scans queue is looked at for new jobs; the queues of long jobs (builds, appliances, workflows, deployments) are looked at four times less often; at least 50ms")
	str(&retention, "retention", "REEHUB_RETENTION", "", "delete ended processes older than this (e.g. 30d, 12h; 0 deletes every ended one), except those marked to keep; empty: never")
	str(&gcInterval, "gc-interval", "REEHUB_GC_INTERVAL", "1h", "how often garbage collection (and retention) runs; 0 never")
	str(&gcGrace, "gc-grace", "REEHUB_GC_GRACE", "1h", "how old an unreferenced blob, temporary file or work directory must be before garbage collection removes it")
	str(&c.CORSOrigins, "cors-origins", "REEHUB_CORS_ORIGINS", "", "comma-separated origins (such as the ViCE web UI's) whose browsers may call the API; * allows any")
	openReg := os.Getenv("REEHUB_OPEN_REGISTRATION") == "true" || os.Getenv("REEHUB_OPEN_REGISTRATION") == "1"
	fs.BoolVar(&c.OpenRegistration, "open-registration", openReg, "let anyone register with POST /v1/user ($REEHUB_OPEN_REGISTRATION)")
	buildBases := os.Getenv("REEHUB_BUILD_BASE_IMAGES") != "false"
	fs.BoolVar(&c.BuildBases, "build-base-images", buildBases, "build missing base images at start ($REEHUB_BUILD_BASE_IMAGES)")
	register := os.Getenv("REEHUB_REGISTER_PRODUCED") != "false"
	fs.BoolVar(&c.RegisterProduced, "register-produced", register, "register every image a recording, replay or SBOM build produced in the image registry ($REEHUB_REGISTER_PRODUCED)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, cli.Usage(err)
	}
	if intErr != nil {
		return c, cli.Usage(intErr)
	}
	c.Archive.MaxEntries, c.Archive.MaxRatio, c.Workers, c.JobMaxAttempts = int(entries), int(ratio), int(workers), int(attempts)
	c.TokenMaxDays, c.ScanEntries = int(tokenDays), int(scanEntries)
	c.Queues = splitList(queues)
	for _, q := range c.Queues {
		if _, ok := job.DefaultQueues()[q]; !ok {
			return c, cli.Usage(fmt.Errorf("--queues: no queue %q (queues: %s)", q, strings.Join(slices.Sorted(maps.Keys(job.DefaultQueues())), ", ")))
		}
	}
	hosts, err := fetch.ParseAllowList(allowed)
	if err != nil {
		return c, err
	}
	c.UploadAllowedHosts = hosts
	for _, d := range strings.Split(serverDirs, ":") {
		if d = strings.TrimSpace(d); d != "" {
			c.UploadServerDirs = append(c.UploadServerDirs, d)
		}
	}
	if c.TokenMaxDays <= 0 || c.ScanEntries <= 0 {
		return c, errors.New("token-max-days and scan-max-entries must be positive")
	}
	if retention != "" {
		r, err := parseDuration(retention)
		if err != nil {
			return c, fmt.Errorf("retention: %w", err)
		}
		c.Retention = &r
	}
	if c.GCInterval, err = parseDuration(gcInterval); err != nil {
		return c, fmt.Errorf("gc interval: %w", err)
	}
	if pollInterval == "" {
		pollInterval = "250ms"
	}
	if c.PollInterval, err = time.ParseDuration(pollInterval); err != nil || c.PollInterval < 50*time.Millisecond {
		return c, cli.Usage(fmt.Errorf("poll interval %q: a duration of at least 50ms, like 250ms", pollInterval))
	}
	if c.GCGrace, err = parseDuration(gcGrace); err != nil {
		return c, fmt.Errorf("gc grace: %w", err)
	}
	if c.GCGrace == 0 {
		c.GCGrace = job.NoGrace // 0 means none here; the engine reads 0 as its default
	}
	if c.MaxUploadBytes <= 0 || c.Archive.MaxEntries <= 0 || c.Archive.MaxTotalBytes <= 0 || c.Archive.MaxRatio <= 0 || c.Workers < 0 || c.JobMaxAttempts <= 0 || c.ReanaQuota < 0 {
		return c, errors.New("limits, workers and job attempts must be positive")
	}
	if c.Workers == 0 && name == "worker" {
		return c, cli.Usage(errors.New("workers must be positive (a worker that runs no job; `reehub serve --workers 0` is an API-only instance)"))
	}
	if c.Host = strings.TrimSpace(c.Host); c.Host == "" {
		return c, cli.Usage(errors.New("host must not be empty"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("log format %q: must be text or json", c.LogFormat)
	}
	if c.DebianMirror != "" {
		u, err := url.Parse(c.DebianMirror)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(c.DebianMirror, " \t\n\"") {
			return c, fmt.Errorf("debian mirror %q must be an http or https URL", c.DebianMirror)
		}
	}
	return c, nil
}

// days is a leading count of days ("30d", "1d12h").
var days = regexp.MustCompile(`^([0-9]+)d(.*)$`)

// parseDuration reads a Go duration that may start with a number of days
// ("30d", "1d12h"); it must not be negative.
func parseDuration(s string) (time.Duration, error) {
	var d time.Duration
	rest := s
	if m := days.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("%q: too many days", s)
		}
		d, rest = time.Duration(n)*24*time.Hour, m[2]
	}
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (like 30d, 12h or 90m)", s)
		}
		d += more
	}
	if d < 0 {
		return 0, fmt.Errorf("%q must not be negative", s)
	}
	return d, nil
}
