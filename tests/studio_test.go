package tests

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// studioClient speaks the Studio API (XML by default, JSON on request)
// through the validating transport, with HTTP Basic and a Studio API key.
type studioClient struct {
	t          testing.TB
	base       string
	hc         *http.Client
	user, pass string
	scheme     string // the Authorization scheme as sent ("Basic", "BASIC")
	json       bool
}

func (c *studioClient) do(method, path string, body io.Reader, contentType string) (int, http.Header, []byte) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, body)
	require.NoError(c.t, err)
	if c.user != "" {
		scheme := c.scheme
		if scheme == "" {
			scheme = "Basic"
		}
		req.SetBasicAuth(c.user, c.pass)
		req.Header.Set("Authorization", scheme+strings.TrimPrefix(req.Header.Get("Authorization"), "Basic"))
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.json {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	if strings.HasPrefix(path, "/api/v1/user/") && resp.StatusCode != http.StatusPartialContent && !strings.Contains(path, "/data") &&
		!strings.Contains(path, "/download") && !strings.Contains(path, "/ree") && !strings.Contains(path, "image_files") {
		want := "application/xml"
		if c.json {
			want = "application/json"
		}
		require.Equal(c.t, want, resp.Header.Get("Content-Type"), "%s %s: %s", method, path, b)
	}
	return resp.StatusCode, resp.Header, b
}

// xml decodes a 200 answer into v (XML or JSON as the client asked).
func (c *studioClient) ok(method, path string, v any) []byte {
	c.t.Helper()
	status, _, b := c.do(method, path, nil, "")
	require.Equal(c.t, 200, status, "%s %s: %s", method, path, b)
	c.decode(b, v)
	return b
}

func (c *studioClient) decode(b []byte, v any) {
	c.t.Helper()
	if v == nil {
		return
	}
	// encoding/xml appends to the slices of a reused value (encoding/json
	// replaces them): start from the zero value, so that a decoded reply
	// holds only what this response says.
	rv := reflect.ValueOf(v).Elem()
	rv.Set(reflect.Zero(rv.Type()))
	if c.json {
		require.NoError(c.t, json.Unmarshal(b, v), string(b))
	} else {
		require.NoError(c.t, xml.Unmarshal(b, v), string(b))
	}
}

// fails checks a Studio error: status and code.
func (c *studioClient) fails(method, path string, status int, code string) string {
	c.t.Helper()
	got, _, b := c.do(method, path, nil, "")
	require.Equal(c.t, status, got, "%s %s: %s", method, path, b)
	var e struct {
		Code    string `xml:"code" json:"code"`
		Message string `xml:"message" json:"message"`
	}
	c.decode(b, &e)
	require.Equal(c.t, code, e.Code, "%s %s: %s", method, path, b)
	return e.Message
}

func (c *studioClient) upload(path, file, name string) (int, []byte) {
	c.t.Helper()
	ct, body := form{filePath: file, fileName: name}.body()
	status, _, b := c.do(http.MethodPost, path, body, ct)
	return status, b
}

func (c *studioClient) asJSON() *studioClient { d := *c; d.json = true; return &d }

type stApp struct {
	ID     int64  `xml:"id" json:"id"`
	Name   string `xml:"name" json:"name"`
	Arch   string `xml:"arch" json:"arch"`
	Parent struct {
		ID int64 `xml:"id" json:"id"`
	} `xml:"parent" json:"parent"`
}

type stChange struct {
	Details struct {
		Status struct {
			State string `xml:"state" json:"state"`
			Added struct {
				Package []string `xml:"package" json:"package"`
			} `xml:"added" json:"added"`
		} `xml:"status" json:"status"`
	} `xml:"details" json:"details"`
}

type stRunning struct {
	ID      int64  `xml:"id" json:"id"`
	State   string `xml:"state" json:"state"`
	Percent int    `xml:"percent" json:"percent"`
	Message string `xml:"message" json:"message"`
}

type stBuild struct {
	ID        int64  `xml:"id" json:"id"`
	Version   string `xml:"version" json:"version"`
	State     string `xml:"state" json:"state"`
	ImageType string `xml:"image_type" json:"image_type"`
	Checksum  struct {
		MD5    string `xml:"md5" json:"md5"`
		SHA1   string `xml:"sha1" json:"sha1"`
		SHA256 string `xml:"sha256" json:"sha256"`
	} `xml:"checksum" json:"checksum"`
	Size           int64  `xml:"size" json:"size"`
	SizeBytes      int64  `xml:"image_size_bytes" json:"image_size_bytes"`
	CompressedSize int64  `xml:"compressed_size_bytes" json:"compressed_size_bytes"`
	DownloadURL    string `xml:"download_url" json:"download_url"`
	REEURL         string `xml:"ree_url" json:"ree_url"`
}

type stMap struct {
	Repository []struct {
		Software struct {
			Package []struct {
				Name    string `xml:",chardata" json:"name"`
				Version string `xml:"version,attr" json:"version"`
			} `xml:"package" json:"package"`
		} `xml:"software" json:"software"`
	} `xml:"repository" json:"repository"`
}

func (m stMap) versions() map[string]string {
	out := map[string]string{}
	for _, r := range m.Repository {
		for _, p := range r.Software.Package {
			out[p.Name] = p.Version
		}
	}
	return out
}

// buildDeb builds a small .deb with dpkg-deb.
func buildDeb(t testing.TB, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "pkg")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/share/reehub-hello"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte("Package: reehub-hello\nVersion: 1.0-1\nArchitecture: all\n"+
		"Maintainer: reehub tests <tests@reehub.invalid>\nDescription: a marker package built by the Studio test\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "usr/share/reehub-hello/marker"), []byte("hello from a user package\n"), 0o644))
	deb := filepath.Join(dir, "reehub-hello_1.0-1_all.deb")
	out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, deb).CombinedOutput()
	require.NoError(t, err, string(out))
	return deb
}

