package job

import (
	"context"
	"time"

	"github.com/reehub/reehub/metrics"
)

// usageTTL is how long the blob store gauges reuse one Usage (it walks the
// blob store and lists the images).
const usageTTL = time.Minute

// registerGauges adds the gauges read at scrape time: jobs queued and running
// by family, kind and queue (this database's, so on Postgres every instance
// reports the same shared queue), and the blob store and images by kind as
// GET /api/system/usage measures them.
func (e *Engine) registerGauges() {
	m := e.cfg.Metrics
	if m == nil {
		return
	}
	m.GaugeFunc([]metrics.Gauge{{
		Name: "reehub_jobs", Help: "Jobs queued or running now, by family, kind, queue and state.",
		Labels: []string{"family", "kind", "queue", "state"},
	}}, 0, func(ctx context.Context) (map[string][]metrics.Sample, error) {
		counts, err := e.store.JobCounts(ctx, string(StateQueued), string(StateRunning))
		if err != nil {
			return nil, err
		}
		// Every registered kind has both series, also at 0.
		seen := map[[2]string]float64{}
		for _, c := range counts {
			seen[[2]string{c.Kind, c.State}] = float64(c.Count)
		}
		var out []metrics.Sample
		for name, k := range e.kinds {
			for _, st := range []State{StateQueued, StateRunning} {
				out = append(out, metrics.Sample{Labels: []string{string(k.opts.Family), name, k.opts.Queue, string(st)}, Value: seen[[2]string{name, string(st)}]})
			}
		}
		return map[string][]metrics.Sample{"reehub_jobs": out}, nil
	})
	m.GaugeFunc([]metrics.Gauge{
		{Name: "reehub_blob_bytes", Help: "Bytes in the blob store by the kind that references them (other: nothing in this database), as GET /api/system/usage; read at most once a minute.", Labels: []string{"kind"}},
		{Name: "reehub_blobs", Help: "Blobs in the blob store.", Labels: nil},
		{Name: "reehub_images", Help: "Images in Podman that reehub holds (process images and base images).", Labels: nil},
		{Name: "reehub_image_bytes", Help: "Bytes of the images reehub holds (sizes overlap where images share layers).", Labels: nil},
		{Name: "reehub_database_bytes", Help: "Size of the database.", Labels: nil},
	}, usageTTL, func(ctx context.Context) (map[string][]metrics.Sample, error) {
		u, err := e.storeUsage(ctx)
		if err != nil {
			return nil, err
		}
		// Podman not answering must not hide the blob store: the image
		// gauges are then left out until it answers again.
		images := e.imageUsage(ctx, &u) == nil
		var blobs []metrics.Sample
		for k, n := range u.Blobs {
			blobs = append(blobs, metrics.Sample{Labels: []string{string(k)}, Value: float64(n)})
		}
		blobs = append(blobs, metrics.Sample{Labels: []string{"other"}, Value: float64(u.Other)})
		one := func(v float64) []metrics.Sample { return []metrics.Sample{{Value: v}} }
		out := map[string][]metrics.Sample{
			"reehub_blob_bytes": blobs, "reehub_blobs": one(float64(u.Count)), "reehub_database_bytes": one(float64(u.DatabaseBytes)),
		}
		if images {
			out["reehub_images"], out["reehub_image_bytes"] = one(float64(u.Images)), one(float64(u.ImageBytes))
		}
		return out, nil
	})
}

// recordGC passes what a GC run freed to the metrics.
func (e *Engine) recordGC(r GCReport, ok bool) {
	e.cfg.Metrics.GC(metrics.GCFreed{
		OK: ok,
		Counts: map[string]int64{
			"jobs": int64(r.JobsExpired), "blobs": int64(r.BlobsRemoved), "images": int64(r.ImagesRemoved),
			"networks": int64(r.NetworksRemoved), "resources": int64(r.OtherResourcesRemoved),
			"work_dirs": int64(r.WorkDirsRemoved), "temp_files": int64(r.TempFilesRemoved), "tombstones": r.TombstonesPruned,
		},
		Bytes: map[string]int64{"blobs": r.BlobBytes, "images": r.ImageBytes, "files": r.FileBytes},
	})
}
