package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
)

// print writes v as indented JSON with --output json, else calls text.
func (c *app) print(v any, text func(w io.Writer) error) error {
	if c.flags.output == "json" {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return text(c.Stdout)
}

// table writes rows under a header, aligned in columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(cells []string) {
		for i, cell := range cells {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, cell)
		}
		fmt.Fprintln(tw)
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
	return tw.Flush()
}

// note writes a message for the human on stderr; with --output json stdout
// holds only the JSON document.
func (c *app) note(format string, args ...any) {
	fmt.Fprintf(c.Stderr, format+"\n", args...)
}

// progress returns a progress bar on stderr for size bytes (-1: unknown), or
// nil when stderr is not a terminal (piped, in CI) or the output is JSON.
func (c *app) progress(size int64, what string) *progressbar.ProgressBar {
	if c.flags.output == "json" || !c.IsTerminal(c.Stderr) {
		return nil
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(c.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000), // 100 ms
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(c.Stderr) }),
		progressbar.OptionClearOnFinish(),
	)
}

// counting wraps r so that a bar (if any) advances with what is read.
func counting(r io.Reader, bar *progressbar.ProgressBar) io.Reader {
	if bar == nil {
		return r
	}
	return io.TeeReader(r, bar)
}

// finish completes a bar, if any.
func finish(bar *progressbar.ProgressBar) {
	if bar != nil {
		_ = bar.Finish()
	}
}
