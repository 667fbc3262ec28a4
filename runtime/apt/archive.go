package apt

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ulikunitz/xz"
	"golang.org/x/crypto/openpgp"           //nolint:staticcheck // the only OpenPGP verifier in the module graph; Debian's keys are RSA
	"golang.org/x/crypto/openpgp/clearsign" //nolint:staticcheck // as above

	"github.com/reehub/reehub/fault"
)

// Package is one entry of a Packages index.
type Package struct {
	Name, Version, Arch                    string
	Depends, PreDepends, Conflicts, Breaks string
	Provides                               string
	Summary, Description                   string
	Priority                               string
	Essential                              bool
	Filename, SHA256                       string
	// Origin is the index the package came from (its repository key).
	Origin string
}

// FromParagraph converts a control paragraph into a Package.
func FromParagraph(p Paragraph, origin string) Package {
	desc := p.Get("Description")
	summary, long, _ := strings.Cut(desc, "\n")
	return Package{
		Name: p.Get("Package"), Version: p.Get("Version"), Arch: p.Get("Architecture"),
		Depends: p.Get("Depends"), PreDepends: p.Get("Pre-Depends"), Conflicts: p.Get("Conflicts"), Breaks: p.Get("Breaks"),
		Provides: p.Get("Provides"), Summary: summary, Description: long, Priority: p.Get("Priority"),
		Essential: p.Get("Essential") == "yes", Filename: p.Get("Filename"), SHA256: p.Get("SHA256"), Origin: origin,
	}
}

// Config tunes a Client.
type Config struct {
	// CacheDir keeps downloaded indexes. Required.
	CacheDir string
	// Keyring is the OpenPGP keyring that signs trusted archives. Defaults to
	// /usr/share/keyrings/debian-archive-keyring.gpg.
	Keyring string
	// MaxAge is how long a downloaded index is used before it is fetched again. Defaults to 24 hours.
	MaxAge time.Duration
}

// Client reads Debian archives over HTTP, verifying InRelease signatures and
// the SHA256 of every index against it.
type Client struct {
	cfg  Config
	http *http.Client
	mu   sync.Mutex
	mem  map[string][]Package
}

// NewClient returns a client.
func NewClient(cfg Config) (*Client, error) {
	if cfg.CacheDir == "" {
		return nil, errors.New("apt: CacheDir is required")
	}
	if cfg.Keyring == "" {
		cfg.Keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 24 * time.Hour
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o750); err != nil {
		return nil, fmt.Errorf("apt cache: %w", err)
	}
	return &Client{cfg: cfg, http: &http.Client{Timeout: 5 * time.Minute}, mem: map[string][]Package{}}, nil
}

// Release is the verified InRelease of a suite.
type Release struct {
	Suite, Codename string
	Components      []string
	Architectures   []string
	// SHA256 maps index paths (main/binary-amd64/Packages.xz) to their digests.
	SHA256 map[string]string
}

