package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/reehub/reehub/bench/internal/benchserver"
	"github.com/reehub/reehub/gen/client"
)

// recordConfig configures the recordings-per-minute measurement.
type recordConfig struct {
	Bin, Dir string
	Env      []string // the instances' common settings (database, blob store)
	Count    int      // recordings per measurement
	Workers  int      // builds at once per instance
	Limit    time.Duration
	BlobURL  string
	PodmanB  string // the second instance's Podman service; empty: the first's
}

// phase is one recordings measurement.
type phase struct {
	N       int
	Elapsed time.Duration
	Hosts   map[string]int // recordings by the worker host that ran them
}

func (p phase) perMinute() float64 { return float64(p.N) / p.Elapsed.Minutes() }

// recordBench measures recordings per minute with one instance and then with
// two on the same database and blob store, and prints both and the ratio.
func recordBench(ctx context.Context, rc recordConfig) error {
	db := ""
	for _, e := range rc.Env {
		if v, ok := strings.CutPrefix(e, "REEHUB_DATABASE_URL="); ok {
			db = v
		}
	}
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return fmt.Errorf("connect to the database: %w", err)
	}
	defer conn.Close(ctx)
	env := func(host, socket string) []string {
		e := append(append([]string{}, rc.Env...), fmt.Sprintf("REEHUB_WORKERS=%d", rc.Workers), "REEHUB_WORKER_HOST="+host)
		if socket != "" {
			e = append(e, "REEHUB_PODMAN_SOCKET="+socket)
		}
		return e
	}
	var made []uuid.UUID // their images are removed at the end
	defer func() { removeImages(made, rc.PodmanB) }()

	a, err := benchserver.Start(ctx, benchserver.Opts{Bin: rc.Bin, DataDir: filepath.Join(rc.Dir, "rec-a"), Env: env("bench-a", "")})
	if err != nil {
		return err
	}
	defer a.Stop()
	one, ids, err := recordings(ctx, conn, []*benchserver.Server{a}, rc, "one")
	made = append(made, ids...)
	if err != nil {
		return err
	}
	b, err := benchserver.Start(ctx, benchserver.Opts{Bin: rc.Bin, DataDir: filepath.Join(rc.Dir, "rec-b"), Env: env("bench-b", rc.PodmanB)})
	if err != nil {
		return err
	}
	defer b.Stop()
	two, ids, err := recordings(ctx, conn, []*benchserver.Server{a, b}, rc, "two")
	made = append(made, ids...)
	if err != nil {
		return err
	}
	fmt.Printf("recordings/min: one instance %.1f (%d in %.0fs, %v), two instances %.1f (%d in %.0fs, %v), ratio two/one %.2f (%d workers per instance)\n",
		one.perMinute(), one.N, one.Elapsed.Seconds(), one.Hosts, two.perMinute(), two.N, two.Elapsed.Seconds(), two.Hosts,
		two.perMinute()/one.perMinute(), rc.Workers)
	return nil
}

// recordings submits rc.Count distinct recordings round-robin to servers and
// waits until all have ended; every one must be processed.
func recordings(ctx context.Context, conn *pgx.Conn, servers []*benchserver.Server, rc recordConfig, name string) (phase, []uuid.UUID, error) {
	nonce := make([]byte, 4)
	_, _ = rand.Read(nonce)
	p := phase{N: rc.Count, Hosts: map[string]int{}}
	ids := make([]uuid.UUID, 0, rc.Count)
	owner := map[uuid.UUID]*benchserver.Server{}
	start := time.Now()
	for i := range rc.Count {
		// Distinct contents: no layer of one is cached for another.
		body, ct, err := projectFormOf(fmt.Sprintf("FROM debian_bookworm\nRUN echo %s-%s-%d > /which\n", name, hex.EncodeToString(nonce), i))
		if err != nil {
			return p, ids, err
		}
		srv := servers[i%len(servers)]
		id, err := srv.SubmitRecording(ctx, ct, body)
		if err != nil {
			return p, ids, err
		}
		ids = append(ids, id)
		owner[id] = srv
	}
	pending := append([]uuid.UUID{}, ids...)
	deadline := start.Add(rc.Limit)
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			return p, ids, fmt.Errorf("%d of %d recordings (%s) had not ended after %s", len(pending), rc.Count, name, rc.Limit)
		}
		var still []uuid.UUID
		for _, id := range pending {
			srv := owner[id]
			if err := srv.Alive(); err != nil {
				return p, ids, err
			}
			st, err := srv.API.ReeProcessStatusWithResponse(ctx, id)
			if err != nil || st.JSON200 == nil {
				return p, ids, fmt.Errorf("status of %s: %v %v", id, err, st)
			}
			switch st.JSON200.Status {
			case client.ReeProcessStateProcessed:
			case client.ReeProcessStateFailed, client.ReeProcessStateCancelled:
				return p, ids, fmt.Errorf("recording %s %s: %s", id, st.JSON200.Status, deref(st.JSON200.Reason))
			default:
				still = append(still, id)
			}
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(250 * time.Millisecond)
		}
	}
	p.Elapsed = time.Since(start)
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = id.String()
	}
	rows, err := conn.Query(ctx, `SELECT host, count(*) FROM jobs WHERE id = ANY($1) GROUP BY host`, strs)
	if err != nil {
		return p, ids, fmt.Errorf("hosts of the recordings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var host string
		var n int
		if err := rows.Scan(&host, &n); err != nil {
			return p, ids, err
		}
		p.Hosts[host] = n
	}
	return p, ids, rows.Err()
}

// removeImages removes the process images of the recordings from the Podman
// services (the default one and podmanB), by name.
func removeImages(ids []uuid.UUID, podmanB string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, id := range ids {
		img := "localhost/reehub/" + id.String()
		for _, args := range [][]string{{"rmi", "-i", img}, {"--url", podmanB, "rmi", "-i", img}} {
			if args[0] == "--url" && podmanB == "" {
				continue
			}
			if out, err := exec.CommandContext(ctx, "podman", args...).CombinedOutput(); err != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				fmt.Fprintf(os.Stderr, "bench scale: podman %s: %v: %s\n", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
