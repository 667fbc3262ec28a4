package proxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/reehub/reehub/fault"
)

// indexVersion is the format version written into index.json.
const indexVersion = 1

// indexFile is the name of the index inside a recording directory.
const indexFile = "index.json"

// storedHeaders are the response headers a recording keeps; everything else
// (Date, Set-Cookie, hop-by-hop headers, server chatter) is dropped so that a
// recording holds no credentials and two recordings of the same bytes agree.
var storedHeaders = []string{
	"Cache-Control",
	"Content-Disposition",
	"Content-Encoding",
	"Content-Language",
	"Content-Length",
	"Content-Type",
	"Etag",
	"Expires",
	"Last-Modified",
	"Location",
	"Vary",
}

// index is the on-disk form of a recording's index.
type index struct {
	Version int     `json:"version"`
	Entries []entry `json:"entries"`
}

// entry is one recorded response.
type entry struct {
	Key    string              `json:"key"`
	Method string              `json:"method"`
	URL    string              `json:"url"`
	Accept string              `json:"accept,omitempty"`
	Status int                 `json:"status"`
	Header map[string][]string `json:"header,omitempty"`
	SHA256 string              `json:"sha256"`
	Size   int64               `json:"size"`
}

// Summary describes a verified recording.
type Summary struct {
	// Entries is the number of recorded responses.
	Entries int
	// Bytes is the sum of the recorded body sizes (a blob shared by several
	// entries counts once per entry).
	Bytes int64
	// IndexSHA256 is the hex sha256 of index.json, to pin the recording.
	IndexSHA256 string
}

// requestKey identifies a recorded response: the method, the exact URL as the
// client sent it (without user info) and the Accept header when present,
// because registries such as npm answer differently per Accept.
func requestKey(method, rawURL, accept string) string {
	key := method + " " + rawURL
	if accept != "" {
		key += " accept=" + accept
	}
	return key
}

// filterHeader keeps only the headers in storedHeaders.
func filterHeader(h http.Header) map[string][]string {
	out := map[string][]string{}
	for _, name := range storedHeaders {
		if v := h.Values(name); len(v) > 0 {
			out[name] = append([]string(nil), v...)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func blobPath(dir, sum string) string {
	return filepath.Join(dir, "blobs", "sha256", sum)
}

// validSum reports whether s is a lower-case hex sha256.
func validSum(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// encodeIndex renders entries in deterministic order (sorted by key).
func encodeIndex(entries map[string]entry) ([]byte, error) {
	idx := index{Version: indexVersion, Entries: make([]entry, 0, len(entries))}
	for _, e := range entries {
		idx.Entries = append(idx.Entries, e)
	}
	sort.Slice(idx.Entries, func(i, j int) bool { return idx.Entries[i].Key < idx.Entries[j].Key })
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	return append(data, '\n'), nil
}

// writeIndex writes index.json atomically (temp file, fsync, rename).
func writeIndex(dir string, entries map[string]entry) error {
	data, err := encodeIndex(entries)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".index-*.json")
	if err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write index: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, indexFile)); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

// readIndex loads and checks the structure of dir/index.json. It returns the
// entries by key and the raw bytes.
func readIndex(dir string) (map[string]entry, []byte, error) {
	path := filepath.Join(dir, indexFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fault.NotFoundf("recording index %s does not exist", path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read index %s: %w", path, err)
	}
	var idx index
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&idx); err != nil {
		return nil, nil, fault.Invalidf("recording index %s does not parse: %v", path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, fault.Invalidf("recording index %s has trailing data", path)
	}
	if idx.Version != indexVersion {
		return nil, nil, fault.Invalidf("recording index %s has version %d, want %d", path, idx.Version, indexVersion)
	}
	entries := make(map[string]entry, len(idx.Entries))
	for i, e := range idx.Entries {
		switch {
		case e.Method == "" || strings.ContainsAny(e.Method, " \t\r\n"):
			return nil, nil, fault.Invalidf("recording index entry %d has an invalid method %q", i, e.Method)
		case e.Key != requestKey(e.Method, e.URL, e.Accept):
			return nil, nil, fault.Invalidf("recording index entry %d: key %q does not match %s %s", i, e.Key, e.Method, e.URL)
		case !validSum(e.SHA256):
			return nil, nil, fault.Invalidf("recording index entry for %s has an invalid sha256 %q", e.URL, e.SHA256)
		case e.Size < 0:
			return nil, nil, fault.Invalidf("recording index entry for %s has a negative size", e.URL)
		case e.Status < 100 || e.Status > 999:
			return nil, nil, fault.Invalidf("recording index entry for %s has an invalid status %d", e.URL, e.Status)
		}
		if i > 0 && idx.Entries[i-1].Key >= e.Key {
			return nil, nil, fault.Invalidf("recording index entries are not sorted and unique at %q", e.Key)
		}
		entries[e.Key] = e
	}
	return entries, data, nil
}

// Verify checks a recording directory: index.json parses and is well formed,
// and every blob it names exists with the recorded sha256 and size. A missing
// or altered blob is an error wrapping fault.ErrInvalid that names the URL.
func Verify(dir string) (Summary, error) {
	entries, data, err := readIndex(dir)
	if err != nil {
		return Summary{}, err
	}
	sum := sha256.Sum256(data)
	summary := Summary{Entries: len(entries), IndexSHA256: hex.EncodeToString(sum[:])}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	checked := map[string]int64{}
	for _, k := range keys {
		e := entries[k]
		summary.Bytes += e.Size
		if size, ok := checked[e.SHA256]; ok {
			if size != e.Size {
				return Summary{}, fault.Invalidf("recording %s: %s %s: size %d disagrees with another entry of the same blob", dir, e.Method, e.URL, e.Size)
			}
			continue
		}
		if err := verifyBlob(dir, e); err != nil {
			return Summary{}, err
		}
		checked[e.SHA256] = e.Size
	}
	return summary, nil
}

func verifyBlob(dir string, e entry) error {
	f, err := os.Open(blobPath(dir, e.SHA256))
	if errors.Is(err, fs.ErrNotExist) {
		return fault.Invalidf("recording %s: blob for %s %s is missing", dir, e.Method, e.URL)
	}
	if err != nil {
		return fmt.Errorf("open blob for %s: %w", e.URL, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("read blob for %s: %w", e.URL, err)
	}
	if n != e.Size {
		return fault.Invalidf("recording %s: blob for %s %s has %d bytes, index says %d", dir, e.Method, e.URL, n, e.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		return fault.Invalidf("recording %s: blob for %s %s has sha256 %s, index says %s", dir, e.Method, e.URL, got, e.SHA256)
	}
	return nil
}
