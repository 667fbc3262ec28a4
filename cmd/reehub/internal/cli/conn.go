package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/reehub/reehub/gen/client"
)

// session is a connection to one server with one credential.
type session struct {
	server string
	// api is the generated client; every call carries the credential.
	api *client.ClientWithResponses
	raw *client.Client
}

// resolveServer is --server, else $REEHUB_SERVER, else the stored server.
func (c *app) resolveServer(cfg Config) (string, error) {
	s := c.flags.server
	if s == "" {
		s = c.Getenv("REEHUB_SERVER")
	}
	if s == "" {
		s = cfg.Server
	}
	if s == "" {
		return "", &ExitError{Code: ExitAuth, Err: errors.New("no server: run `reehub login --server URL` or set REEHUB_SERVER")}
	}
	return normalizeServer(s)
}

// normalizeServer checks a server URL and drops a trailing slash.
func normalizeServer(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", Usage(fmt.Errorf("server %q: want an http:// or https:// URL with a host", s))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// session checks --output, then connects: the start of every command that
// talks to the server and prints.
func (c *app) session() (*session, error) {
	if err := c.validateOutput(); err != nil {
		return nil, err
	}
	return c.connect()
}

// connect opens a session with the resolved server and token.
func (c *app) connect() (*session, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return nil, err
	}
	server, err := c.resolveServer(cfg)
	if err != nil {
		return nil, err
	}
	token := c.flags.token
	if token == "" {
		token = c.Getenv("REEHUB_TOKEN")
	}
	if token == "" {
		token = cfg.Token
	}
	if token == "" {
		return nil, &ExitError{Code: ExitAuth, Err: errors.New("not logged in: run `reehub login` or set REEHUB_TOKEN")}
	}
	return newSession(server, func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
}

// newSession builds the generated clients for server with one request editor.
func newSession(server string, auth client.RequestEditorFn) (*session, error) {
	hc := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
		MaxIdleConnsPerHost:   4,
	}}
	opts := []client.ClientOption{client.WithHTTPClient(hc), client.WithRequestEditorFn(auth)}
	api, err := client.NewClientWithResponses(server, opts...)
	if err != nil {
		return nil, Usage(fmt.Errorf("server %q: %w", server, err))
	}
	raw, err := client.NewClient(server, opts...)
	if err != nil {
		return nil, Usage(fmt.Errorf("server %q: %w", server, err))
	}
	return &session{server: server, api: api, raw: raw}, nil
}

// transportError maps a failed request (no response at all) to exit code 3,
// unless the context ended.
func transportError(ctx context.Context, server string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &ExitError{Code: ExitUnreachable, Err: fmt.Errorf("cannot reach %s: %w", server, err)}
}

// apiError turns an error response into an error with the server's message:
// exit code 4 for 401 and 403, 1 otherwise.
func apiError(what string, status int, body []byte) error {
	msg := errorMessage(body)
	if msg == "" {
		msg = http.StatusText(status)
	}
	err := fmt.Errorf("%s: %s (HTTP %d)", what, msg, status)
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return &ExitError{Code: ExitAuth, Err: err}
	}
	return &ExitError{Code: ExitFailed, Err: err}
}

// errorMessage reads the message of reehub's error model (or of the REANA and
// FOSSology shapes, which also carry "message").
func errorMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// response is what every generated *WithResponse result has.
type response interface {
	StatusCode() int
	GetBody() []byte
}

// check is the common ending of a generated *WithResponse call: a transport
// error or a status other than want becomes an error. resp is only touched
// when err is nil (it is a nil pointer otherwise).
func (s *session) check(ctx context.Context, what string, err error, resp response, want ...int) error {
	if err != nil {
		return transportError(ctx, s.server, err)
	}
	status := resp.StatusCode()
	for _, w := range want {
		if status == w {
			return nil
		}
	}
	return apiError(what, status, resp.GetBody())
}

// checkRaw is check for a streamed response: on an unexpected status it reads
// (a bounded part of) the body for the message and closes it.
func (s *session) checkRaw(ctx context.Context, what string, resp *http.Response, err error, want ...int) error {
	if err != nil {
		return transportError(ctx, s.server, err)
	}
	for _, w := range want {
		if resp.StatusCode == w {
			return nil
		}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return apiError(what, resp.StatusCode, body)
}
