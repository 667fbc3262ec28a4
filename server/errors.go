package server

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/fossology"
	"github.com/reehub/reehub/service/registry"
)

// statusOf is the one mapping from error kinds to HTTP statuses.
func statusOf(err error) int {
	var maxBytes *http.MaxBytesError
	switch {
	case errors.Is(err, fault.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, fault.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, fault.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, fault.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, fault.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, fault.ErrTooLarge), errors.As(err, &maxBytes):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnsupportedMedia):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, fault.ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, fossology.ErrAgentNotScheduled):
		return http.StatusPreconditionFailed
	case errors.Is(err, fault.ErrUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// errUnsupportedMedia marks a request body of a media type the operation
// does not declare.
var errUnsupportedMedia = errors.New("unsupported media type")

// unavailableMessage is what a client is told when a service reehub needs
// does not answer; which one, where and why goes to the log.
const unavailableMessage = "the container service is unavailable; try again later"

// apiError builds the body of an error response. 5xx details stay in the log.
func apiError(status int, err error) api.ApiError {
	msg := err.Error()
	var maxBytes *http.MaxBytesError
	var notReady *fossology.NotReadyError
	switch {
	case status == http.StatusInternalServerError:
		msg = "internal server error"
	case status == http.StatusServiceUnavailable && errors.As(err, &notReady):
		msg = notReady.Message
	case status == http.StatusServiceUnavailable:
		msg = unavailableMessage
	case errors.As(err, &maxBytes):
		msg = "upload is larger than the limit of " + itoa(maxBytes.Limit) + " bytes"
	}
	return api.ApiError{Code: status, Message: msg, Type: api.ApiErrorTypeERROR}
}

// invalidAs405Key marks (in the gin context) a request of an operation that
// answers invalid input with 405, as the ViCE seed declares for its create,
// update and deploy operations. Malformed JSON stays a 400: the gate reads
// the body before it sets the mark.
const invalidAs405Key = "reehub.invalid-as-405"

// writeError writes err in the error model with the status of its kind.
func (s *Server) writeError(c *gin.Context, err error) {
	status := statusOf(err)
	if status == http.StatusBadRequest && c.GetBool(invalidAs405Key) {
		status = http.StatusMethodNotAllowed
	}
	s.writeStatus(c, status, err)
}

// writeStatus writes err in the error model with an explicit status. A
// request whose client went away is logged as a client abort and answered
// with nothing: there is nobody to read a 500.
func (s *Server) writeStatus(c *gin.Context, status int, err error) {
	ctx := c.Request.Context()
	if clientGone(ctx, err) {
		s.log.InfoContext(ctx, "client aborted the request", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		c.Abort()
		return
	}
	var notReady *fossology.NotReadyError
	if status >= 500 && !errors.As(err, &notReady) {
		s.log.ErrorContext(ctx, "request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	} else {
		s.log.DebugContext(ctx, "request refused", "path", c.Request.URL.Path, "status", status, "err", err)
	}
	studioFamily := studioPath(c.Request.URL.Path)
	if status == http.StatusUnauthorized {
		if studioFamily {
			// Python's urllib sends credentials only after a Basic challenge it can parse.
			c.Header("WWW-Authenticate", `Basic realm="reehub"`)
		} else {
			c.Header("WWW-Authenticate", authChallenge(c.Request))
		}
	}
	if status == http.StatusServiceUnavailable && notReady != nil {
		c.Header("Retry-After", strconv.Itoa(max(1, notReady.RetryAfter)))
		if notReady.LookAt != "" {
			c.Header("Look-at", notReady.LookAt)
		}
	}
	var limited *fault.LimitedError
	if status == http.StatusTooManyRequests && errors.As(err, &limited) {
		c.Header("Retry-After", strconv.FormatInt(int64(limited.RetryAfter/time.Second), 10))
	}
	if c.Writer.Written() {
		// A streamed response already started; the client sees a cut body.
		c.Abort()
		return
	}
	if studioFamily {
		writeStudioError(c, status, err)
		return
	}
	c.AbortWithStatusJSON(status, apiError(status, err))
}

// clientGone reports whether err comes from the client closing the
// connection (its request context ended, or a write found the peer gone).
func clientGone(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.Canceled) {
		return true
	}
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = digits[n%10]
		n /= 10
	}
	return string(b[i:])
}

// requestError turns a failure of the generated code to decode a request
// (the strict server's and the parameter binder's hooks) into invalid input
// with a message for the client; the caller logs the decoder's own text,
// which names Go types.
func requestError(err error) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return err
	}
	if m := paramFormat.FindStringSubmatch(err.Error()); m != nil {
		return fault.Invalidf("parameter %s: malformed value", m[1])
	}
	return fault.Invalidf("request body: malformed")
}

// paramFormat matches the generated parameter binder's message.
var paramFormat = regexp.MustCompile(`^Invalid format for parameter ([A-Za-z0-9_.-]+):`)

// authChallenge is the WWW-Authenticate of a 401: Basic and Bearer, except
// for a script in a browser (X-Requested-With: XMLHttpRequest, as Swagger UI
// at /docs sends it), which gets Bearer only: a Basic challenge would open the
// browser's own login dialog over the page. Clients that send credentials
// only after a Basic challenge (Python's urllib) do not send that header.
func authChallenge(r *http.Request) string {
	if r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		return `Bearer realm="reehub"`
	}
	return `Basic realm="reehub", charset="UTF-8", Bearer realm="reehub"`
}

// errOCIMethod marks a method the OCI endpoint does not serve on a path.
var errOCIMethod = errors.New("method not allowed")

// writeOCI writes err in the distribution spec's error format, with the
// status of its code (the OCI endpoint's part of the error map).
func (s *Server) writeOCI(c *gin.Context, err error) {
	status, code := statusOf(err), "UNKNOWN"
	var oe *registry.OCIError
	switch {
	case errors.As(err, &oe):
		code = oe.Code
	case errors.Is(err, registry.ErrRangeInvalid):
		status, code = http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID"
	case errors.Is(err, errOCIMethod):
		status, code = http.StatusMethodNotAllowed, "UNSUPPORTED"
	case status == http.StatusUnauthorized:
		code = "UNAUTHORIZED"
	case status == http.StatusForbidden:
		code = "DENIED"
	case status == http.StatusNotFound:
		code = "NAME_UNKNOWN"
	case status == http.StatusRequestEntityTooLarge:
		code = "SIZE_INVALID"
	case status == http.StatusBadRequest:
		code = "UNSUPPORTED"
	}
	msg := err.Error()
	if status >= 500 {
		msg = "internal server error"
	}
	ctx := c.Request.Context()
	if clientGone(ctx, err) {
		c.Abort()
		return
	}
	if status >= 500 {
		s.log.ErrorContext(ctx, "registry request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	if c.Writer.Written() {
		c.Abort()
		return
	}
	c.AbortWithStatusJSON(status, gin.H{"errors": []gin.H{{"code": code, "message": msg}}})
}
