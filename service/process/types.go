package process

import "github.com/reehub/reehub/store"

// The process vocabulary callers of this service use. They are the store's
// types: the service adds no fields, and aliases keep the HTTP layer from
// importing the store.
type (
	// Process is one long-running job of a user.
	Process = store.Process
	// State is where a process is in its life.
	State = store.ProcessState
	// Kind is what a process does.
	Kind = store.ProcessKind
	// Filter selects and pages a user's processes.
	Filter = store.ProcessFilter
)
