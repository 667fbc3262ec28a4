package job

import (
	"context"
	"fmt"

	"github.com/reehub/reehub/store/blob"
)

// Usage is what the engine's stores hold.
type Usage struct {
	// Blobs are the bytes in the blob store by the kind that references
	// them (a blob referenced as several kinds counts once, under the first
	// registered: outputs, logs, then the families' kinds); Other is what
	// no column of this database references.
	Blobs map[BlobKind]int64
	// Other, Total and Count cover every blob.
	Other, Total int64
	Count        int
	// Images and ImageBytes are the images of the registered resource sets.
	Images     int
	ImageBytes int64
	// DatabaseBytes is the size of the database.
	DatabaseBytes int64
	// Database is the database kind (sqlite, postgres).
	Database string
}

// Usage measures the blob store, the images the families hold and the database.
func (e *Engine) Usage(ctx context.Context) (Usage, error) {
	u, err := e.storeUsage(ctx)
	if err != nil {
		return u, err
	}
	return u, e.imageUsage(ctx, &u)
}

// storeUsage measures the blob store and the database.
func (e *Engine) storeUsage(ctx context.Context) (Usage, error) {
	u := Usage{Blobs: map[BlobKind]int64{BlobOutputs: 0, BlobLogs: 0, BlobInputs: 0}, Database: string(e.store.Dialect())}
	sizes := map[string]int64{}
	var digests []string
	err := e.blobs.Walk(ctx, func(b blob.Info) error {
		sizes[b.Digest] = b.Size
		digests = append(digests, b.Digest)
		return nil
	})
	if err != nil {
		return u, fmt.Errorf("usage: %w", err)
	}
	kinds, err := e.referenced(ctx, digests)
	if err != nil {
		return u, fmt.Errorf("usage: %w", err)
	}
	for d, n := range sizes {
		u.Count++
		u.Total += n
		if k, ok := kinds[d]; ok {
			u.Blobs[k] += n
		} else {
			u.Other += n
		}
	}
	if u.DatabaseBytes, err = e.store.DatabaseBytes(ctx); err != nil {
		return u, fmt.Errorf("usage: %w", err)
	}
	return u, nil
}

// imageUsage counts the images of the registered resource sets into u.
func (e *Engine) imageUsage(ctx context.Context, u *Usage) error {
	for _, set := range e.sets {
		rs, err := set.List(ctx)
		if err != nil {
			return fmt.Errorf("usage: %w", err)
		}
		for _, r := range rs {
			if r.Kind == "image" {
				u.Images++
				u.ImageBytes += r.Bytes
			}
		}
	}
	return nil
}
