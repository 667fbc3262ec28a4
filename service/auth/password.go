package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Passwords are stored as bcrypt hashes of a SHA-256 pre-hash, so that every
// character of a long passphrase counts (bcrypt reads only its first 72 bytes)
// and a NUL byte cannot cut the input short: the bcrypt input is the standard
// base64 of SHA-256(password), 44 ASCII bytes. The pre-hash has no key, so that
// the hashes stay valid whatever happens to the data directory. Stored form:
//
//	sha256-bcrypt:$2a$10$...
//
// A bare bcrypt hash ("$2a$..." of the password itself, as reehub 0.1 wrote)
// is still accepted, and replaced by the current form on the next login.
const passwordScheme = "sha256-bcrypt:"

// passwordCost is bcrypt's work factor (about 65 ms per check on a 2 GHz core).
const passwordCost = bcrypt.DefaultCost

func prehash(password string) []byte {
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

// hashPassword returns the stored form of a password.
func hashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword(prehash(password), passwordCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return passwordScheme + string(h), nil
}

// checkPassword reports whether password matches the stored hash, and whether
// the hash is of an old scheme that should be replaced.
func checkPassword(stored, password string) (ok, outdated bool) {
	if h, found := strings.CutPrefix(stored, passwordScheme); found {
		return bcrypt.CompareHashAndPassword([]byte(h), prehash(password)) == nil, false
	}
	if stored == "" {
		return false, false
	}
	return bcrypt.CompareHashAndPassword([]byte(stored), []byte(password)) == nil, true
}
