// Package fetch downloads the sources of FOSSology url and vcs uploads under
// reehub's address rules: only http and https; loopback, private,
// link-local, multicast and unspecified addresses are refused, as are
// redirects into them, unless the host is on the admin's allow list
// (REEHUB_UPLOAD_ALLOWED_HOSTS); names are resolved once and the checked
// address is the one dialled, so DNS rebinding cannot swap it; every
// download has a size limit and a timeout. Git clones run the git command
// with the same rules, credentials passed through a credential helper's
// environment, never on a command line, in a URL or in an error message.
//
// This is the one service package that uses net/http (tests/arch and the
// depguard rules exempt it): it is a client, never a handler.
package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
)

// Policy is what a fetch may do. The zero value of a field means its default.
type Policy struct {
	// Allowed are hosts exempt from the address rules: "host", "host:port",
	// an IP address or a CIDR prefix ("10.1.0.0/16"). Host names match the
	// URL's host, case-insensitively; addresses and prefixes match the
	// resolved address.
	Allowed []string
	// MaxBytes is the largest download. Defaults to 4 GiB.
	MaxBytes int64
	// Timeout bounds a whole fetch. Defaults to 10 minutes.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed. Defaults to 5.
	MaxRedirects int
	// Resolver resolves host names. Defaults to net.DefaultResolver.
	Resolver *net.Resolver
}

// ParseAllowList splits REEHUB_UPLOAD_ALLOWED_HOSTS (comma- or
// space-separated) into Policy.Allowed, checking each entry.
func ParseAllowList(s string) ([]string, error) {
	var out []string
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if strings.Contains(e, "/") {
			if _, err := netip.ParsePrefix(e); err != nil {
				return nil, fmt.Errorf("allowed upload host %q: %w", e, err)
			}
		} else if strings.ContainsAny(e, "@?#") {
			return nil, fmt.Errorf("allowed upload host %q is not a host, host:port, address or prefix", e)
		}
		out = append(out, strings.ToLower(e))
	}
	return out, nil
}

func (p Policy) withDefaults() Policy {
	if p.MaxBytes <= 0 {
		p.MaxBytes = 4 << 30
	}
	if p.Timeout <= 0 {
		p.Timeout = 10 * time.Minute
	}
	if p.MaxRedirects <= 0 {
		p.MaxRedirects = 5
	}
	if p.Resolver == nil {
		p.Resolver = net.DefaultResolver
	}
	return p
}

// hostAllowed reports whether the URL host (host, port) is on the allow list
// by name.
func (p Policy) hostAllowed(host, port string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, a := range p.Allowed {
		if a == host || a == net.JoinHostPort(host, port) || strings.Trim(a, "[]") == host {
			return true
		}
	}
	return false
}

// addrAllowed reports whether a resolved address is on the allow list.
func (p Policy) addrAllowed(ip netip.Addr, port string) bool {
	for _, a := range p.Allowed {
		if pre, err := netip.ParsePrefix(a); err == nil && pre.Contains(ip) {
			return true
		}
		if h, pt, err := net.SplitHostPort(a); err == nil {
			if aip, err := netip.ParseAddr(h); err == nil && aip == ip && pt == port {
				return true
			}
			continue
		}
		if aip, err := netip.ParseAddr(strings.Trim(a, "[]")); err == nil && aip == ip {
			return true
		}
	}
	return false
}

// refused reports why an address may not be fetched from, or "".
func refused(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	case netip.MustParsePrefix("100.64.0.0/10").Contains(ip), netip.MustParsePrefix("0.0.0.0/8").Contains(ip),
		netip.MustParsePrefix("192.0.0.0/24").Contains(ip), netip.MustParsePrefix("198.18.0.0/15").Contains(ip),
		netip.MustParsePrefix("240.0.0.0/4").Contains(ip), netip.MustParsePrefix("64:ff9b::/96").Contains(ip):
		return "a reserved address"
	}
	return ""
}

// checkURL checks a URL's scheme and form and returns its host and port.
func checkURL(u *url.URL) (string, string, error) {
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", fault.Invalidf("URL %q: only http and https URLs can be fetched", redact(u))
	}
	host := u.Hostname()
	if host == "" {
		return "", "", fault.Invalidf("URL %q has no host", redact(u))
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return host, port, nil
}

// resolve returns the address to dial for host:port, refusing addresses the
// policy does not allow.
func (p Policy) resolve(ctx context.Context, host, port string) (netip.Addr, error) {
	byName := p.hostAllowed(host, port)
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ips, err := p.Resolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return netip.Addr{}, fault.Invalidf("host %q cannot be resolved", host)
		}
		addrs = ips
	}
	// Every address the name has must pass: the one dialled is the first.
	for _, ip := range addrs {
		ip = ip.Unmap()
		if why := refused(ip); why != "" && !byName && !p.addrAllowed(ip, port) {
			return netip.Addr{}, fault.Invalidf("host %q resolves to %s (%s); uploads from it are refused unless the host is on REEHUB_UPLOAD_ALLOWED_HOSTS", host, ip, why)
		}
	}
	return addrs[0].Unmap(), nil
}

// redact returns a URL without its user info, for messages.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// Result is a fetched file.
type Result struct {
	// Path is where it was written.
	Path string
	// Name is the upload name: the name given, or the last element of the
	// URL path, or the file name of a Content-Disposition.
	Name string
	// Hash is its digests and size, computed while it was written.
	Hash unpack.Hash
}

