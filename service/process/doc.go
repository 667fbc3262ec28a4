// Package process is the REE API's view of the job engine (service/job): a
// process is a job of the REE family together with its REE row (tag,
// Dockerfile, input). It owns the REE vocabulary (queued, running,
// processed, failed, cancelled) and converts the engine's jobs to it, so that
// the HTTP layer sees neither store rows nor job internals. The REE kinds
// themselves (recording, replay) are registered by service/ree.
package process
