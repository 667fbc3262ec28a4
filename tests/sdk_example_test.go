package tests

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/reehub/reehub/gen/client"
)

// Example_recordAndReplay is the Go SDK (gen/client) at work against a live
// server: record a project, follow its status, download the defined REE and
// replay it offline. docs/sdks.md shows the same code.
func Example_recordAndReplay() {
	ctx := context.Background()
	server, user, password := suite.main.url, "admin", suite.main.password // your server and account

	// The suite's HTTP client checks every answer against openapi.yaml; yours can be http.DefaultClient.
	httpClient := &http.Client{Transport: &validatingTransport{base: http.DefaultTransport, router: exampleRouter()}}
	// Every call carries the credentials (Basic here; a personal token works as Bearer).
	c, err := client.NewClientWithResponses(server, client.WithHTTPClient(httpClient), client.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error { req.SetBasicAuth(user, password); return nil }))
	if err != nil {
		fmt.Println(err)
		return
	}

	// A project zip: a Dockerfile FROM a base image of the catalogue.
	var project bytes.Buffer
	zw := zip.NewWriter(&project)
	w, _ := zw.Create("Dockerfile")
	io.WriteString(w, "FROM python_3_11\nRUN echo built > /built.txt\n")
	zw.Close()

	// submit uploads a zip as the multipart form the REE endpoints take.
	submit := func(send func(ctx context.Context, contentType string, body io.Reader, _ ...client.RequestEditorFn) (*http.Response, error), zipBytes []byte) (*client.ReeProcessStarted, error) {
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, _ := mw.CreateFormFile("file", "project.zip")
		fw.Write(zipBytes)
		mw.Close()
		resp, err := send(ctx, mw.FormDataContentType(), &form)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(resp.Body)
			return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, msg)
		}
		var started client.ReeProcessStarted
		return &started, json.NewDecoder(resp.Body).Decode(&started)
	}
	// wait follows a process until it ends.
	wait := func(id client.ReeProcessUUID) client.ReeProcessState {
		for {
			st, err := c.ReeProcessStatusWithResponse(ctx, id)
			if err != nil || st.JSON200 == nil {
				return "unknown"
			}
			switch st.JSON200.Status {
			case client.ReeProcessStateProcessed, client.ReeProcessStateFailed, client.ReeProcessStateCancelled:
				return st.JSON200.Status
			}
			time.Sleep(time.Second)
		}
	}

	rec, err := submit(c.ReeRecordingCreateWithBody, project.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("recording:", wait(rec.Uuid))

	// The defined REE, streamed to a file.
	resp, err := c.ReeProcessDownload(ctx, rec.Uuid)
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(os.TempDir(), rec.Uuid.String()+".zip")
	defer os.Remove(path)
	f, _ := os.Create(path)
	io.Copy(f, resp.Body)
	resp.Body.Close()
	f.Close()
	ree, _ := os.ReadFile(path)

	rep, err := submit(c.ReeReplayCreateWithBody, ree)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("replay:", wait(rep.Uuid))
	// Output:
	// recording: processed
	// replay: processed
}

// exampleRouter is specRouter for examples, which have no testing.TB.
func exampleRouter() routers.Router {
	doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	if err != nil {
		panic(err)
	}
	doc.Servers = openapi3.Servers{{URL: "/"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		panic(err)
	}
	return r
}
