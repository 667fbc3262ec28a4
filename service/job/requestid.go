package job

import "context"

// requestIDKey is the context key of the id of the API request being served.
type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the API request it serves
// (server sets it from X-Request-Id): a job submitted with such a context
// records the id, and its log starts with it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id that WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
