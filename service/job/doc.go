// Package job is reehub's job engine: every long-running thing of every API
// family (REE recordings and replays, FOSSology scans, REANA workflows,
// Studio builds, ViCE deployments) is a Job of this one engine, run on River.
//
// It is written the way River's own documentation writes workers: a domain
// package declares typed arguments (a river.JobArgs whose Kind names the
// kind) and one Worker for them, and registers the pair with Register. Each
// kind names the queue it runs on; queues are per family (builds, scans,
// workflows, deployments), each with its own concurrency from Config, so that
// a long scan never delays a build.
//
// A job has ordered steps, each with its state, times, exit code or error
// and its own log; a progress percentage and message; and named outputs
// (blobs of the content-addressed store). The engine owns the one state
// machine (queued → running → succeeded | failed | cancelled, and running →
// queued again when an attempt is interrupted); each API family shows it in
// its own vocabulary, converted in its service package.
//
// # Transactional enqueue
//
// Submit inserts the job row, lets the domain insert its own rows, and
// inserts the River job, all in one database transaction (River's InsertTx
// on the *sql.Tx under the store's transaction; riversqlite on SQLite,
// riverdatabasesql on Postgres, both sharing the store's *sql.DB). Either all
// of them exist or none does.
//
// # A crash is not a failure
//
// The engine, not River, counts attempts: every River job it inserts has
// MaxAttempts 1 and its worker never asks River to retry. An attempt that
// reehub did not see to its end (SIGKILL, power loss, a stopped instance on
// Postgres) is found by recovery: at Start (on SQLite every running job is
// orphaned then) and every StaleAfter/2 (on Postgres another instance's job
// is orphaned once its heartbeat is StaleAfter old). Recovery runs the
// kind's Cleanup (containers, networks, proxies of the killed attempt),
// removes the work directory unless the kind resumes, and queues the job
// again with a fresh River job in one transaction, until the job has had
// MaxAttempts attempts; only then is it failed, with a reason that says so.
// A graceful stop (SIGTERM) interrupts running attempts the same way but
// gives the attempt back. The River job of an interrupted attempt stays
// "running" in River's table until River's rescuer discards it; its id no
// longer matches the job's, so a worker that picks it up does nothing.
//
// A retried job starts again from its first step, or, for a kind registered
// with Resumable, from its first step that did not succeed (the kind then
// promises that a succeeded step's effects survive in its work directory or
// outputs).
//
// # Several instances, several hosts
//
// Any number of instances share one Postgres database: each may submit
// (Config.APIOnly instances only submit, show and cancel), and each worker
// instance takes jobs from the shared family queues, so every worker can run
// every kind: what a job needs from its host comes from the database and the
// shared blob store (images are loaded back from it on demand). What does
// not travel is what an attempt leaves on its host: containers, networks and
// images on that host's Podman service, and its work directory. So every
// attempt records the host it runs on (Config.Host, the job's host column),
// and recovery of an orphaned attempt that ran on another host does not run
// the kind's Cleanup here (it would clean this host's Podman, not the
// other's): it queues the job again for any host at once, and records, in
// the same transaction, a clean-up owed by the attempt's host
// (job_host_cleanups). That host pays it (the kind's Cleanup on its own
// Podman, then its work directory and logs) when its engine starts (before
// River starts, so nothing runs there yet), at every recovery round, and
// before it runs an attempt of the same job itself, so that an attempt never
// meets an older attempt's leftovers of the same names. A retry elsewhere
// starts from the first step even for a Resumable kind, whose succeeded
// steps' effects live in the first host's work directory. A host that never
// comes back leaves its debts: a worker started with that host's name and a
// socket to its Podman service pays them. On SQLite there is one instance,
// and every attempt is its own whatever its host was called.
//
// The shared part of garbage collection (retention, blobs, tombstones) runs
// on one instance at a time (a Postgres advisory lock taken without waiting;
// the others skip that part of the round); each instance collects its own
// host's Podman resources and files.
//
// Recovery also re-inserts the River job of a queued job whose River job is
// gone or finished, or was fetched more than StaleAfter ago without an
// attempt starting (a fetch whose locked jobs River's producer never got:
// River would leave them running for a day), so no queued row is stranded,
// and removes work
// directories of ended or unknown jobs: nothing writes into the engine's
// directories before its job row exists (Submit moves staged inputs in after
// the commit).
package job
