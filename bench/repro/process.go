package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/reehub/reehub/bench/internal/benchserver"
	"github.com/reehub/reehub/gen/client"
)

// processTiming is what the bench measured for one reehub process.
type processTiming struct {
	UUID uuid.UUID
	// Total is from the start of the POST to the first poll that saw "processed".
	Total time.Duration
}

// runProcess uploads zipPath with submit, polls its status every 200 ms
// until the process ends (at most limit), and returns its timings.
func (r *reehub) runProcess(ctx context.Context, submit benchserver.SubmitFunc, zipPath, tag string, limit time.Duration) (processTiming, error) {
	var t processTiming
	body, contentType, err := benchserver.MultipartFile(zipPath, tag)
	if err != nil {
		return t, err
	}
	start := time.Now()
	id, err := submit(ctx, contentType, body)
	if err != nil {
		return t, err
	}
	t.UUID = id
	deadline := start.Add(limit)
	for time.Now().Before(deadline) {
		if err := r.Alive(); err != nil {
			return t, err
		}
		st, err := r.API.ReeProcessStatusWithResponse(ctx, id)
		if err != nil {
			return t, fmt.Errorf("status: %w", err)
		}
		if st.JSON200 == nil {
			return t, fmt.Errorf("status: HTTP %d: %s", st.StatusCode(), st.Body)
		}
		now := time.Now()
		s := st.JSON200
		switch s.Status {
		case client.ReeProcessStateProcessed:
			t.Total = now.Sub(start)
			return t, nil
		case client.ReeProcessStateFailed, client.ReeProcessStateCancelled:
			reason := ""
			if s.Reason != nil {
				reason = *s.Reason
			}
			log, _ := r.API.ReeProcessLogWithResponse(ctx, id)
			logText := ""
			if log != nil {
				logText = benchserver.LastLines(string(log.Body), 30)
			}
			return t, fmt.Errorf("process %s %s: %s\n%s", id, s.Status, reason, logText)
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return t, fmt.Errorf("process %s did not end within %s", id, limit)
}
