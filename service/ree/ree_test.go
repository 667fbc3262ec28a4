package ree

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/runtime/dockerfile"
)

func parse(t *testing.T, text string) *dockerfile.File {
	t.Helper()
	df, err := dockerfile.Parse([]byte(text))
	require.NoError(t, err)
	return df
}

func TestBuildText(t *testing.T) {
	t.Parallel()
	ids := map[string]string{"python_3_11": strings.Repeat("a", 64)}
	tests := []struct {
		name       string
		dockerfile string
		wantUser   string // USER restored after the clean-up, "" for none
	}{
		{"root build", "FROM python_3_11\nRUN apt-get update\n", ""},
		{"non-root user", "FROM python_3_11\nRUN useradd app\nUSER app\nRUN id\n", "app"},
		{"user of an earlier stage only", "FROM python_3_11 AS b\nUSER nobody\nFROM python_3_11\nRUN true\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := buildSpec{Format: manifestFormatV2}
			text, sum := buildText(parse(t, tc.dockerfile), ids, spec)
			again, sum2 := buildText(parse(t, tc.dockerfile), ids, spec)
			require.Equal(t, text, again, "the build text is deterministic")
			require.Equal(t, sum, sum2)
			s := string(text)
			require.Contains(t, s, "FROM "+ids["python_3_11"], "bases are pinned by image ID")
			require.NotContains(t, s, "FROM python_3_11\n")
			require.Contains(t, s, "--mount=type=secret", "RUN steps trust the build CA")
			require.Contains(t, s, "RUN rm -rf /var/cache/apt/pkgcache.bin")
			if tc.wantUser != "" {
				require.True(t, strings.HasSuffix(s, "USER root\nRUN rm -rf "+strings.Join(nondeterministicFiles, " ")+"\nUSER "+tc.wantUser+"\n"), s)
			} else {
				require.NotContains(t, s, "USER root")
			}
		})
	}
}

// writeTree writes a defined-REE directory with valid SHA256SUMS.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o750))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o640))
	}
	require.NoError(t, writeSums(dir, nil))
	return dir
}

func TestVerifyTree(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"manifest.json":               `{"format":"reehub.ree.recording/v1","dockerfile":"Dockerfile","image_id":"x","base_images":[{"name":"python_3_11","image_id":"y","archive":"base-images/python_3_11.tar"}]}`,
		"project/Dockerfile":          "FROM python_3_11\n",
		"recording/index.json":        `{"version":1,"entries":[]}`,
		"base-images/python_3_11.tar": "tar",
	}
	with := func(change func(map[string]string)) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		change(m)
		return m
	}
	tests := []struct {
		name    string
		tree    func(t *testing.T) string
		message string
	}{
		{"valid", func(t *testing.T) string { return writeTree(t, good) }, ""},
		{"changed after signing", func(t *testing.T) string {
			d := writeTree(t, good)
			require.NoError(t, os.WriteFile(filepath.Join(d, "project", "Dockerfile"), []byte("FROM evil\n"), 0o640))
			return d
		}, "checksum of project/Dockerfile"},
		{"file added after signing", func(t *testing.T) string {
			d := writeTree(t, good)
			require.NoError(t, os.WriteFile(filepath.Join(d, "project", "extra"), []byte("x"), 0o640))
			return d
		}, "project/extra is not listed"},
		{"file removed after signing", func(t *testing.T) string {
			d := writeTree(t, good)
			require.NoError(t, os.Remove(filepath.Join(d, "recording", "index.json")))
			return d
		}, "recording/index.json is listed"},
		{"no sums", func(t *testing.T) string {
			d := writeTree(t, good)
			require.NoError(t, os.Remove(filepath.Join(d, sumsName)))
			return d
		}, "SHA256SUMS is missing"},
		{"other format", func(t *testing.T) string {
			return writeTree(t, with(func(m map[string]string) { m["manifest.json"] = `{"format":"something/v9"}` }))
		}, "format"},
		{"base archive outside base-images", func(t *testing.T) string {
			return writeTree(t, with(func(m map[string]string) {
				m["manifest.json"] = strings.Replace(m["manifest.json"], "base-images/python_3_11.tar", "../etc/passwd", 1)
			}))
		}, "must be under base-images/"},
		{"no recording", func(t *testing.T) string {
			return writeTree(t, with(func(m map[string]string) { delete(m, "recording/index.json") }))
		}, "lacks its recording"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := verifyTree(tc.tree(t))
			if tc.message == "" {
				require.NoError(t, err)
				require.Equal(t, "Dockerfile", m.Dockerfile)
				return
			}
			require.ErrorIs(t, err, fault.ErrInvalid)
			require.Contains(t, err.Error(), tc.message)
		})
	}
}

// TestBuildTextFormats: a v3 recording exports SOURCE_DATE_EPOCH to every RUN
// (shell and exec form, every stage) and removes the tool caches too; v2 and
// v1 defined REEs rebuild exactly the text they were recorded with.
func TestBuildTextFormats(t *testing.T) {
	t.Parallel()
	ids := map[string]string{"debian_bookworm": strings.Repeat("b", 64)}
	const df = "FROM debian_bookworm AS b\nRUN make\nFROM debian_bookworm\nRUN [\"/bin/true\"]\n"
	v3, sum3 := buildText(parse(t, df), ids, buildSpec{Format: manifestFormat, SourceDateEpoch: 1700000000})
	require.Equal(t, 1, strings.Count(string(v3), "SOURCE_DATE_EPOCH=1700000000; make"), "shell form, only the RUN of the first stage")
	require.Contains(t, string(v3), `"SOURCE_DATE_EPOCH=1700000000","/bin/true"]`, "exec form through /usr/bin/env")
	require.Contains(t, string(v3), "/root/.cache/go-build", "the clean-up removes Go's build cache")
	require.Contains(t, string(v3), "/root/.npm/_cacache")
	other, sumOther := buildText(parse(t, df), ids, buildSpec{Format: manifestFormat, SourceDateEpoch: 1700000001})
	require.NotEqual(t, sum3, sumOther, "the epoch is part of the build text")
	require.NotEqual(t, v3, other)
	for _, format := range []string{manifestFormatV2, manifestFormatV1} {
		old, _ := buildText(parse(t, df), ids, buildSpec{Format: format, SourceDateEpoch: 1700000000})
		require.NotContains(t, string(old), "SOURCE_DATE_EPOCH", format)
		require.NotContains(t, string(old), "go-build", format)
		require.True(t, strings.HasSuffix(string(old), "RUN rm -rf "+strings.Join(nondeterministicFiles, " ")+"\n"), format)
	}
}
