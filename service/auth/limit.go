package auth

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// LoginLimits bound failed Basic logins. Each key (a user name, a client
// address) has a bucket of Burst attempts that refills one attempt every
// Every; a failed login takes one, and when the bucket is empty a login for
// that key is refused without checking the password (429 with Retry-After)
// until it refills. Successful logins take nothing. A login whose exact name
// and password were verified in the last minute is never refused, so that a
// user under attack keeps working from the clients they already use.
//
// The buckets live in the memory of one reehub process: with several
// instances a client gets each instance's allowance.
type LoginLimits struct {
	// UserBurst is how many failed logins a user name is allowed in a row. Defaults to 10.
	UserBurst int
	// UserEvery is how often a user name gets one attempt back. Defaults to 6 seconds (10 a minute).
	UserEvery time.Duration
	// AddrBurst is how many failed logins a client address is allowed in a row. Defaults to 30.
	AddrBurst int
	// AddrEvery is how often a client address gets one attempt back. Defaults to 2 seconds (30 a minute).
	AddrEvery time.Duration
	// Disabled turns the limits off (benchmarks of failing logins).
	Disabled bool
}

func (l LoginLimits) withDefaults() LoginLimits {
	if l.UserBurst <= 0 {
		l.UserBurst = 10
	}
	if l.UserEvery <= 0 {
		l.UserEvery = 6 * time.Second
	}
	if l.AddrBurst <= 0 {
		l.AddrBurst = 30
	}
	if l.AddrEvery <= 0 {
		l.AddrEvery = 2 * time.Second
	}
	return l
}

// maxBuckets bounds the memory of a limiter: past it, refilled buckets are
// dropped, and if that is not enough, all of them.
const maxBuckets = 100_000

// limiter is a set of token buckets by key.
type limiter struct {
	burst float64
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, every time.Duration, now func() time.Time) *limiter {
	return &limiter{burst: float64(burst), every: every, now: now, buckets: map[string]bucket{}}
}

// level returns the bucket of key refilled up to now.
func (l *limiter) level(key string, now time.Time) bucket {
	b, ok := l.buckets[key]
	if !ok {
		return bucket{tokens: l.burst, at: now}
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	return b
}

// wait returns how long a login for key must wait; zero means it may go ahead.
func (l *limiter) wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.level(key, l.now())
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.every))
}

// fail takes one attempt from key's bucket.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.level(key, now)
	b.tokens = max(0, b.tokens-1)
	if len(l.buckets) >= maxBuckets {
		for k := range l.buckets {
			if l.level(k, now).tokens >= l.burst {
				delete(l.buckets, k)
			}
		}
		if len(l.buckets) >= maxBuckets {
			clear(l.buckets)
		}
	}
	l.buckets[key] = b
}

// loginLimiter limits failed logins by user name and by client address.
type loginLimiter struct {
	off   bool
	users *limiter
	addrs *limiter
}

func newLoginLimiter(l LoginLimits, now func() time.Time) *loginLimiter {
	l = l.withDefaults()
	return &loginLimiter{off: l.Disabled, users: newLimiter(l.UserBurst, l.UserEvery, now), addrs: newLimiter(l.AddrBurst, l.AddrEvery, now)}
}

// wait returns how long a login of name from ctx's client must wait.
func (ll *loginLimiter) wait(ctx context.Context, name string) time.Duration {
	if ll.off {
		return 0
	}
	w := ll.users.wait(name)
	if addr := clientKey(ctx); addr != "" {
		w = max(w, ll.addrs.wait(addr))
	}
	return w
}

// fail records a failed login of name from ctx's client.
func (ll *loginLimiter) fail(ctx context.Context, name string) {
	if ll.off {
		return
	}
	ll.users.fail(name)
	if addr := clientKey(ctx); addr != "" {
		ll.addrs.fail(addr)
	}
}

type clientKeyType struct{}

// WithClientAddr returns ctx carrying the address of the client that sent the
// request (an IP address, with or without a port), which the failed-login
// limit counts by. The HTTP layer sets it from the connection, not from
// headers a client can forge.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKeyType{}, addr)
}

// clientKey is the limiter key of ctx's client: its IPv4 address, or the /64
// network of its IPv6 address (one host commonly holds a whole /64).
func clientKey(ctx context.Context) string {
	raw, _ := ctx.Value(clientKeyType{}).(string)
	if raw == "" {
		return ""
	}
	ap, err := netip.ParseAddrPort(raw)
	addr := ap.Addr()
	if err != nil {
		if addr, err = netip.ParseAddr(raw); err != nil {
			return raw
		}
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
