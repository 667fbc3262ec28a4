package tests

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// manifest mirrors the fields of a defined REE's manifest.json that the tests read.
type manifest struct {
	Format          string `json:"format"`
	Dockerfile      string `json:"dockerfile"`
	SourceDateEpoch int64  `json:"source_date_epoch"`
	ImageID         string `json:"image_id"`
	ReehubVersion   string `json:"reehub_version"`
	BaseImages      []struct {
		Name, ImageID, Archive string
	} `json:"base_images"`
	Recording struct {
		Entries int `json:"entries"`
	} `json:"recording"`
}

type report struct {
	RecordedImageID string   `json:"recorded_image_id"`
	RebuiltImageID  string   `json:"rebuilt_image_id"`
	Identical       bool     `json:"identical"`
	SameFiles       bool     `json:"same_files"`
	DifferingFiles  []string `json:"differing_files"`
	Differences     []struct {
		Path     string    `json:"path"`
		Recorded *fileSide `json:"recorded"`
		Rebuilt  *fileSide `json:"rebuilt"`
		Diff     string    `json:"diff"`
		Note     string    `json:"note"`
	} `json:"differences"`
	ProxyMisses int    `json:"proxy_misses"`
	Explanation string `json:"explanation"`
}

// fileSide is one side of a difference in report.json.
type fileSide struct {
	Description string `json:"description"`
	SHA256      string `json:"sha256"`
	Size        *int64 `json:"size"`
}

func readZipEntry(t testing.TB, zipPath, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	require.NoError(t, err)
	defer zr.Close()
	f, err := zr.Open(name)
	require.NoError(t, err, "zip %s lacks %s", zipPath, name)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	return b
}

func zipNames(t testing.TB, zipPath string) []string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	require.NoError(t, err)
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	return names
}

