package tests

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// submit posts a form to a multipart endpoint and returns status and body.
func (c *api) submit(t testing.TB, path string, f form) (int, []byte) {
	t.Helper()
	ctx := context.Background()
	ct, body := f.body()
	var (
		status int
		out    []byte
	)
	switch path {
	case "/api/recording/create":
		r, err := c.ReeRecordingCreateWithBodyWithResponse(ctx, ct, body)
		require.NoError(t, err)
		status, out = r.StatusCode(), r.Body
	case "/api/recording/build":
		r, err := c.ReeRecordingBuildWithBodyWithResponse(ctx, ct, body)
		require.NoError(t, err)
		status, out = r.StatusCode(), r.Body
	case "/api/replay/create":
		r, err := c.ReeReplayCreateWithBodyWithResponse(ctx, ct, body)
		require.NoError(t, err)
		status, out = r.StatusCode(), r.Body
	case "/api/sbom/define":
		r, err := c.ReeSbomDefineWithBodyWithResponse(ctx, ct, body)
		require.NoError(t, err)
		status, out = r.StatusCode(), r.Body
	default:
		t.Fatalf("unknown upload path %s", path)
	}
	return status, out
}

func TestBadProjectUploads(t *testing.T) {
	t.Parallel()
	c := admin(t, suite.main)
	good := "FROM python_3_11\nRUN true\n"
	corrupt := func() string {
		b, err := os.ReadFile(project(t, good, zipEntry{name: "a.txt", body: strings.Repeat("abc", 1000)}))
		require.NoError(t, err)
		i := bytes.Index(b, []byte("a.txt")) + 40 // inside the compressed data of a.txt
		b[i] ^= 0xff
		return writeTemp(t, b)
	}()
	cases := []struct {
		name    string
		form    form
		status  int
		message string
	}{
		{"no file", form{fields: [][2]string{{"tag", "x"}}}, 400, "file"},
		{"not a zip", form{filePath: writeTemp(t, []byte("this is not a zip at all"))}, 400, "not a zip"},
		{"empty file", form{filePath: writeTemp(t, nil)}, 400, "empty"},
		{"empty zip", form{filePath: makeZip(t)}, 400, "empty"},
		{"corrupt zip", form{filePath: corrupt}, 400, "corrupt"},
		{"truncated zip", form{filePath: func() string {
			b, _ := os.ReadFile(project(t, good))
			return writeTemp(t, b[:len(b)/2])
		}()}, 400, ""},
		{"no Dockerfile", form{filePath: makeZip(t, zipEntry{name: "README", body: "hi"})}, 400, "Dockerfile"},
		{"named Dockerfile missing", form{filePath: project(t, good), fields: [][2]string{{"dockerfile", "build/Containerfile"}}}, 400, "Containerfile"},
		{"dockerfile escapes", form{filePath: project(t, good), fields: [][2]string{{"dockerfile", "../Dockerfile"}}}, 400, "relative"},
		{"zip slip", form{filePath: project(t, good, zipEntry{name: "../../etc/evil", body: "x"})}, 400, "escapes"},
		{"absolute path", form{filePath: project(t, good, zipEntry{name: "/etc/evil", body: "x"})}, 400, ""},
		{"symlink out", form{filePath: project(t, good, zipEntry{name: "link", symlink: "/etc/passwd"})}, 400, "symlink"},
		{"symlink up", form{filePath: project(t, good, zipEntry{name: "up", symlink: "../../.."})}, 400, ""},
		{"zip bomb", form{filePath: bomb(t, 300<<20)}, 413, ""},
		{"tag too long", form{filePath: project(t, good), fields: [][2]string{{"tag", strings.Repeat("t", 129)}}}, 400, "tag"},
		{"unknown field", form{filePath: project(t, good), fields: [][2]string{{"colour", "blue"}}}, 400, "colour"},
		{"base not in catalogue", form{filePath: project(t, "FROM docker.io/library/ubuntu\nRUN true\n")}, 400, "python_3_11"},
		{"no FROM", form{filePath: project(t, "RUN true\n")}, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := c.submit(t, "/api/recording/create", tc.form)
			require.Equal(t, tc.status, status, string(body))
			require.Contains(t, strings.ToLower(string(body)), strings.ToLower(tc.message))
		})
	}
	// Nothing was started by any of them.
	list, err := c.ReeProcessListWithResponse(context.Background(), nil)
	require.NoError(t, err)
	for _, p := range list.JSON200.Items {
		require.NotEqual(t, "x", deref(p.Tag))
	}
}

