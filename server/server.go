// Package server is reehub's HTTP layer: it implements the strict server
// interface generated from openapi.yaml on Gin, authenticates and validates
// every request against the spec, converts between API and service types,
// and maps errors to the one error model in one place (errors.go). It holds no
// business logic and never touches the store or the runtime.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"
	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5emb"
	"sigs.k8s.io/yaml"

	"github.com/reehub/reehub"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/metrics"
	"github.com/reehub/reehub/server/wire"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/fossology"
	"github.com/reehub/reehub/service/job"
	"github.com/reehub/reehub/service/process"
	"github.com/reehub/reehub/service/ree"
	"github.com/reehub/reehub/service/registry"
	"github.com/reehub/reehub/service/studio"
	"github.com/reehub/reehub/service/workflow"
)

// Config tunes the HTTP layer.
type Config struct {
	// Version is reehub's version.
	Version string
	// Database names the database kind ("sqlite" or "postgres") for /api/version.
	Database string
	// MaxUploadBytes bounds an uploaded file. Defaults to 8 GiB.
	MaxUploadBytes int64
	// UploadDir is where uploads are staged (same file system as the blob store).
	UploadDir string
	// MaxTokenDays caps the lifetime of FOSSology tokens (POST /tokens). Defaults to 30.
	MaxTokenDays int
	// OpenRegistration lets anyone register with POST /v1/user (REEHUB_OPEN_REGISTRATION);
	// otherwise only admins create users there.
	OpenRegistration bool
	// CORSOrigins are the origins (scheme://host:port) whose browsers may call
	// the API (REEHUB_CORS_ORIGINS), such as the ViCE web UI's; "*" allows any.
	CORSOrigins []string
}

// Deps are the services the server calls.
type Deps struct {
	Auth      *auth.Service
	Processes *process.Service
	REE       *ree.Service
	Catalog   *ree.Catalog
	// Workflows is the REANA family's service (required to serve that family).
	Workflows *workflow.Service
	// Fossology serves the FOSSology family; nil leaves it unwired (its
	// operations answer 503).
	Fossology *fossology.Service
	// Registry is the ViCE registry (/v1 and the OCI endpoint at /v2/).
	Registry *registry.Service
	// Studio serves the Studio family (/api/v1/user, /user/show_api_key).
	Studio *studio.Service
	// PodmanVersion reports the Podman service's version; an error means the
	// service does not answer.
	PodmanVersion func(ctx context.Context) (string, error)
	// PingDatabase checks that the database answers (GET /api/ready).
	PingDatabase func(ctx context.Context) error
	// Usage measures what reehub stores (GET /api/system/usage).
	Usage func(ctx context.Context) (job.Usage, error)
	// Log receives the access log (one line per request) and request
	// failures with their causes.
	Log *slog.Logger
	// Metrics counts requests by operation and status, and is served at
	// /metrics to admins; nil serves no /metrics and records nothing.
	Metrics *metrics.Metrics
}

// Server implements the generated strict server interface.
type Server struct {
	cfg    Config
	auth   *auth.Service
	procs  *process.Service
	ree    *ree.Service
	images *ree.Catalog
	// workflows serves the REANA family.
	workflows *workflow.Service
	foss      *fossology.Service
	studio    *studio.Service
	podman    func(ctx context.Context) (string, error)
	pingDB    func(ctx context.Context) error
	usage     func(ctx context.Context) (job.Usage, error)
	log       *slog.Logger
	// registry serves /v1 and /v2/.
	registry *registry.Service
	metrics  *metrics.Metrics
	// formats are the string formats the request validator checks (uuid).
	formats []openapi3.SchemaValidationOption
	// apiVersion is info.version of openapi.yaml.
	apiVersion string
}

var _ api.StrictServerInterface = (*Server)(nil)

