// Package ctxio copies streams while honouring a context, so that a long copy
// (an upload, an archive entry, a blob) stops soon after its context ends.
package ctxio

import (
	"context"
	"io"
)

// chunk is how much is copied between two context checks.
const chunk = 256 << 10

// Copy copies src to dst until EOF or an error, checking ctx before each
// chunk. It returns the number of bytes written and ctx's error if ctx ended.
func Copy(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, chunk)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := src.Read(buf)
		if m > 0 {
			if _, err := dst.Write(buf[:m]); err != nil {
				return n, err
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}