// TestRecordAndReplay is the REE document's whole flow on real Podman: record an
// apt install and an HTTPS download, check what the defined REE holds and what
// it must not, replay it twice offline (both spellings), and check that a
// tampered or incomplete recording is refused with a clear message.
func TestRecordAndReplay(t *testing.T) {
	ctx := context.Background()
	c := newUser(t, suite.main)
	origin := suite.tlsOrigin.URL + "/hello.txt"
	dockerfile := fmt.Sprintf(`FROM python_3_11
RUN apt-get update && apt-get install -y --no-install-recommends jq
RUN python3 -c "import urllib.request; open('/fetched.txt','wb').write(urllib.request.urlopen('%s').read())"
COPY . /ctx
RUN cat /fetched.txt && jq --version > /jq-version
`, origin)
	zipPath := project(t, dockerfile, zipEntry{name: "data/input.txt", body: "research data\n"})

	// keep_image: the image is inspected below (by default it is removed once packaged).
	status, body := c.submit(t, "/api/recording/create", form{filePath: zipPath, fields: [][2]string{{"tag", "my_definition"}, {"keep_image", "true"}}})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)

	// The log shows build output while the build runs.
	streamed := false
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); {
		st, err := c.ReeProcessStatusWithResponse(ctx, id)
		require.NoError(t, err)
		if st.JSON200.Status != client.ReeProcessStateRunning && st.JSON200.Status != client.ReeProcessStateQueued {
			break
		}
		if st.JSON200.Status == client.ReeProcessStateRunning && strings.Contains(logOf(t, c, id), "STEP 2/") {
			streamed = true
			break
		}
		time.Sleep(150 * time.Millisecond)
	}
	final := waitFinal(t, c, id)
	require.Equal(t, client.ReeProcessStateProcessed, final.Status, "reason: %s\nlog:\n%s", deref(final.Reason), tail(logOf(t, c, id), 40))
	require.True(t, streamed, "the log had build output while the process was running")
	require.Equal(t, "/api/process/download/"+id.String(), final.DownloadEndpoint)
	require.Equal(t, "/api/log/download/"+id.String(), final.DownloadLogEndpoint)
	logText := logOf(t, c, id)
	require.Contains(t, logText, origin, "the log names what the proxy recorded")

	// Both log spellings serve the same log.
	alias, err := c.ReeLogDownloadWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, logText, string(alias.Body))

	ree := download(t, c, id)
	names := zipNames(t, ree)
	for _, want := range []string{"manifest.json", "SHA256SUMS", "build.log", "recording/index.json", "project/Dockerfile", "project/data/input.txt", "base-images/python_3_11.tar.gz"} {
		require.Contains(t, names, want)
	}
	var m manifest
	require.NoError(t, json.Unmarshal(readZipEntry(t, ree, "manifest.json"), &m))
	require.Equal(t, "reehub.ree.recording/v3", m.Format)
	require.Contains(t, names, "image-file-details.json")
	require.Nil(t, final.Identical, "a recording has no replay result")
	require.Equal(t, "Dockerfile", m.Dockerfile)
	require.Len(t, m.BaseImages, 1)
	require.Equal(t, "python_3_11", m.BaseImages[0].Name)
	require.Len(t, m.ImageID, 64)
	require.NotZero(t, m.SourceDateEpoch)
	index := string(readZipEntry(t, ree, "recording/index.json"))
	require.Contains(t, index, "http://deb.debian.org/debian/")
	require.Contains(t, index, origin, "HTTPS responses are recorded too")
	require.Equal(t, strings.Count(index, `"key":`), m.Recording.Entries)

	t.Run("nothing secret in the defined REE", func(t *testing.T) {
		zr, err := zip.OpenReader(ree)
		require.NoError(t, err)
		defer zr.Close()
		for _, f := range zr.File {
			if strings.HasPrefix(f.Name, "base-images/") {
				continue // the untouched base image, checked by digest
			}
			rc, err := f.Open()
			require.NoError(t, err)
			b, err := io.ReadAll(rc)
			rc.Close()
			require.NoError(t, err)
			requireNoSecrets(t, f.Name, b)
		}
	})

	t.Run("nothing secret in the image", func(t *testing.T) {
		requireImageClean(t, m.ImageID)
	})

	suite.tlsOrigin.Close() // from here on nothing upstream answers: replays are offline

	var rebuilt string
	for _, path := range []string{"/api/recording/build", "/api/replay/create"} {
		t.Run("replay via "+path, func(t *testing.T) {
			rid, final := replay(t, c, path, ree)
			require.Equal(t, client.ReeProcessStateProcessed, final.Status, "reason: %s\n%s", deref(final.Reason), tail(logOf(t, c, rid), 30))
			out := download(t, c, rid)
			names := zipNames(t, out)
			for _, want := range []string{"image.oci.tar", "manifest.json", "report.json", "build.log", "SHA256SUMS"} {
				require.Contains(t, names, want)
			}
			var r report
			require.NoError(t, json.Unmarshal(readZipEntry(t, out, "report.json"), &r))
			require.Equal(t, m.ImageID, r.RecordedImageID)
			require.Zero(t, r.ProxyMisses)
			require.True(t, r.Identical, "replay reproduces the recorded image ID: %s; differing files: %v", r.Explanation, r.DifferingFiles)
			require.NotNil(t, final.Identical)
			require.True(t, *final.Identical, "the status says the replay was identical")
			require.Empty(t, r.Differences)
			if rebuilt != "" {
				require.Equal(t, rebuilt, r.RebuiltImageID, "two replays give the same image")
			}
			rebuilt = r.RebuiltImageID
			requireOCIArchive(t, out)
		})
	}

	t.Run("tampered defined REE is refused", func(t *testing.T) {
		edited := rezip(t, ree, func(name string, b []byte) ([]byte, bool) {
			if name == "manifest.json" {
				return bytes.Replace(b, []byte(`"dockerfile": "Dockerfile"`), []byte(`"dockerfile": "Evilfile"`), 1), true
			}
			return b, true
		}, nil)
		status, body := c.submit(t, "/api/replay/create", form{filePath: edited})
		require.Equal(t, 400, status)
		require.Contains(t, string(body), "manifest.json")

		noRecording := rezip(t, ree, func(name string, b []byte) ([]byte, bool) {
			return b, !strings.HasPrefix(name, "recording/")
		}, nil)
		status, body = c.submit(t, "/api/recording/build", form{filePath: noRecording})
		require.Equal(t, 400, status)
		require.Contains(t, string(body), "recording")

		// The base image archive is checked too, although this server has the
		// base image and does not need to load it.
		base := rezip(t, ree, func(name string, b []byte) ([]byte, bool) {
			if name == "base-images/python_3_11.tar.gz" {
				b = bytes.Clone(b)
				b[len(b)/2] ^= 0xff
			}
			return b, true
		}, nil)
		status, body = c.submit(t, "/api/replay/create", form{filePath: base})
		require.Equal(t, 400, status)
		require.Contains(t, string(body), "base-images/python_3_11.tar.gz")

		extra := rezip(t, ree, nil, map[string][]byte{"project/smuggled.sh": []byte("echo hi")})
		status, body = c.submit(t, "/api/recording/build", form{filePath: extra})
		require.Equal(t, 400, status)
		require.Contains(t, string(body), "smuggled.sh")
	})

	t.Run("a request not in the recording fails the replay naming the URL", func(t *testing.T) {
		incomplete := dropRecorded(t, ree, origin)
		rid, final := replay(t, c, "/api/replay/create", incomplete)
		require.Equal(t, client.ReeProcessStateFailed, final.Status)
		require.Contains(t, deref(final.Reason), origin)
		require.Contains(t, logOf(t, c, rid), "MISS")
	})

	t.Run("replay on a Podman that has never seen the base image", func(t *testing.T) {
		fresh := startFreshPodman(t)
		in, err := startInstance(instanceOpts{name: "fresh-" + randomHex(3), database: freshDBOrEmpty(t),
			extraEnv: []string{"REEHUB_PODMAN_SOCKET=" + fresh}})
		require.NoError(t, err)
		defer in.stop()
		other := admin(t, in)
		list, err := other.ReeImageListWithResponse(ctx)
		require.NoError(t, err)
		for _, img := range *list.JSON200 {
			require.False(t, *img.Available, "the fresh Podman has no base images")
		}
		rid, final := replay(t, other, "/api/replay/create", ree)
		require.Equal(t, client.ReeProcessStateProcessed, final.Status, "reason: %s\n%s", deref(final.Reason), tail(logOf(t, other, rid), 30))
		require.Contains(t, logOf(t, other, rid), "loading it from the defined REE")
		var r report
		require.NoError(t, json.Unmarshal(readZipEntry(t, download(t, other, rid), "report.json"), &r))
		require.True(t, r.Identical, "%s %v", r.Explanation, r.DifferingFiles)
	})
}