// waitBuild polls running_builds/{id} until the build leaves the running
// states and returns the states and percents seen.
func waitBuild(t testing.TB, c *studioClient, id int64) (seen []stRunning) {
	t.Helper()
	deadline := time.Now().Add(25 * time.Minute)
	for time.Now().Before(deadline) {
		var rb stRunning
		c.ok(http.MethodGet, fmt.Sprintf("/api/v1/user/running_builds/%d", id), &rb)
		seen = append(seen, rb)
		if rb.State != "queued" && rb.State != "running" {
			return seen
		}
		time.Sleep(3 * time.Second)
	}
	t.Fatalf("build %d did not end", id)
	return nil
}

func startBuild(t testing.TB, c *studioClient, app int64, version, imageType string) int64 {
	t.Helper()
	var rb stRunning
	c.ok(http.MethodPost, fmt.Sprintf("/api/v1/user/running_builds?appliance_id=%d&version=%s&image_type=%s", app, version, imageType), &rb)
	require.Contains(t, []string{"queued", "running"}, rb.State)
	return rb.ID
}

func finishedBuild(t testing.TB, c *studioClient, app, id int64) stBuild {
	t.Helper()
	seen := waitBuild(t, c, id)
	last := seen[len(seen)-1]
	require.Equal(t, "finished", last.State, "build %d: %s", id, last.Message)
	require.Equal(t, 100, last.Percent)
	var b stBuild
	c.ok(http.MethodGet, fmt.Sprintf("/api/v1/user/builds/%d", id), &b)
	require.Equal(t, "finished", b.State)
	return b
}

