// Package api holds the server side generated from openapi.yaml: models, the Gin
// strict server interface and the embedded spec. Never edit it by hand: run make gen.
package api

//go:generate go tool oapi-codegen --config=server.cfg.yaml ../../openapi.yaml
