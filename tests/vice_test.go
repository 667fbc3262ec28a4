package tests

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/gen/client"
)

// upfile builds a multipart body with the file at path as field upfile.
func upfile(t *testing.T, path string) (string, io.Reader) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, err := mw.CreateFormFile("upfile", filepath.Base(path))
	require.NoError(t, err)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = io.Copy(w, f)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), &buf
}

func registryUser(t *testing.T, name string) *api {
	t.Helper()
	ctx := context.Background()
	pw := "pw-" + randomHex(8)
	resp, err := admin(t, suite.main).AccountCreateUserWithResponse(ctx, client.AccountCreateUserJSONRequestBody{Name: name, Password: &pw})
	require.NoError(t, err)
	require.Equal(t, 201, resp.StatusCode(), string(resp.Body))
	return newClient(t, suite.main, basic(name, pw))
}

// TestRegistryEnvironments: CRUD with the password sealed and masked, the
// seed's status codes (201 for create and update, 405 for an unknown enum),
// nested objects always present, and another user's environment a 404.
func TestRegistryEnvironments(t *testing.T) {
	ctx := context.Background()
	alice, bob := registryUser(t, "vice-alice"), registryUser(t, "vice-bob")
	body := client.ViceEnvironment{Title: ptrTo("lab"),
		Credentials:       &client.ViceCredentials{Location: ptrTo("unix:///run/podman/podman.sock"), Username: ptrTo("core"), Password: ptrTo("s3cret-pass")},
		Runtimetechnology: &client.ViceRuntimeTechnology{Type: ptrTo(client.ViceRuntimeTechnologyTypeContainer)},
		Managementlayer:   &client.ViceManagementLayer{Type: ptrTo(client.ViceManagementLayerTypeBasic)}}
	cr, err := alice.ViceEnvironmentCreateWithResponse(ctx, body)
	require.NoError(t, err)
	require.Equal(t, 201, cr.StatusCode(), string(cr.Body))
	require.NotContains(t, string(cr.Body), "s3cret-pass")
	env := cr.JSON201
	require.Equal(t, "********", *env.Credentials.Password)
	id := *env.Id

	db, err := os.ReadFile(filepath.Join(suite.main.dataDir, "reehub.db"))
	if err == nil {
		require.NotContains(t, string(db), "s3cret-pass", "the password is sealed at rest")
	}

	got, err := alice.ViceEnvironmentGetWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 200, got.StatusCode())
	require.Equal(t, "lab", *got.JSON200.Title)

	other, err := bob.ViceEnvironmentGetWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 404, other.StatusCode(), "another user's environment is not found")

	body.Id, body.Title, body.Credentials.Password = &id, ptrTo("lab 2"), ptrTo("********")
	up, err := alice.ViceEnvironmentUpdateWithResponse(ctx, body)
	require.NoError(t, err)
	require.Equal(t, 201, up.StatusCode(), string(up.Body))
	require.Equal(t, "lab 2", *up.JSON201.Title)
	require.Equal(t, "********", *up.JSON201.Credentials.Password, "a masked password keeps the stored one")

	// An environment without nested objects is answered with them.
	bare, err := alice.ViceEnvironmentCreateWithResponse(ctx, client.ViceEnvironment{Title: ptrTo("bare")})
	require.NoError(t, err)
	require.Equal(t, 201, bare.StatusCode())
	require.NotNil(t, bare.JSON201.Credentials)
	require.NotNil(t, bare.JSON201.Managementlayer)
	require.NotNil(t, bare.JSON201.Runtimetechnology)

	req, _ := http.NewRequest("POST", suite.main.url+"/v1/environments", strings.NewReader(`{"runtimetechnology":{"type":"mainframe"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", suite.main.password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 405, resp.StatusCode, "an unknown enum is the seed's 405")

	list, err := alice.ViceEnvironmentListWithResponse(ctx, &client.ViceEnvironmentListParams{FilterRuntimetechnology: ptrTo(client.ViceRuntimeTechnologyTypeContainer)})
	require.NoError(t, err)
	require.Equal(t, 200, list.StatusCode(), string(list.Body))
	require.Len(t, *list.JSON200, 1)

	del, err := alice.ViceEnvironmentDeleteWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 200, del.StatusCode())
	again, err := alice.ViceEnvironmentGetWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 404, again.StatusCode())

	u, err := alice.ViceUserGetWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, u.StatusCode())
	require.Equal(t, "vice-alice", *u.JSON200.Username)
	require.NotEmpty(t, *u.JSON200.Id)
}

// TestRegistryDiskImages: a qcow2 file is checked with qemu-img, served
// back byte for byte, converted to raw on request; a raw file uploaded as
// qcow2 is refused.
func TestRegistryDiskImages(t *testing.T) {
	ctx := context.Background()
	c := registryUser(t, "vice-disk")
	dir := t.TempDir()
	qcow := filepath.Join(dir, "d.qcow2")
	out, err := exec.Command("qemu-img", "create", "-f", "qcow2", qcow, "16M").CombinedOutput()
	require.NoError(t, err, string(out))

	cr, err := c.ViceImageCreateWithResponse(ctx, client.ViceImage{Title: ptrTo("disk"), Contenttype: ptrTo(client.ViceImageContenttypeDiskQcow2)})
	require.NoError(t, err)
	require.Equal(t, 201, cr.StatusCode(), string(cr.Body))
	id := *cr.JSON201.Id
	require.NotNil(t, cr.JSON201.OriginEnvironment.Managementlayer)

	raw := filepath.Join(dir, "d.raw")
	require.NoError(t, os.WriteFile(raw, bytes.Repeat([]byte{0}, 1<<20), 0o644))
	ct, b := upfile(t, raw)
	bad, err := c.ViceImageUploadWithBodyWithResponse(ctx, id, ct, b)
	require.NoError(t, err)
	require.Equal(t, 400, bad.StatusCode(), "a raw disk is not a qcow2: %s", bad.Body)

	ct, b = upfile(t, qcow)
	ok, err := c.ViceImageUploadWithBodyWithResponse(ctx, id, ct, b)
	require.NoError(t, err)
	require.Equal(t, 200, ok.StatusCode(), string(ok.Body))
	im, err := c.ViceImageGetWithResponse(ctx, id)
	require.NoError(t, err)
	require.True(t, *im.JSON200.Imported)

	dl, err := c.ViceImageDownloadWithResponse(ctx, id, nil)
	require.NoError(t, err)
	require.Equal(t, 200, dl.StatusCode())
	want, _ := os.ReadFile(qcow)
	require.Equal(t, want, dl.Body)
	require.NotEmpty(t, dl.HTTPResponse.Header.Get("ETag"))

	conv, err := c.ViceImageDownloadWithResponse(ctx, id, &client.ViceImageDownloadParams{Format: ptrTo(client.ViceImageDownloadParamsFormatRaw)})
	require.NoError(t, err)
	require.Equal(t, 200, conv.StatusCode())
	require.Len(t, conv.Body, 16<<20, "the raw conversion of a 16 MiB qcow2")
	back := filepath.Join(dir, "back.raw")
	require.NoError(t, os.WriteFile(back, conv.Body, 0o644))
	info, err := exec.Command("qemu-img", "compare", "-f", "qcow2", "-F", "raw", qcow, back).CombinedOutput()
	require.NoError(t, err, string(info))

	other := registryUser(t, "vice-disk-other")
	nf, err := other.ViceImageDownloadWithResponse(ctx, id, nil)
	require.NoError(t, err)
	require.Equal(t, 404, nf.StatusCode())
}

// bookwormArchive exports the catalogue's debian_bookworm base image as a docker-archive.
func bookwormArchive(t *testing.T, dir string) string {
	t.Helper()
	resp, err := admin(t, suite.main).ReeImageDownload(context.Background(), "debian_bookworm")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	archive := filepath.Join(dir, "img.tar")
	f, err := os.Create(archive)
	require.NoError(t, err)
	_, err = io.Copy(f, resp.Body)
	require.NoError(t, f.Close())
	require.NoError(t, err)
	return archive
}

// uploadDockerImage creates a docker-image and uploads archive as its file.
func uploadDockerImage(t *testing.T, c *api, title, archive string) string {
	t.Helper()
	ctx := context.Background()
	cr, err := c.ViceImageCreateWithResponse(ctx, client.ViceImage{Title: ptrTo(title), Contenttype: ptrTo(client.ViceImageContenttypeDockerImage)})
	require.NoError(t, err)
	require.Equal(t, 201, cr.StatusCode(), string(cr.Body))
	ct, b := upfile(t, archive)
	up, err := c.ViceImageUploadWithBodyWithResponse(ctx, *cr.JSON201.Id, ct, b)
	require.NoError(t, err)
	require.Equal(t, 200, up.StatusCode(), string(up.Body))
	return *cr.JSON201.Id
}

// TestRegistryRecordingFromRegisteredImage: an uploaded docker-image is a
// base image of a recording (FROM registry-<id>); the recording's image is
// registered by itself as declarative with its provenance and a CycloneDX
// SBOM, and is found by package name and version range.
func TestRegistryRecordingFromRegisteredImage(t *testing.T) {
	ctx := context.Background()
	c := newUser(t, suite.main)
	base := uploadDockerImage(t, c, "my bookworm", bookwormArchive(t, t.TempDir()))
	zipPath := project(t, "FROM registry-"+base+"\nRUN echo built > /built.txt\nCMD [\"sh\", \"-c\", \"echo serving; exec sleep 600\"]\n")
	pid, st := record(t, c, zipPath, [2]string{"tag", "from_registry"})
	require.Equal(t, client.ReeProcessStateProcessed, st.Status, deref(st.Reason))

	list, err := c.ViceImageListWithResponse(ctx, &client.ViceImageListParams{Q: ptrTo("from_registry")})
	require.NoError(t, err)
	require.Equal(t, 200, list.StatusCode(), string(list.Body))
	require.Len(t, *list.JSON200, 1, "the recording's image is registered once")
	im := (*list.JSON200)[0]
	require.Equal(t, client.ViceImageImagetypeDeclarative, *im.Imagetype)
	require.Equal(t, client.ViceImageContenttypeDockerImage, *im.Contenttype)
	require.True(t, *im.Imported)
	prov := (*im.Specifics)["provenance"].(map[string]any)
	require.Equal(t, pid.String(), prov["process_id"])
	require.NotEmpty(t, prov["reehub_version"])
	require.Contains(t, prov["base_images"], "registry-"+base)
	require.NotEmpty(t, (*im.Specifics)["licenses"])

	sb, err := c.ViceImageSbomWithResponse(ctx, *im.Id)
	require.NoError(t, err)
	require.Equal(t, 200, sb.StatusCode(), string(sb.Body))
	require.Contains(t, string(sb.Body), `"bomFormat":"CycloneDX"`)
	require.Contains(t, string(sb.Body), `"name":"dpkg"`)

	// Package search through the SBOMs, with version ranges.
	found, err := c.ViceImageListWithResponse(ctx, &client.ViceImageListParams{Package: ptrTo("dpkg"), Version: ptrTo(">=1.21.0 <2")})
	require.NoError(t, err)
	require.Equal(t, 200, found.StatusCode(), string(found.Body))
	require.Len(t, *found.JSON200, 1)
	none, err := c.ViceImageListWithResponse(ctx, &client.ViceImageListParams{Package: ptrTo("dpkg"), Version: ptrTo("0.9.x")})
	require.NoError(t, err)
	require.Empty(t, *none.JSON200)
	other, err := c.ViceImageListWithResponse(ctx, &client.ViceImageListParams{Package: ptrTo("no-such-package")})
	require.NoError(t, err)
	require.Empty(t, *other.JSON200)
	badRange, err := c.ViceImageListWithResponse(ctx, &client.ViceImageListParams{Package: ptrTo("dpkg"), Version: ptrTo(">>")})
	require.NoError(t, err)
	require.Equal(t, 400, badRange.StatusCode())

	// Registration does not keep the image in Podman: the process released
	// it after packaging, and the registry holds only its blobs.
	require.False(t, imageExists(pid), "the process's image is released once registered")
	registryName := "localhost/registry-" + *im.Id + ":latest"
	require.Error(t, exec.Command("podman", "image", "exists", registryName).Run(), "registration adds no Podman name")

	// Its file is an OCI archive written from those blobs.
	file, err := c.ViceImageDownloadWithResponse(ctx, *im.Id, nil)
	require.NoError(t, err)
	require.Equal(t, 200, file.StatusCode())
	require.Contains(t, string(file.Body[:min(len(file.Body), 4096)]), "oci-layout")

	// The registered image is pulled from /v2/ like an uploaded one.
	host := strings.TrimPrefix(suite.main.url, "http://")
	out, err := exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "pull", "--tls-verify=false", "--creds", "admin:"+suite.main.password, host+"/"+*im.Id+":latest").CombinedOutput()
	require.NoError(t, err, string(out))
	_ = exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "rmi", host+"/"+*im.Id+":latest").Run()

	// FROM names it: it is loaded back from the blob store on demand.
	again := project(t, "FROM registry-"+*im.Id+"\nRUN test -f /built.txt\n")
	_, st2 := record(t, c, again, [2]string{"tag", "from_registered"})
	require.Equal(t, client.ReeProcessStateProcessed, st2.Status, deref(st2.Reason))
	require.NoError(t, exec.Command("podman", "image", "exists", registryName).Run(), "loaded back for FROM")

	deployTo(t, c, *im.Id)

	// Deleting the process deletes its registered image and frees its blobs.
	del, err := c.ReeProcessDeleteWithResponse(ctx, pid)
	require.NoError(t, err)
	require.Equal(t, 204, del.StatusCode(), string(del.Body))
	gone, err := c.ViceImageGetWithResponse(ctx, *im.Id)
	require.NoError(t, err)
	require.Equal(t, 404, gone.StatusCode())
	sbomDigest := (*im.Specifics)["sbom"].(map[string]any)["digest"].(string)
	_, err = os.Stat(filepath.Join(suite.main.dataDir, "blobs", "sha256", strings.TrimPrefix(sbomDigest, "sha256:")[:2], strings.TrimPrefix(sbomDigest, "sha256:")))
	require.True(t, os.IsNotExist(err), "the SBOM blob is freed with the process: %v", err)
	_ = exec.Command("podman", "rmi", registryName).Run()
}

// deployTo deploys image to a second Podman service with its own storage
// (the remote environment): the image is copied there, its container runs,
// shows its log, and is gone from that Podman once the deployment is
// deleted. Deployments to an environment that cannot be reached, of a kind
// reehub does not deploy to, or of another user's image are refused.
func deployTo(t *testing.T, c *api, image string) {
	ctx := context.Background()
	sock := startFreshPodman(t)
	env, err := c.ViceEnvironmentCreateWithResponse(ctx, client.ViceEnvironment{Title: ptrTo("second podman"),
		Credentials:       &client.ViceCredentials{Location: ptrTo(sock)},
		Runtimetechnology: &client.ViceRuntimeTechnology{Type: ptrTo(client.ViceRuntimeTechnologyTypeContainer), Software: ptrTo("podman")},
		Managementlayer:   &client.ViceManagementLayer{Type: ptrTo(client.ViceManagementLayerTypeBasic)}})
	require.NoError(t, err)
	require.Equal(t, 201, env.StatusCode(), string(env.Body))
	envID := *env.JSON201.Id

	dep, err := c.ViceDeployWithResponse(ctx, client.ViceDeployment{Title: ptrTo("web"), Imageid: &image, EnvironmentId: &envID})
	require.NoError(t, err)
	require.Equal(t, 201, dep.StatusCode(), string(dep.Body))
	id := *dep.JSON201.Id
	var got *client.ViceDeployment
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		g, err := c.ViceDeploymentGetWithResponse(ctx, id)
		require.NoError(t, err)
		require.Equal(t, 200, g.StatusCode())
		got = g.JSON200
		if *got.State != client.ViceDeploymentStatePending {
			break
		}
	}
	require.Equal(t, client.ViceDeploymentStateRunning, *got.State, deref(got.Message))
	require.NotEmpty(t, *got.EnvironmentReference)
	list, err := c.ViceDeploymentListWithResponse(ctx)
	require.NoError(t, err)
	require.Len(t, *list.JSON200, 1)
	require.Equal(t, client.ViceDeploymentStateRunning, *(*list.JSON200)[0].State)
	ps, err := exec.Command("podman", "--url", sock, "ps", "-q", "--filter", "label=reehub.registry.deployment="+id).CombinedOutput()
	require.NoError(t, err, string(ps))
	require.NotEmpty(t, strings.TrimSpace(string(ps)), "the container runs on the second Podman service")
	var logs *client.ViceDeploymentLogsResponse
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		logs, err = c.ViceDeploymentLogsWithResponse(ctx, id)
		require.NoError(t, err)
		if strings.Contains(string(logs.Body), "serving") {
			break
		}
	}
	require.Contains(t, string(logs.Body), "serving")

	busy, err := c.ViceEnvironmentDeleteWithResponse(ctx, envID)
	require.NoError(t, err)
	require.Equal(t, 409, busy.StatusCode(), "an environment with a deployment is not deleted")

	del, err := c.ViceDeploymentDeleteWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 200, del.StatusCode(), string(del.Body))
	ps, err = exec.Command("podman", "--url", sock, "ps", "-aq", "--filter", "label=reehub.registry.deployment="+id).CombinedOutput()
	require.NoError(t, err, string(ps))
	require.Empty(t, strings.TrimSpace(string(ps)), "the container is gone from the second Podman service")
	gone, err := c.ViceDeploymentGetWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 404, gone.StatusCode())

	// Refusals: unreachable, unsupported kind, unknown or another user's image.
	bad, err := c.ViceEnvironmentCreateWithResponse(ctx, client.ViceEnvironment{Title: ptrTo("nowhere"),
		Credentials:       &client.ViceCredentials{Location: ptrTo("unix:///nonexistent/podman.sock")},
		Runtimetechnology: &client.ViceRuntimeTechnology{Type: ptrTo(client.ViceRuntimeTechnologyTypeContainer)},
		Managementlayer:   &client.ViceManagementLayer{Type: ptrTo(client.ViceManagementLayerTypeBasic)}})
	require.NoError(t, err)
	r, err := c.ViceDeployWithResponse(ctx, client.ViceDeployment{Imageid: &image, EnvironmentId: bad.JSON201.Id})
	require.NoError(t, err)
	require.Equal(t, 405, r.StatusCode(), string(r.Body))
	require.Contains(t, string(r.Body), "cannot be reached")
	vm, err := c.ViceEnvironmentCreateWithResponse(ctx, client.ViceEnvironment{Title: ptrTo("openstack"),
		Runtimetechnology: &client.ViceRuntimeTechnology{Type: ptrTo(client.ViceRuntimeTechnologyTypeVirtualmachine)},
		Managementlayer:   &client.ViceManagementLayer{Type: ptrTo(client.ViceManagementLayerTypeCloudcomputing)}})
	require.NoError(t, err)
	r, err = c.ViceDeployWithResponse(ctx, client.ViceDeployment{Imageid: &image, EnvironmentId: vm.JSON201.Id})
	require.NoError(t, err)
	require.Equal(t, 405, r.StatusCode(), string(r.Body))
	require.Contains(t, string(r.Body), "container environments with a basic management layer")
	other := registryUser(t, "vice-deploy-other")
	r, err = other.ViceDeployWithResponse(ctx, client.ViceDeployment{Imageid: &image, EnvironmentId: &envID})
	require.NoError(t, err)
	require.Equal(t, 405, r.StatusCode(), "another user's image and environment are unknown: %s", r.Body)

	stats, err := c.ViceRuntimeStatsWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, stats.StatusCode())
	require.Equal(t, int64(2), *stats.JSON200.ExportWorker, "the deployments queue's workers")
}

// TestRegistryDockerImage: a docker-archive uploaded as docker-image is
// loaded into Podman and pulled back with podman through /v2/; a push of a
// tag works for a user with write scope; a text file is refused.
func TestRegistryDockerImage(t *testing.T) {
	ctx := context.Background()
	c := registryUser(t, "vice-docker")
	dir := t.TempDir()
	// The smallest base image of the catalogue, as a docker-archive.
	resp, err := admin(t, suite.main).ReeImageDownload(ctx, "debian_bookworm")
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	archive := filepath.Join(dir, "img.tar")
	f, err := os.Create(archive)
	require.NoError(t, err)
	_, err = io.Copy(f, resp.Body)
	resp.Body.Close()
	f.Close()
	require.NoError(t, err)

	cr, err := c.ViceImageCreateWithResponse(ctx, client.ViceImage{Title: ptrTo("bookworm"), Contenttype: ptrTo(client.ViceImageContenttypeDockerImage)})
	require.NoError(t, err)
	id := *cr.JSON201.Id

	txt := filepath.Join(dir, "x.txt")
	require.NoError(t, os.WriteFile(txt, []byte("not an image"), 0o644))
	ct, b := upfile(t, txt)
	bad, err := c.ViceImageUploadWithBodyWithResponse(ctx, id, ct, b)
	require.NoError(t, err)
	require.Equal(t, 400, bad.StatusCode(), string(bad.Body))

	ct, b = upfile(t, archive)
	up, err := c.ViceImageUploadWithBodyWithResponse(ctx, id, ct, b)
	require.NoError(t, err)
	require.Equal(t, 200, up.StatusCode(), string(up.Body))

	host := strings.TrimPrefix(suite.main.url, "http://")
	ref := host + "/" + id + ":latest"
	pull := exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "pull", "--tls-verify=false", "--creds", "admin:"+suite.main.password, ref)
	out, err := pull.CombinedOutput()
	require.NoError(t, err, string(out))
	pushRef := host + "/pushed/bookworm:v1"
	out, err = exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "tag", ref, pushRef).CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "push", "--tls-verify=false", "--creds", "admin:"+suite.main.password, pushRef).CombinedOutput()
	require.NoError(t, err, string(out))
	_ = exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "rmi", pushRef, ref).Run()
	out, err = exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "pull", "--tls-verify=false", "--creds", "admin:"+suite.main.password, pushRef).CombinedOutput()
	require.NoError(t, err, string(out))
	_ = exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "rmi", pushRef).Run()

	// Deleting the image removes its name from Podman (not the catalogue's
	// base image with the same ID) and its manifest from /v2/.
	del, err := c.ViceImageDeleteWithResponse(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 200, del.StatusCode())
	require.Error(t, exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "image", "exists", "localhost/registry-"+id+":latest").Run())
	require.NoError(t, exec.Command("podman", "--url", "unix:///run/podman/podman.sock", "image", "exists", "localhost/debian_bookworm:latest").Run())
	mreq, _ := http.NewRequest("GET", suite.main.url+"/v2/"+id+"/manifests/latest", nil)
	mreq.SetBasicAuth("admin", suite.main.password)
	mresp, err := http.DefaultClient.Do(mreq)
	require.NoError(t, err)
	mresp.Body.Close()
	require.Equal(t, 404, mresp.StatusCode)

	noauth, err := http.Get(suite.main.url + "/v2/")
	require.NoError(t, err)
	noauth.Body.Close()
	require.Equal(t, 401, noauth.StatusCode)
	require.Contains(t, noauth.Header.Get("WWW-Authenticate"), "Basic")
}

// TestRegistryConformance runs the OCI distribution-spec conformance suite
// (tools/go.mod pins it) against /v2/: every category passes, push and pull,
// content discovery (tags, referrers) and management (deletes). Not run:
// sha512 content (reehub's blob store is sha256-addressed: sha512 digests
// are answered DIGEST_INVALID) and upload cancel (the suite disables it by
// default).
func TestRegistryConformance(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "oci-conformance")
	build := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "github.com/opencontainers/distribution-spec/conformance")
	build.Dir = "../tools"
	build.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	results := t.TempDir()
	run := exec.Command(bin)
	run.Dir = results
	run.Env = append(os.Environ(), "OCI_REGISTRY="+strings.TrimPrefix(suite.main.url, "http://"), "OCI_TLS=disabled",
		"OCI_USERNAME=admin", "OCI_PASSWORD="+suite.main.password, "OCI_RESULTS_DIR="+results,
		"OCI_REPO1=conformance/repo1", "OCI_REPO2=conformance/repo2", "OCI_DATA_SHA512=false")
	out, err = run.CombinedOutput()
	require.NoError(t, err, "conformance failed:\n%s", tail(string(out), 60))
	require.Contains(t, string(out), "OCI Conformance Result: Pass")
	for _, cat := range []string{"Blob push", "Blob get", "Blob chunked", "Blob streaming", "Blob mount", "Manifest put by digest",
		"Manifest get by tag", "Tag listing", "Referrers", "Manifest delete", "Blob delete", "Image"} {
		require.Regexp(t, `(?m)^\s+`+cat+`\.*:\s+Pass$`, string(out))
	}
}

// TestRegistryInputs: packerfiles and Dockerfiles are checked, a truncated
// upload is refused and leaves the image as it was, downloads honour Range,
// another user's image is a 404, registration is for admins (the server runs
// without REEHUB_OPEN_REGISTRATION), a 401 names the schemes, and CORS
// preflights of unconfigured origins get no CORS headers.
func TestRegistryInputs(t *testing.T) {
	ctx := context.Background()
	c := registryUser(t, "vice-inputs")
	dir := t.TempDir()
	mk := func(ct client.ViceImageContenttype) string {
		cr, err := c.ViceImageCreateWithResponse(ctx, client.ViceImage{Title: ptrTo(string(ct)), Contenttype: &ct})
		require.NoError(t, err)
		require.Equal(t, 201, cr.StatusCode(), string(cr.Body))
		return *cr.JSON201.Id
	}
	put := func(id, name, content string) *client.ViceImageUploadResponse {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		ct, b := upfile(t, p)
		r, err := c.ViceImageUploadWithBodyWithResponse(ctx, id, ct, b)
		require.NoError(t, err)
		return r
	}
	packer := mk(client.ViceImageContenttypePackerfile)
	require.Equal(t, 400, put(packer, "p.json", `{"builders": [`).StatusCode())
	require.Equal(t, 400, put(packer, "p.txt", "hello world").StatusCode())
	require.Equal(t, 200, put(packer, "p.pkr.hcl", "source \"qemu\" \"x\" {\n  iso_url = \"http://example.org/a.iso\"\n}\nbuild {\n  sources = [\"source.qemu.x\"]\n}\n").StatusCode())
	dockerfile := mk(client.ViceImageContenttypeDockerFile)
	require.Equal(t, 400, put(dockerfile, "Dockerfile", "RUN echo no from\n").StatusCode())
	ok := put(dockerfile, "Dockerfile", "FROM debian_bookworm\nRUN echo hi\n")
	require.Equal(t, 200, ok.StatusCode(), string(ok.Body))

	// Range on the stored file.
	req, _ := http.NewRequest("GET", suite.main.url+"/v1/image/"+dockerfile+"/file", nil)
	req.Header.Set("Range", "bytes=0-3")
	c.auth(ctx, req)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 206, resp.StatusCode)
	require.Equal(t, "FROM", string(b))
	require.Contains(t, resp.Header.Get("Content-Disposition"), "Dockerfile")

	// A truncated multipart upload is a 400 and the image stays without a file.
	disk := mk(client.ViceImageContenttypeDiskRaw)
	body := "--XX\r\nContent-Disposition: form-data; name=\"upfile\"; filename=\"d.raw\"\r\nContent-Type: application/octet-stream\r\n\r\n" + strings.Repeat("x", 4096)
	req, _ = http.NewRequest("POST", suite.main.url+"/v1/image/"+disk+"/file", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
	c.auth(ctx, req)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode)
	g, err := c.ViceImageGetWithResponse(ctx, disk)
	require.NoError(t, err)
	require.False(t, *g.JSON200.Imported)
	require.Nil(t, g.JSON200.Digest)

	other := registryUser(t, "vice-inputs-other")
	for _, id := range []string{packer, dockerfile, disk} {
		r, err := other.ViceImageGetWithResponse(ctx, id)
		require.NoError(t, err)
		require.Equal(t, 404, r.StatusCode())
		d, err := other.ViceImageDeleteWithResponse(ctx, id)
		require.NoError(t, err)
		require.Equal(t, 404, d.StatusCode())
	}
	up, err := other.ViceImageUpdateWithResponse(ctx, client.ViceImage{Id: &packer, Title: ptrTo("mine now")})
	require.NoError(t, err)
	require.Equal(t, 404, up.StatusCode())

	// Registration is closed: 401 without credentials, 403 for a user, 200 for an admin.
	anon := newClient(t, suite.main, nil)
	reg := client.ViceUser{Username: ptrTo("vice-new"), Password: ptrTo("a-long-password"), Email: ptrTo("new@example.org")}
	r1, err := anon.ViceUserCreateWithResponse(ctx, reg)
	require.NoError(t, err)
	require.Equal(t, 401, r1.StatusCode())
	require.Contains(t, r1.HTTPResponse.Header.Get("WWW-Authenticate"), "Basic")
	r2, err := c.ViceUserCreateWithResponse(ctx, reg)
	require.NoError(t, err)
	require.Equal(t, 403, r2.StatusCode())
	r3, err := admin(t, suite.main).ViceUserCreateWithResponse(ctx, reg)
	require.NoError(t, err)
	require.Equal(t, 200, r3.StatusCode(), string(r3.Body))
	require.Equal(t, "vice-new", *r3.JSON200.Username)
	newbie := newClient(t, suite.main, basic("vice-new", "a-long-password"))
	me, err := newbie.ViceUserGetWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, me.StatusCode())
	require.Equal(t, "a-long-password", *me.JSON200.Password, "the password echoes what this request presented")
	require.Equal(t, *r3.JSON200.Id, *me.JSON200.Id)

	req, _ = http.NewRequest("OPTIONS", suite.main.url+"/v1/images", nil)
	req.Header.Set("Origin", "http://elsewhere.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
}

// TestRegistryReleasesLoadedImages: a docker-image in the local Podman
// (loaded at upload, or loaded back for FROM registry-<id>, a workflow
// environment or a deployment) is a cache of the registry's record: garbage
// collection releases it once idle (its name only, when another holds the
// image, as the catalogue's debian_bookworm does here: the image stays for
// their containers); the record (/v2/) stays.
func TestRegistryReleasesLoadedImages(t *testing.T) {
	in, err := startInstance(instanceOpts{name: "vice-gc-" + randomHex(3), database: freshDBOrEmpty(t)})
	require.NoError(t, err)
	defer in.stop()
	pw := "pw-" + randomHex(8)
	resp, err := admin(t, in).AccountCreateUserWithResponse(context.Background(), client.AccountCreateUserJSONRequestBody{Name: "gcuser", Password: &pw})
	require.NoError(t, err)
	require.Equal(t, 201, resp.StatusCode(), string(resp.Body))
	c := newClient(t, in, basic("gcuser", pw))
	id := uploadDockerImage(t, c, "bookworm", bookwormArchive(t, t.TempDir()))
	ref := "localhost/registry-" + id + ":latest"
	pm := func(args ...string) error {
		return exec.Command("podman", append([]string{"--url", "unix:///run/podman/podman.sock"}, args...)...).Run()
	}
	require.NoError(t, pm("image", "exists", ref), "loaded at upload")
	rep := runGC(t, in, "--gc-grace", "0")
	require.GreaterOrEqual(t, rep.ImagesRemoved, 1)
	require.Error(t, pm("image", "exists", ref), "released once idle")
	require.NoError(t, pm("image", "exists", "localhost/debian_bookworm:latest"), "the catalogue's image with the same ID stays")
	mreq, _ := http.NewRequest("GET", in.url+"/v2/"+id+"/manifests/latest", nil)
	mreq.SetBasicAuth("gcuser", pw)
	mresp, err := http.DefaultClient.Do(mreq)
	require.NoError(t, err)
	mresp.Body.Close()
	require.Equal(t, 200, mresp.StatusCode, "the record stays in the blob store")
}
