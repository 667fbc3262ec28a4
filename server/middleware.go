package server

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/auth"
)

type principalKey struct{}

// principalFrom returns the authenticated principal of a request context.
func principalFrom(ctx context.Context) (auth.Principal, error) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	if !ok {
		return auth.Principal{}, fault.New(fault.ErrUnauthenticated, "authentication required")
	}
	return p, nil
}

// recovery turns a panic into a 500 in the error model. It logs the panic and
// its stack through the server's logger, not gin's request dump, which would
// print the request's headers.
func (s *Server) recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			s.writeStatus(c, http.StatusInternalServerError, fmt.Errorf("panic: %v\n%s", rec, debug.Stack()))
		}()
		c.Next()
	}
}

// gate finds the operation of a request, authenticates it when the operation
// requires it, checks the credential's scope, then validates the request
// against openapi.yaml. Multipart bodies are never read here: the validator
// sees an empty body and the handler checks the parts while streaming them.
func (s *Server) gate(router routers.Router) gin.HandlerFunc {
	return func(c *gin.Context) {
		req := c.Request
		route, params, err := router.FindRoute(req)
		if err != nil {
			c.Next() // unknown path or method: the router answers 404 or 405
			return
		}
		op := route.Operation
		if needsAuth(route.Spec, op) {
			p, err := s.authenticate(req)
			if err != nil {
				s.writeError(c, err)
				return
			}
			if err := checkScope(p, op); err != nil {
				s.writeError(c, err)
				return
			}
			c.Request = req.WithContext(context.WithValue(req.Context(), principalKey{}, p))
			req = c.Request
		}
		multipart := false
		if op.RequestBody != nil {
			if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
				multipart = true
			} else if op.RequestBody.Value.Content.Get("multipart/form-data") != nil {
				s.writeError(c, fault.Invalidf("request body must be multipart/form-data"))
				return
			}
		}
		if multipart {
			if req.ContentLength > s.cfg.MaxUploadBytes {
				s.writeError(c, fault.TooLargef("upload is larger than the limit of %d bytes", s.cfg.MaxUploadBytes))
				return
			}
			req.Body = http.MaxBytesReader(c.Writer, req.Body, s.cfg.MaxUploadBytes+1<<20)
		} else if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(c.Writer, req.Body, maxJSONBytes)
		}
		input := &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{
				AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
				ExcludeRequestBody: multipart,
			},
		}
		// The validator replaces a body it reads with a fresh reader; a multipart
		// body is hidden from it and put back untouched.
		body := req.Body
		if multipart {
			req.Body = http.NoBody
		}
		err = openapi3filter.ValidateRequest(req.Context(), input)
		if multipart {
			req.Body = body
		}
		if err != nil {
			s.writeError(c, validationError(err))
			return
		}
		c.Next()
	}
}

// maxJSONBytes bounds JSON request bodies.
const maxJSONBytes = 1 << 20

func needsAuth(doc *openapi3.T, op *openapi3.Operation) bool {
	sec := doc.Security
	if op.Security != nil {
		sec = *op.Security
	}
	return len(sec) > 0
}

// scopeExtension is the operation extension of openapi.yaml that names the
// scope an operation needs (read, write or admin); api/bundle requires it on
// every operation that requires authentication.
const scopeExtension = "x-reehub-scope"

// requiredScope reads the scope an operation declares in the spec. An
// operation without one needs admin, so that a spec mistake fails closed.
func requiredScope(op *openapi3.Operation) auth.Scope {
	if v, ok := op.Extensions[scopeExtension].(string); ok {
		switch sc := auth.Scope(v); sc {
		case auth.ScopeRead, auth.ScopeWrite, auth.ScopeAdmin:
			return sc
		}
	}
	return auth.ScopeAdmin
}

// checkScope refuses a credential that lacks the scope the operation declares.
func checkScope(p auth.Principal, op *openapi3.Operation) error {
	need := requiredScope(op)
	if !p.Allows(need) {
		if need == auth.ScopeAdmin && p.User.Role != auth.RoleAdmin {
			return fault.New(fault.ErrForbidden, "only an admin may do this")
		}
		return fault.New(fault.ErrForbidden, fmt.Sprintf("the credential lacks the scope %q that %s needs", need, op.OperationID))
	}
	return nil
}

// validationError turns a kin-openapi error into a short invalid-input error.
func validationError(err error) error {
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		what := "request"
		switch {
		case re.Parameter != nil:
			what = re.Parameter.In + " parameter " + re.Parameter.Name
		case re.RequestBody != nil:
			what = "request body"
		}
		reason := re.Reason
		if re.Err != nil {
			reason = firstLine(re.Err.Error())
		}
		if reason == "" {
			reason = "is invalid"
		}
		return fault.Invalidf("%s: %s", what, reason)
	}
	return fault.Invalidf("%s", firstLine(err.Error()))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