// Options are the url upload's options.
type Options struct {
	// Name overrides the upload name.
	Name string
	// Accept and Reject are comma-separated glob patterns the file name must
	// match (Accept) and must not match (Reject), as wget's -A and -R.
	Accept, Reject string
}

// URL downloads rawURL into the file dest under the policy. Only one file
// is fetched: FOSSology's maxRecursionDepth (wget -l) has nothing to
// recurse into here and is ignored by the caller.
func (p Policy) URL(ctx context.Context, rawURL, dest string, opts Options) (res Result, err error) {
	p = p.withDefaults()
	u, err := url.Parse(rawURL)
	if err != nil {
		return Result{}, fault.Invalidf("%q is not a URL", rawURL)
	}
	if _, _, err := checkURL(u); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	client := p.client()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{}, fault.Invalidf("%q is not a URL", redact(u))
	}
	req.Header.Set("User-Agent", "reehub-upload")
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, p.requestErr(ctx, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Result{}, fault.Invalidf("fetching %s answered %d %s", redact(u), resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if resp.ContentLength > p.MaxBytes {
		return Result{}, fault.TooLargef("%s is %d bytes, more than the upload limit of %d bytes", redact(u), resp.ContentLength, p.MaxBytes)
	}
	name := opts.Name
	if name == "" {
		if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
			name = path.Base(params["filename"])
		}
	}
	if name == "" {
		name = path.Base(resp.Request.URL.Path)
	}
	if name == "" || name == "/" || name == "." {
		name = resp.Request.URL.Hostname()
	}
	if err := acceptName(name, opts); err != nil {
		return Result{}, err
	}
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Result{}, fmt.Errorf("create download file: %w", err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("write download: %w", cerr)
		}
		if err != nil {
			os.Remove(dest)
		}
	}()
	h, err := copyHashed(out, io.LimitReader(resp.Body, p.MaxBytes+1))
	if err != nil {
		return Result{}, p.requestErr(ctx, u, err)
	}
	if h.Size > p.MaxBytes {
		return Result{}, fault.TooLargef("%s is more than the upload limit of %d bytes", redact(u), p.MaxBytes)
	}
	return Result{Path: dest, Name: name, Hash: h}, nil
}

// requestErr maps a transport failure to a user-facing error.
func (p Policy) requestErr(ctx context.Context, u *url.URL, err error) error {
	if f := faultIn(err); f != nil {
		// A refused address or redirect: the cause is the message.
		return f
	}
	if ctx.Err() != nil {
		return fault.Invalidf("fetching %s did not finish within %s", redact(u), p.Timeout)
	}
	return fault.Invalidf("fetching %s failed: %s", redact(u), cleanNetErr(err))
}

// faultIn returns the user-facing error in err's chain, or nil.
func faultIn(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if k := errors.Unwrap(e); k == fault.ErrInvalid || k == fault.ErrTooLarge {
			return e
		}
	}
	return nil
}

// cleanNetErr keeps the last part of a transport error, without the URL.
func cleanNetErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// client returns an HTTP client that dials only checked addresses and
// checks every redirect.
func (p Policy) client() *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ip, err := p.resolve(ctx, host, port)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		},
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		MaxIdleConns:          1,
		DisableKeepAlives:     true,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > p.MaxRedirects {
				return fault.Invalidf("fetching %s: more than %d redirects", redact(via[0].URL), p.MaxRedirects)
			}
			if _, _, err := checkURL(req.URL); err != nil {
				return fault.Invalidf("fetching %s: redirect refused: %v", redact(via[0].URL), err)
			}
			return nil
		},
	}
}

// copyHashed copies r to w, computing the digests and size.
func copyHashed(w io.Writer, r io.Reader) (unpack.Hash, error) {
	h1, h5, h256 := sha1.New(), md5.New(), sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h1, h5, h256), r)
	if err != nil {
		return unpack.Hash{}, err
	}
	return unpack.Hash{SHA1: hex.EncodeToString(h1.Sum(nil)), MD5: hex.EncodeToString(h5.Sum(nil)),
		SHA256: hex.EncodeToString(h256.Sum(nil)), Size: n}, nil
}

// acceptName applies the Accept and Reject patterns to a file name.
func acceptName(name string, opts Options) error {
	match := func(list string) (bool, error) {
		for _, pat := range strings.Split(list, ",") {
			pat = strings.TrimSpace(pat)
			if pat == "" {
				continue
			}
			if !strings.ContainsAny(pat, "*?[") {
				pat = "*" + pat // wget: a suffix list
			}
			ok, err := path.Match(pat, name)
			if err != nil {
				return false, fault.Invalidf("pattern %q is not a valid glob", pat)
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	}
	if strings.TrimSpace(opts.Accept) != "" {
		ok, err := match(opts.Accept)
		if err != nil {
			return err
		}
		if !ok {
			return fault.Invalidf("file %q does not match the accept list %q", name, opts.Accept)
		}
	}
	if ok, err := match(opts.Reject); err != nil || ok {
		if err != nil {
			return err
		}
		return fault.Invalidf("file %q matches the reject list %q", name, opts.Reject)
	}
	return nil
}
