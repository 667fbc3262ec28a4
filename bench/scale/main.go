// Command scale measures how reehub scales over instances on one Postgres
// database and one blob store, and prints each figure with one and with two
// instances and their ratio:
//
//   - status requests per second (GET /api/process/status/{uuid} with a
//     token, from concurrent clients spread over the instances) with one and
//     with two API-only instances (`reehub serve --workers 0`);
//   - recordings per minute: -recordings small distinct recordings (FROM
//     debian_bookworm, one RUN) submitted to one instance that runs jobs
//     (API and -workers workers), from the first submission until every one
//     has ended, then as many again submitted round-robin to two such
//     instances. Both use the same Podman service unless -podman-socket-b
//     gives the second its own (which must have debian_bookworm).
//
// The blob store is a directory shared by the instances, or -blob-url.
// See docs/scaling.md.
//
//	go run ./bench/scale -bin bin/reehub -database-url postgres://... [-duration 10s] [-clients 16] [-recordings 8] [-workers 2]
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reehub/reehub/bench/internal/benchserver"
)

func main() {
	bin := flag.String("bin", "bin/reehub", "reehub binary")
	db := flag.String("database-url", os.Getenv("REEHUB_DATABASE_URL"), "Postgres URL of a fresh database")
	dir := flag.String("dir", "", "work directory (default: a temporary one)")
	duration := flag.Duration("duration", 10*time.Second, "how long each measurement runs")
	clients := flag.Int("clients", 16, "concurrent clients")
	var rc recordConfig
	flag.IntVar(&rc.Count, "recordings", 8, "recordings submitted with one and again with two instances (0: skip)")
	flag.IntVar(&rc.Workers, "workers", 2, "builds at once per instance in the recordings measurement")
	flag.DurationVar(&rc.Limit, "record-limit", 20*time.Minute, "time limit of each recordings measurement")
	flag.StringVar(&rc.BlobURL, "blob-url", "", "blob store URL shared by the instances (default: a shared directory)")
	flag.StringVar(&rc.PodmanB, "podman-socket-b", "", "Podman service of the second instance (default: the same as the first)")
	flag.Parse()
	if err := run(*bin, *db, *dir, *duration, *clients, rc); err != nil {
		fmt.Fprintln(os.Stderr, "bench scale:", err)
		os.Exit(1)
	}
}

func run(bin, db, dir string, d time.Duration, clients int, rc recordConfig) error {
	if db == "" {
		return fmt.Errorf("needs -database-url (several instances share a Postgres database)")
	}
	ctx := context.Background()
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "reehub-bench-scale-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	blobs := "REEHUB_BLOB_DIR=" + filepath.Join(dir, "blobs")
	if rc.BlobURL != "" {
		blobs = "REEHUB_BLOB_URL=" + rc.BlobURL
	}
	env := []string{"REEHUB_DATABASE_URL=" + db, "REEHUB_WORKERS=0", "REEHUB_BUILD_BASE_IMAGES=false", blobs, "REEHUB_LOG_LEVEL=warn"}
	if err := statusBench(ctx, bin, dir, env, d, clients); err != nil {
		return err
	}
	if rc.Count == 0 {
		return nil
	}
	rc.Bin, rc.Dir, rc.Env = bin, dir, env
	return recordBench(ctx, rc)
}

// statusBench measures status requests per second with one and two
// API-only instances and prints the ratio; it cancels the queued recording
// it reads, so that the recordings measurement's workers find no other job.
func statusBench(ctx context.Context, bin, dir string, env []string, d time.Duration, clients int) error {
	a, err := benchserver.Start(ctx, benchserver.Opts{Bin: bin, DataDir: filepath.Join(dir, "a"), Env: env})
	if err != nil {
		return err
	}
	defer a.Stop()
	token, err := a.CreateToken(ctx)
	if err != nil {
		return err
	}
	body, ct, err := projectForm()
	if err != nil {
		return err
	}
	// No instance runs jobs: the recording stays queued, a real status to read.
	id, err := a.SubmitRecording(ctx, ct, body)
	if err != nil {
		return err
	}
	one, err := measure([]string{a.Base}, token, id.String(), d, clients)
	if err != nil {
		return err
	}
	b, err := benchserver.Start(ctx, benchserver.Opts{Bin: bin, DataDir: filepath.Join(dir, "b"), Env: env})
	if err != nil {
		return err
	}
	defer b.Stop()
	two, err := measure([]string{a.Base, b.Base}, token, id.String(), d, clients)
	if err != nil {
		return err
	}
	fmt.Printf("status requests/s: one instance %.0f, two instances %.0f, ratio two/one %.2f (%d clients, %s each)\n",
		one, two, two/one, clients, d)
	if res, err := a.API.ReeProcessCancelWithResponse(ctx, id); err != nil || res.JSON200 == nil {
		return fmt.Errorf("cancel the status bench's recording: %v %v", err, res)
	}
	return nil
}

// projectForm is a multipart body with a one-line project.
func projectForm() (*bytes.Buffer, string, error) {
	return projectFormOf("FROM debian_bookworm\nRUN true\n")
}

// projectFormOf is a multipart body with a project of one Dockerfile.
func projectFormOf(dockerfile string) (*bytes.Buffer, string, error) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.Create("Dockerfile")
	if err != nil {
		return nil, "", err
	}
	_, _ = w.Write([]byte(dockerfile))
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", "p.zip")
	if err != nil {
		return nil, "", err
	}
	_, _ = part.Write(zb.Bytes())
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return &body, mw.FormDataContentType(), nil
}

// measure runs clients concurrent loops of status requests, spread over
// bases round-robin, for d, and returns the successful requests per second.
func measure(bases []string, token, id string, d time.Duration, clients int) (float64, error) {
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	end := time.Now().Add(d)
	for i := range clients {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			url := bases[i%len(bases)] + "/api/process/status/" + id
			for time.Now().Before(end) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}(i)
	}
	wg.Wait()
	if failed.Load() > ok.Load()/100 {
		return 0, fmt.Errorf("%d of %d status requests failed", failed.Load(), ok.Load()+failed.Load())
	}
	return float64(ok.Load()) / d.Seconds(), nil
}