// dropRecorded removes the entry of url from the recording and re-signs the
// checksums, giving a well-formed defined REE whose recording lacks url.
func dropRecorded(t testing.TB, ree, url string) string {
	t.Helper()
	var index struct {
		Version int               `json:"version"`
		Entries []json.RawMessage `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(readZipEntry(t, ree, "recording/index.json"), &index))
	kept := index.Entries[:0]
	for _, e := range index.Entries {
		if !strings.Contains(string(e), `"url": "`+url+`"`) && !strings.Contains(string(e), `"url":"`+url+`"`) {
			kept = append(kept, e)
		}
	}
	require.Less(t, len(kept), len(index.Entries), "the recording had %s", url)
	index.Entries = kept
	newIndex, err := json.MarshalIndent(index, "", "  ")
	require.NoError(t, err)
	sum := sha256.Sum256(newIndex)
	return rezip(t, ree, func(name string, b []byte) ([]byte, bool) {
		switch name {
		case "recording/index.json":
			return newIndex, true
		case "SHA256SUMS":
			var out []string
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if strings.HasSuffix(line, "  recording/index.json") {
					line = hex.EncodeToString(sum[:]) + "  recording/index.json"
				}
				out = append(out, line)
			}
			return []byte(strings.Join(out, "\n") + "\n"), true
		}
		return b, true
	}, nil)
}

var privateKey = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]{64,}`)

// requireNoSecrets fails when b holds a private key, a certificate of a reehub
// build CA, or the proxy's address.
func requireNoSecrets(t testing.TB, name string, b []byte) {
	t.Helper()
	require.False(t, privateKey.Match(b), "%s holds a private key", name)
	require.NotContains(t, string(b), "reehub-proxy:", "%s holds the proxy address", name)
	rest := b
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			continue
		}
		require.False(t, slices.Contains(cert.Subject.Organization, "reehub") || slices.Contains(cert.Issuer.Organization, "reehub"),
			"%s holds reehub's build CA certificate (%s)", name, cert.Subject)
	}
}

// requireImageClean exports the image and checks the layers reehub built and
// the config: no CA, key, proxy address or secret files; no proxy or CA environment.
func requireImageClean(t testing.TB, imageID string) {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	out, err := exec.Command("podman", "save", "--format", "docker-archive", "-o", archive, imageID).CombinedOutput()
	require.NoError(t, err, string(out))
	f, err := os.Open(archive)
	require.NoError(t, err)
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			require.NoError(t, err)
			files[h.Name] = b
		}
	}
	var man []struct {
		Config string
		Layers []string
	}
	require.NoError(t, json.Unmarshal(files["manifest.json"], &man))
	require.Len(t, man, 1)
	config := string(files[man[0].Config])
	var cfg struct {
		Config struct{ Env []string } `json:"config"`
	}
	require.NoError(t, json.Unmarshal(files[man[0].Config], &cfg))
	for _, e := range cfg.Config.Env {
		for _, bad := range []string{"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "APT_CONFIG", "PIP_CERT"} {
			require.False(t, strings.HasPrefix(e, bad+"="), "image environment sets %s", e)
		}
	}
	// History shows the rewritten RUN commands (mount paths, variable names; see
	// docs/recording-trust.md) but never the proxy's address.
	require.NotContains(t, config, "reehub-proxy:")
	// The top layer holds everything the build added (reehub squashes the build's steps).
	top := man[0].Layers[len(man[0].Layers)-1]
	lr := tar.NewReader(bytes.NewReader(files[top]))
	sawCtx := false
	for {
		h, err := lr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		name := strings.TrimPrefix(h.Name, "./")
		require.False(t, strings.HasPrefix(name, "run/reehub"), "secret mount left %s", name)
		if strings.HasPrefix(name, "ctx/") {
			sawCtx = true
			require.False(t, strings.Contains(name, ".reehub"), "reehub's generated files leaked into the context copy: %s", name)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(lr)
			require.NoError(t, err)
			requireNoSecrets(t, name, b)
		}
	}
	require.True(t, sawCtx, "COPY . /ctx is in the top layer")
}