func (c *Client) get(ctx context.Context, url string, cache bool) ([]byte, error) {
	sum := sha256.Sum256([]byte(url))
	cached := filepath.Join(c.cfg.CacheDir, hex.EncodeToString(sum[:]))
	if cache {
		if fi, err := os.Stat(cached); err == nil && time.Since(fi.ModTime()) < c.cfg.MaxAge {
			return os.ReadFile(cached)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fault.Invalidf("url %q: %v", url, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fault.Invalidf("%s is unreachable: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fault.Invalidf("%s answered %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 512<<20))
	if err != nil {
		return nil, fault.Invalidf("read %s: %v", url, err)
	}
	if cache {
		tmp := cached + ".tmp"
		if err := os.WriteFile(tmp, b, 0o640); err == nil {
			_ = os.Rename(tmp, cached)
		}
	}
	return b, nil
}

// FetchRelease reads and verifies dists/<suite>/InRelease of the archive at base.
// An archive without a valid signature of the keyring is refused.
func (c *Client) FetchRelease(ctx context.Context, base, suite string) (Release, error) {
	url := strings.TrimSuffix(base, "/") + "/dists/" + suite + "/InRelease"
	b, err := c.get(ctx, url, true)
	if err != nil {
		return Release{}, err
	}
	block, _ := clearsign.Decode(b)
	if block == nil {
		return Release{}, fault.Invalidf("%s is not signed (no OpenPGP clear-signed InRelease); unsigned archives are refused", url)
	}
	kf, err := os.Open(c.cfg.Keyring)
	if err != nil {
		return Release{}, fmt.Errorf("open keyring: %w", err)
	}
	defer kf.Close()
	ring, err := openpgp.ReadKeyRing(kf)
	if err != nil {
		return Release{}, fmt.Errorf("read keyring %s: %w", c.cfg.Keyring, err)
	}
	if _, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(block.Bytes), block.ArmoredSignature.Body); err != nil {
		return Release{}, fault.Invalidf("%s: the signature does not verify with %s (%v); untrusted archives are refused", url, c.cfg.Keyring, err)
	}
	rel := Release{SHA256: map[string]string{}}
	err = ReadParagraphs(bytes.NewReader(block.Plaintext), func(p Paragraph) error {
		if rel.Suite != "" {
			return nil
		}
		rel.Suite, rel.Codename = p.Get("Suite"), p.Get("Codename")
		rel.Components = strings.Fields(p.Get("Components"))
		rel.Architectures = strings.Fields(p.Get("Architectures"))
		for _, line := range strings.Split(p.Get("SHA256"), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 {
				rel.SHA256[f[2]] = f[0]
			}
		}
		return nil
	})
	if err != nil || rel.Suite == "" && rel.Codename == "" {
		return Release{}, fault.Invalidf("%s is not a Debian Release file", url)
	}
	return rel, nil
}

// Packages returns the Packages index of one component and architecture of a
// suite, verified against its InRelease. A component the suite lacks yields none.
func (c *Client) Packages(ctx context.Context, base, suite, component, arch string) ([]Package, error) {
	key := strings.Join([]string{base, suite, component, arch}, " ")
	c.mu.Lock()
	if p, ok := c.mem[key]; ok {
		c.mu.Unlock()
		return p, nil
	}
	c.mu.Unlock()
	rel, err := c.FetchRelease(ctx, base, suite)
	if err != nil {
		return nil, err
	}
	var pkgs []Package
	found := false
	for _, ext := range []string{".xz", ".gz"} {
		rel64 := component + "/binary-" + arch + "/Packages" + ext
		want, ok := rel.SHA256[rel64]
		if !ok {
			continue
		}
		found = true
		b, err := c.get(ctx, strings.TrimSuffix(base, "/")+"/dists/"+suite+"/"+rel64, true)
		if err != nil {
			return nil, err
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			return nil, fault.Invalidf("%s/dists/%s/%s does not match the SHA256 of its InRelease", base, suite, rel64)
		}
		var r io.Reader
		if ext == ".xz" {
			if r, err = xz.NewReader(bytes.NewReader(b)); err != nil {
				return nil, fmt.Errorf("decompress %s: %w", rel64, err)
			}
		} else if r, err = gzip.NewReader(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("decompress %s: %w", rel64, err)
		}
		if err := ReadParagraphs(r, func(p Paragraph) error {
			pkgs = append(pkgs, FromParagraph(p, key))
			return nil
		}); err != nil {
			return nil, fmt.Errorf("parse %s: %w", rel64, err)
		}
		break
	}
	if !found && len(rel.SHA256) == 0 {
		return nil, fault.Invalidf("%s/dists/%s lists no indexes", base, suite)
	}
	c.mu.Lock()
	c.mem[key] = pkgs
	c.mu.Unlock()
	return pkgs, nil
}
