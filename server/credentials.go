package server

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/auth"
)

// Credentials a request can carry, read here and verified by service/auth:
//
//   - Authorization: Basic base64(user:password) or base64(user:reeh_token)
//   - Authorization: Bearer <personal token | FOSSology-style JWT | OIDC access token>
//   - ?access_token=<the same tokens as Bearer> (what REANA clients send)
//
// No error message repeats any part of a credential, not even the scheme
// word, which is where a client that forgot the scheme puts its secret.

// accessTokenParam is the query parameter REANA clients put their token in.
const accessTokenParam = "access_token"

// queryTokenKey is the request-context key of the token taken out of the URL.
type queryTokenKey struct{}

// takeQueryCredentials removes every access_token parameter from the request
// URL (URL.RawQuery and RequestURI) before any other middleware runs, so that
// nothing downstream (request and error logs, the recovery handler, handlers
// that store a URL) can see it; the first non-empty one is kept in the request
// context for authenticate.
func takeQueryCredentials(c *gin.Context) {
	req := c.Request
	if !mayHoldAccessToken(req.URL.RawQuery) {
		return
	}
	rest, tok, found := cutQueryParam(req.URL.RawQuery, accessTokenParam)
	if !found {
		return
	}
	req.URL.RawQuery = rest
	req.RequestURI = req.URL.RequestURI()
	if tok != "" {
		c.Request = req.WithContext(context.WithValue(req.Context(), queryTokenKey{}, tok))
	}
}

// cutQueryParam returns rawQuery without any name=value pairs for name (the
// other pairs byte for byte), the first non-empty value of name, and whether
// name was there at all.
func cutQueryParam(rawQuery, name string) (rest, value string, found bool) {
	var keep []string
	for _, pair := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == name || k == name {
			found = true
			if value == "" {
				value, _ = url.QueryUnescape(v)
			}
			continue
		}
		keep = append(keep, pair)
	}
	return strings.Join(keep, "&"), value, found
}

// redactedURL is the request's URL as logs show it: access_token is replaced
// even if it somehow got past takeQueryCredentials.
func redactedURL(u *url.URL) string {
	if !mayHoldAccessToken(u.RawQuery) {
		return u.RequestURI()
	}
	rest, _, found := cutQueryParam(u.RawQuery, accessTokenParam)
	if !found {
		return u.RequestURI()
	}
	if rest != "" {
		rest += "&"
	}
	return u.EscapedPath() + "?" + rest + accessTokenParam + "=REDACTED"
}

// mayHoldAccessToken is a quick test that rawQuery cannot name access_token,
// even percent-encoded.
func mayHoldAccessToken(rawQuery string) bool {
	return strings.Contains(rawQuery, accessTokenParam) || strings.Contains(rawQuery, "%")
}

// credential is what a request presents, not yet verified.
type credential struct {
	basic  bool // user and secret from Basic; otherwise secret is a bearer token
	user   string
	secret string
}

var (
	errNoCredentials  = fault.New(fault.ErrUnauthenticated, "authentication required: use HTTP Basic, a Bearer token or the access_token query parameter")
	errNoScheme       = fault.New(fault.ErrUnauthenticated, "the Authorization header must be a scheme (Basic or Bearer), a space and a credential")
	errUnknownScheme  = fault.New(fault.ErrUnauthenticated, "unsupported authorization scheme: use Basic or Bearer")
	errBadBasic       = fault.New(fault.ErrUnauthenticated, "malformed Basic credentials: expected base64 of user:password")
	errEmptyBearer    = fault.New(fault.ErrUnauthenticated, "empty Bearer token")
	errTwoCredentials = fault.New(fault.ErrUnauthenticated, "send one credential: the Authorization header or access_token, not both")
)

// readCredential reads the one credential of a request.
func readCredential(req *http.Request) (credential, error) {
	queryTok, _ := req.Context().Value(queryTokenKey{}).(string)
	h := req.Header.Get("Authorization")
	if h == "" {
		if queryTok != "" {
			return credential{secret: queryTok}, nil
		}
		return credential{}, errNoCredentials
	}
	if queryTok != "" {
		return credential{}, errTwoCredentials
	}
	scheme, rest, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found {
		return credential{}, errNoScheme
	}
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return credential{}, errBadBasic
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return credential{}, errBadBasic
		}
		return credential{basic: true, user: user, secret: pass}, nil
	case "bearer":
		if rest == "" {
			return credential{}, errEmptyBearer
		}
		return credential{secret: rest}, nil
	default:
		return credential{}, errUnknownScheme
	}
}

// authenticate verifies the request's credential. Failed Basic logins are
// counted against the connection's address (not a forwarded-for header, which
// any client can write).
func (s *Server) authenticate(req *http.Request) (auth.Principal, error) {
	cred, err := readCredential(req)
	if err != nil {
		return auth.Principal{}, err
	}
	ctx := auth.WithClientAddr(req.Context(), req.RemoteAddr)
	if cred.basic {
		return s.auth.Basic(ctx, cred.user, cred.secret)
	}
	return s.auth.Bearer(ctx, cred.secret)
}
