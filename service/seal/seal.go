// Package seal encrypts small secrets at rest with AES-256-GCM under a key
// kept in the data directory (or given in an environment variable), for every
// family that stores secrets (the registry's credentials, REANA's secrets).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Box seals and opens values with one key.
type Box struct {
	aead cipher.AEAD
}

// Load returns the box keyed by the environment variable env when it is set
// (64 hex digits or base64 of 32 bytes), else by the file name in dataDir,
// which it creates (mode 0600) on first use.
func Load(dataDir, name, env string) (*Box, error) {
	if v := strings.TrimSpace(os.Getenv(env)); env != "" && v != "" {
		key, err := decodeKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env, err)
		}
		return New(key)
	}
	p := filepath.Join(dataDir, name)
	key, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) { // another instance made it first
			return Load(dataDir, name, env)
		}
		if err != nil {
			return nil, fmt.Errorf("create secret key: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, fmt.Errorf("write secret key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write secret key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key %s: want 32 bytes, have %d", p, len(key))
	}
	return New(key)
}

func decodeKey(v string) ([]byte, error) {
	if b, err := hex.DecodeString(v); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("want 32 bytes as 64 hex digits or base64")
}

// New returns a box with the given 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key: want 32 bytes, have %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts value bound to the associated data ad (so that a sealed value
// cannot be moved to another row) and returns base64(nonce || ciphertext).
func (b *Box) Seal(ad string, value []byte) string {
	return base64.StdEncoding.EncodeToString(b.SealBytes([]byte(ad), value))
}

// Open decrypts what Seal returned for the same associated data.
func (b *Box) Open(ad, sealed string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, fmt.Errorf("sealed value: %w", err)
	}
	return b.OpenBytes([]byte(ad), raw)
}

// SealBytes is Seal for a binary column: it returns nonce || ciphertext.
func (b *Box) SealBytes(ad, value []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, value, ad)
}

// OpenBytes decrypts what SealBytes returned for the same associated data.
func (b *Box) OpenBytes(ad, sealed []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < ns {
		return nil, errors.New("sealed value too short")
	}
	v, err := b.aead.Open(nil, sealed[:ns], sealed[ns:], ad)
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt (wrong key?): %w", err)
	}
	return v, nil
}
