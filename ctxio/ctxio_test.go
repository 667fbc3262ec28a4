package ctxio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/ctxio"
)

func TestCopy(t *testing.T) {
	t.Parallel()
	src := strings.Repeat("x", 1<<20+7)
	var dst bytes.Buffer
	n, err := ctxio.Copy(context.Background(), &dst, strings.NewReader(src))
	require.NoError(t, err)
	require.EqualValues(t, len(src), n)
	require.Equal(t, src, dst.String())
}

func TestCopyStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := ctxio.Copy(ctx, io.Discard, strings.NewReader("data"))
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, n)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestCopyReturnsReadErrors(t *testing.T) {
	t.Parallel()
	_, err := ctxio.Copy(context.Background(), io.Discard, failingReader{})
	require.EqualError(t, err, "disk on fire")
}
