package job

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/reehub/reehub/metrics"
)

// The queues of the families; a kind names one of them.
const (
	// QueueBuilds runs container builds (REE recordings and replays, Studio builds).
	QueueBuilds = "builds"
	// QueueAppliances runs Studio appliance builds, which wait for the REE
	// recording they submit to QueueBuilds (so they never hold its slots).
	QueueAppliances = "appliances"
	// QueueScans runs FOSSology scans.
	QueueScans = "scans"
	// QueueWorkflows runs REANA workflows.
	QueueWorkflows = "workflows"
	// QueueDeployments runs ViCE imports, exports and deployments.
	QueueDeployments = "deployments"
)

// QueueConfig tunes one queue.
type QueueConfig struct {
	// MaxWorkers is how many jobs of the queue run at once in this instance. Must be at least 1.
	MaxWorkers int
}

// DefaultQueues are the queues and concurrency used when Config.Queues does not
// name them: builds 4, appliances 2, scans 2, workflows 2, deployments 2.
func DefaultQueues() map[string]QueueConfig {
	return map[string]QueueConfig{
		QueueBuilds: {MaxWorkers: 4}, QueueAppliances: {MaxWorkers: 2}, QueueScans: {MaxWorkers: 2}, QueueWorkflows: {MaxWorkers: 2}, QueueDeployments: {MaxWorkers: 2},
	}
}

// Config tunes the engine.
type Config struct {
	// DataDir holds the engine's directories: logs/ (job and step logs while
	// they are written) and work/ (one scratch directory per job). Required.
	DataDir string
	// Queues sets the concurrency of queues by name. Queues of DefaultQueues
	// not named here keep their default; other names add queues.
	Queues map[string]QueueConfig
	// MaxAttempts is how many attempts a job gets before an interrupted
	// attempt (reehub killed or stopped while it ran) fails it. A kind may
	// set its own. Defaults to 3; 1 fails a job at its first interruption.
	MaxAttempts int
	// HeartbeatInterval is how often a running job records that it is alive
	// and looks for a cancel request (made on any instance). Defaults to 2 seconds.
	HeartbeatInterval time.Duration
	// StaleAfter is how long without a heartbeat makes a running job
	// orphaned (its instance died) on Postgres, where other instances may be
	// alive. Defaults to 30 seconds; must be at least twice HeartbeatInterval.
	StaleAfter time.Duration
	// PollInterval is how often River looks for new jobs (the store's
	// drivers are poll-only) on the scans queue; the queues of long jobs
	// wait four times as long (see pollEvery). Defaults to 250 ms; at least 50 ms.
	PollInterval time.Duration
	// GCInterval is how often the engine runs garbage collection (GC) by
	// itself. Defaults to 0: never (cmd/reehub sets REEHUB_GC_INTERVAL, one
	// hour by default).
	GCInterval time.Duration
	// GCGrace is how old an unreferenced blob, temporary file or work
	// directory must be before GC removes it. Defaults to 1 hour; NoGrace
	// (any negative value) means none, for tests and a stopped server.
	GCGrace time.Duration
	// Retention, when set, makes every GC delete jobs that ended longer ago
	// and are not marked to keep; 0 deletes every ended job. Defaults to nil: off.
	Retention *time.Duration
	// TombstoneTTL is how long GC remembers a deleted job (to remove the
	// runtime resources a crashed attempt may still leave). Defaults to 7 days.
	TombstoneTTL time.Duration
	// DeleteWait bounds how long Delete waits for a cancelled job to stop.
	// Defaults to 2 minutes.
	DeleteWait time.Duration
	// Host names the worker host this engine runs attempts on: the machine
	// whose Podman service the kinds' workers use. Instances on one database
	// must give each host its own name (two instances on one host with one
	// Podman service may share it). An attempt interrupted on one host and
	// recovered by another leaves a clean-up owed by its host (see the
	// package doc). Defaults to "local".
	Host string
	// Serve names the queues this engine's workers take jobs from; empty
	// takes every queue. A worker host that cannot run some family's jobs
	// (no qemu for disk images, say) leaves its queue out, and those jobs wait
	// for an instance that serves it. Every queue can still be submitted to.
	Serve []string
	// APIOnly makes the engine submit, show and cancel jobs but run none:
	// Start starts no River worker, no recovery and no clean-up (the workers'
	// instances do them); garbage collection still runs, under its lock.
	APIOnly bool
	// Metrics receives job transitions, wait and run times, step times and
	// what GC freed, and serves queue depths and blob store bytes as gauges.
	// Nil records nothing.
	Metrics *metrics.Metrics
}