// TestStudioAppliance is issue 11's flow through the Studio API on real
// Podman: an appliance cloned from the Debian template, packages (one with a
// version), a pattern, an overlay file, a .deb of the user's own through the
// user repository, builds of types oci, rootfs and docker, what is installed,
// a file of the image, the image download with Range, and a replay of the
// build's defined REE to the same image; then bad input and cancel.
func TestStudioAppliance(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name, pw := "st"+randomHex(4), "pw-"+randomHex(8)
	role := client.AccountRoleUser
	cr, err := admin(t, suite.main).AccountCreateUserWithResponse(context.Background(), client.AccountNewUser{Name: name, Password: &pw, Role: &role})
	require.NoError(t, err)
	require.Equal(t, 201, cr.StatusCode(), string(cr.Body))
	hc := &http.Client{Transport: &validatingTransport{base: http.DefaultTransport, router: specRouter(t)}}
	anon := &studioClient{t: t, base: suite.main.url, hc: hc}

	// Auth: 401 with a Basic challenge; the API key page; the key as Basic password.
	status, h, _ := anon.do(http.MethodGet, "/api/v1/user/account", nil, "")
	require.Equal(t, 401, status)
	require.Regexp(t, `^Basic realm="[^"]+"`, h.Get("WWW-Authenticate"))
	withPW := &studioClient{t: t, base: suite.main.url, hc: hc, user: name, pass: pw}
	status, h, page := withPW.do(http.MethodGet, "/user/show_api_key", nil, "")
	require.Equal(t, 200, status, string(page))
	require.Contains(t, h.Get("Content-Type"), "text/html")
	m := regexp.MustCompile(`<span class="studio:api_key">([^<]+)</span>`).FindSubmatch(page)
	require.NotNil(t, m, string(page))
	c := &studioClient{t: t, base: suite.main.url, hc: hc, user: name, pass: string(m[1]), scheme: "BASIC"}
	cj := c.asJSON()

	var ver struct {
		Version string `xml:",chardata" json:"version"`
	}
	c.ok(http.MethodGet, "/api/v1/user/api_version", &ver)
	require.Equal(t, "1.0", ver.Version)
	var acc struct {
		Username string `xml:"username" json:"username"`
	}
	c.ok(http.MethodGet, "/api/v1/user/account", &acc)
	require.Equal(t, name, acc.Username)
	cj.ok(http.MethodGet, "/api/v1/user/account", &acc)
	require.Equal(t, name, acc.Username)
	xmlBody := c.ok(http.MethodGet, "/api/v1/user/template_sets", nil)
	require.Contains(t, string(xmlBody), `<template_sets type="array">`)
	require.Contains(t, string(xmlBody), "<name>Debian 12, just enough OS</name>")

	// An i686 appliance is the default, as in Studio.
	var i686 stApp
	c.ok(http.MethodPost, "/api/v1/user/appliances?clone_from=1", &i686)
	require.Equal(t, "i686", i686.Arch)

	var app stApp
	c.ok(http.MethodPost, "/api/v1/user/appliances?clone_from=1&name=studio-e2e&arch=x86_64", &app)
	require.Equal(t, "x86_64", app.Arch)
	require.EqualValues(t, 1, app.Parent.ID)
	p := func(f string, a ...any) string { return fmt.Sprintf(f, a...) }

	var ch stChange
	c.ok(http.MethodPost, p("/api/v1/user/appliances/%d/cmd/add_package?name=hello", app.ID), &ch)
	require.Equal(t, "changed", ch.Details.Status.State)
	require.Contains(t, ch.Details.Status.Added.Package, "hello")
	// The version the repositories have, from search.
	var found stMap
	cj.ok(http.MethodGet, p("/api/v1/user/appliances/%d/software/search?q=less", app.ID), &found)
	lessVersion := found.versions()["less"]
	require.NotEmpty(t, lessVersion)
	cj.ok(http.MethodPost, p("/api/v1/user/appliances/%d/cmd/add_package?name=less&version=%s", app.ID, lessVersion), &ch)
	require.Contains(t, ch.Details.Status.Added.Package, "less")
	c.ok(http.MethodPost, p("/api/v1/user/appliances/%d/cmd/add_pattern?name=ssh-server", app.ID), &ch)
	require.Contains(t, ch.Details.Status.Added.Package, "openssh-server")

	// The user's own package, through the user repository.
	deb := buildDeb(t, dir)
	status, b := c.upload("/api/v1/user/rpms?base_system=bookworm", deb, filepath.Base(deb))
	require.Equal(t, 200, status, string(b))
	var rpm struct {
		ID      int64  `xml:"id"`
		Package string `xml:"package"`
	}
	c.decode(b, &rpm)
	require.Equal(t, "reehub-hello", rpm.Package)
	c.ok(http.MethodPost, p("/api/v1/user/appliances/%d/cmd/add_user_repository", app.ID), nil)
	c.ok(http.MethodPost, p("/api/v1/user/appliances/%d/cmd/add_package?name=reehub-hello", app.ID), &ch)
	require.Equal(t, []string{"reehub-hello"}, ch.Details.Status.Added.Package)

	// An overlay file 0640 root:adm.
	conf := filepath.Join(dir, "app.conf")
	require.NoError(t, os.WriteFile(conf, []byte("greeting=studio\n"), 0o600))
	status, b = c.upload(p("/api/v1/user/files?appliance_id=%d&path=/etc/reehub&owner=root&group=adm&permissions=0640", app.ID), conf, "app.conf")
	require.Equal(t, 200, status, string(b))
	var file struct {
		ID          int64  `xml:"id"`
		Permissions string `xml:"permissions"`
		Enabled     bool   `xml:"enabled"`
	}
	c.decode(b, &file)
	require.True(t, file.Enabled)

	var st struct {
		State string `xml:"state" json:"state"`
	}
	c.ok(http.MethodGet, p("/api/v1/user/appliances/%d/status", app.ID), &st)
	require.Equal(t, "ok", st.State)

	t.Run("bad input", func(t *testing.T) {
		c, cj := *c, *cj
		c.t, cj.t = t, t
		c.fails(http.MethodGet, "/api/v1/user/appliances/999999", 404, "invalid_appliance_id")
		cj.fails(http.MethodGet, "/api/v1/user/appliances/999999/status", 404, "invalid_appliance_id")
		c.fails(http.MethodGet, "/api/v1/user/builds/999999", 404, "invalid_build_id")
		c.fails(http.MethodGet, "/api/v1/user/running_builds/999999", 404, "invalid_running_build_id")
		c.fails(http.MethodGet, "/api/v1/user/files/999999", 404, "invalid_overlay_file_id")
		c.fails(http.MethodGet, "/api/v1/user/rpms/999999", 404, "invalid_rpm_id")
		c.fails(http.MethodGet, "/api/v1/user/repositories/999999", 404, "invalid_repository_id")
		msg := c.fails(http.MethodPost, p("/api/v1/user/appliances/%d/cmd/add_package?name=no-such-package-reehub", app.ID), 400, "invalid_name")
		require.Contains(t, msg, "no-such-package-reehub")
		msg = cj.fails(http.MethodPost, p("/api/v1/user/appliances/%d/cmd/add_package?name=less&version=9.9.9-reehub", app.ID), 400, "invalid_version")
		require.Contains(t, msg, "9.9.9-reehub")
		status, b := c.upload(p("/api/v1/user/files?appliance_id=%d&path=/etc/../../x", app.ID), conf, "x.conf")
		require.Equal(t, 400, status, string(b))
		require.Contains(t, string(b), "<code>invalid_path</code>")
		rpmFile := filepath.Join(t.TempDir(), "tool-1.0-1.x86_64.rpm")
		require.NoError(t, os.WriteFile(rpmFile, []byte("\xed\xab\xee\xdb\x03\x00not really an rpm"), 0o600))
		status, b = c.upload("/api/v1/user/rpms", rpmFile, filepath.Base(rpmFile))
		require.Equal(t, 400, status, string(b))
		require.Contains(t, string(b), ".deb")
		msg = c.fails(http.MethodPost, p("/api/v1/user/running_builds?appliance_id=%d&image_type=xen", app.ID), 400, "invalid_image_type")
		for _, typ := range []string{"oci", "docker", "rootfs", "oem", "vmx", "iso", "qcow2"} {
			require.Contains(t, msg, typ, "the refusal of xen names the supported types")
		}
		// i686 builds (TestStudioI686), but not as disks: the boot chain is amd64.
		msg = c.fails(http.MethodPost, p("/api/v1/user/running_builds?appliance_id=%d&image_type=oem", i686.ID), 400, "invalid_architecture")
		require.Contains(t, msg, "x86_64")
		// Another user's appliance is not there.
		other := &studioClient{t: t, base: suite.main.url, hc: hc, user: "admin", pass: suite.main.password}
		other.fails(http.MethodGet, p("/api/v1/user/appliances/%d", app.ID), 404, "invalid_appliance_id")
		other.fails(http.MethodGet, p("/api/v1/user/files?appliance_id=%d", app.ID), 404, "invalid_appliance_id")
	})

	// The oci build, its progress and its finished form.
	started := time.Now()
	ociID := startBuild(t, c, app.ID, "1.0.0", "oci")
	seen := waitBuild(t, c, ociID)
	ociTime := time.Since(started)
	require.Equal(t, "finished", seen[len(seen)-1].State, seen[len(seen)-1].Message)
	sawRunning := false
	for _, s := range seen {
		require.Contains(t, []string{"queued", "running", "finished"}, s.State)
		if s.State == "running" && s.Percent > 0 && s.Percent < 100 && s.Message != "" {
			sawRunning = true
		}
	}
	require.True(t, sawRunning, "running_builds showed a running build with its percent and message: %+v", seen)
	var oci stBuild
	cj.ok(http.MethodGet, p("/api/v1/user/builds/%d", ociID), &oci)
	require.Equal(t, "oci", oci.ImageType)
	require.Len(t, oci.Checksum.MD5, 32)
	require.Len(t, oci.Checksum.SHA1, 40)
	require.Len(t, oci.Checksum.SHA256, 64)
	require.Positive(t, oci.CompressedSize)
	var list struct {
		Build []stBuild `xml:"build"`
	}
	c.ok(http.MethodGet, p("/api/v1/user/builds?appliance_id=%d", app.ID), &list)
	require.Len(t, list.Build, 1)

	c.fails(http.MethodPost, p("/api/v1/user/running_builds?appliance_id=%d&version=1.0.0&image_type=oci", app.ID), 400, "image_already_exists")

	t.Run("download with Range", func(t *testing.T) {
		c := *c
		c.t = t
		path := strings.TrimPrefix(oci.DownloadURL, suite.main.url)
		status, _, whole := c.do(http.MethodGet, path, nil, "")
		require.Equal(t, 200, status)
		require.EqualValues(t, oci.SizeBytes, len(whole))
		sum := sha256.Sum256(whole)
		require.Equal(t, oci.Checksum.SHA256, hex.EncodeToString(sum[:]))
		req, err := http.NewRequest(http.MethodGet, oci.DownloadURL, nil)
		require.NoError(t, err)
		req.SetBasicAuth(c.user, c.pass)
		req.Header.Set("Range", "bytes=100-199")
		resp, err := hc.Do(req)
		require.NoError(t, err)
		part, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 206, resp.StatusCode)
		require.Equal(t, whole[100:200], part)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "image.oci.tar"), whole, 0o600))
	})

	t.Run("installed software is the declared software and its dependencies", func(t *testing.T) {
		c, cj := *c, *cj
		c.t, cj.t = t, t
		var next, inBuild stMap
		c.ok(http.MethodGet, p("/api/v1/user/appliances/%d/software/installed", app.ID), &next)
		cj.ok(http.MethodGet, p("/api/v1/user/appliances/%d/software/installed?build_id=%d", app.ID, ociID), &inBuild)
		got := inBuild.versions()
		for _, want := range []string{"hello", "less", "openssh-server", "reehub-hello"} {
			require.Contains(t, got, want)
		}
		require.Equal(t, lessVersion, got["less"])
		require.Equal(t, "1.0-1", got["reehub-hello"])
		for name, v := range next.versions() {
			require.Equal(t, v, got[name], "package %s of the resolution is installed in that version", name)
		}
	})

	t.Run("image file", func(t *testing.T) {
		c := *c
		c.t = t
		status, _, b := c.do(http.MethodGet, p("/api/v1/user/appliances/%d/image_files?build_id=%d&path=/usr/share/reehub-hello/marker", app.ID, ociID), nil, "")
		require.Equal(t, 200, status, string(b))
		require.Equal(t, "hello from a user package\n", string(b))
		c.fails(http.MethodGet, p("/api/v1/user/appliances/%d/image_files?build_id=%d&path=/no/such/file", app.ID, ociID), 404, "invalid_path")
		// No per-machine secrets in the image (they would differ in a replay):
		// the SSH host keys are made when sshd first starts.
		c.fails(http.MethodGet, p("/api/v1/user/appliances/%d/image_files?build_id=%d&path=/etc/ssh/ssh_host_ed25519_key", app.ID, ociID), 404, "invalid_path")
		status, _, b = c.do(http.MethodGet, p("/api/v1/user/appliances/%d/image_files?build_id=%d&path=/etc/systemd/system/ssh.service.d/reehub-hostkeys.conf", app.ID, ociID), nil, "")
		require.Equal(t, 200, status, string(b))
		require.Contains(t, string(b), "ExecStartPre=/usr/bin/ssh-keygen -A")
	})

	t.Run("replay of the defined REE gives the same image", func(t *testing.T) {
		c := *c
		c.t = t
		status, _, ree := c.do(http.MethodGet, strings.TrimPrefix(oci.REEURL, suite.main.url), nil, "")
		require.Equal(t, 200, status)
		zipPath := filepath.Join(dir, "ree.zip")
		require.NoError(t, os.WriteFile(zipPath, ree, 0o600))
		keyed := newClient(t, suite.main, basic(name, c.pass))
		rid, final := replay(t, keyed, "/api/replay/create", zipPath)
		require.Equal(t, client.ReeProcessStateProcessed, final.Status, "reason: %s\n%s", deref(final.Reason), tail(logOf(t, keyed, rid), 30))
		out := download(t, keyed, rid)
		var r report
		require.NoError(t, json.Unmarshal(readZipEntry(t, out, "report.json"), &r))
		studioFigures(t, zipPath, filepath.Join(dir, "image.oci.tar"), ociTime)
		t.Logf("recorded image %s, replayed image %s", r.RecordedImageID, r.RebuiltImageID)
		require.Zero(t, r.ProxyMisses)
		require.True(t, r.Identical, "replay reproduces the recorded image ID: %s; differing files: %v", r.Explanation, r.DifferingFiles)
		require.Equal(t, r.RecordedImageID, r.RebuiltImageID)
	})

	t.Run("rootfs build keeps the overlay file's mode and owner", func(t *testing.T) {
		c := *c
		c.t = t
		id := startBuild(t, &c, app.ID, "1.0.0", "rootfs")
		b := finishedBuild(t, &c, app.ID, id)
		status, _, whole := c.do(http.MethodGet, strings.TrimPrefix(b.DownloadURL, suite.main.url), nil, "")
		require.Equal(t, 200, status)
		gz, err := gzip.NewReader(bytes.NewReader(whole))
		require.NoError(t, err)
		tr := tar.NewReader(gz)
		found := false
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			if strings.TrimPrefix(hdr.Name, "./") == "etc/reehub/app.conf" {
				found = true
				require.EqualValues(t, 0o640, hdr.Mode&0o7777)
				require.Equal(t, 0, hdr.Uid)
				require.Equal(t, 4, hdr.Gid, "group adm")
				body, _ := io.ReadAll(tr)
				require.Equal(t, "greeting=studio\n", string(body))
			}
		}
		require.True(t, found, "the overlay file is in the root file system")
	})

	t.Run("docker build, and a cancelled build leaves nothing", func(t *testing.T) {
		c := *c
		c.t = t
		id := startBuild(t, &c, app.ID, "1.0.0", "docker")
		b := finishedBuild(t, &c, app.ID, id)
		require.Equal(t, "docker", b.ImageType)
		status, _, whole := c.do(http.MethodGet, strings.TrimPrefix(b.DownloadURL, suite.main.url), nil, "")
		require.Equal(t, 200, status)
		require.Contains(t, tarNames(t, whole), "manifest.json")

		cancel := startBuild(t, &c, app.ID, "2.0.0", "oci")
		for i := 0; i < 60; i++ {
			var rb stRunning
			c.ok(http.MethodGet, p("/api/v1/user/running_builds/%d", cancel), &rb)
			if rb.State == "running" {
				break
			}
			time.Sleep(time.Second)
		}
		c.ok(http.MethodDelete, p("/api/v1/user/running_builds/%d", cancel), nil)
		c.fails(http.MethodGet, p("/api/v1/user/running_builds/%d", cancel), 404, "invalid_running_build_id")
		var rbs struct {
			RunningBuild []stRunning `xml:"running_build"`
		}
		c.ok(http.MethodGet, p("/api/v1/user/running_builds?appliance_id=%d", app.ID), &rbs)
		require.Empty(t, rbs.RunningBuild)
		var list struct {
			Build []stBuild `xml:"build"`
		}
		c.ok(http.MethodGet, p("/api/v1/user/builds?appliance_id=%d", app.ID), &list)
		for _, b := range list.Build {
			require.NotEqual(t, "2.0.0", b.Version)
		}
	})
}

