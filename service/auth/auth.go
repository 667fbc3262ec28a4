// Package auth authenticates requests and manages users and personal API tokens.
//
// Credentials are HTTP Basic (user name with password or personal token) for
// development and Bearer (a personal token, or an OIDC access token verified
// against the configured issuer) for deployment. Passwords are bcrypt hashes;
// tokens are stored as SHA-256 hashes and shown once.
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
	"golang.org/x/crypto/bcrypt"
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
	User   store.User
	Scopes []Scope
	// Method says how the request was authenticated: basic, token or oidc.
	Method string
}

// Allows reports whether the principal's credential carries the scope. Admin
// scope also requires the admin role.
func (p Principal) Allows(s Scope) bool {
	if s == ScopeAdmin && p.User.Role != store.RoleAdmin {
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
}

// Service authenticates and manages users and tokens.
type Service struct {
	store *store.Store
	cfg   Config
	log   *slog.Logger

	oidcMu   sync.Mutex
	verifier *oidc.IDTokenVerifier

	logins singleflight.Group // one password check at a time per credential

	cacheMu sync.Mutex
	cache   map[[32]byte]cachedLogin // sha256(name:password) -> user, for CacheTTL
	tokens  map[string]cachedToken   // token hash -> token and owner, for CacheTTL
	touched map[int64]time.Time      // token id -> when its use was last recorded
	revoked map[int64]time.Time      // token id -> until when a lookup must not cache it

	// dummyHash is compared against when a user name is unknown, so that a
	// failed login takes as long whether or not the name exists.
	dummyHash []byte
}

// CacheTTL bounds how long a verified credential is trusted without asking
// the database again: a password changed, a user's role changed or a token
// revoked by another reehub instance (or in the database directly) stops
// working within CacheTTL. A token revoked through this service stops at
// once, and a token's expiry is checked on every request.
const CacheTTL = 30 * time.Second

// maxCached bounds each credential cache; a full cache is emptied.
const maxCached = 10000

type cachedLogin struct {
	user  store.User
	until time.Time
}

type cachedToken struct {
	token store.Token
	user  store.User
	until time.Time
}

// New returns the auth service.
func New(st *store.Store, log *slog.Logger, cfg Config) *Service {
	dummy, _ := bcrypt.GenerateFromPassword([]byte(randomString(16)), bcrypt.DefaultCost)
	return &Service{
		store: st, cfg: cfg, log: log, dummyHash: dummy,
		cache: map[[32]byte]cachedLogin{}, tokens: map[string]cachedToken{}, touched: map[int64]time.Time{},
		revoked: map[int64]time.Time{},
	}
}

var errBadCredentials = fault.New(fault.ErrUnauthenticated, "invalid credentials")

// allScopes are what a password or OIDC login allows; admin is checked by role.
var allScopes = []Scope{ScopeRead, ScopeWrite, ScopeAdmin}

// Basic authenticates a user name with a password or a personal token.
func (s *Service) Basic(ctx context.Context, name, secret string) (Principal, error) {
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
	key := sha256.Sum256([]byte(name + "\x00" + secret))
	s.cacheMu.Lock()
	c, ok := s.cache[key]
	s.cacheMu.Unlock()
	// A verified login is trusted for CacheTTL (bcrypt costs ~50 ms); a changed
	// password or role takes effect within it.
	if ok && time.Now().Before(c.until) {
		return Principal{User: c.user, Scopes: allScopes, Method: "basic"}, nil
	}
	// Concurrent requests with the same credentials share one check: when a
	// cached login expires under load, one bcrypt runs, not one per client.
	v, err, _ := s.logins.Do(string(key[:]), func() (any, error) {
		u, err := s.checkPassword(context.WithoutCancel(ctx), name, secret)
		if err != nil {
			return nil, err
		}
		s.cacheMu.Lock()
		if len(s.cache) > maxCached {
			clear(s.cache)
		}
		s.cache[key] = cachedLogin{user: u, until: time.Now().Add(CacheTTL)}
		s.cacheMu.Unlock()
		return u, nil
	})
	if err != nil {
		return Principal{}, err
	}
	u := v.(store.User)
	return Principal{User: u, Scopes: allScopes, Method: "basic"}, nil
}

// checkPassword looks the user up and compares the password with its hash.
func (s *Service) checkPassword(ctx context.Context, name, secret string) (store.User, error) {
	u, err := s.store.UserByName(ctx, name)
	if errors.Is(err, fault.ErrNotFound) {
		// Spend the same time as a real comparison so that names cannot be probed.
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(secret))
		return store.User{}, errBadCredentials
	}
	if err != nil {
		return store.User{}, fmt.Errorf("basic auth: %w", err)
	}
	if u.PasswordHash == "" || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(secret)) != nil {
		return store.User{}, errBadCredentials
	}
	return u, nil
}