func TestMultipartMustBeMultipart(t *testing.T) {
	t.Parallel()
	c := admin(t, suite.main)
	r, err := c.ReeRecordingCreateWithBodyWithResponse(context.Background(), "application/json", stringsReader(`{"file":"x"}`))
	require.NoError(t, err)
	require.Equal(t, 400, r.StatusCode())
}

func TestSBOMStrategyIsNotAvailableYet(t *testing.T) {
	t.Parallel()
	c := admin(t, suite.main)
	status, body := c.submit(t, "/api/sbom/define", form{filePath: project(t, "FROM python_3_11\n")})
	require.Equal(t, 422, status, string(body))
	require.Contains(t, string(body), "SBOM strategy")
	status, _ = c.submit(t, "/api/sbom/define", form{filePath: writeTemp(t, []byte("nope"))})
	require.Equal(t, 400, status)
}

func TestBadDefinedREEUploads(t *testing.T) {
	t.Parallel()
	c := admin(t, suite.main)
	cases := []struct {
		name    string
		zip     string
		message string
	}{
		{"not a zip", writeTemp(t, []byte("plain text")), "not a zip"},
		{"a project instead of a defined REE", project(t, "FROM python_3_11\n"), "SHA256SUMS"},
		{"sums but no manifest", makeZip(t, zipEntry{name: "SHA256SUMS", body: ""}), "manifest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, path := range []string{"/api/recording/build", "/api/replay/create"} {
				status, body := c.submit(t, path, form{filePath: tc.zip})
				require.Equal(t, 400, status, string(body))
				require.Contains(t, string(body), tc.message)
			}
		})
	}
}

func TestUnknownAndForeignProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alice, bob := newUser(t, suite.main), newUser(t, suite.main)
	status, body := alice.submit(t, "/api/recording/create", form{filePath: project(t, "FROM debian_bookworm\nRUN sleep 2\n"), fields: [][2]string{{"tag", "alice-private"}}})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)

	// Bob cannot see, read, download or cancel Alice's process: 404 everywhere.
	st, err := bob.ReeProcessStatusWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 404, st.StatusCode())
	lg, err := bob.ReeProcessLogWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 404, lg.StatusCode())
	dl, err := bob.ReeProcessDownloadWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 404, dl.StatusCode())
	cn, err := bob.ReeProcessCancelWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 404, cn.StatusCode())
	list, err := bob.ReeProcessListWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, 0, list.JSON200.Total)

	// Alice downloading before it is processed gets 409 with the status.
	dl, err = alice.ReeProcessDownloadWithResponse(ctx, id)
	require.NoError(t, err)
	if dl.StatusCode() != 200 {
		require.Equal(t, 409, dl.StatusCode())
		require.Regexp(t, "queued|running", string(dl.Body))
	}
	final := waitFinal(t, alice, id)
	require.Equal(t, "processed", string(final.Status), deref(final.Reason))

	// A finished process cannot be cancelled.
	cn, err = alice.ReeProcessCancelWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 409, cn.StatusCode())

	// Unknown uuids are 404.
	unknown, err := alice.ReeProcessStatusWithResponse(ctx, mustUUID("bd4765b4-3ffb-412f-96ad-fc634b72abbd"))
	require.NoError(t, err)
	require.Equal(t, 404, unknown.StatusCode())

	// The list filters by tag and status.
	tag := "alice-private"
	mine, err := alice.ReeProcessListWithResponse(ctx, &listParams{Tag: &tag})
	require.NoError(t, err)
	require.Equal(t, 1, mine.JSON200.Total)
}
