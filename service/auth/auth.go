// Package auth is the account domain every API family shares: users (with a
// UUID, email, full name, role and a default group), groups with members,
// personal tokens, and the verification of every credential a request can
// carry, each resolving to one Principal.
//
// Credentials: HTTP Basic with a password or a personal token; Bearer with a
// personal token (reeh_...), a FOSSology-style HS256 JWT signed with the
// server's key, or an OIDC access token verified against the configured
// issuer. The HTTP layer passes a token from REANA's access_token query
// parameter to Bearer. Passwords are bcrypt hashes of a SHA-256 pre-hash
// (password.go); tokens are stored as SHA-256 hashes and shown once. Failed
// Basic logins are limited per user name and per client address (limit.go).
//
// No type of this package exposes a password hash, a token hash or a store row.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/sync/singleflight"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// TokenPrefix starts every personal API token, so that it can be told from an OIDC token.
const TokenPrefix = "reeh_"

// Scope is what a credential allows.
type Scope string

const (
	// ScopeRead allows reading (GET).
	ScopeRead Scope = "read"
	// ScopeWrite allows changing the user's own resources.
	ScopeWrite Scope = "write"
	// ScopeAdmin allows admin operations (only for admins).
	ScopeAdmin Scope = "admin"
)

// Scopes lists every scope.
func Scopes() []Scope { return []Scope{ScopeRead, ScopeWrite, ScopeAdmin} }

// Principal is an authenticated user and what the credential allows.
type Principal struct {
	// User is the authenticated user.
	User User
	// Scopes are what the credential allows.
	Scopes []Scope
	// Method says how the request was authenticated: basic, token, jwt or oidc.
	Method string
}

// Allows reports whether the principal's credential carries the scope. Admin
// scope also requires the admin role.
func (p Principal) Allows(s Scope) bool {
	if s == ScopeAdmin && p.User.Role != RoleAdmin {
		return false
	}
	return slices.Contains(p.Scopes, s)
}

// Config configures authentication.
type Config struct {
	// OIDCIssuer is the issuer URL whose access tokens are accepted; empty disables OIDC.
	OIDCIssuer string
	// OIDCAudience is the expected audience (client ID); empty skips the audience check.
	OIDCAudience string
	// JWTKey signs and verifies FOSSology-style JWTs (LoadOrCreateKey); empty disables them.
	JWTKey []byte
	// LoginLimits bound failed Basic logins; the zero value has the documented defaults.
	LoginLimits LoginLimits
	// NowFunc returns the current time for the login limits. Defaults to time.Now.
	NowFunc func() time.Time
}

// Service authenticates and manages users, groups and tokens.
type Service struct {
	store *store.Store
	cfg   Config
	log   *slog.Logger

	oidcMu   sync.Mutex
	verifier *oidc.IDTokenVerifier

	limits *loginLimiter
	logins singleflight.Group // one check at a time per name and secret

	cacheMu sync.Mutex
	cache   map[[32]byte]cachedLogin // sha256(name:password) -> user, for a minute
	touched map[int64]time.Time      // token id -> when its use was last recorded

	// dummyHash is compared against when a user name is unknown, so that a
	// failed login takes as long whether or not the name exists.
	dummyHash string
}

type cachedLogin struct {
	user  User
	until time.Time
}

// New returns the auth service.
func New(st *store.Store, log *slog.Logger, cfg Config) *Service {
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	dummy, _ := hashPassword(randomString(16))
	return &Service{
		store: st, cfg: cfg, log: log, limits: newLoginLimiter(cfg.LoginLimits, cfg.NowFunc),
		cache: map[[32]byte]cachedLogin{}, touched: map[int64]time.Time{}, dummyHash: dummy,
	}
}

var errBadCredentials = fault.New(fault.ErrUnauthenticated, "invalid credentials")

var errDisabled = fault.New(fault.ErrUnauthenticated, "the account is disabled")

// allScopes are what a password or OIDC login allows; admin is checked by role.
var allScopes = []Scope{ScopeRead, ScopeWrite, ScopeAdmin}

