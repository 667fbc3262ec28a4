// Command bundle builds reehub's one OpenAPI document from the files authored
// per API family under api/: common.yaml (info, security, the error model and
// the shared responses, and the ordered list of family files) and one file per
// family (tags, paths, components). It enforces the naming rules of
// docs/contract.md, validates the result with kin-openapi, and writes it to
// the output file (openapi.yaml), or with -check fails if that file differs.
//
// Usage: go run ./api/bundle [-check] [-o openapi.yaml] [api]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "openapi.yaml", "the bundled document to write")
	check := flag.Bool("check", false, "fail if the output file is not what the sources bundle to, instead of writing it")
	flag.Parse()
	dir := "api"
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	if err := run(dir, *out, *check); err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		os.Exit(1)
	}
}

func run(dir, out string, check bool) error {
	doc, err := bundle(dir)
	if err != nil {
		return err
	}
	if check {
		have, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		if !bytes.Equal(have, doc) {
			return fmt.Errorf("%s is not what %s bundles to: run make gen", out, dir)
		}
		return nil
	}
	return os.WriteFile(out, doc, 0o644)
}