// withDefaults returns a copy of c with every unset field defaulted.
func (c Config) withDefaults() Config {
	queues := DefaultQueues()
	maps.Copy(queues, c.Queues)
	c.Queues = queues
	if c.Host == "" {
		c.Host = "local"
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = 2 * time.Second
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = 30 * time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.GCGrace == 0 {
		c.GCGrace = time.Hour
	}
	if c.TombstoneTTL == 0 {
		c.TombstoneTTL = 7 * 24 * time.Hour
	}
	if c.DeleteWait == 0 {
		c.DeleteWait = 2 * time.Minute
	}
	return c
}

// longJobPolls is how many times PollInterval the queues of long jobs wait
// between two looks for new jobs (pollEvery).
const longJobPolls = 4

// pollEvery returns how often River looks for new jobs of a queue: every
// PollInterval on scans, whose jobs take seconds and are waited for, and
// on queues the engine does not know; every longJobPolls × PollInterval on
// the queues of jobs that run for minutes (builds, appliances, workflows,
// deployments), which lose little by starting a moment later. Each look is
// a query, about 1.5 ms of CPU on SQLite (mostly SQLite parsing it again):
// five queues looked at every 250 ms kept an idle reehub at 4% of a core,
// and took as much from a scan.
func (c Config) pollEvery(queue string) time.Duration {
	switch queue {
	case QueueBuilds, QueueAppliances, QueueWorkflows, QueueDeployments:
		return longJobPolls * c.PollInterval
	}
	return c.PollInterval
}

// NoGrace, as Config.GCGrace or GCOpts.Grace, makes GC remove what is
// unreferenced however recent it is.
const NoGrace time.Duration = -1

// fetchCooldown is River's shortest time between two fetches.
const fetchCooldown = 50 * time.Millisecond

// validate reports the first setting that cannot work.
func (c Config) validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("DataDir is required")
	case c.MaxAttempts < 1 || c.MaxAttempts > 100:
		return fmt.Errorf("MaxAttempts must be between 1 and 100, got %d", c.MaxAttempts)
	case c.HeartbeatInterval <= 0:
		return errors.New("HeartbeatInterval must be positive")
	case c.StaleAfter < 2*c.HeartbeatInterval:
		return fmt.Errorf("StaleAfter (%s) must be at least twice HeartbeatInterval (%s)", c.StaleAfter, c.HeartbeatInterval)
	case c.GCInterval < 0 || c.TombstoneTTL < 0 || c.DeleteWait < 0 || (c.Retention != nil && *c.Retention < 0):
		return errors.New("GCInterval, Retention, TombstoneTTL and DeleteWait must not be negative")
	case c.PollInterval < fetchCooldown:
		return fmt.Errorf("PollInterval must be at least %s, got %s", fetchCooldown, c.PollInterval)
	}
	for _, name := range c.Serve {
		if _, ok := c.Queues[name]; !ok {
			return fmt.Errorf("serve: no queue %q (queues: %s)", name, strings.Join(slices.Sorted(maps.Keys(c.Queues)), ", "))
		}
	}
	for name, q := range c.Queues {
		if name == "" {
			return errors.New("a queue needs a name")
		}
		if q.MaxWorkers < 1 || q.MaxWorkers > 10000 {
			return fmt.Errorf("queue %s: MaxWorkers must be between 1 and 10000, got %d", name, q.MaxWorkers)
		}
	}
	return nil
}
