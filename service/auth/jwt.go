package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/store"
)

// FOSSology-style tokens are HS256 JWTs with the claims FOSSology's REST API
// writes: exp and nbf (Unix seconds), jti (the standard base64 of
// "<token id>.<user id>") and scope (space-separated scopes: FOSSology's
// "read" or "write" is one of them). Each JWT names a token row of kind jwt,
// so that it can be listed and revoked like a personal token; it is signed
// with the server's key (JWTKeyFile in the data directory), shared by every
// instance that shares the data directory.

// jwtKeyBytes is the size of a generated signing key.
const jwtKeyBytes = 32

// jwtLeeway is the clock skew allowed between instances for exp and nbf.
const jwtLeeway = 30 * time.Second

// JWTKeyFile is the file in the data directory that holds the JWT signing key.
const JWTKeyFile = "jwt.key"

// LoadOrCreateKey returns the signing key in path, creating a random one (mode
// 0600) if the file does not exist. Two processes starting together agree on
// one key: the file is created by a hard link that only one of them wins.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < jwtKeyBytes {
			return nil, fmt.Errorf("JWT key %s is shorter than %d bytes", path, jwtKeyBytes)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read JWT key: %w", err)
	}
	key = make([]byte, jwtKeyBytes)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".jwt-key-*")
	if err != nil {
		return nil, fmt.Errorf("create JWT key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write JWT key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write JWT key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateKey(path) // another process won
		}
		return nil, fmt.Errorf("install JWT key: %w", err)
	}
	return key, nil
}

// jwtClaims are the claims of a FOSSology-style token.
type jwtClaims struct {
	Scope string `json:"scope"`
	jwt.RegisteredClaims
}

func encodeJTI(tokenID, userID int64) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(tokenID, 10) + "." + strconv.FormatInt(userID, 10)))
}

func decodeJTI(jti string) (tokenID, userID int64, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(jti)
	if err != nil {
		return 0, 0, false
	}
	a, b, found := strings.Cut(string(raw), ".")
	if !found {
		return 0, 0, false
	}
	tokenID, err1 := strconv.ParseInt(a, 10, 64)
	userID, err2 := strconv.ParseInt(b, 10, 64)
	return tokenID, userID, err1 == nil && err2 == nil
}

// signJWT signs the claims of token t with key.
func signJWT(key []byte, t store.Token, notBefore time.Time) (string, error) {
	c := jwtClaims{
		Scope: strings.Join(strings.Split(t.Scopes, ","), " "),
		RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(t.ExpiresAt),
			NotBefore: jwt.NewNumericDate(notBefore),
			ID:        encodeJTI(t.ID, t.UserID),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign JWT: %w", err)
	}
	return s, nil
}

// MintJWT creates a token for the principal's user and returns it with its
// FOSSology-style JWT, which is shown once (the FOSSology family's POST
// /tokens). The rules of CreateToken apply.
func (s *Service) MintJWT(ctx context.Context, by Principal, nt NewToken) (Token, string, error) {
	if len(s.cfg.JWTKey) == 0 {
		return Token{}, "", fault.Unavailablef("this server has no JWT signing key")
	}
	t, err := s.newToken(by, by.User, nt, store.TokenJWT)
	if err != nil {
		return Token{}, "", err
	}
	// The row's hash is of a secret nobody learns: a JWT row is found by its ID (jti).
	t.Prefix, t.Hash = "jwt", hashToken(TokenPrefix+randomString(32))
	if err := s.store.CreateToken(ctx, &t); err != nil {
		return Token{}, "", err
	}
	signed, err := signJWT(s.cfg.JWTKey, t, s.store.Now())
	if err != nil {
		return Token{}, "", err
	}
	return toToken(t), signed, nil
}

// isHS256 reports whether raw looks like a JWT whose header names HS256, the
// algorithm of this server's tokens (OIDC issuers sign with RS256 or ES256).
func isHS256(raw string) bool {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(b, &h) == nil && h.Alg == "HS256"
}

// jwtToken verifies a FOSSology-style JWT and returns the principal of its
// token: the scopes are those of the claim that the token row also grants.
func (s *Service) jwtToken(ctx context.Context, raw string) (Principal, error) {
	if len(s.cfg.JWTKey) == 0 {
		return Principal{}, errBadCredentials
	}
	var c jwtClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return s.cfg.JWTKey, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithLeeway(jwtLeeway),
		jwt.WithTimeFunc(s.store.Now))
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Principal{}, fault.New(fault.ErrUnauthenticated, "token expired")
		}
		return Principal{}, errBadCredentials
	}
	tokenID, userID, ok := decodeJTI(c.ID)
	if !ok {
		return Principal{}, errBadCredentials
	}
	t, err := s.store.TokenByID(ctx, tokenID)
	if errors.Is(err, fault.ErrNotFound) {
		return Principal{}, fault.New(fault.ErrUnauthenticated, "token revoked")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("jwt auth: %w", err)
	}
	if t.Kind != store.TokenJWT || t.UserID != userID {
		return Principal{}, errBadCredentials
	}
	if !s.store.Now().Before(t.ExpiresAt) {
		return Principal{}, fault.New(fault.ErrUnauthenticated, "token expired")
	}
	granted := parseScopes(t.Scopes)
	var scopes []Scope
	for _, sc := range strings.Fields(c.Scope) {
		if slices.Contains(granted, Scope(sc)) && !slices.Contains(scopes, Scope(sc)) {
			scopes = append(scopes, Scope(sc))
		}
	}
	if len(scopes) == 0 {
		return Principal{}, errBadCredentials
	}
	u, err := s.activeUser(ctx, t.UserID)
	if err != nil {
		return Principal{}, err
	}
	s.touch(ctx, t.ID)
	return Principal{User: u, Scopes: scopes, Method: "jwt"}, nil
}
