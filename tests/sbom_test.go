package tests

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// sbomManifest mirrors the fields of an SBOM-defined REE's manifest.json that the tests read.
type sbomManifest struct {
	Format           string `json:"format"`
	Dockerfile       string `json:"dockerfile"`
	PinnedDockerfile string `json:"pinned_dockerfile"`
	ImageID          string `json:"image_id"`
	BaseImage        struct {
		Name    string `json:"name"`
		ImageID string `json:"image_id"`
	} `json:"base_image"`
	Pinned []struct {
		Type, Name, Version string
	} `json:"pinned"`
}

// driftReport mirrors drift.json.
type driftReport struct {
	Drift          bool   `json:"drift"`
	Summary        string `json:"summary"`
	RebuiltImageID string `json:"rebuilt_image_id"`
	Added          []struct{ Name, Version string }
	Removed        []struct{ Name, Version string }
	VersionChanged []struct{ Name, From, To string } `json:"version_changed"`
}

// sbomPackages returns name -> version of the Debian packages in an sbom.json.
func sbomPackages(t testing.TB, b []byte) map[string]string {
	t.Helper()
	var doc struct {
		Packages []struct{ Type, Name, Version string }
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	out := map[string]string{}
	for _, p := range doc.Packages {
		if p.Type == "deb" {
			out[p.Name] = p.Version
		}
	}
	return out
}

// repin copies a zip with entries replaced (nil removes one) and, when
// resum is set, SHA256SUMS recomputed as a user re-pinning by hand would.
func repin(t testing.TB, src string, replace map[string][]byte, resum bool) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	require.NoError(t, err)
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		_ = rc.Close()
		files[f.Name] = b
	}
	for name, b := range replace {
		if b == nil {
			delete(files, name)
		} else {
			files[name] = b
		}
	}
	if resum {
		var names []string
		for n := range files {
			if n != "SHA256SUMS" {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		var sums strings.Builder
		for _, n := range names {
			sum := sha256.Sum256(files[n])
			fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), n)
		}
		files["SHA256SUMS"] = []byte(sums.String())
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	p := filepath.Join(t.TempDir(), "edited.zip")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

// TestSbomDefineAndBuild is the SBOM strategy through the API on real Podman:
// define an apt project (pinned Dockerfile, SBOMs, manifest), rebuild it with
// no drift, then rebuild definitions whose pins were edited: an unknown
// version fails naming the package, a dropped pin drifts naming it. It also
// measures the define time against a recording of the same Dockerfile.
func TestSbomDefineAndBuild(t *testing.T) {
	ctx := context.Background()
	c := newUser(t, suite.main)
	dockerfile := "FROM python_3_11\nRUN apt-get update && apt-get install -y --no-install-recommends jq\nCOPY . /app\nRUN cp /app/data/input.txt /input-copy.txt\n"
	zipPath := project(t, dockerfile, zipEntry{name: "data/input.txt", body: "research data\n"})

	started := time.Now()
	status, body := c.submit(t, "/api/sbom/define", form{filePath: zipPath, fields: [][2]string{{"tag", "sbom_def"}}})
	require.Equal(t, 200, status, string(body))
	defID := startedID(t, body)
	def := waitFinal(t, c, defID)
	defineTime := time.Since(started)
	require.Equal(t, client.ReeProcessStateProcessed, def.Status, "reason: %s\nlog:\n%s", deref(def.Reason), tail(logOf(t, c, defID), 40))
	require.Equal(t, client.ReeProcessKindSbomDefine, def.Kind)

	list, err := c.ReeProcessListWithResponse(ctx, &listParams{Kind: ptrTo(client.ReeProcessKindSbomDefine)})
	require.NoError(t, err)
	require.Equal(t, 200, list.StatusCode())
	require.Len(t, list.JSON200.Items, 1)
	require.Equal(t, defID, list.JSON200.Items[0].Uuid)

	ree := download(t, c, defID)
	names := zipNames(t, ree)
	for _, want := range []string{"manifest.json", "SHA256SUMS", "build.log", "Dockerfile.pinned", "sbom.cdx.json", "sbom.spdx.json", "sbom.json", "project/Dockerfile", "project/data/input.txt"} {
		require.Contains(t, names, want)
	}
	var m sbomManifest
	require.NoError(t, json.Unmarshal(readZipEntry(t, ree, "manifest.json"), &m))
	require.Equal(t, "reehub.ree.sbom/v1", m.Format)
	require.Equal(t, "python_3_11", m.BaseImage.Name)
	require.Len(t, m.BaseImage.ImageID, 64)
	require.Len(t, m.ImageID, 64)

	pkgs := sbomPackages(t, readZipEntry(t, ree, "sbom.json"))
	require.Contains(t, pkgs, "jq")
	require.Contains(t, pkgs, "libjq1", "jq's dependency is in the SBOM")
	pinned := string(readZipEntry(t, ree, "Dockerfile.pinned"))
	require.Contains(t, pinned, "\nFROM "+m.BaseImage.ImageID+"\n", "the base image is pinned by image ID:\n%s", pinned)
	for _, name := range []string{"jq", "libjq1", "libonig5"} {
		require.Contains(t, pinned, " "+name+"="+pkgs[name], "apt package %s pinned to the built version:\n%s", name, pinned)
	}
	require.Contains(t, pinned, "COPY . /app\n")
	require.NotContains(t, pinned, " python3=", "packages of the base image are not re-pinned")
	pinnedNames := map[string]bool{}
	for _, p := range m.Pinned {
		pinnedNames[p.Name] = true
	}
	require.True(t, pinnedNames["jq"] && pinnedNames["libjq1"], "manifest lists the pins: %+v", m.Pinned)

	var cdx struct {
		BomFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Components  []struct{ Name, Version string }
	}
	require.NoError(t, json.Unmarshal(readZipEntry(t, ree, "sbom.cdx.json"), &cdx))
	require.Equal(t, "CycloneDX", cdx.BomFormat)
	require.Equal(t, "1.6", cdx.SpecVersion)
	var spdx struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct{ Name string }
	}
	require.NoError(t, json.Unmarshal(readZipEntry(t, ree, "sbom.spdx.json"), &spdx))
	require.Equal(t, "SPDX-2.3", spdx.SPDXVersion)
	require.Contains(t, string(readZipEntry(t, ree, "build.log")), "jq")

	t.Run("rebuild has no drift", func(t *testing.T) {
		id, st := replay(t, c, "/api/sbom/build", ree)
		require.Equal(t, client.ReeProcessStateProcessed, st.Status, "reason: %s\nlog:\n%s", deref(st.Reason), tail(logOf(t, c, id), 40))
		require.Equal(t, client.ReeProcessKindSbomBuild, st.Kind)
		require.Contains(t, deref(st.Reason), "no drift")
		out := download(t, c, id)
		outNames := zipNames(t, out)
		for _, want := range []string{"image.oci.tar", "sbom.cdx.json", "sbom.spdx.json", "drift.json", "manifest.json", "build.log"} {
			require.Contains(t, outNames, want)
		}
		var d driftReport
		require.NoError(t, json.Unmarshal(readZipEntry(t, out, "drift.json"), &d))
		require.False(t, d.Drift, "drift: %s", d.Summary)
		require.Empty(t, d.Added)
		require.Empty(t, d.Removed)
		require.Empty(t, d.VersionChanged)
		require.Equal(t, pkgs, sbomPackages(t, readZipEntry(t, out, "sbom.json")))
		requireOCIArchive(t, out)
	})

	t.Run("a pin the mirror does not serve fails naming it", func(t *testing.T) {
		edited := strings.Replace(pinned, " jq="+pkgs["jq"], " jq=1.5-0reehub1", 1)
		require.NotEqual(t, pinned, edited)
		zipPath := repin(t, ree, map[string][]byte{"Dockerfile.pinned": []byte(edited)}, true)
		id, st := replay(t, c, "/api/sbom/rebuild", zipPath)
		require.Equal(t, client.ReeProcessStateFailed, st.Status, "log:\n%s", tail(logOf(t, c, id), 30))
		require.Contains(t, deref(st.Reason), "jq=1.5-0reehub1")
	})

	t.Run("a dropped pin drifts naming the package", func(t *testing.T) {
		edited := strings.Replace(pinned, " jq="+pkgs["jq"], "", 1)
		zipPath := repin(t, ree, map[string][]byte{"Dockerfile.pinned": []byte(edited)}, true)
		id, st := replay(t, c, "/api/sbom/build", zipPath)
		require.Equal(t, client.ReeProcessStateProcessed, st.Status, "drift is reported, not an error: %s\n%s", deref(st.Reason), tail(logOf(t, c, id), 30))
		require.Contains(t, deref(st.Reason), "drift: ")
		require.Contains(t, deref(st.Reason), "-jq "+pkgs["jq"])
		var d driftReport
		require.NoError(t, json.Unmarshal(readZipEntry(t, download(t, c, id), "drift.json"), &d))
		require.True(t, d.Drift)
		require.Len(t, d.Removed, 1)
		require.Equal(t, "jq", d.Removed[0].Name)
	})

	t.Run("a tampered definition is refused", func(t *testing.T) {
		edited := strings.Replace(pinned, " jq="+pkgs["jq"], " jq=0", 1)
		status, body := c.submit(t, "/api/sbom/build", form{filePath: repin(t, ree, map[string][]byte{"Dockerfile.pinned": []byte(edited)}, false)})
		require.Equal(t, 400, status)
		require.Contains(t, string(body), "Dockerfile.pinned")
		status, body = c.submit(t, "/api/sbom/build", form{filePath: repin(t, ree, map[string][]byte{"Dockerfile.pinned": []byte("FROM python_3_11\nRUN true\n")}, true)})
		require.Equal(t, 400, status)
		require.Contains(t, string(body), "pinned base image")
	})

	t.Run("figure: define time / recording time", func(t *testing.T) {
		// The first define and the first recording of an instance fill their
		// base-image caches (the base SBOM, the base archive); the second of
		// each is the steady state.
		recordTimes := make([]time.Duration, 2)
		for i := range recordTimes {
			started := time.Now()
			id, st := record(t, c, zipPath)
			recordTimes[i] = time.Since(started)
			require.Equal(t, client.ReeProcessStateProcessed, st.Status, "reason: %s\n%s", deref(st.Reason), tail(logOf(t, c, id), 30))
		}
		started := time.Now()
		status, body := c.submit(t, "/api/sbom/define", form{filePath: zipPath})
		require.Equal(t, 200, status, string(body))
		st := waitFinal(t, c, startedID(t, body))
		warmDefine := time.Since(started)
		require.Equal(t, client.ReeProcessStateProcessed, st.Status)
		t.Logf("figure: SBOM define / recording of the same Dockerfile, POST to processed: first %.1fs / %.1fs = %.2f; second %.1fs / %.1fs = %.2f",
			defineTime.Seconds(), recordTimes[0].Seconds(), defineTime.Seconds()/recordTimes[0].Seconds(),
			warmDefine.Seconds(), recordTimes[1].Seconds(), warmDefine.Seconds()/recordTimes[1].Seconds())
	})
}

