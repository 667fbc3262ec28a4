package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/reehub/reehub/gen/client"
)

func (c *app) downloadCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "download ID",
		Short: "Download the output of a processed process (resumes an interrupted download)",
		Long: "Writes the output zip to -o FILE (default ID.zip; - for standard output). An interrupted download\n" +
			"leaves FILE.part, and the next run asks only for the rest (Range). The file is checked against\n" +
			"the sha256 the server names in its ETag.",
		Args: UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			id, err := processID(args[0])
			if err != nil {
				return err
			}
			s, err := c.connect()
			if err != nil {
				return err
			}
			if out == "" {
				out = id.String() + ".zip"
			}
			res, err := c.fetch(cmd.Context(), s, "download", out, func(ctx context.Context, ed client.RequestEditorFn) (*http.Response, error) {
				return s.raw.ReeProcessDownload(ctx, id, ed)
			})
			if err != nil {
				return err
			}
			return c.printFetched(res)
		},
	}
	cmd.Flags().StringVarP(&out, "output-file", "o", "", "where to write the file (default ID.zip; - for stdout)")
	return cmd
}

// fetched is the result of a download, as --output json prints it.
type fetched struct {
	Path    string `json:"path"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256,omitempty"`
	Resumed int64  `json:"resumed_from,omitempty"`
}

func (c *app) printFetched(f fetched) error {
	if f.Path == "-" {
		return nil
	}
	return c.print(f, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s\t%d bytes\n", f.Path, f.Bytes)
		return err
	})
}

// fetch downloads what get answers into path, or to stdout for "-". Into a
// file it writes path+".part" first and renames it when complete; a .part left
// by an interrupted run is continued with Range, and restarted when the
// server answers with the whole body. When the ETag is a sha256 the file is
// checked against it.
func (c *app) fetch(ctx context.Context, s *session, what, path string,
	get func(context.Context, client.RequestEditorFn) (*http.Response, error)) (fetched, error) {
	res := fetched{Path: path}
	if path == "-" {
		resp, err := get(ctx, func(context.Context, *http.Request) error { return nil })
		if err := s.checkRaw(ctx, what, resp, err, http.StatusOK); err != nil {
			return res, err
		}
		defer resp.Body.Close()
		n, err := io.Copy(c.Stdout, resp.Body)
		res.Bytes = n
		if err != nil {
			return res, fmt.Errorf("%s: %w", what, err)
		}
		return res, nil
	}
	part := path + ".part"
	h := sha256.New()
	offset, err := resumeFrom(part, h)
	if err != nil {
		return res, err
	}
	resp, err := get(ctx, func(_ context.Context, req *http.Request) error {
		if offset > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		}
		return nil
	})
	if resp != nil && resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0 {
		// The .part is as long as (or longer than) the file: start again.
		resp.Body.Close()
		if err := os.Remove(part); err != nil {
			return res, err
		}
		return c.fetch(ctx, s, what, path, get)
	}
	if err := s.checkRaw(ctx, what, resp, err, http.StatusOK, http.StatusPartialContent); err != nil {
		return res, err
	}
	defer resp.Body.Close()
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if resp.StatusCode == http.StatusOK {
		// The whole body: whatever .part held is replaced.
		flags = os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		offset = 0
		h.Reset()
	}
	res.Resumed = offset
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return res, fmt.Errorf("%s: %w", what, err)
	}
	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = offset + resp.ContentLength
	}
	bar := c.progress(total, what)
	if bar != nil && offset > 0 {
		_ = bar.Set64(offset)
	}
	n, copyErr := io.Copy(io.MultiWriter(f, h), counting(resp.Body, bar))
	closeErr := f.Close()
	if copyErr != nil {
		return res, fmt.Errorf("%s interrupted after %d bytes (run it again to resume): %w", what, offset+n, copyErr)
	}
	if closeErr != nil {
		return res, fmt.Errorf("%s: %w", what, closeErr)
	}
	finish(bar)
	res.Bytes = offset + n
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	if want := trimQuotes(resp.Header.Get("ETag")); isSHA256Hex(want) && want != res.SHA256 {
		_ = os.Remove(part)
		return res, &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s: the file's sha256 is %s, the server's ETag %s; removed it", what, res.SHA256, want)}
	}
	if err := os.Rename(part, path); err != nil {
		return res, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}

// resumeFrom hashes an existing .part into h and returns its size (0 if none).
func resumeFrom(part string, h hash.Hash) (int64, error) {
	f, err := os.Open(part)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", part, err)
	}
	return n, nil
}