// Bearer authenticates a personal token or an OIDC access token.
func (s *Service) Bearer(ctx context.Context, raw string) (Principal, error) {
	if strings.HasPrefix(raw, TokenPrefix) {
		return s.token(ctx, raw)
	}
	return s.oidcToken(ctx, raw)
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (s *Service) token(ctx context.Context, secret string) (Principal, error) {
	hash := hashToken(secret)
	t, u, err := s.lookupToken(ctx, hash)
	if err != nil {
		return Principal{}, err
	}
	if !s.store.Now().Before(t.ExpiresAt) {
		return Principal{}, fault.New(fault.ErrUnauthenticated, "token expired")
	}
	// last_used_at is informative: record it at most once a minute per token
	// instead of writing on every request.
	s.cacheMu.Lock()
	due := time.Since(s.touched[t.ID]) > time.Minute
	if due {
		if len(s.touched) > maxCached {
			clear(s.touched)
		}
		s.touched[t.ID] = time.Now()
	}
	s.cacheMu.Unlock()
	if due {
		if err := s.store.TouchToken(ctx, t.ID); err != nil {
			s.log.WarnContext(ctx, "record token use", "err", err)
		}
	}
	return Principal{User: u, Scopes: parseScopes(t.Scopes), Method: "token"}, nil
}

// lookupToken returns the token with that hash and its owner, from the cache
// when they were read less than CacheTTL ago. Unknown hashes are not cached.
func (s *Service) lookupToken(ctx context.Context, hash string) (store.Token, store.User, error) {
	s.cacheMu.Lock()
	c, ok := s.tokens[hash]
	s.cacheMu.Unlock()
	if ok && time.Now().Before(c.until) {
		return c.token, c.user, nil
	}
	t, err := s.store.TokenByHash(ctx, hash)
	if errors.Is(err, fault.ErrNotFound) {
		return store.Token{}, store.User{}, errBadCredentials
	}
	if err != nil {
		return store.Token{}, store.User{}, fmt.Errorf("token auth: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) != 1 {
		return store.Token{}, store.User{}, errBadCredentials
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if err != nil {
		return store.Token{}, store.User{}, fmt.Errorf("token owner: %w", err)
	}
	s.cacheMu.Lock()
	// A lookup that read the row before a revocation through this service
	// committed must not put it back into the cache.
	if time.Now().After(s.revoked[t.ID]) {
		if len(s.tokens) > maxCached {
			clear(s.tokens)
		}
		s.tokens[hash] = cachedToken{token: t, user: u, until: time.Now().Add(CacheTTL)}
	}
	s.cacheMu.Unlock()
	return t, u, nil
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
		return nil, fault.Unavailablef("OIDC issuer %s cannot be reached: %v", s.cfg.OIDCIssuer, err)
	}
	s.verifier = provider.Verifier(&oidc.Config{ClientID: s.cfg.OIDCAudience, SkipClientIDCheck: s.cfg.OIDCAudience == ""})
	return s.verifier, nil
}

type oidcClaims struct {
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
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
	u, err := s.store.UserByOIDCSubject(ctx, tok.Subject)
	if errors.Is(err, fault.ErrNotFound) {
		var c oidcClaims
		_ = tok.Claims(&c)
		u, err = s.provisionOIDCUser(ctx, tok.Subject, c)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("oidc user: %w", err)
	}
	return Principal{User: u, Scopes: allScopes, Method: "oidc"}, nil
}

func (s *Service) provisionOIDCUser(ctx context.Context, subject string, c oidcClaims) (store.User, error) {
	base := c.PreferredUsername
	if base == "" {
		base, _, _ = strings.Cut(c.Email, "@")
	}
	if base == "" {
		base = "oidc-" + subject
	}
	sub := subject
	for i := 0; i < 5; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		u := store.User{Name: name, Role: store.RoleUser, OIDCSubject: &sub}
		err := s.store.CreateUser(ctx, &u)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, fault.ErrConflict) {
			return store.User{}, err
		}
		if existing, err := s.store.UserByOIDCSubject(ctx, subject); err == nil {
			return existing, nil // created concurrently
		}
	}
	return store.User{}, fault.Conflictf("no free user name for OIDC subject %s", subject)
}

