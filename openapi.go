// Package reehub holds reehub's API contract: openapi.yaml, bundled by
// `make gen` from the per-family files under api/ and committed. The server
// serves, routes and validates with exactly these bytes.
package reehub

import (
	"bytes"
	_ "embed" // for the contract below
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns openapi.yaml byte for byte as committed.
func OpenAPI() []byte { return bytes.Clone(openAPI) }
