package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/reehub/reehub/store/blob"
)

// ociArchive is the OCI image layout TAR of one manifest (oci-layout,
// index.json, blobs/sha256/<hex> of the manifest, its config and layers),
// as a seekable stream over the blob store: its headers are computed, its
// blobs read in place, so its size is known before a byte is written, a
// Range starts anywhere, and nothing is staged on disk or held in memory
// beyond the headers. The same manifest always gives the same bytes.
type ociArchive struct {
	ctx   context.Context
	blobs *blob.Store
	segs  []segment
	size  int64
	off   int64
	open  io.ReadSeekCloser // the blob being read, if any
	pos   int64             // where open's next Read starts
	openI int               // its segment
}

// segment is a run of the archive's bytes: literal bytes (headers, small
// entries, padding) or a blob of the store.
type segment struct {
	start, size int64
	data        []byte // literal bytes, or nil
	digest      string // the blob, when data is nil
}

// newOCIArchive lays out the archive of manifest m; it opens nothing yet
// but checks that every blob is in the store.
func (s *Service) newOCIArchive(ctx context.Context, m Manifest) (*ociArchive, error) {
	man, err := v1.ParseManifest(bytes.NewReader(m.Body))
	if err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", m.Digest, err)
	}
	a := &ociArchive{ctx: ctx, blobs: s.blobs, openI: -1}
	addLiteral := func(b []byte) {
		if len(b) > 0 {
			a.segs = append(a.segs, segment{start: a.size, size: int64(len(b)), data: b})
			a.size += int64(len(b))
		}
	}
	header := func(name string, size int64) error {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
			return err
		}
		// WriteHeader has written the header's block(s); the content is ours.
		addLiteral(buf.Bytes())
		return nil
	}
	pad := func(size int64) {
		if r := size % 512; r != 0 {
			addLiteral(make([]byte, 512-r))
		}
	}
	literal := func(name string, b []byte) error {
		if err := header(name, int64(len(b))); err != nil {
			return err
		}
		addLiteral(b)
		pad(int64(len(b)))
		return nil
	}
	if err := literal("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return nil, err
	}
	idx, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []map[string]any{{"mediaType": m.MediaType, "digest": m.Digest, "size": len(m.Body)}},
	})
	if err != nil {
		return nil, err
	}
	if err := literal("index.json", idx); err != nil {
		return nil, err
	}
	if err := literal(blobName(m.Digest), m.Body); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, d := range append([]v1.Descriptor{man.Config}, man.Layers...) {
		digest := d.Digest.String()
		if seen[digest] {
			continue
		}
		seen[digest] = true
		st, err := s.blobs.Stat(ctx, digest)
		if err != nil {
			return nil, fmt.Errorf("blob %s of the image: %w", digest, err)
		}
		if err := header(blobName(digest), st.Size); err != nil {
			return nil, err
		}
		if st.Size > 0 {
			a.segs = append(a.segs, segment{start: a.size, size: st.Size, digest: digest})
			a.size += st.Size
		}
		pad(st.Size)
	}
	addLiteral(make([]byte, 1024)) // the end of the archive
	return a, nil
}

func (a *ociArchive) Read(p []byte) (int, error) {
	if a.off >= a.size {
		return 0, io.EOF
	}
	i := sort.Search(len(a.segs), func(i int) bool { return a.segs[i].start+a.segs[i].size > a.off })
	sg := a.segs[i]
	within := a.off - sg.start
	if n := sg.size - within; int64(len(p)) > n {
		p = p[:n]
	}
	var n int
	if sg.data != nil {
		n = copy(p, sg.data[within:])
	} else {
		if a.openI != i {
			a.closeBlob()
			f, err := a.blobs.Open(a.ctx, sg.digest)
			if err != nil {
				return 0, fmt.Errorf("blob %s of the image: %w", sg.digest, err)
			}
			a.open, a.openI, a.pos = f, i, 0
		}
		if a.pos != within {
			if _, err := a.open.Seek(within, io.SeekStart); err != nil {
				return 0, fmt.Errorf("seek blob %s: %w", sg.digest, err)
			}
			a.pos = within
		}
		var err error
		n, err = a.open.Read(p)
		a.pos += int64(n)
		if errors.Is(err, io.EOF) && n > 0 {
			err = nil
		}
		if err != nil {
			return n, fmt.Errorf("read blob %s: %w", sg.digest, err)
		}
	}
	a.off += int64(n)
	return n, nil
}

func (a *ociArchive) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += a.off
	case io.SeekEnd:
		offset += a.size
	default:
		return 0, fmt.Errorf("seek: whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek: negative offset")
	}
	a.off = offset
	return offset, nil
}

func (a *ociArchive) closeBlob() {
	if a.open != nil {
		_ = a.open.Close()
		a.open, a.openI = nil, -1
	}
}

// Close closes the blob being read.
func (a *ociArchive) Close() error {
	a.closeBlob()
	return nil
}

// Size is the archive's length in bytes.
func (a *ociArchive) Size() int64 { return a.size }
