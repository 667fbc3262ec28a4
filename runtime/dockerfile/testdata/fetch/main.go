// Command fetch is a static HTTPS client for the Podman build tests: it sends
// every request through $https_proxy (loopback targets included) and trusts
// only what the system trust store says, which Go reads from $SSL_CERT_FILE.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
)

func main() {
	out := flag.String("o", "", "write the body to this file instead of stdout")
	flag.Parse()
	if err := run(flag.Arg(0), *out); err != nil {
		fmt.Fprintln(os.Stderr, "fetch:", err)
		os.Exit(1)
	}
}

func run(target, out string) error {
	tr := &http.Transport{}
	if p := os.Getenv("https_proxy"); p != "" {
		u, err := url.Parse(p)
		if err != nil {
			return err
		}
		tr.Proxy = http.ProxyURL(u)
	}
	resp, err := (&http.Client{Transport: tr}).Get(target)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", target, resp.Status)
	}
	w := io.Writer(os.Stdout)
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