// Basic authenticates a user name with a password or a personal token. Failed
// attempts count against the user name and the client address of ctx
// (WithClientAddr); past the limits it fails with fault.ErrRateLimited
// without checking the secret.
func (s *Service) Basic(ctx context.Context, name, secret string) (Principal, error) {
	key := sha256.Sum256([]byte(name + "\x00" + secret))
	s.cacheMu.Lock()
	c, ok := s.cache[key]
	s.cacheMu.Unlock()
	// A verified login is trusted for a minute (bcrypt costs ~65 ms); a changed
	// password or role takes effect within that minute on other instances, at
	// once on this one (forgetLogins).
	if ok && time.Now().Before(c.until) {
		return Principal{User: c.user, Scopes: allScopes, Method: "basic"}, nil
	}
	if wait := s.limits.wait(ctx, name); wait > 0 {
		return Principal{}, fault.RateLimited("too many failed logins", wait)
	}
	// Concurrent requests with the same credentials share one check: when a
	// cached login expires under load, one bcrypt runs, not one per client.
	v, err, _ := s.logins.Do(string(key[:]), func() (any, error) {
		return s.basic(context.WithoutCancel(ctx), name, secret)
	})
	p, _ := v.(Principal)
	if errors.Is(err, fault.ErrUnauthenticated) {
		s.limits.fail(ctx, name)
		return Principal{}, err
	}
	if err != nil {
		return Principal{}, err
	}
	if p.Method == "basic" {
		s.cacheMu.Lock()
		if len(s.cache) > 10000 {
			clear(s.cache)
		}
		s.cache[key] = cachedLogin{user: p.User, until: time.Now().Add(time.Minute)}
		s.cacheMu.Unlock()
	}
	return p, nil
}

func (s *Service) basic(ctx context.Context, name, secret string) (Principal, error) {
	if strings.HasPrefix(secret, TokenPrefix) {
		p, err := s.token(ctx, secret)
		if err != nil {
			return Principal{}, err
		}
		if p.User.Name != name {
			return Principal{}, errBadCredentials
		}
		return p, nil
	}
	u, err := s.store.UserByName(ctx, name)
	if errors.Is(err, fault.ErrNotFound) {
		// Spend the same time as a real comparison so that names cannot be probed.
		_, _ = checkPassword(s.dummyHash, secret)
		return Principal{}, errBadCredentials
	}
	if err != nil {
		return Principal{}, fmt.Errorf("basic auth: %w", err)
	}
	ok, outdated := checkPassword(u.PasswordHash, secret)
	if !ok {
		return Principal{}, errBadCredentials
	}
	if u.Disabled {
		return Principal{}, errDisabled
	}
	if outdated {
		if h, err := hashPassword(secret); err == nil {
			if err := s.store.SetPasswordHash(ctx, u.ID, h); err != nil {
				s.log.WarnContext(ctx, "upgrade password hash", "user", u.Name, "err", err)
			}
		}
	}
	return Principal{User: toUser(u), Scopes: allScopes, Method: "basic"}, nil
}

// forgetLogins drops every cached password login, after a user changed.
func (s *Service) forgetLogins() {
	s.cacheMu.Lock()
	clear(s.cache)
	s.cacheMu.Unlock()
}

// Bearer authenticates a personal token, a FOSSology-style JWT or an OIDC access token.
func (s *Service) Bearer(ctx context.Context, raw string) (Principal, error) {
	switch {
	case strings.HasPrefix(raw, TokenPrefix):
		return s.token(ctx, raw)
	case isHS256(raw):
		return s.jwtToken(ctx, raw)
	default:
		// An access token an admin chose for a REANA user (POST /api/users
		// with user_token) has no prefix: it is a personal token if its hash
		// is known, else it may be an OIDC token.
		if p, err := s.token(ctx, raw); err == nil {
			return p, nil
		}
		return s.oidcToken(ctx, raw)
	}
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (s *Service) token(ctx context.Context, secret string) (Principal, error) {
	hash := hashToken(secret)
	t, err := s.store.TokenByHash(ctx, hash)
	if errors.Is(err, fault.ErrNotFound) {
		return Principal{}, errBadCredentials
	}
	if err != nil {
		return Principal{}, fmt.Errorf("token auth: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) != 1 || t.Kind != store.TokenPersonal {
		return Principal{}, errBadCredentials
	}
	if !s.store.Now().Before(t.ExpiresAt) {
		return Principal{}, fault.New(fault.ErrUnauthenticated, "token expired")
	}
	u, err := s.activeUser(ctx, t.UserID)
	if err != nil {
		return Principal{}, err
	}
	s.touch(ctx, t.ID)
	return Principal{User: u, Scopes: parseScopes(t.Scopes), Method: "token"}, nil
}

// activeUser returns the owner of a token, refusing a disabled one.
func (s *Service) activeUser(ctx context.Context, id int64) (User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("token owner: %w", err)
	}
	if u.Disabled {
		return User{}, errDisabled
	}
	return toUser(u), nil
}

// touch records a token's use. last_used_at is informative: it is written at
// most once a minute per token instead of on every request.
func (s *Service) touch(ctx context.Context, id int64) {
	s.cacheMu.Lock()
	due := time.Since(s.touched[id]) > time.Minute
	if due {
		if len(s.touched) > 10000 {
			clear(s.touched)
		}
		s.touched[id] = time.Now()
	}
	s.cacheMu.Unlock()
	if due {
		if err := s.store.TouchToken(ctx, id); err != nil {
			s.log.WarnContext(ctx, "record token use", "err", err)
		}
	}
}

func (s *Service) oidcVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	s.oidcMu.Lock()
	defer s.oidcMu.Unlock()
	if s.verifier != nil {
		return s.verifier, nil
	}
	// Discovery is lazy so that reehub starts even while the issuer is down.
	provider, err := oidc.NewProvider(context.WithoutCancel(ctx), s.cfg.OIDCIssuer)
	if err != nil {
		s.log.WarnContext(ctx, "OIDC discovery failed", "issuer", s.cfg.OIDCIssuer, "err", err)
		return nil, fault.Unavailablef("the OIDC issuer cannot be reached")
	}
	s.verifier = provider.Verifier(&oidc.Config{ClientID: s.cfg.OIDCAudience, SkipClientIDCheck: s.cfg.OIDCAudience == ""})
	return s.verifier, nil
}