// TestStudioI686 builds the seed's default architecture: an i686 appliance
// (Debian i386) cloned from the Debian template builds from an i386 base
// image that the build makes on demand (debootstrap --arch=i386), and the
// program of a package added to it is a 32-bit x86 ELF. The base image and
// the build do not depend on the database, so the test runs on SQLite only:
// the i386 debootstrap takes most of its ten minutes.
func TestStudioI686(t *testing.T) {
	if os.Getenv("REEHUB_TEST_DATABASE_URL") != "" {
		t.Skip("the i386 base image and build do not depend on the database; TestStudioI686 runs in the SQLite pass")
	}
	t.Parallel()
	name, pw := "s6"+randomHex(4), "pw-"+randomHex(8)
	role := client.AccountRoleUser
	cr, err := admin(t, suite.main).AccountCreateUserWithResponse(context.Background(), client.AccountNewUser{Name: name, Password: &pw, Role: &role})
	require.NoError(t, err)
	require.Equal(t, 201, cr.StatusCode(), string(cr.Body))
	hc := &http.Client{Transport: &validatingTransport{base: http.DefaultTransport, router: specRouter(t)}}
	c := &studioClient{t: t, base: suite.main.url, hc: hc, user: name, pass: pw}
	cj := c.asJSON()

	var app stApp
	c.ok(http.MethodPost, "/api/v1/user/appliances?clone_from=1&name=studio-i686", &app)
	require.Equal(t, "i686", app.Arch)
	var ch stChange
	cj.ok(http.MethodPost, fmt.Sprintf("/api/v1/user/appliances/%d/cmd/add_package?name=hello", app.ID), &ch)
	require.Equal(t, []string{"hello"}, ch.Details.Status.Added.Package)
	id := startBuild(t, c, app.ID, "1.0.0", "oci")
	b := finishedBuild(t, c, app.ID, id)
	require.Equal(t, "oci", b.ImageType)

	var inBuild stMap
	cj.ok(http.MethodGet, fmt.Sprintf("/api/v1/user/appliances/%d/software/installed?build_id=%d", app.ID, id), &inBuild)
	require.Contains(t, inBuild.versions(), "hello")
	status, _, elf := c.do(http.MethodGet, fmt.Sprintf("/api/v1/user/appliances/%d/image_files?build_id=%d&path=/usr/bin/hello", app.ID, id), nil, "")
	require.Equal(t, 200, status, string(elf))
	require.Greater(t, len(elf), 20)
	require.Equal(t, "\x7fELF", string(elf[:4]))
	require.EqualValues(t, 1, elf[4], "ELFCLASS32")
	require.EqualValues(t, 3, elf[18], "e_machine EM_386")
}

