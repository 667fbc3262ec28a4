package auth

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// clock is a settable time source for the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newService(t *testing.T) (*Service, *store.Store, *clock) {
	t.Helper()
	clk := &clock{now: time.Now()}
	st, err := store.Open(context.Background(), store.Config{SQLitePath: filepath.Join(t.TempDir(), "reehub.db"), NowFunc: clk.Now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{}), st, clk
}

func TestCachedTokenIsRevokedAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, _ := newService(t)
	_, _, err := s.EnsureAdmin(ctx, "correct horse")
	require.NoError(t, err)
	admin, err := s.Basic(ctx, "admin", "correct horse")
	require.NoError(t, err)
	tok, secret, err := s.CreateToken(ctx, admin, NewToken{Name: "ci", Scopes: []Scope{ScopeRead}})
	require.NoError(t, err)
	for range 3 { // the second and third are served from the cache
		p, err := s.Bearer(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, "admin", p.User.Name)
		require.Equal(t, []Scope{ScopeRead}, p.Scopes)
	}
	require.NoError(t, s.DeleteToken(ctx, admin, tok.ID))
	_, err = s.Bearer(ctx, secret)
	require.ErrorIs(t, err, fault.ErrUnauthenticated)
	_, err = s.Basic(ctx, "admin", secret)
	require.ErrorIs(t, err, fault.ErrUnauthenticated)
}

func TestCachedTokenExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, clk := newService(t)
	_, _, err := s.EnsureAdmin(ctx, "correct horse")
	require.NoError(t, err)
	admin, err := s.Basic(ctx, "admin", "correct horse")
	require.NoError(t, err)
	_, secret, err := s.CreateToken(ctx, admin, NewToken{Name: "short", Scopes: []Scope{ScopeRead}, ExpiresIn: time.Hour})
	require.NoError(t, err)
	_, err = s.Bearer(ctx, secret)
	require.NoError(t, err)
	clk.Add(time.Hour)
	_, err = s.Bearer(ctx, secret)
	require.ErrorIs(t, err, fault.ErrUnauthenticated, "a cached token still expires on time")
}

func TestTokenRevokedElsewhereStopsWithinCacheTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st, _ := newService(t)
	_, _, err := s.EnsureAdmin(ctx, "correct horse")
	require.NoError(t, err)
	admin, err := s.Basic(ctx, "admin", "correct horse")
	require.NoError(t, err)
	tok, secret, err := s.CreateToken(ctx, admin, NewToken{Name: "ci", Scopes: []Scope{ScopeRead}})
	require.NoError(t, err)
	_, err = s.Bearer(ctx, secret)
	require.NoError(t, err)
	// Revoked behind this service's back (another instance): the cache
	// answers until its entry is older than CacheTTL, then the database does.
	require.NoError(t, st.DeleteToken(ctx, admin.User.ID, tok.ID))
	s.cacheMu.Lock()
	for h, c := range s.tokens {
		c.until = time.Now().Add(-time.Second) // as if CacheTTL had passed
		s.tokens[h] = c
	}
	s.cacheMu.Unlock()
	_, err = s.Bearer(ctx, secret)
	require.ErrorIs(t, err, fault.ErrUnauthenticated)
}

func TestBasicCachesOnlyVerifiedLogins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, _ := newService(t)
	_, _, err := s.EnsureAdmin(ctx, "correct horse")
	require.NoError(t, err)
	_, err = s.Basic(ctx, "admin", "wrong")
	require.ErrorIs(t, err, fault.ErrUnauthenticated)
	_, err = s.Basic(ctx, "admin", "wrong")
	require.ErrorIs(t, err, fault.ErrUnauthenticated)
	_, err = s.Basic(ctx, "admin", "correct horse")
	require.NoError(t, err)
	_, err = s.Basic(ctx, "nobody", "correct horse")
	require.ErrorIs(t, err, fault.ErrUnauthenticated)
}

func TestTokenUseIsRecordedAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st, clk := newService(t)
	_, _, err := s.EnsureAdmin(ctx, "correct horse")
	require.NoError(t, err)
	admin, err := s.Basic(ctx, "admin", "correct horse")
	require.NoError(t, err)
	_, secret, err := s.CreateToken(ctx, admin, NewToken{Name: "ci", Scopes: []Scope{ScopeRead}})
	require.NoError(t, err)
	lastUsed := func() time.Time {
		ts, err := st.TokensOf(ctx, admin.User.ID)
		require.NoError(t, err)
		require.Len(t, ts, 1)
		require.NotNil(t, ts[0].LastUsedAt)
		return *ts[0].LastUsedAt
	}
	_, err = s.Bearer(ctx, secret)
	require.NoError(t, err)
	first := lastUsed()
	for range 5 {
		clk.Add(time.Second)
		_, err = s.Bearer(ctx, secret)
		require.NoError(t, err)
	}
	require.True(t, first.Equal(lastUsed()), "no write per request: last_used_at stays %s", first)
}

func TestConcurrentLoginsShareOnePasswordCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, _ := newService(t)
	_, _, err := s.EnsureAdmin(ctx, "correct horse")
	require.NoError(t, err)
	// 32 clients whose cached login has expired at once: bcrypt at the
	// default cost takes ~50 ms, so 32 checks in a row would take >1 s.
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Basic(ctx, "admin", "correct horse")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	once := time.Since(start)
	s.cacheMu.Lock()
	clear(s.cache)
	s.cacheMu.Unlock()
	start = time.Now()
	for range 4 {
		s.cacheMu.Lock()
		clear(s.cache)
		s.cacheMu.Unlock()
		_, err := s.Basic(ctx, "admin", "correct horse")
		require.NoError(t, err)
	}
	four := time.Since(start)
	require.Less(t, once, four, "32 concurrent logins (%s) cost less than 4 sequential checks (%s)", once, four)
	_, err = s.Basic(ctx, "admin", "wrong")
	require.ErrorIs(t, err, fault.ErrUnauthenticated)
}
