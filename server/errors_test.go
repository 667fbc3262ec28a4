package server

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology"
)

func TestStatusOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
	}{
		{fault.Invalidf("bad"), 400},
		{fmt.Errorf("wrapped: %w", fault.NotFoundf("process x not found")), 404},
		{fault.New(fault.ErrUnauthenticated, "who"), 401},
		{fault.New(fault.ErrForbidden, "no"), 403},
		{fault.Conflictf("running"), 409},
		{fault.TooLargef("big"), 413},
		{&http.MaxBytesError{Limit: 10}, 413},
		{fault.Unavailablef("podman down"), 503},
		{errors.New("disk on fire"), 500},
	}
	for _, tc := range tests {
		require.Equal(t, tc.status, statusOf(tc.err), tc.err.Error())
		body := apiError(tc.status, tc.err)
		require.Equal(t, tc.status, body.Code)
		if tc.status == 500 {
			require.Equal(t, "internal server error", body.Message, "5xx details stay in the log")
		}
	}
}

// TestFossologyErrors: an agent that was not scheduled is a 412, and a
// resource that is not ready a 503 whose message says what to wait for.
func TestFossologyErrors(t *testing.T) {
	t.Parallel()
	require.Equal(t, 412, statusOf(fmt.Errorf("agent %q: %w", "ojo", fossology.ErrAgentNotScheduled)))
	nr := &fossology.NotReadyError{Message: "Ununpack job not started", RetryAfter: 2, LookAt: "/api/v1/jobs?upload=1"}
	err := fmt.Errorf("upload 1: %w", nr)
	require.Equal(t, 503, statusOf(err))
	require.Equal(t, "Ununpack job not started", apiError(503, err).Message)
	require.Equal(t, unavailableMessage, apiError(503, fault.Unavailablef("podman down")).Message)
}
