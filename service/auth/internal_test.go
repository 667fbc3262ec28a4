package auth

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestPasswordHashCountsEveryCharacter(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("correct horse battery staple ", 4)[:100] // 100 characters, past bcrypt's 72 bytes
	h, err := hashPassword(long)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, passwordScheme))
	ok, outdated := checkPassword(h, long)
	require.True(t, ok)
	require.False(t, outdated)
	ok, _ = checkPassword(h, long[:72]+strings.Repeat("x", 28))
	require.False(t, ok, "a password that differs only after byte 72 must not match")
	max256 := strings.Repeat("ü", 256) // 256 characters, 512 bytes
	h, err = hashPassword(max256)
	require.NoError(t, err)
	ok, _ = checkPassword(h, max256)
	require.True(t, ok)
	ok, _ = checkPassword(h, max256[:510]+"ä")
	require.False(t, ok)
	ok, _ = checkPassword("", "anything")
	require.False(t, ok, "a user without a password has no password")
}

func TestLegacyPasswordHashIsAccepted(t *testing.T) {
	t.Parallel()
	legacy, err := bcrypt.GenerateFromPassword([]byte("old-password"), bcrypt.MinCost)
	require.NoError(t, err)
	ok, outdated := checkPassword(string(legacy), "old-password")
	require.True(t, ok)
	require.True(t, outdated)
	ok, _ = checkPassword(string(legacy), "other-password")
	require.False(t, ok)
}

// clock is a settable time source for the limiter tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestLimiterBurstAndRefill(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	l := newLimiter(3, 10*time.Second, c.now)
	for range 3 {
		require.Zero(t, l.wait("k"))
		l.fail("k")
	}
	require.Equal(t, 10*time.Second, l.wait("k"), "empty: one attempt comes back after Every")
	require.Zero(t, l.wait("other"), "keys are independent")
	c.add(4 * time.Second)
	require.Equal(t, 6*time.Second, l.wait("k"))
	c.add(6 * time.Second)
	require.Zero(t, l.wait("k"))
	l.fail("k")
	require.Equal(t, 10*time.Second, l.wait("k"))
	c.add(time.Hour)
	for range 3 {
		require.Zero(t, l.wait("k"), "refilled up to the burst, not beyond")
		l.fail("k")
	}
	require.NotZero(t, l.wait("k"))
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"192.0.2.7:51234", "192.0.2.7"},
		{"192.0.2.7", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:80", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7"},
		{"", ""},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, clientKey(WithClientAddr(context.Background(), tc.in)), tc.in)
	}
}

func TestJTI(t *testing.T) {
	t.Parallel()
	jti := encodeJTI(42, 7)
	require.Equal(t, "NDIuNw==", jti, "FOSSology's jti: base64 of <token id>.<user id>")
	tid, uid, ok := decodeJTI(jti)
	require.True(t, ok)
	require.EqualValues(t, 42, tid)
	require.EqualValues(t, 7, uid)
	for _, bad := range []string{"", "!!", "NDI=", "YS5i"} { // "", not base64, "42", "a.b"
		_, _, ok := decodeJTI(bad)
		require.False(t, ok, bad)
	}
}
