package workflow_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/service/reana"
	"github.com/reehub/reehub/service/workflow"
)

// TestStepImages: once a step has succeeded, each archive it marked with the
// step key images is handed to the registry, readable through the open file,
// with the step's provenance; a marked file that is missing is written to the
// workflow log and does not fail the run; a failed step registers nothing.
func TestStepImages(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		var mu sync.Mutex
		var got []workflow.StepImage
		var content []string
		e := newEnvWith(t, dialect, 0, func(c *workflow.Config) {
			c.Version = "v-test"
			c.RegisterImage = func(_ context.Context, im workflow.StepImage) (string, error) {
				b, err := os.ReadFile(im.File)
				if err != nil {
					return "", err
				}
				mu.Lock()
				defer mu.Unlock()
				got, content = append(got, im), append(content, string(b))
				return "img-" + im.Key, nil
			}
		})
		sp, err := reana.ParseJSON([]byte(`{"inputs":{"files":["in.txt"]},"workflow":{"type":"serial","specification":{"steps":[
			{"name":"build","environment":"localhost/tools:1","commands":["write out/image.tar an archive"],"images":["/out/image.tar","out/missing.tar"]},
			{"name":"after","environment":"localhost/tools:1","commands":["echo done"]}]}}}`))
		require.NoError(t, err)
		require.Equal(t, []string{"out/image.tar", "out/missing.tar"}, sp.Steps[0].Images)
		w, err := e.svc.Create(ctx, e.owner, "imgs", sp)
		require.NoError(t, err)
		_, _, err = e.svc.Upload(ctx, e.owner, w.FullName(), "in.txt", strings.NewReader("input\n"))
		require.NoError(t, err)
		_, err = e.svc.Start(ctx, e.owner, w.FullName(), workflow.StartOpts{})
		require.NoError(t, err)
		w = e.wait(t, w.FullName())
		require.Equal(t, reana.StatusFinished, w.Status, "a marked file that is missing does not fail the run: %s", w.Reason)
		require.Len(t, got, 1)
		im := got[0]
		require.Equal(t, e.owner.ID, im.OwnerID)
		require.Equal(t, "0:out/image.tar", im.Key)
		require.Equal(t, "imgs.1 build: out/image.tar", im.Title)
		require.Equal(t, "an archive\n", content[0])
		require.NotEmpty(t, im.JobID)
		p := im.Provenance
		require.Equal(t, "imgs.1", p["workflow"])
		require.Equal(t, "build", p["step"])
		require.Equal(t, []string{"write out/image.tar an archive"}, p["commands"])
		require.Equal(t, "localhost/tools:1", p["environment"])
		require.Equal(t, "v-test", p["reehub_version"])
		sum := sha256.Sum256([]byte("input\n"))
		require.Equal(t, map[string]string{"in.txt": "sha256:" + hex.EncodeToString(sum[:])}, p["input_digests"])
		require.Regexp(t, `^sha256:[0-9a-f]{64}$`, p["specification_sha256"])
		_, logs, err := e.svc.Logs(ctx, e.owner, w.FullName(), nil, 0, 0)
		require.NoError(t, err)
		require.Contains(t, logs, "registered image out/image.tar as registry-img-0:out/image.tar")
		require.Contains(t, logs, "image out/missing.tar was not registered")

		bad, err := reana.ParseJSON([]byte(`{"workflow":{"type":"serial","specification":{"steps":[
			{"name":"s","environment":"localhost/tools:1","commands":["fail 3"],"images":["x.tar"]}]}}}`))
		require.NoError(t, err)
		wb, err := e.svc.Create(ctx, e.owner, "bad", bad)
		require.NoError(t, err)
		_, err = e.svc.Start(ctx, e.owner, wb.FullName(), workflow.StartOpts{})
		require.NoError(t, err)
		require.Equal(t, reana.StatusFailed, e.wait(t, wb.FullName()).Status)
		require.Len(t, got, 1, "a failed step registers nothing")

		for _, bad := range []string{`"images":"x.tar"`, `"images":[""]`, `"images":["../x.tar"]`, `"images":[3]`} {
			_, err := reana.ParseJSON([]byte(`{"workflow":{"type":"serial","specification":{"steps":[{"name":"s","environment":"e","commands":["true"],` + bad + `}]}}}`))
			require.Error(t, err, bad)
		}
	})
}