func tarNames(t testing.TB, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		require.NoError(t, err)
		names = append(names, hdr.Name)
	}
}

// studioFigures logs the ratios: the oci build through reehub
// against a plain podman build of the rendered Dockerfile, and the image's
// size against podman save of that plain build.
func studioFigures(t *testing.T, reeZip, ociArchive string, ociTime time.Duration) {
	t.Helper()
	ctxDir := filepath.Join(t.TempDir(), "ctx")
	zr, err := zip.OpenReader(reeZip)
	require.NoError(t, err)
	defer zr.Close()
	for _, f := range zr.File {
		rel, ok := strings.CutPrefix(f.Name, "project/")
		if !ok || strings.HasSuffix(f.Name, "/") {
			continue
		}
		dst := filepath.Join(ctxDir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst, b, 0o644))
	}
	df := filepath.Join(ctxDir, "Dockerfile")
	if _, err := os.Stat(df); err != nil {
		t.Logf("figures: the defined REE holds no project/Dockerfile; no plain build")
		return
	}
	tag := "localhost/reehub-studio-plain-" + randomHex(4)
	start := time.Now()
	out, err := exec.Command("podman", "build", "-q", "-t", tag, filepath.Dir(df)).CombinedOutput()
	plain := time.Since(start)
	require.NoError(t, err, string(out))
	defer exec.Command("podman", "rmi", "-f", tag).Run()
	saved := filepath.Join(t.TempDir(), "saved.tar")
	out, err = exec.Command("podman", "save", "--format", "oci-archive", "-o", saved, tag).CombinedOutput()
	require.NoError(t, err, string(out))
	fi1, err := os.Stat(ociArchive)
	require.NoError(t, err)
	fi2, err := os.Stat(saved)
	require.NoError(t, err)
	t.Logf("figures: oci build through reehub %s / plain podman build %s = %.2f; image %d B / podman save %d B = %.3f",
		ociTime.Round(time.Second), plain.Round(time.Second), ociTime.Seconds()/plain.Seconds(), fi1.Size(), fi2.Size(), float64(fi1.Size())/float64(fi2.Size()))
}
