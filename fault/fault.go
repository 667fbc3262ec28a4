// Package fault declares the kinds of failure every reehub layer reports.
//
// Lower layers wrap one of the sentinels with context (fmt.Errorf("build %s: %w",
// id, fault.ErrNotFound)); the server maps the kind to an HTTP status in one
// place. The message of a 4xx is the wrapped error's text, so it must be written
// for the user; a 5xx message is never shown.
package fault

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrInvalid marks input that breaks a rule: a bad field, a corrupt archive.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound marks a resource that does not exist or belongs to another user.
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a request that does not fit the resource's current state.
	ErrConflict = errors.New("conflict")
	// ErrTooLarge marks input over a configured size limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnauthenticated marks a request without valid credentials.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden marks a request whose credentials lack the needed role or scope.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable marks a dependency that cannot be reached (the Podman service).
	ErrUnavailable = errors.New("unavailable")
	// ErrRateLimited marks a request refused because its client or user made too
	// many failed attempts; a *LimitedError says when to retry.
	ErrRateLimited = errors.New("rate limited")
)

// LimitedError is an ErrRateLimited error that says when the client may retry.
type LimitedError struct {
	// Msg is the user-facing message.
	Msg string
	// RetryAfter is how long the client should wait before trying again.
	RetryAfter time.Duration
}

func (e *LimitedError) Error() string { return e.Msg }

// Unwrap makes a LimitedError an ErrRateLimited.
func (e *LimitedError) Unwrap() error { return ErrRateLimited }

// RateLimited returns a LimitedError whose message states the wait in seconds.
func RateLimited(what string, retryAfter time.Duration) error {
	secs := int64((retryAfter + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &LimitedError{Msg: fmt.Sprintf("%s; retry in %d seconds", what, secs), RetryAfter: time.Duration(secs) * time.Second}
}

// kindError carries a user-facing message and the kind it belongs to.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }

func (e *kindError) Unwrap() error { return e.kind }

// New returns an error of the given kind whose text is exactly msg.
func New(kind error, msg string) error { return &kindError{kind: kind, msg: msg} }

// Invalidf returns an ErrInvalid error with a formatted user-facing message.
func Invalidf(format string, args ...any) error {
	return &kindError{kind: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

// NotFoundf returns an ErrNotFound error with a formatted user-facing message.
func NotFoundf(format string, args ...any) error {
	return &kindError{kind: ErrNotFound, msg: fmt.Sprintf(format, args...)}
}

// Conflictf returns an ErrConflict error with a formatted user-facing message.
func Conflictf(format string, args ...any) error {
	return &kindError{kind: ErrConflict, msg: fmt.Sprintf(format, args...)}
}

// TooLargef returns an ErrTooLarge error with a formatted user-facing message.
func TooLargef(format string, args ...any) error {
	return &kindError{kind: ErrTooLarge, msg: fmt.Sprintf(format, args...)}
}

// Unavailablef returns an ErrUnavailable error with a formatted message.
func Unavailablef(format string, args ...any) error {
	return &kindError{kind: ErrUnavailable, msg: fmt.Sprintf(format, args...)}
}
