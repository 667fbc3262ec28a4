// Package client is the Go client generated from openapi.yaml, used by the
// end-to-end tests and by Go programs that drive reehub. Never edit it by hand.
package client

//go:generate go tool oapi-codegen --config=client.cfg.yaml ../../openapi.yaml