// New returns the HTTP handler of reehub.
func New(d Deps, cfg Config) (http.Handler, error) {
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 8 << 30
	}
	if cfg.UploadDir == "" {
		return nil, errors.New("server: UploadDir is required")
	}
	if d.PodmanVersion == nil || d.PingDatabase == nil || d.Log == nil {
		return nil, errors.New("server: PodmanVersion, PingDatabase and Log are required")
	}
	// The committed contract is what is served, routed and validated against,
	// byte for byte (the generator's embedded copy is rewritten by oapi-codegen).
	specYAML := reehub.OpenAPI()
	spec, err := openapi3.NewLoader().LoadFromData(specYAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	compact, err := yaml.YAMLToJSON(specYAML)
	if err != nil {
		return nil, fmt.Errorf("encode openapi.yaml as JSON: %w", err)
	}
	// Indented, so that the JSON form is as readable (and diffable) as the YAML.
	var indented bytes.Buffer
	if err := json.Indent(&indented, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("indent openapi.json: %w", err)
	}
	specJSON := indented.Bytes()
	s := &Server{cfg: cfg, auth: d.Auth, procs: d.Processes, ree: d.REE, images: d.Catalog, workflows: d.Workflows, foss: d.Fossology, registry: d.Registry, studio: d.Studio, podman: d.PodmanVersion, pingDB: d.PingDatabase, usage: d.Usage, log: d.Log, metrics: d.Metrics, apiVersion: spec.Info.Version,
		formats: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
		}}
	// XML bodies (the Studio family's) are validated against the same schemas
	// as JSON: kin-openapi keeps body decoders in one registry of its own,
	// and registering the same decoder again is harmless.
	openapi3filter.RegisterBodyDecoder("application/xml", wire.DecodeXML)
	// The router matches paths only; the served spec keeps its relative server URL.
	routed := *spec
	routed.Servers = openapi3.Servers{{URL: "/"}}
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("build spec router: %w", err)
	}

	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.ContextWithFallback = true
	engine.HandleMethodNotAllowed = true
	engine.RemoveExtraSlash = true
	// Routes match the escaped path, so that a workspace path parameter may
	// hold slashes (reanaWorkspacePaths encodes them); values are unescaped.
	engine.UseRawPath = true
	engine.UnescapePathValues = true
	engine.Use(s.requestLog(), s.recovery(), s.cors(), s.gate(router))
	engine.NoRoute(func(c *gin.Context) {
		s.writeError(c, fault.NotFoundf("no such endpoint: %s %s", c.Request.Method, c.Request.URL.Path))
	})
	engine.NoMethod(func(c *gin.Context) {
		s.writeStatus(c, http.StatusMethodNotAllowed, fmt.Errorf("method %s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})

	strict := api.NewStrictHandlerWithOptions(s, nil, api.StrictGinServerOptions{
		RequestErrorHandlerFunc: func(c *gin.Context, err error) {
			s.log.DebugContext(c.Request.Context(), "decode request", "path", c.Request.URL.Path, "err", err)
			s.writeError(c, requestError(err))
		},
		HandlerErrorFunc:         func(c *gin.Context, err error) { s.writeError(c, err) },
		ResponseErrorHandlerFunc: func(c *gin.Context, err error) { s.writeStatus(c, http.StatusInternalServerError, err) },
	})
	api.RegisterHandlersWithOptions(engine, strict, api.GinServerOptions{
		ErrorHandler: func(c *gin.Context, err error, _ int) {
			s.log.DebugContext(c.Request.Context(), "bind parameters", "path", c.Request.URL.Path, "err", err)
			s.writeError(c, requestError(err))
		},
	})

	if s.registry != nil {
		engine.Any("/v2", s.ociHandler)
		engine.Any("/v2/*path", s.ociHandler)
	}

	engine.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", specJSON) })
	engine.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml; charset=utf-8", specYAML) })
	// Swagger UI reads the YAML, which keeps the spec's order of paths (the
	// JSON document's objects come out sorted), and marks its requests with
	// X-Requested-With so that a 401 never opens the browser's own login
	// dialog (writeStatus leaves the Basic challenge out for them).
	docs := v5emb.NewWithConfig(swgui.Config{SettingsUI: map[string]string{
		"requestInterceptor":       `function (req) { req.headers["X-Requested-With"] = "XMLHttpRequest"; return req; }`,
		"persistAuthorization":     "false",
		"displayOperationId":       "true",
		"defaultModelsExpandDepth": "-1",
	}})("reehub API", "/openapi.yaml", "/docs/")
	engine.GET("/docs", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/docs/") })
	engine.GET("/docs/*any", gin.WrapH(docs))
	engine.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/docs/") })
	s.mountMetrics(engine)
	return reanaWorkspacePaths(headAsGet(engine)), nil
}

type headKey struct{}

// headAsGet serves HEAD wherever GET is served: the request is routed,
// authenticated and validated as a GET, and net/http drops the body of a
// response to HEAD while keeping its status and headers. Downloads see
// headRequest and skip reading their blob.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		get := r.Clone(context.WithValue(r.Context(), headKey{}, true))
		get.Method = http.MethodGet
		next.ServeHTTP(w, get)
	})
}

// headRequest reports whether the request of ctx came as HEAD.
func headRequest(ctx context.Context) bool {
	head, _ := ctx.Value(headKey{}).(bool)
	return head
}
