package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
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
// requires it, checks the credential's scope, then checks the request against
// openapi.yaml: query parameters (an empty or repeated single value is
// refused), the body's media type (one the operation does not declare is a
// 415), a JSON body strictly and within maxJSONBytes (readJSONBody), then the
// spec's validator. Multipart and application/octet-stream bodies are never
// read here: they are bounded by the upload limit and the handler streams them
// to disk.
func (s *Server) gate(router routers.Router) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Request = withRequest(c.Request)
		req := c.Request
		route, params, err := router.FindRoute(req)
		if err != nil {
			c.Next() // unknown path or method: the router answers 404 or 405
			return
		}
		op := route.Operation
		c.Set(operationKey, op.OperationID)
		if needsAuth(route.Spec, op) {
			p, err := s.authenticate(req)
			if err != nil {
				if op.OperationID == "reanaYou" && errors.Is(err, fault.ErrUnauthenticated) {
					// reana-client ping tells a bad token apart by 403 only.
					err = fault.New(fault.ErrForbidden, "invalid access token: "+err.Error())
				}
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
		if err := checkQuery(req, op); err != nil {
			s.writeError(c, err)
			return
		}
		streamed := false
		if op.RequestBody != nil && op.RequestBody.Value != nil {
			mt, err := bodyMediaType(req, op.RequestBody.Value)
			if err != nil {
				s.writeError(c, err)
				return
			}
			switch {
			case mt == "":
				// No body: the validator answers whether one is required.
			case streamedMediaType(mt):
				streamed = true
				if req.ContentLength > s.cfg.MaxUploadBytes {
					s.writeError(c, fault.TooLargef("upload is larger than the limit of %d bytes", s.cfg.MaxUploadBytes))
					return
				}
				req.Body = http.MaxBytesReader(c.Writer, req.Body, s.cfg.MaxUploadBytes+1<<20)
			case mt == xmlMediaType:
				// A Studio document: read within the JSON limit; the validator
				// decodes it with wire.DecodeXML.
				b, err := io.ReadAll(http.MaxBytesReader(c.Writer, req.Body, maxJSONBytes))
				_ = req.Body.Close()
				if err != nil {
					s.writeError(c, fault.TooLargef("request body is larger than the limit of %d bytes for XML", maxJSONBytes))
					return
				}
				req.Body = io.NopCloser(bytes.NewReader(b))
				req.ContentLength = int64(len(b))
			case mt == formMediaType:
				// A small form (POST /tokens): read within the JSON limit, validated below.
				b, err := io.ReadAll(http.MaxBytesReader(c.Writer, req.Body, maxJSONBytes))
				_ = req.Body.Close()
				if err != nil {
					s.writeError(c, jsonTooLarge())
					return
				}
				req.Body = io.NopCloser(bytes.NewReader(b))
				req.ContentLength = int64(len(b))
			default:
				var schema *openapi3.Schema
				if m := op.RequestBody.Value.Content.Get(mt); m != nil && m.Schema != nil {
					schema = m.Schema.Value
				}
				b, err := readJSONBody(http.MaxBytesReader(c.Writer, req.Body, maxJSONBytes+1), schema)
				_ = req.Body.Close()
				if err != nil {
					s.writeError(c, err)
					return
				}
				req.Body = io.NopCloser(bytes.NewReader(b))
				req.ContentLength = int64(len(b))
			}
		}
		// From here on, invalid input of an operation that declares the seed's
		// 405 "Invalid input" is answered with 405 (errors.go).
		if op.Responses != nil && op.Responses.Value("405") != nil {
			c.Set(invalidAs405Key, true)
		}
		input := &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{
				AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
				ExcludeRequestBody:      streamed,
				KeepValidatedValue:      true,
				SchemaValidationOptions: s.formats,
			},
		}
		// The validator replaces a body it reads with a fresh reader; a streamed
		// body is hidden from it and put back untouched.
		body := req.Body
		if streamed {
			req.Body = http.NoBody
		}
		err = openapi3filter.ValidateRequest(req.Context(), input)
		if streamed {
			req.Body = body
		}
		if err != nil {
			s.writeError(c, validationError(err))
			return
		}
		c.Next()
	}
}

