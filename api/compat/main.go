// Command compat is the breaking-change gate of reehub's contract (docs/contract.md,
// "Versions and breaking changes"). It compares the working openapi.yaml with the
// newest release under api/released/ using oasdiff (pinned in tools/go.mod, built
// into bin/oasdiff by the Makefile) and fails when info.version does not announce
// what changed: a breaking change needs a higher major version, any other change
// oasdiff reports a higher minor version, any other difference a higher version.
//
// Usage: go run ./api/compat [-v] [-oasdiff bin/oasdiff] [-released api/released] [openapi.yaml]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
)

func main() {
	oasdiff := flag.String("oasdiff", "bin/oasdiff", "the oasdiff binary")
	released := flag.String("released", "api/released", "the directory of released contracts, <version>.yaml")
	verbose := flag.Bool("v", false, "list oasdiff's changes also when the gate passes")
	flag.Parse()
	spec := "openapi.yaml"
	if flag.NArg() > 0 {
		spec = flag.Arg(0)
	}
	r, err := check(context.Background(), *oasdiff, *released, spec)
	if err != nil || *verbose {
		for _, c := range r.changes {
			// A breaking change is listed alone, not among the additions and renames.
			if *verbose || r.level != breaking || c.Level >= 2 {
				fmt.Println(c)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compat:", err)
		os.Exit(1)
	}
	fmt.Printf("compat: %s %s against release %s: %s, %d changes reported by oasdiff (-v lists them): ok\n",
		spec, r.work, r.release.version, r.level, len(r.changes))
}