// EnsureAdmin creates the user "admin" on first start. With an empty password
// one is generated and returned so that it can be shown once.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (generated string, created bool, err error) {
	if _, err := s.store.UserByName(ctx, "admin"); err == nil {
		return "", false, nil
	} else if !errors.Is(err, fault.ErrNotFound) {
		return "", false, fmt.Errorf("look up admin: %w", err)
	}
	if password == "" {
		password = randomString(12)
		generated = password
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", false, fmt.Errorf("hash admin password: %w", err)
	}
	u := store.User{Name: "admin", PasswordHash: string(hash), Role: store.RoleAdmin}
	if err := s.store.CreateUser(ctx, &u); err != nil {
		if errors.Is(err, fault.ErrConflict) {
			return "", false, nil // another instance created it
		}
		return "", false, fmt.Errorf("create admin: %w", err)
	}
	return generated, true, nil
}

// NewUser describes a user to create.
type NewUser struct {
	Name     string
	Password string
	Role     store.Role
}

// CreateUser creates a user; only admins may.
func (s *Service) CreateUser(ctx context.Context, by Principal, nu NewUser) (store.User, error) {
	if !by.Allows(ScopeAdmin) {
		return store.User{}, fault.New(fault.ErrForbidden, "only an admin may create users")
	}
	if nu.Role == "" {
		nu.Role = store.RoleUser
	}
	if !slices.Contains(store.Roles(), nu.Role) {
		return store.User{}, fault.Invalidf("unknown role %q", nu.Role)
	}
	u := store.User{Name: nu.Name, Role: nu.Role}
	if nu.Password != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), bcrypt.DefaultCost)
		if err != nil {
			return store.User{}, fault.Invalidf("password cannot be used: %v", err)
		}
		u.PasswordHash = string(hash)
	}
	if err := s.store.CreateUser(ctx, &u); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// NewToken describes a personal token to create.
type NewToken struct {
	Name      string
	Scopes    []Scope
	ExpiresIn time.Duration
}

// CreateToken creates a personal token for the principal's user and returns it with its secret.
// A token cannot carry more than the credential that creates it.
func (s *Service) CreateToken(ctx context.Context, by Principal, nt NewToken) (store.Token, string, error) {
	if len(nt.Scopes) == 0 {
		return store.Token{}, "", fault.Invalidf("a token needs at least one scope")
	}
	for _, sc := range nt.Scopes {
		if !slices.Contains(Scopes(), sc) {
			return store.Token{}, "", fault.Invalidf("unknown scope %q", sc)
		}
		if !by.Allows(sc) {
			return store.Token{}, "", fault.New(fault.ErrForbidden, fmt.Sprintf("your credentials do not allow scope %q", sc))
		}
	}
	if nt.ExpiresIn <= 0 {
		nt.ExpiresIn = 90 * 24 * time.Hour
	}
	secret := TokenPrefix + randomString(32)
	t := store.Token{
		UserID:    by.User.ID,
		Name:      nt.Name,
		Prefix:    secret[:len(TokenPrefix)+4],
		Hash:      hashToken(secret),
		Scopes:    joinScopes(nt.Scopes),
		ExpiresAt: s.store.Now().Add(nt.ExpiresIn),
	}
	if err := s.store.CreateToken(ctx, &t); err != nil {
		return store.Token{}, "", err
	}
	return t, secret, nil
}

// Tokens lists the principal's tokens.
func (s *Service) Tokens(ctx context.Context, by Principal) ([]store.Token, error) {
	return s.store.TokensOf(ctx, by.User.ID)
}

// DeleteToken revokes one of the principal's tokens; it stops working at once.
func (s *Service) DeleteToken(ctx context.Context, by Principal, id int64) error {
	if err := s.store.DeleteToken(ctx, by.User.ID, id); err != nil {
		return err
	}
	now := time.Now()
	s.cacheMu.Lock()
	for hash, c := range s.tokens {
		if c.token.ID == id {
			delete(s.tokens, hash)
		}
	}
	for tid, until := range s.revoked {
		if now.After(until) {
			delete(s.revoked, tid)
		}
	}
	s.revoked[id] = now.Add(CacheTTL)
	s.cacheMu.Unlock()
	return nil
}

// TokenScopes returns the scopes stored with a token.
func TokenScopes(t store.Token) []Scope { return parseScopes(t.Scopes) }

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