// requireOCIArchive checks that the replay output's image is an OCI archive.
func requireOCIArchive(t testing.TB, out string) {
	t.Helper()
	zr, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer zr.Close()
	f, err := zr.Open("image.oci.tar")
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		seen[h.Name] = true
	}
	require.True(t, seen["oci-layout"] && seen["index.json"], "image.oci.tar is an OCI layout: %v", seen)
}

// TestReplayReportsDifferences: a build that writes random bytes replays
// successfully, its status says it was not identical, and the report names
// every differing file with size and sha256 on both sides and a unified diff
// for text, while files the build wrote deterministically are not listed.
func TestReplayReportsDifferences(t *testing.T) {
	c := newUser(t, suite.main)
	dockerfile := `FROM debian_bookworm
RUN head -c 16 /dev/urandom | od -An -tx1 > /random.txt && head -c 64 /dev/urandom > /random.bin \
 && echo stable > /stable.txt && date -u -d "@$SOURCE_DATE_EPOCH" +%F > /built-on.txt
`
	status, body := c.submit(t, "/api/recording/create", form{filePath: project(t, dockerfile)})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)
	final := waitFinal(t, c, id)
	require.Equal(t, client.ReeProcessStateProcessed, final.Status, "reason: %s\n%s", deref(final.Reason), tail(logOf(t, c, id), 30))
	ree := download(t, c, id)
	var m manifest
	require.NoError(t, json.Unmarshal(readZipEntry(t, ree, "manifest.json"), &m))

	rid, rfinal := replay(t, c, "/api/replay/create", ree)
	require.Equal(t, client.ReeProcessStateProcessed, rfinal.Status, "a difference is a finding, not a failure: %s", deref(rfinal.Reason))
	require.NotNil(t, rfinal.Identical)
	require.False(t, *rfinal.Identical, "the status says the replay differs")
	require.Contains(t, deref(rfinal.Reason), "files differ")
	var r report
	require.NoError(t, json.Unmarshal(readZipEntry(t, download(t, c, rid), "report.json"), &r))
	require.False(t, r.Identical)
	require.Equal(t, []string{"/random.bin", "/random.txt"}, r.DifferingFiles,
		"only the random files differ: SOURCE_DATE_EPOCH dates /built-on.txt the same in both builds")
	require.Len(t, r.Differences, 2)
	for _, d := range r.Differences {
		require.NotNil(t, d.Recorded, d.Path)
		require.NotNil(t, d.Rebuilt, d.Path)
		require.Len(t, d.Recorded.SHA256, 64)
		require.Len(t, d.Rebuilt.SHA256, 64)
		require.NotEqual(t, d.Recorded.SHA256, d.Rebuilt.SHA256)
		require.NotNil(t, d.Recorded.Size, "a v3 defined REE records sizes")
		require.NotNil(t, d.Rebuilt.Size)
		require.Equal(t, *d.Recorded.Size, *d.Rebuilt.Size, d.Path)
		switch d.Path {
		case "/random.bin":
			require.Equal(t, int64(64), *d.Rebuilt.Size)
			require.Empty(t, d.Diff)
			require.Equal(t, "binary content", d.Note)
		case "/random.txt":
			require.Contains(t, d.Diff, "--- recorded/random.txt\n+++ rebuilt/random.txt\n")
			require.Regexp(t, `(?m)^-( [0-9a-f]{2}){16}$`, d.Diff)
			require.Regexp(t, `(?m)^\+( [0-9a-f]{2}){16}$`, d.Diff)
		}
	}
	logText := logOf(t, c, rid)
	require.Contains(t, logText, "reehub: differs: /random.txt (recorded: 49 bytes, sha256 ")
}
