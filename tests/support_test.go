package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
	"github.com/reehub/reehub/server/wire"
)

// specRouter routes requests to operations of openapi.yaml, read from disk so
// that the suite checks the contract file itself.
func specRouter(t testing.TB) routers.Router {
	t.Helper()
	// XML bodies (the Studio family) are checked against the same schemas as
	// JSON, read the way the server reads them.
	openapi3filter.RegisterBodyDecoder("application/xml", wire.DecodeXML)
	// GET /user/show_api_key answers an HTML page (a string schema).
	openapi3filter.RegisterBodyDecoder("text/html", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		return string(b), err
	})
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../openapi.yaml")
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	doc.Servers = openapi3.Servers{{URL: "/"}}
	r, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return r
}

// validatingTransport checks every response of a spec operation against
// openapi.yaml: the status must be declared and JSON and text bodies must match
// their schemas. A violation fails the client call.
type validatingTransport struct {
	base   http.RoundTripper
	router routers.Router
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	// The router matches on the path only; the host of the test server differs.
	probe := req.Clone(req.Context())
	probe.URL.Host, probe.Host = "", ""
	probe.URL.Scheme = ""
	route, params, err := v.router.FindRoute(probe)
	if err != nil {
		return resp, nil // not an API operation (docs, openapi.yaml)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/json" || mt == "application/xml" || strings.HasPrefix(mt, "text/") {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		input.SetBodyBytes(body)
	} else {
		input.Options.ExcludeResponseBody = true
		input.Body = io.NopCloser(bytes.NewReader(nil))
	}
	if err := openapi3filter.ValidateResponse(req.Context(), input); err != nil {
		return nil, fmt.Errorf("%s %s -> %d violates openapi.yaml: %w", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp, nil
}

// api is a generated client for one identity on one instance.
type api struct {
	*client.ClientWithResponses
	in   *instance
	http *http.Client
	auth client.RequestEditorFn
}

func newClient(t testing.TB, in *instance, auth client.RequestEditorFn) *api {
	t.Helper()
	hc := &http.Client{Transport: &validatingTransport{base: http.DefaultTransport, router: specRouter(t)}}
	opts := []client.ClientOption{client.WithHTTPClient(hc)}
	if auth != nil {
		opts = append(opts, client.WithRequestEditorFn(auth))
	}
	c, err := client.NewClientWithResponses(in.url, opts...)
	require.NoError(t, err)
	return &api{ClientWithResponses: c, in: in, http: hc, auth: auth}
}

func basic(user, pass string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.SetBasicAuth(user, pass)
		return nil
	}
}

func bearer(tok string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

// admin returns a client authenticated as the instance's admin.
func admin(t testing.TB, in *instance) *api { return newClient(t, in, basic("admin", in.password)) }

// form is a multipart body: text fields and at most one file, streamed.
type form struct {
	fields   [][2]string
	filePath string
	fileName string
}

// body streams the form; it returns the content type and the reader.
func (f form) body() (string, io.Reader) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for _, kv := range f.fields {
				if err := mw.WriteField(kv[0], kv[1]); err != nil {
					return err
				}
			}
			if f.filePath != "" {
				name := f.fileName
				if name == "" {
					name = filepath.Base(f.filePath)
				}
				w, err := mw.CreateFormFile("file", name)
				if err != nil {
					return err
				}
				in, err := os.Open(f.filePath)
				if err != nil {
					return err
				}
				defer in.Close()
				if _, err := io.Copy(w, in); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return mw.FormDataContentType(), pr
}

// testIssuer is a small OIDC provider: discovery, JWKS and RS256 tokens.
type testIssuer struct {
	*httptest.Server
	key *rsa.PrivateKey
}

func startIssuer() (*testIssuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	is := &testIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.URL(), "jwks_uri": is.URL() + "/jwks",
			"authorization_endpoint": is.URL() + "/auth", "token_endpoint": is.URL() + "/token",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		pub := key.PublicKey
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "test",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	})
	is.Server = httptest.NewServer(mux)
	return is, nil
}

// URL is the issuer URL.
func (is *testIssuer) URL() string { return is.Server.URL }

// token signs an access token for subject with the given lifetime, by this
// issuer or (forged) by another key.
func (is *testIssuer) token(t testing.TB, subject, username string, ttl time.Duration, key *rsa.PrivateKey) string {
	t.Helper()
	if key == nil {
		key = is.key
	}
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": is.URL(), "sub": subject, "aud": "reehub", "preferred_username": username,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	})
	tok.Header["kid"] = "test"
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// tlsOrigin is an HTTPS server on loopback with its own CA, standing in for an
// upstream mirror that builds fetch from over HTTPS.
type tlsOrigin struct {
	*httptest.Server
	caFile string
}

const originBody = "fetched over https through the recording proxy\n"

func startTLSOrigin(dir string) (*tlsOrigin, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello.txt", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, originBody) })
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	caFile := filepath.Join(dir, "origin-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o644); err != nil {
		return nil, err
	}
	return &tlsOrigin{Server: srv, caFile: caFile}, nil
}

type (
	netConn   = net.Conn
	netDialer = net.Dialer
)

// fileSHA returns the sha256 of a file.
func fileSHA(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}
