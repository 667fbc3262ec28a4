package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// Token lifetimes.
const (
	defaultTokenLife = 90 * 24 * time.Hour
	maxTokenLife     = 3650 * 24 * time.Hour
)

// NewToken describes a personal token to create.
type NewToken struct {
	// Name is what the user calls the token: 1 to 64 characters, no control characters.
	Name string
	// Scopes are what the token allows; at least one.
	Scopes []Scope
	// ExpiresIn is the token's lifetime. Zero means 90 days; at most 3650 days.
	ExpiresIn time.Duration
}

// newToken checks nt and returns the row of a token for user, created by by,
// without its prefix and hash.
// A token cannot carry a scope its creator's credential lacks, nor the admin
// scope for a user who is not an admin.
func (s *Service) newToken(by Principal, user User, nt NewToken, kind store.TokenKind) (store.Token, error) {
	if n := len([]rune(nt.Name)); n == 0 || n > 64 || strings.ContainsFunc(nt.Name, unicode.IsControl) {
		return store.Token{}, fault.Invalidf("a token name must be 1 to 64 characters without control characters")
	}
	if len(nt.Scopes) == 0 {
		return store.Token{}, fault.Invalidf("a token needs at least one scope")
	}
	for _, sc := range nt.Scopes {
		if !slices.Contains(Scopes(), sc) {
			return store.Token{}, fault.Invalidf("unknown scope %q", sc)
		}
		if !by.Allows(sc) {
			return store.Token{}, fault.New(fault.ErrForbidden, fmt.Sprintf("your credentials do not allow scope %q", sc))
		}
		if sc == ScopeAdmin && user.Role != RoleAdmin {
			return store.Token{}, fault.New(fault.ErrForbidden, fmt.Sprintf("user %s is not an admin; a token for them cannot carry the admin scope", user.Name))
		}
	}
	switch {
	case nt.ExpiresIn == 0:
		nt.ExpiresIn = defaultTokenLife
	case nt.ExpiresIn < 0 || nt.ExpiresIn > maxTokenLife:
		return store.Token{}, fault.Invalidf("a token lives 1 to 3650 days")
	}
	return store.Token{
		UserID:    user.ID,
		Kind:      kind,
		Name:      nt.Name,
		Scopes:    joinScopes(nt.Scopes),
		ExpiresAt: s.store.Now().Add(nt.ExpiresIn),
	}, nil
}

// CreateToken creates a personal token for the principal's user and returns it
// with its secret. A token cannot carry more than the credential that creates it.
func (s *Service) CreateToken(ctx context.Context, by Principal, nt NewToken) (Token, string, error) {
	return s.issue(ctx, by, by.User, nt)
}

// IssueToken creates a personal token for another user (a robot, or a user
// created without a password) and returns it with its secret; only admins may.
func (s *Service) IssueToken(ctx context.Context, by Principal, userID string, nt NewToken) (Token, string, error) {
	if err := requireAdmin(by, "issue tokens for other users"); err != nil {
		return Token{}, "", err
	}
	u, err := s.store.UserByUUID(ctx, userID)
	if err != nil {
		return Token{}, "", err
	}
	if u.Disabled {
		return Token{}, "", fault.Conflictf("user %s is disabled", u.Name)
	}
	return s.issue(ctx, by, toUser(u), nt)
}

func (s *Service) issue(ctx context.Context, by Principal, user User, nt NewToken) (Token, string, error) {
	t, err := s.newToken(by, user, nt, store.TokenPersonal)
	if err != nil {
		return Token{}, "", err
	}
	secret := TokenPrefix + randomString(32)
	t.Prefix, t.Hash = secret[:len(TokenPrefix)+4], hashToken(secret)
	if err := s.store.CreateToken(ctx, &t); err != nil {
		return Token{}, "", err
	}
	return toToken(t), secret, nil
}

// Tokens lists the principal's tokens.
func (s *Service) Tokens(ctx context.Context, by Principal) ([]Token, error) {
	ts, err := s.store.TokensOf(ctx, by.User.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Token, len(ts))
	for i, t := range ts {
		out[i] = toToken(t)
	}
	return out, nil
}

// DeleteToken revokes one of the principal's tokens.
func (s *Service) DeleteToken(ctx context.Context, by Principal, id int64) error {
	return s.store.DeleteToken(ctx, by.User.ID, id)
}
