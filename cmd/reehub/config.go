package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/reehub/reehub/archive"
)

// config is reehub's configuration: each setting is a flag with a matching
// REEHUB_* environment variable; a flag given on the command line wins.
type config struct {
	Addr           string
	DataDir        string
	DatabaseURL    string
	AdminPassword  string
	OIDCIssuer     string
	OIDCAudience   string
	PodmanSocket   string
	MaxUploadBytes int64
	Archive        archive.Limits
	Workers        int
	JobMaxAttempts int
	LogLevel       string
	UpstreamCAFile string
	DebianMirror   string
	BuildBases     bool
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
	str(&c.DatabaseURL, "database-url", "REEHUB_DATABASE_URL", "", "Postgres URL; empty uses SQLite in the data directory")
	str(&c.AdminPassword, "admin-password", "REEHUB_ADMIN_PASSWORD", "", "password of the admin user created on first start; empty generates one")
	str(&c.OIDCIssuer, "oidc-issuer", "REEHUB_OIDC_ISSUER", "", "OIDC issuer whose access tokens are accepted as Bearer tokens")
	str(&c.OIDCAudience, "oidc-audience", "REEHUB_OIDC_AUDIENCE", "", "expected audience of OIDC tokens; empty skips the check")
	str(&c.PodmanSocket, "podman-socket", "REEHUB_PODMAN_SOCKET", "unix:///run/podman/podman.sock", "Podman service URL")
	str(&c.UpstreamCAFile, "upstream-ca-file", "REEHUB_UPSTREAM_CA_FILE", "", "PEM file of extra CAs the recording proxy trusts upstream (private mirrors)")
	str(&c.DebianMirror, "debian-mirror", "REEHUB_DEBIAN_MIRROR", "", "Debian mirror URL for apt in SBOM-strategy builds (e.g. a snapshot.debian.org archive); empty keeps the base image's sources")
	str(&c.LogLevel, "log-level", "REEHUB_LOG_LEVEL", "info", "debug, info, warn or error")
	i64(&c.MaxUploadBytes, "max-upload-bytes", "REEHUB_MAX_UPLOAD_BYTES", 8<<30, "largest accepted upload")
	var entries, ratio, workers, attempts int64
	i64(&entries, "archive-max-entries", "REEHUB_ARCHIVE_MAX_ENTRIES", 10000, "most entries in an uploaded zip")
	i64(&c.Archive.MaxTotalBytes, "archive-max-bytes", "REEHUB_ARCHIVE_MAX_BYTES", 16<<30, "largest total uncompressed size of an uploaded zip")
	i64(&ratio, "archive-max-ratio", "REEHUB_ARCHIVE_MAX_RATIO", 200, "largest uncompressed/compressed ratio of a zip entry")
	i64(&workers, "workers", "REEHUB_WORKERS", 4, "builds (recordings, replays) that run at once")
	i64(&attempts, "job-max-attempts", "REEHUB_JOB_MAX_ATTEMPTS", 3, "attempts a job gets when reehub is killed while it runs, before it fails")
	str(&c.CORSOrigins, "cors-origins", "REEHUB_CORS_ORIGINS", "", "comma-separated origins (such as the ViCE web UI's) whose browsers may call the API; * allows any")
	openReg := os.Getenv("REEHUB_OPEN_REGISTRATION") == "true" || os.Getenv("REEHUB_OPEN_REGISTRATION") == "1"
	fs.BoolVar(&c.OpenRegistration, "open-registration", openReg, "let anyone register with POST /v1/user ($REEHUB_OPEN_REGISTRATION)")
	buildBases := os.Getenv("REEHUB_BUILD_BASE_IMAGES") != "false"
	fs.BoolVar(&c.BuildBases, "build-base-images", buildBases, "build missing base images at start ($REEHUB_BUILD_BASE_IMAGES)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if intErr != nil {
		return c, intErr
	}
	c.Archive.MaxEntries, c.Archive.MaxRatio, c.Workers, c.JobMaxAttempts = int(entries), int(ratio), int(workers), int(attempts)
	if c.MaxUploadBytes <= 0 || c.Archive.MaxEntries <= 0 || c.Archive.MaxTotalBytes <= 0 || c.Archive.MaxRatio <= 0 || c.Workers <= 0 || c.JobMaxAttempts <= 0 {
		return c, errors.New("limits, workers and job attempts must be positive")
	}
	if c.DebianMirror != "" {
		u, err := url.Parse(c.DebianMirror)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(c.DebianMirror, " \t\n\"") {
			return c, fmt.Errorf("debian mirror %q must be an http or https URL", c.DebianMirror)
		}
	}
	return c, nil
}