// TestSbomBadInput: what the SBOM strategy cannot define is a 4xx at once.
func TestSbomBadInput(t *testing.T) {
	t.Parallel()
	c := newUser(t, suite.main)
	cases := []struct {
		name, path string
		zip        string
		message    string
	}{
		{"no Dockerfile", "/api/sbom/define", makeZip(t, zipEntry{name: "main.py", body: "print(1)\n"}), "no regular file"},
		{"FROM not in the catalogue", "/api/sbom/define", project(t, "FROM alpine:3.19\nRUN true\n"), "not a base image"},
		{"not a zip", "/api/sbom/define", writeTemp(t, []byte("nope")), "file"},
		{"multi-stage", "/api/sbom/define", project(t, "FROM python_3_11 AS a\nRUN true\nFROM python_3_11\nRUN true\n"), "stages"},
		{"unpinnable install", "/api/sbom/define", project(t, "FROM python_3_11\nRUN apt-get install -y $PKGS\n"), "shell expansion"},
		{"npm without lockfile", "/api/sbom/define", project(t, "FROM python_3_11\nRUN npm install\n"), "package-lock.json"},
		{"a project is not a definition", "/api/sbom/build", project(t, "FROM python_3_11\n"), "SHA256SUMS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.submit(t, tc.path, form{filePath: tc.zip})
			require.Equal(t, 400, status, string(body))
			require.Contains(t, string(body), tc.message)
		})
	}
	// A recording is not an SBOM definition: its manifest format says so.
	m := []byte(`{"format":"reehub.ree.recording/v1"}`)
	sums := sha256.Sum256(m)
	zipPath := makeZip(t, zipEntry{name: "manifest.json", body: string(m)}, zipEntry{name: "SHA256SUMS", body: hex.EncodeToString(sums[:]) + "  manifest.json\n"})
	status, body := c.submit(t, "/api/sbom/build", form{filePath: zipPath})
	require.Equal(t, 400, status, string(body))
	require.Regexp(t, regexp.MustCompile(`/api/recording/build`), string(body))
}

