package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/store/blob"
)

func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// TestOCIArchive: the OCI archive of a manifest's blobs is a TAR of
// oci-layout, index.json and the blobs, of the length it announces, that
// go-containerregistry reads back as the same image, and any range of it is
// the same bytes as the whole stream's.
func TestOCIArchive(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	s := &Service{blobs: blobs}
	layer1 := bytes.Repeat([]byte("layer one "), 1000) // not a multiple of 512
	layer2 := bytes.Repeat([]byte{7}, 4096)
	var descs []map[string]any
	for _, l := range [][]byte{layer1, layer2} {
		ref, err := blobs.Put(ctx, bytes.NewReader(l))
		require.NoError(t, err)
		require.Equal(t, digestOf(l), ref.Digest)
		descs = append(descs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ref.Digest, "size": len(l)})
	}
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + digestOf(layer1) + `","` + digestOf(layer2) + `"]}}`)
	_, err = blobs.Put(ctx, bytes.NewReader(cfg))
	require.NoError(t, err)
	body, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digestOf(cfg), "size": len(cfg)}, "layers": descs})
	require.NoError(t, err)
	m := Manifest{Digest: digestOf(body), MediaType: "application/vnd.oci.image.manifest.v1+json", Body: body}

	a, err := s.newOCIArchive(ctx, m)
	require.NoError(t, err)
	defer a.Close()
	whole, err := io.ReadAll(a)
	require.NoError(t, err)
	require.EqualValues(t, len(whole), a.Size())
	require.Zero(t, len(whole)%512)

	var again bytes.Buffer
	require.NoError(t, s.writeOCIArchive(ctx, m, &again))
	require.Equal(t, whole, again.Bytes(), "the same manifest gives the same bytes")

	for _, r := range [][2]int64{{0, 10}, {500, 600}, {1020, 3000}, {int64(len(whole)) - 1500, int64(len(whole))}, {3, int64(len(whole))}} {
		_, err := a.Seek(r[0], io.SeekStart)
		require.NoError(t, err)
		got := make([]byte, r[1]-r[0])
		_, err = io.ReadFull(a, got)
		require.NoError(t, err)
		require.Equal(t, whole[r[0]:r[1]], got, "range %v", r)
	}
	end, err := a.Seek(0, io.SeekEnd)
	require.NoError(t, err)
	require.EqualValues(t, len(whole), end)
	n, err := a.Read(make([]byte, 10))
	require.Zero(t, n)
	require.ErrorIs(t, err, io.EOF)

	// go-containerregistry reads it back as the same image.
	out := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(whole))
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, h.Name)
		p := filepath.Join(out, h.Name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	require.Len(t, names, 6, "oci-layout, index.json, the manifest, the config and two layers")
	idx, err := layout.ImageIndexFromPath(out)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Equal(t, m.Digest, im.Manifests[0].Digest.String())
	img, err := idx.Image(im.Manifests[0].Digest)
	require.NoError(t, err)
	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 2)
	for i, l := range layers {
		rc, err := l.Compressed()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.Equal(t, [][]byte{layer1, layer2}[i], b)
	}
}
