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
// Recovery also re-inserts the River job of a queued job whose River job is
// gone or finished, or was fetched more than StaleAfter ago without an
// attempt starting (a fetch whose locked jobs River's producer never got:
// River would leave them running for a day), so no queued row is stranded,
// and removes work
// directories of ended or unknown jobs: nothing writes into the engine's
// directories before its job row exists (Submit moves staged inputs in after
// the commit).
package job
