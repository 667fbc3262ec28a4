// Package process runs reehub's long-running work as processes: it persists
// them, queues them as River jobs, streams their logs, keeps their outputs in
// the blob store, and brings every process to a definite end state, also after
// reehub was killed (a process whose worker stopped heartbeating is failed and
// its runtime resources are cleaned up).
//
// A domain service registers a Runner per process kind; this package owns the
// state machine (queued → running → processed | failed | cancelled).
package process
