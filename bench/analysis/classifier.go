package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	classifier "github.com/google/licenseclassifier/v2"
	"github.com/google/licenseclassifier/v2/assets"

	"github.com/reehub/reehub/analysis/license"
)

// classifierTool runs github.com/google/licenseclassifier/v2 with its
// embedded corpus (SPDX license texts and headers) on every file: the
// evaluation the issue asks for, against reehub's licensecheck-based matcher.
type classifierTool struct {
	c     *classifier.Classifier
	setup time.Duration
}

func newClassifierTool() (*classifierTool, error) {
	start := time.Now()
	c, err := assets.DefaultClassifier()
	if err != nil {
		return nil, fmt.Errorf("licenseclassifier: %w", err)
	}
	return &classifierTool{c: c, setup: time.Since(start)}, nil
}

// classifierMax is how much of a file licenseclassifier reads, as reehub
// (1 MiB).
const classifierMax = 1 << 20

// run classifies every file of sizes (the files reehub reported) on all
// cores.
func (t *classifierTool) run(ctx context.Context, dir string, sizes map[string]int64) (tool, error) {
	out := tool{licenses: map[string][]string{}, holders: map[string][]string{}}
	paths := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range countCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range paths {
				b, err := os.ReadFile(filepath.Join(dir, p))
				if err != nil || slices.Contains(b[:min(len(b), 8<<10)], 0) {
					continue
				}
				ids := classifierIDs(t.c.Match(b[:min(len(b), classifierMax)]))
				if len(ids) > 0 {
					mu.Lock()
					out.licenses[p] = ids
					mu.Unlock()
				}
			}
		}()
	}
	for p, size := range sizes {
		if ctx.Err() != nil {
			break
		}
		if size > 0 {
			paths <- p
		}
	}
	close(paths)
	wg.Wait()
	out.elapsed = time.Since(start)
	return out, ctx.Err()
}

// classifierIDs turns licenseclassifier's names into SPDX ids as reehub
// normalises them; its copyright matches are left out. Its GNU names have no
// -only/-or-later ("GPL-2.0" names both the "version 2" and the "version 2
// or later" notices): a header match is read as -or-later (most of its
// header variants are), a full text as -only, as reehub reads one. Names with an exception ("GPL-2.0-with-autoconf-exception") keep the
// license and drop the exception, as the bench does on every side.
func classifierIDs(r classifier.Results) []string {
	var ids []string
	for _, m := range r.Matches {
		if m.MatchType == "Copyright" {
			continue
		}
		name := m.Name
		if i := strings.Index(name, "-with-"); i > 0 {
			name = name[:i]
		}
		id, plus := license.CanonicalID(name, m.MatchType == "Header")
		if plus {
			id += "+"
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
