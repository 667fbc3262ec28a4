package ree

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/runtime/podman"
)

func TestDifferences(t *testing.T) {
	t.Parallel()
	recText := "built at 10:00\nsame line\n"
	recorded := map[string]string{
		"/stamp.txt":  "sha256:" + strings.Repeat("a", 64) + " 0644 0:0",
		"/random.bin": "sha256:" + strings.Repeat("b", 64) + " 0644 0:0",
		"/gone":       "sha256:" + strings.Repeat("c", 64) + " 0644 0:0",
		"/mode":       "sha256:" + strings.Repeat("d", 64) + " 0644 0:0",
	}
	details := map[string]fileDetail{
		"/stamp.txt":  {Size: int64(len(recText)), Text: &recText},
		"/random.bin": {Size: 16},
		"/gone":       {Size: 1},
		"/mode":       {Size: 1},
	}
	rebuilt := map[string]podman.FileEntry{
		"/stamp.txt":  {Desc: "sha256:" + strings.Repeat("e", 64) + " 0644 0:0", Size: 26, Text: []byte("built at 10:05\nsame line\n")},
		"/random.bin": {Desc: "sha256:" + strings.Repeat("f", 64) + " 0644 0:0", Size: 16},
		"/mode":       {Desc: "sha256:" + strings.Repeat("d", 64) + " 0600 0:0", Size: 1, Text: []byte("x")},
		"/new":        {Desc: "dir 0755 0:0"},
	}
	paths := podman.DiffFiles(recorded, descriptions(rebuilt))
	require.Equal(t, []string{"/gone", "/mode", "/new", "/random.bin", "/stamp.txt"}, paths)
	ds := differences(paths, recorded, details, rebuilt)
	require.Len(t, ds, len(paths), "every differing file is described")
	byPath := map[string]FileDifference{}
	for _, d := range ds {
		byPath[d.Path] = d
	}

	stamp := byPath["/stamp.txt"]
	require.Equal(t, strings.Repeat("a", 64), stamp.Recorded.SHA256)
	require.Equal(t, strings.Repeat("e", 64), stamp.Rebuilt.SHA256)
	require.Equal(t, int64(len(recText)), *stamp.Recorded.Size)
	require.Equal(t, int64(26), *stamp.Rebuilt.Size)
	require.Contains(t, stamp.Diff, "--- recorded/stamp.txt\n+++ rebuilt/stamp.txt\n")
	require.Contains(t, stamp.Diff, "-built at 10:00\n+built at 10:05\n same line\n")
	require.Empty(t, stamp.Note)

	random := byPath["/random.bin"]
	require.Empty(t, random.Diff)
	require.Equal(t, "binary content", random.Note)
	require.Equal(t, int64(16), *random.Rebuilt.Size)

	require.Nil(t, byPath["/gone"].Rebuilt)
	require.Equal(t, "present in one image only", byPath["/gone"].Note)
	require.Nil(t, byPath["/new"].Recorded)
	require.Equal(t, "same content; mode or owner differ", byPath["/mode"].Note)

	// A v2 defined REE has no details: sizes of the recorded side are unknown.
	old := differences([]string{"/stamp.txt"}, recorded, map[string]fileDetail{}, rebuilt)
	require.Nil(t, old[0].Recorded.Size)
	require.NotNil(t, old[0].Rebuilt.Size)
	require.Contains(t, old[0].Note, "predates")
}

func TestUnifiedDiffIsCut(t *testing.T) {
	t.Parallel()
	var a, b strings.Builder
	for i := range 200 {
		a.WriteString("line a\n")
		b.WriteString("line b " + strings.Repeat("x", i%3) + "\n")
	}
	d := unifiedDiff("/big.txt", a.String(), b.String())
	require.LessOrEqual(t, strings.Count(d, "\n"), diffMaxLines+1)
	require.Contains(t, d, "more lines)")
}

func TestRecordedDetailsBudget(t *testing.T) {
	t.Parallel()
	big := make([]byte, textLimit)
	for i := range big {
		big[i] = 'x'
	}
	entries := map[string]podman.FileEntry{
		"/etc/app.conf": {Desc: "sha256:" + strings.Repeat("1", 64) + " 0644 0:0", Size: 4, Text: []byte("a=1\n")},
		"/bin/tool":     {Desc: "sha256:" + strings.Repeat("2", 64) + " 0755 0:0", Size: 1 << 20},
		"/usr/lib/x":    {Desc: "dir 0755 0:0"},
	}
	// More generic text than the budget holds.
	for i := range textBudget/textLimit + 10 {
		entries["/usr/share/doc/p"+strings.Repeat("0", 3)+string(rune('a'+i%26))+strings.Repeat("z", i/26)] = podman.FileEntry{
			Desc: "sha256:" + strings.Repeat("3", 64) + " 0644 0:0", Size: textLimit, Text: big}
	}
	d := recordedDetails(entries)
	require.Equal(t, "a=1\n", *d["/etc/app.conf"].Text, "a build's own files come first")
	require.Equal(t, int64(1<<20), d["/bin/tool"].Size)
	require.Nil(t, d["/bin/tool"].Text)
	_, isDir := d["/usr/lib/x"]
	require.False(t, isDir, "only regular files have details")
	var kept int64
	for _, det := range d {
		if det.Text != nil {
			kept += int64(len(*det.Text))
		}
	}
	require.LessOrEqual(t, kept, int64(textBudget))
}