// TestSbomDebianMirror: with REEHUB_DEBIAN_MIRROR set, apt in SBOM builds
// reads its sources from that mirror (and fails naming the package when the
// mirror serves nothing), while the image keeps its own sources.list.
func TestSbomDebianMirror(t *testing.T) {
	t.Parallel()
	// The same mirror as the base image's sources, spelled with its port so
	// that apt's log shows which sources list it read.
	const mirror = "http://deb.debian.org:80/debian"
	in, err := startInstance(instanceOpts{name: "mirror-" + randomHex(3), database: freshDBOrEmpty(t), extraEnv: []string{"REEHUB_DEBIAN_MIRROR=" + mirror}})
	require.NoError(t, err)
	defer in.stop()
	c := admin(t, in)
	dockerfile := "FROM python_3_11\nRUN apt-get update && apt-get install -y --no-install-recommends jq && cat /etc/apt/sources.list\n"
	status, body := c.submit(t, "/api/sbom/define", form{filePath: project(t, dockerfile)})
	require.Equal(t, 200, status, string(body))
	id := startedID(t, body)
	st := waitFinal(t, c, id)
	logText := logOf(t, c, id)
	require.Equal(t, client.ReeProcessStateProcessed, st.Status, "reason: %s\n%s", deref(st.Reason), tail(logText, 30))
	require.Contains(t, logText, mirror+" bookworm", "apt fetched from the configured mirror")
	require.Contains(t, logText, "deb http://deb.debian.org/debian bookworm main", "the image's own sources.list is unchanged")
	ree := download(t, c, id)
	var m struct {
		DebianMirror string `json:"debian_mirror"`
	}
	require.NoError(t, json.Unmarshal(readZipEntry(t, ree, "manifest.json"), &m))
	require.Equal(t, mirror, m.DebianMirror)
	require.Regexp(t, `jq=\S+`, string(readZipEntry(t, ree, "Dockerfile.pinned")))

	dead, err := startInstance(instanceOpts{name: "deadmirror-" + randomHex(3), database: freshDBOrEmpty(t), extraEnv: []string{"REEHUB_DEBIAN_MIRROR=http://127.0.0.1:9/debian"}})
	require.NoError(t, err)
	defer dead.stop()
	d := admin(t, dead)
	id2, st2 := replay(t, d, "/api/sbom/build", ree)
	require.Equal(t, client.ReeProcessStateFailed, st2.Status, tail(logOf(t, d, id2), 30))
	require.Contains(t, deref(st2.Reason), "jq")
}
