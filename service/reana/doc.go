// Package reana is the domain of the REANA API family: serial workflow
// specifications (reana.yaml) and their parameters, the environments steps run
// in, REANA's status vocabulary and progress, the logs shape reana-client
// reads, per-workflow workspaces, encrypted secrets, the serial cache key and
// the executor that runs one step's commands in Podman containers.
//
// It knows nothing of HTTP or of the job engine: the server converts its types
// to the generated API types, and the engine glue calls Executor.Run for each
// step and records what it returns.
package reana
