package fetch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/reehub/reehub/fault"
)

// Check validates rawURL under the policy without fetching it: an http or
// https URL whose host resolves only to allowed addresses (a webhook is
// checked when it is given, and again when it is called).
func (p Policy) Check(ctx context.Context, rawURL string) error {
	p = p.withDefaults()
	u, err := url.Parse(rawURL)
	if err != nil {
		return fault.Invalidf("%q is not a URL", rawURL)
	}
	host, port, err := checkURL(u)
	if err != nil {
		return err
	}
	_, err = p.resolve(ctx, host, port)
	return err
}

// Post sends body as JSON to rawURL with the extra headers under the policy
// (the job webhook), following no redirect. Any status but 2xx is an error.
func (p Policy) Post(ctx context.Context, rawURL string, body []byte, header map[string]string) error {
	p = p.withDefaults()
	u, err := url.Parse(rawURL)
	if err != nil {
		return fault.Invalidf("%q is not a URL", rawURL)
	}
	if _, _, err := checkURL(u); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fault.Invalidf("%q is not a URL", redact(u))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "reehub-webhook")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := p.client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return p.requestErr(ctx, u, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %s answered %d %s", redact(u), resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return nil
}
