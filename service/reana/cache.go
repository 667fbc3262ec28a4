package reana

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
)

// CacheKey is REANA's serial cache key of a step: a digest of its commands
// (parameters expanded), its environment's digest and the hashes of the
// workspace files it can read. Two runs of a step with the same key produce
// the same outputs, so the second may restore the first's instead of
// running.
func CacheKey(commands []string, envDigest string, inputs map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "reehub-reana-cache-v1\x00%s\x00%d\x00", envDigest, len(commands))
	for _, c := range commands {
		fmt.Fprintf(h, "%d\x00%s\x00", len(c), c)
	}
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", n, inputs[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HashFiles returns the sha256 (hex) of every regular file of the
// workspace, by relative path; uploads in progress are skipped.
func (w *Workspace) HashFiles(ctx context.Context) (map[string]string, error) {
	r, err := w.root()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fsys := r.FS()
	out := map[string]string{}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), partialPrefix) {
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		out[p] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash workspace: %w", err)
	}
	return out, nil
}

// Changed returns, sorted, the paths of after that are new or differ from
// before (a step's outputs, to keep for the cache), and those of before that
// are gone.
func Changed(before, after map[string]string) (changed, removed []string) {
	for p, h := range after {
		if before[p] != h {
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			removed = append(removed, p)
		}
	}
	sort.Strings(changed)
	sort.Strings(removed)
	return changed, removed
}
