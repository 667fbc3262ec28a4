package server

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/gen/api"
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
	case errors.Is(err, errUnprocessable):
		return http.StatusUnprocessableEntity
	case errors.Is(err, fault.ErrUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// errUnprocessable marks a well-formed request this server cannot carry out.
var errUnprocessable = errors.New("unprocessable")

// apiError builds the body of an error response. 5xx details stay in the log.
func apiError(status int, err error) api.Error {
	msg := err.Error()
	var maxBytes *http.MaxBytesError
	switch {
	case status == http.StatusInternalServerError:
		msg = "internal server error"
	case errors.As(err, &maxBytes):
		msg = "upload is larger than the limit of " + itoa(maxBytes.Limit) + " bytes"
	}
	return api.Error{Code: status, Message: msg, Type: api.ErrorTypeERROR}
}

// writeError writes err in the error model with the status of its kind.
func (s *Server) writeError(c *gin.Context, err error) {
	s.writeStatus(c, statusOf(err), err)
}

// writeStatus writes err in the error model with an explicit status.
func (s *Server) writeStatus(c *gin.Context, status int, err error) {
	if status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	} else {
		s.log.DebugContext(c.Request.Context(), "request refused", "path", c.Request.URL.Path, "status", status, "err", err)
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Basic realm="reehub", charset="UTF-8", Bearer realm="reehub"`)
	}
	if c.Writer.Written() {
		// A streamed response already started; the client sees a cut body.
		c.Abort()
		return
	}
	c.AbortWithStatusJSON(status, apiError(status, err))
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

// requestError wraps errors of decoding a request (the strict server's hook) as invalid input.
func requestError(err error) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return err
	}
	return fault.Invalidf("request: %v", err)
}