// streamedMediaType reports whether bodies of media type mt are streamed to
// disk with the upload limit instead of read and validated as JSON.
// formMediaType is the media type of URL-encoded forms.
const formMediaType = "application/x-www-form-urlencoded"

// xmlMediaType is the media type of Studio's XML request bodies.
const xmlMediaType = "application/xml"

func streamedMediaType(mt string) bool {
	return strings.HasPrefix(mt, "multipart/") || mt == "application/octet-stream" || mt == "application/zip"
}

// bodyMediaType returns the media type of a request body, "" when there is no
// body, or a 415 when the operation does not declare it.
func bodyMediaType(req *http.Request, rb *openapi3.RequestBody) (string, error) {
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		if req.ContentLength == 0 || req.Body == nil || req.Body == http.NoBody {
			return "", nil
		}
		return "", unsupportedMedia("a request body without Content-Type", rb)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", unsupportedMedia("a malformed Content-Type", rb)
	}
	if rb.Content.Get(mt) == nil || (mt != "application/json" && mt != formMediaType && mt != xmlMediaType && !streamedMediaType(mt)) {
		return "", unsupportedMedia("Content-Type "+mt, rb)
	}
	return mt, nil
}

func unsupportedMedia(what string, rb *openapi3.RequestBody) error {
	types := make([]string, 0, len(rb.Content))
	for mt := range rb.Content {
		types = append(types, mt)
	}
	slices.Sort(types)
	return fault.New(errUnsupportedMedia, what+" is not accepted here; send "+strings.Join(types, " or "))
}

// checkQuery refuses an empty value of a declared query parameter and a
// single-valued one given more than once, in the validator's message style.
func checkQuery(req *http.Request, op *openapi3.Operation) error {
	q := req.URL.Query()
	for _, pr := range op.Parameters {
		p := pr.Value
		if p == nil || p.In != openapi3.ParameterInQuery {
			continue
		}
		vals, ok := q[p.Name]
		if !ok {
			continue
		}
		multi := p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type.Is(openapi3.TypeArray)
		if len(vals) > 1 && !multi {
			return fault.Invalidf("query parameter %s: given more than once", p.Name)
		}
		if slices.Contains(vals, "") {
			return fault.Invalidf("query parameter %s: must not be empty", p.Name)
		}
	}
	return nil
}

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

// validationError turns a kin-openapi error into a short invalid-input error
// that says which parameter or field is wrong and why, without Go type names.
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
		var se *openapi3.SchemaError
		var pe *openapi3filter.ParseError
		switch {
		case errors.As(re.Err, &se):
			if ptr := se.JSONPointer(); len(ptr) > 0 && re.RequestBody != nil {
				what = "request body field " + strings.Join(ptr, ".")
			}
			reason = se.Reason
			if se.SchemaField == "format" && se.Schema != nil {
				reason = "not a valid " + se.Schema.Format
			}
		case errors.As(re.Err, &pe):
			reason = "not a valid " + formatOf(re)
		case re.Err != nil && reason == "":
			reason = firstLine(re.Err.Error())
		}
		if reason == "" {
			reason = "is invalid"
		}
		return fault.Invalidf("%s: %s", what, reason)
	}
	return fault.Invalidf("%s", firstLine(err.Error()))
}

// formatOf names the type a parameter's value must have.
func formatOf(re *openapi3filter.RequestError) string {
	if re.Parameter != nil && re.Parameter.Schema != nil && re.Parameter.Schema.Value != nil {
		sc := re.Parameter.Schema.Value
		if sc.Format != "" {
			return sc.Format
		}
		if sc.Type != nil && len(*sc.Type) > 0 {
			return (*sc.Type)[0]
		}
	}
	return "value"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
