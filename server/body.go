package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/reehub/reehub/fault"
)

// This file holds what the HTTP layer does with bodies: reading JSON request
// bodies strictly and within their limit, and serving downloads with
// Content-Length, ETag, Range and If-None-Match.

// maxJSONBytes bounds JSON request bodies.
const maxJSONBytes = 1 << 20

// readJSONBody reads a JSON request body of at most maxJSONBytes and checks
// it strictly against schema (which may be nil): exactly one value, no
// duplicate member, no member the schema does not declare, no control
// character in a string (NUL nowhere, others only in format: password), and
// integers written as integers. It returns the bytes so that the caller can
// hand them on to the validator and the handler.
func readJSONBody(body io.Reader, schema *openapi3.Schema) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxJSONBytes+1))
	if err != nil {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) || int64(len(b)) > maxJSONBytes {
			return nil, jsonTooLarge()
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fault.Invalidf("request body: cut off before its end")
		}
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(b) > maxJSONBytes {
		return nil, jsonTooLarge()
	}
	if !utf8.Valid(b) {
		return nil, fault.Invalidf("request body: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := checkValue(dec, schema, ""); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fault.Invalidf("request body: more than one JSON value (trailing data after the first)")
	}
	return b, nil
}

func jsonTooLarge() error {
	return fault.TooLargef("request body is larger than the limit of %d bytes for JSON", maxJSONBytes)
}

// checkValue reads one JSON value from dec and checks it against schema.
func checkValue(dec *json.Decoder, schema *openapi3.Schema, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return malformedJSON(err, path)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return checkObject(dec, schema, path)
		case '[':
			var items *openapi3.Schema
			if schema != nil && schema.Items != nil {
				items = schema.Items.Value
			}
			for i := 0; dec.More(); i++ {
				if err := checkValue(dec, items, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return malformedJSON(err, path)
			}
			return nil
		default:
			return fault.Invalidf("request body: malformed JSON")
		}
	case string:
		return checkString(t, schema, path)
	case json.Number:
		if schema != nil && schema.Type.Is(openapi3.TypeInteger) && !integerLiteral.MatchString(t.String()) {
			return fault.Invalidf("%s: must be an integer written without fraction or exponent, got %s", fieldName(path), t)
		}
	}
	return nil
}

var integerLiteral = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

func checkObject(dec *json.Decoder, schema *openapi3.Schema, path string) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformedJSON(err, path)
		}
		key, _ := tok.(string)
		member := key
		if path != "" {
			member = path + "." + key
		}
		if seen[key] {
			return fault.Invalidf("%s: given more than once", fieldName(member))
		}
		seen[key] = true
		if err := checkString(key, nil, path); err != nil {
			return err
		}
		var sub *openapi3.Schema
		if schema != nil {
			if p := schema.Properties[key]; p != nil {
				sub = p.Value
			} else if schema.Type.Is(openapi3.TypeObject) && len(schema.Properties) > 0 && !allowsMore(schema) {
				return fault.Invalidf("%s: unknown field (expected %s)", fieldName(member), strings.Join(propertyNames(schema), ", "))
			}
		}
		if err := checkValue(dec, sub, member); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return malformedJSON(err, path)
	}
	return nil
}

// allowsMore reports whether an object schema explicitly allows members it
// does not declare.
func allowsMore(s *openapi3.Schema) bool {
	ap := s.AdditionalProperties
	return (ap.Has != nil && *ap.Has) || ap.Schema != nil
}

func propertyNames(s *openapi3.Schema) []string {
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// checkString refuses NUL anywhere and other control characters (newlines
// included) outside of passwords.
func checkString(v string, schema *openapi3.Schema, path string) error {
	password := schema != nil && schema.Format == "password"
	for _, r := range v {
		if r == 0 || (!password && (r < 0x20 || r == 0x7f)) {
			return fault.Invalidf("%s: must not contain control characters (found %U)", fieldName(path), r)
		}
	}
	return nil
}

func fieldName(path string) string {
	if path == "" {
		return "request body"
	}
	return "request body field " + path
}

func malformedJSON(err error, path string) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fault.Invalidf("request body: malformed JSON at byte %d", se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if path == "" {
			return fault.Invalidf("request body: empty or cut off JSON")
		}
		return fault.Invalidf("request body: JSON cut off in %s", path)
	}
	return fault.Invalidf("request body: malformed JSON")
}

// download is a response that serves a seekable blob with http.ServeContent:
// Content-Length, ETag, Accept-Ranges, Range (206, 416) and If-None-Match
// (304). HEAD requests get the headers only.
type download struct {
	req         *http.Request
	body        io.ReadSeekCloser
	contentType string
	etag        string // quoted, such as "sha256:..."
	disposition string
	digest      string // a Digest header value, or ""
	modTime     time.Time
}

func (d download) visit(w http.ResponseWriter) error {
	defer d.body.Close()
	h := w.Header()
	h.Set("Content-Type", d.contentType)
	h.Set("Accept-Ranges", "bytes")
	if d.etag != "" {
		h.Set("ETag", d.etag)
	}
	if d.disposition != "" {
		h.Set("Content-Disposition", d.disposition)
	}
	if d.digest != "" {
		h.Set("Digest", d.digest)
	}
	req := d.req
	if headRequest(req.Context()) {
		req = req.Clone(req.Context())
		req.Method = http.MethodHead
	}
	http.ServeContent(w, req, "", d.modTime, d.body)
	return nil
}

// VisitReeProcessDownloadResponse serves the output zip.
func (d download) VisitReeProcessDownloadResponse(w http.ResponseWriter) error { return d.visit(w) }

// VisitReeImageDownloadResponse serves the image TAR.
func (d download) VisitReeImageDownloadResponse(w http.ResponseWriter) error { return d.visit(w) }

// VisitReeProcessLogResponse serves a final log.
func (d download) VisitReeProcessLogResponse(w http.ResponseWriter) error { return d.visit(w) }

// VisitReeLogDownloadResponse serves a final log.
func (d download) VisitReeLogDownloadResponse(w http.ResponseWriter) error { return d.visit(w) }

// quoteETag makes an entity tag of a digest.
func quoteETag(digest string) string { return strconv.Quote(digest) }

type requestKey struct{}

// withRequest records the request in its own context, so that a handler's
// response can serve it with http.ServeContent.
func withRequest(req *http.Request) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), requestKey{}, req))
}

// requestFrom returns the request recorded by withRequest.
func requestFrom(ctx context.Context) (*http.Request, error) {
	req, ok := ctx.Value(requestKey{}).(*http.Request)
	if !ok {
		return nil, errors.New("no request in context")
	}
	return req, nil
}
