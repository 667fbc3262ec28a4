package server

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/auth"
	"github.com/reehub/reehub/service/job"
)

// RequestIDHeader carries a request's id: taken from the request when it is
// a valid one (validRequestID), generated otherwise, and always returned in
// the response. The access log line, the error log lines of the request and
// the log of any job it submits carry it.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an accepted X-Request-Id.
const maxRequestIDLen = 128

// validRequestID accepts 1 to maxRequestIDLen characters of letters, digits
// and - _ . : (UUIDs, ULIDs, hex trace ids, "svc:1234"); anything else (log
// injection, a header meant for another purpose) is replaced by a fresh id.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// operationKey is the gin context key of the request's operationId (set by gate).
const operationKey = "reehub.operation"

// operationOf names a request for metrics and the access log: the OpenAPI
// operationId, else the route template of a route outside the spec (/docs,
// /metrics), else "unmatched" (a 404, whose path is not a label: any client
// could grow the series without bound).
func operationOf(c *gin.Context) string {
	if op := c.GetString(operationKey); op != "" {
		return op
	}
	if p := c.FullPath(); p != "" {
		return p
	}
	return "unmatched"
}

// requestLog runs first: it takes query credentials out of the URL, gives
// the request its id (X-Request-Id, in the response too and in the context,
// where job.Submit finds it), and once the request is answered logs one line
// (method, route, redacted URL, status, bytes, duration, principal, request
// id, remote address) and records it in the metrics.
func (s *Server) requestLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		takeQueryCredentials(c)
		start := time.Now()
		id := c.Request.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		c.Writer.Header().Set(RequestIDHeader, id)
		c.Request = c.Request.WithContext(job.WithRequestID(c.Request.Context(), id))
		c.Next()
		d := time.Since(start)
		op, status := operationOf(c), c.Writer.Status()
		s.metrics.HTTPRequest(op, c.Request.Method, status, d)
		principal := ""
		if p, err := principalFrom(c.Request.Context()); err == nil {
			principal = p.User.Name
		}
		s.log.InfoContext(c.Request.Context(), "request",
			"method", c.Request.Method, "route", op, "url", redactedURL(c.Request.URL), "status", status,
			"bytes", max(c.Writer.Size(), 0), "duration", d.Round(time.Microsecond), "principal", principal,
			"request_id", id, "remote", c.Request.RemoteAddr)
	}
}

// serveMetrics serves /metrics on the main listener to admins only (a token
// needs the admin scope): 401 without valid credentials, 403 for anyone else.
// The admin listener (cmd/reehub, --admin-addr) serves the same registry
// without authentication.
func (s *Server) serveMetrics(c *gin.Context) {
	p, err := s.authenticate(c.Request)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if !p.Allows(auth.ScopeAdmin) {
		s.writeError(c, fault.New(fault.ErrForbidden, "only an admin may read the metrics"))
		return
	}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), principalKey{}, p))
	s.metrics.Handler().ServeHTTP(c.Writer, c.Request)
}

// metricsRoute is where the main listener serves the metrics.
const metricsRoute = "/metrics"

// mountMetrics adds /metrics when the server has a registry.
func (s *Server) mountMetrics(engine *gin.Engine) {
	if s.metrics == nil {
		return
	}
	engine.GET(metricsRoute, s.serveMetrics)
}
