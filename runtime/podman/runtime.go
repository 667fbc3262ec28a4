package podman

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/containers/podman/v5/pkg/bindings"
	"github.com/containers/podman/v5/pkg/bindings/system"
	"github.com/containers/podman/v5/pkg/errorhandling"

	"github.com/reehub/reehub/fault"
)

// DefaultURI is the socket of the rootful Podman service that
// scripts/setup-host.sh starts.
const DefaultURI = "unix:///run/podman/podman.sock"

// Runtime is a connection to one Podman API service. It is safe for
// concurrent use.
type Runtime struct {
	netMu sync.Mutex // serialises CreateNetwork (see there)
	uri   string
	conn  context.Context // carries the bindings connection; never cancelled
}

// Connect opens a connection to the Podman service at uri (DefaultURI when
// empty) and pings it. When the service does not answer, the error is one
// line naming the socket, the cause and the fix, and wraps
// fault.ErrUnavailable.
func Connect(ctx context.Context, uri string) (*Runtime, error) {
	if uri == "" {
		uri = DefaultURI
	}
	type result struct {
		conn context.Context
		err  error
	}
	// NewConnection has no deadline of its own and retries; bound it by ctx.
	done := make(chan result, 1)
	go func() {
		c, err := bindings.NewConnection(context.WithoutCancel(ctx), uri)
		done <- result{c, err}
	}()
	select {
	case <-ctx.Done():
		return nil, unreachable(uri, ctx.Err())
	case res := <-done:
		if res.err != nil {
			return nil, unreachable(uri, res.err)
		}
		return &Runtime{uri: uri, conn: res.conn}, nil
	}
}

func unreachable(uri string, cause error) error {
	msg := strings.Join(strings.Fields(cause.Error()), " ")
	return fault.Unavailablef("podman service not reachable at %s (%s): run \"sudo scripts/setup-host.sh\" or set REEHUB_PODMAN_SOCKET", uri, msg)
}

// URI returns the address of the service this runtime talks to.
func (r *Runtime) URI() string { return r.uri }

// Version returns the version of the Podman service, such as "4.3.1".
func (r *Runtime) Version(ctx context.Context) (string, error) {
	c, cancel := r.callCtx(ctx)
	defer cancel()
	v, err := system.Version(c, nil)
	if err != nil {
		return "", r.wrap("podman version", err)
	}
	if v.Server == nil {
		return "", fmt.Errorf("podman version: service reported no server version")
	}
	return v.Server.Version, nil
}

// callCtx derives a call context from the connection context that ends when
// ctx ends.
func (r *Runtime) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(r.conn)
	stop := context.AfterFunc(ctx, cancel)
	return c, func() { stop(); cancel() }
}

// httpCode returns the HTTP status of a service error, or 0.
func httpCode(err error) int {
	var em *errorhandling.ErrorModel
	if errors.As(err, &em) {
		return em.ResponseCode
	}
	var emv errorhandling.ErrorModel
	if errors.As(err, &emv) {
		return emv.ResponseCode
	}
	return 0
}

// wrap adds what to err and translates the service's 404 and 409 into
// fault kinds and connection failures into fault.ErrUnavailable.
func (r *Runtime) wrap(what string, err error) error {
	switch code := httpCode(err); {
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: %w", what, fault.NotFoundf("%s", err.Error()))
	case code == http.StatusConflict:
		return fmt.Errorf("%s: %w", what, fault.Conflictf("%s", err.Error()))
	case code != 0:
		return fmt.Errorf("%s: %w", what, err)
	}
	var ce bindings.ConnectError
	if errors.As(err, &ce) || isDialError(err) {
		return fmt.Errorf("%s: %w", what, unreachable(r.uri, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isDialError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connect: no such file or directory") || strings.Contains(s, "connect: connection refused")
}
