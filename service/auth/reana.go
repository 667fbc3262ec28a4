package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// minGivenToken is the shortest access token an admin may choose for a user.
const minGivenToken = 16

// UserFilter selects users as REANA's GET /api/users does; empty fields match all.
type UserFilter struct {
	// Email matches the user's email exactly.
	Email string
	// UUID matches the user's UUID.
	UUID string
	// Token matches the user one of whose personal tokens it is.
	Token string
}

// FindUsers returns the users matching f; only admins may.
func (s *Service) FindUsers(ctx context.Context, by Principal, f UserFilter) ([]User, error) {
	if err := requireAdmin(by, "list users"); err != nil {
		return nil, err
	}
	var tokenUser int64
	if f.Token != "" {
		t, err := s.store.TokenByHash(ctx, hashToken(f.Token))
		if errors.Is(err, fault.ErrNotFound) {
			return []User{}, nil
		}
		if err != nil {
			return nil, err
		}
		tokenUser = t.UserID
	}
	rows, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := []User{}
	for _, r := range rows {
		if (f.Email != "" && !strings.EqualFold(r.Email, f.Email)) || (f.UUID != "" && r.UUID != f.UUID) ||
			(tokenUser != 0 && r.ID != tokenUser) {
			continue
		}
		out = append(out, toUser(r))
	}
	return out, nil
}

// CreateAccessTokenUser creates a user identified by email (REANA's POST
// /api/users) with a personal token (read and write, 10 years) and returns
// the user and the token's secret. With secret empty one is generated; a given
// one must be at least 16 characters. The login name is the email's local part
// made valid (a number is appended when taken). Only admins may.
func (s *Service) CreateAccessTokenUser(ctx context.Context, by Principal, email, secret string) (User, string, error) {
	if err := requireAdmin(by, "create users"); err != nil {
		return User{}, "", err
	}
	if email == "" {
		return User{}, "", fault.Invalidf("email is required")
	}
	if err := checkEmail(email); err != nil {
		return User{}, "", err
	}
	if secret != "" && len(secret) < minGivenToken {
		return User{}, "", fault.Invalidf("user_token must be at least %d characters", minGivenToken)
	}
	rows, err := s.store.Users(ctx)
	if err != nil {
		return User{}, "", err
	}
	taken := map[string]bool{}
	for _, r := range rows {
		if strings.EqualFold(r.Email, email) {
			return User{}, "", fault.Conflictf("a user with email %s already exists", email)
		}
		taken[r.Name] = true
	}
	if secret != "" {
		if _, err := s.store.TokenByHash(ctx, hashToken(secret)); err == nil {
			return User{}, "", fault.Conflictf("user_token is already in use")
		}
	}
	name := nameFromEmail(email)
	for i := 2; taken[name]; i++ {
		name = nameFromEmail(email) + strconv.Itoa(i)
	}
	u := store.User{Name: name, Role: store.RoleUser, Email: email}
	if err := s.createAccount(ctx, &u); err != nil {
		return User{}, "", err
	}
	user := toUser(u)
	t, err := s.newToken(by, user, NewToken{Name: "reana", Scopes: []Scope{ScopeRead, ScopeWrite}, ExpiresIn: maxTokenLife}, store.TokenPersonal)
	if err != nil {
		return User{}, "", err
	}
	if secret == "" {
		secret = TokenPrefix + randomString(32)
	}
	prefix := secret
	if len(prefix) > len(TokenPrefix)+4 {
		prefix = prefix[:len(TokenPrefix)+4]
	}
	t.Prefix, t.Hash = prefix, hashToken(secret)
	if err := s.store.CreateToken(ctx, &t); err != nil {
		return User{}, "", err
	}
	return user, secret, nil
}

// nameFromEmail makes a login name of the email's local part.
func nameFromEmail(email string) string {
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	var b strings.Builder
	for _, r := range local {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	n := b.String()
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		n = "u" + n
	}
	if len(n) < 2 {
		n += "0"
	}
	if len(n) > 60 {
		n = n[:60]
	}
	return n
}