type oidcClaims struct {
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
	Name              string `json:"name"`
}

// oidcToken verifies an OIDC access token (a JWT signed by the issuer) and maps
// its subject to a user, creating a plain user on first sight.
func (s *Service) oidcToken(ctx context.Context, raw string) (Principal, error) {
	if s.cfg.OIDCIssuer == "" {
		return Principal{}, errBadCredentials
	}
	v, err := s.oidcVerifier(ctx)
	if err != nil {
		return Principal{}, err
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return Principal{}, fault.New(fault.ErrUnauthenticated, "invalid bearer token")
	}
	su, err := s.store.UserByOIDCSubject(ctx, tok.Subject)
	var u User
	switch {
	case err == nil:
		u = toUser(su)
	case errors.Is(err, fault.ErrNotFound):
		var c oidcClaims
		_ = tok.Claims(&c)
		u, err = s.provisionOIDCUser(ctx, tok.Subject, c)
		if err != nil {
			return Principal{}, fmt.Errorf("oidc user: %w", err)
		}
	default:
		return Principal{}, fmt.Errorf("oidc user: %w", err)
	}
	if u.Disabled {
		return Principal{}, errDisabled
	}
	return Principal{User: u, Scopes: allScopes, Method: "oidc"}, nil
}

func (s *Service) provisionOIDCUser(ctx context.Context, subject string, c oidcClaims) (User, error) {
	base := c.PreferredUsername
	if base == "" {
		base, _, _ = strings.Cut(c.Email, "@")
	}
	base = strings.ToLower(base)
	if !namePattern.MatchString(base) {
		base = "oidc-" + strings.ToLower(subject)
	}
	if !namePattern.MatchString(base) {
		base = "oidc-" + hashToken(subject)[:12]
	}
	email := c.Email
	if checkEmail(email) != nil {
		email = ""
	}
	fullName := c.Name
	if checkFullName(fullName) != nil {
		fullName = ""
	}
	sub := subject
	for i := 0; i < 5; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		u := store.User{Name: name, Role: store.RoleUser, OIDCSubject: &sub, Email: email, FullName: fullName}
		err := s.createAccount(ctx, &u)
		if err == nil {
			return toUser(u), nil
		}
		if !errors.Is(err, fault.ErrConflict) {
			return User{}, err
		}
		if existing, err := s.store.UserByOIDCSubject(ctx, subject); err == nil {
			return toUser(existing), nil // created concurrently
		}
	}
	return User{}, fault.Conflictf("no free user name for the OIDC subject")
}

func parseScopes(s string) []Scope {
	var out []Scope
	for _, part := range strings.Split(s, ",") {
		if part != "" {
			out = append(out, Scope(part))
		}
	}
	return out
}

func joinScopes(ss []Scope) string {
	parts := make([]string, 0, len(ss))
	for _, s := range ss {
		if !slices.Contains(parts, string(s)) {
			parts = append(parts, string(s))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
