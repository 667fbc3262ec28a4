package store

import (
	"context"
	"time"
)

// TokenKind says how a token is presented.
type TokenKind string

const (
	// TokenPersonal is a personal token whose secret (reeh_...) the client sends.
	TokenPersonal TokenKind = "personal"
	// TokenJWT is a token the client sends as a signed JWT naming the token's ID.
	TokenJWT TokenKind = "jwt"
)

// Token is a personal API token; only the SHA-256 of its secret is stored.
type Token struct {
	ID         int64
	UserID     int64
	Kind       TokenKind
	Name       string
	Prefix     string
	Hash       string
	Scopes     string // comma-separated
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
}

// CreateToken inserts t and sets its ID.
func (s *Store) CreateToken(ctx context.Context, t *Token) error {
	t.CreatedAt = s.Now()
	if t.Kind == "" {
		t.Kind = TokenPersonal
	}
	return translate(s.db.WithContext(ctx).Create(t).Error, "token "+t.Name)
}

// TokenByHash returns the token whose secret hashes to hash.
func (s *Store) TokenByHash(ctx context.Context, hash string) (Token, error) {
	var t Token
	err := s.read().WithContext(ctx).Where("hash = ?", hash).Take(&t).Error
	return t, translate(err, "token")
}

// TouchToken records that a token was used now.
func (s *Store) TouchToken(ctx context.Context, id int64) error {
	return translate(s.db.WithContext(ctx).Model(&Token{}).Where("id = ?", id).Update("last_used_at", s.Now()).Error, "token")
}

// TokensOf lists the tokens of a user, oldest first.
func (s *Store) TokensOf(ctx context.Context, userID int64) ([]Token, error) {
	var ts []Token
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&ts).Error
	return ts, translate(err, "tokens")
}

// DeleteToken removes a token of the given user; another user's token is not found.
func (s *Store) DeleteToken(ctx context.Context, userID, id int64) error {
	res := s.db.WithContext(ctx).Where("user_id = ? AND id = ?", userID, id).Delete(&Token{})
	if res.Error != nil {
		return translate(res.Error, "token")
	}
	if res.RowsAffected == 0 {
		return translate(errNoRows, "token")
	}
	return nil
}

// TokenByID returns the token with that ID.
func (s *Store) TokenByID(ctx context.Context, id int64) (Token, error) {
	var t Token
	err := s.db.WithContext(ctx).Take(&t, id).Error
	return t, translate(err, "token")
}

// DeleteTokensOf removes every token of a user.
func (s *Store) DeleteTokensOf(ctx context.Context, userID int64) error {
	return translate(s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&Token{}).Error, "tokens")
}
