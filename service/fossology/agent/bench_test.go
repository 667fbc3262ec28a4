package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/service/fossology/agent"
)

// BenchmarkUnpackAndScan unpacks the archive named by
// REEHUB_FOSSOLOGY_BENCH_ARCHIVE and runs every agent on it, reporting
// files per second of each phase.
func BenchmarkUnpackAndScan(b *testing.B) {
	src := os.Getenv("REEHUB_FOSSOLOGY_BENCH_ARCHIVE")
	if src == "" {
		b.Skip("set REEHUB_FOSSOLOGY_BENCH_ARCHIVE to an archive")
	}
	r, err := agent.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		dest := filepath.Join(b.TempDir(), "tree")
		t0 := time.Now()
		tree, err := unpack.Unpack(context.Background(), unpack.Source{Path: src, Name: filepath.Base(src)}, dest, unpack.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		n := 0
		if err := r.Run(context.Background(), tree, agent.Agents(), func(_ string, _ int, fs []agent.Finding) error {
			n += len(fs)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		files := float64(len(tree.Files()))
		b.ReportMetric(files, "files")
		b.ReportMetric(files/t1.Sub(t0).Seconds(), "unpack-files/s")
		b.ReportMetric(files/t2.Sub(t1).Seconds(), "scan-files/s")
		b.ReportMetric(float64(n), "findings")
	}
}
