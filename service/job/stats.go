package job

import (
	"context"
	"sort"
)

// QueueStat is what one queue holds and how many workers serve it.
type QueueStat struct {
	// Queue is the queue's name.
	Queue string
	// Pending counts the queue's jobs that wait for a worker.
	Pending int64
	// Running counts the queue's jobs being worked on.
	Running int64
	// Workers is how many jobs of the queue run at once in this instance.
	Workers int
}

// QueueStats reports every configured queue, by name: its pending and
// running jobs (of every kind registered on it) and its workers.
func (e *Engine) QueueStats(ctx context.Context) ([]QueueStat, error) {
	byQueue := map[string][]string{}
	for name, k := range e.kinds {
		byQueue[k.opts.Queue] = append(byQueue[k.opts.Queue], name)
	}
	out := make([]QueueStat, 0, len(e.cfg.Queues))
	for q, qc := range e.cfg.Queues {
		st := QueueStat{Queue: q, Workers: qc.MaxWorkers}
		if kinds := byQueue[q]; len(kinds) > 0 {
			counts, err := e.store.CountJobsByState(ctx, kinds)
			if err != nil {
				return nil, err
			}
			st.Pending, st.Running = counts[string(StateQueued)], counts[string(StateRunning)]
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Queue < out[j].Queue })
	return out, nil
}
