// Package wire holds the one type the generated code uses for the bodies of
// the Studio family (x-go-type in api/studio.yaml): the handlers render XML and
// JSON from their own Go types (server/render.go), so the generated JSON
// responses only carry a value that marshals itself, and decoded JSON request
// bodies keep their raw bytes for the handler to decode.
package wire

import "encoding/json"

// Body is a Studio JSON body. As a response it marshals through the embedded
// Marshaler (a defined type of Body keeps that promoted method); as a request
// body it keeps the raw JSON in Raw.
type Body struct {
	json.Marshaler
	// Raw is a decoded request body, unparsed.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw body.
func (b *Body) UnmarshalJSON(p []byte) error {
	b.Raw = append(b.Raw[:0], p...)
	return nil
}
