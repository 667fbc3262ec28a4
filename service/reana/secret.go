package reana

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/seal"
)

// SecretKeyEnv is the environment variable that may hold the secrets key:
// 32 bytes as 64 hex digits or as base64.
const SecretKeyEnv = "REEHUB_SECRET_KEY"

// SecretKeyFile is the key's file name in the data directory, created
// (0600, 32 random bytes) when neither it nor SecretKeyEnv exists.
const SecretKeyFile = "secret.key"

// SecretType says how a secret reaches a step.
type SecretType string

const (
	// SecretEnv exports the secret as an environment variable of its name.
	SecretEnv SecretType = "env"
	// SecretFile mounts it read-only at SecretMountDir/NAME.
	SecretFile SecretType = "file"
)

// SecretMountDir is where file secrets appear in a step (REANA's path).
const SecretMountDir = "/etc/reana/secrets"

var (
	secretNameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,255}$`)
	envNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Secret is a decrypted secret.
type Secret struct {
	// Name is the secret's name.
	Name string
	// Type is how it reaches steps.
	Type SecretType
	// Value is the secret itself.
	Value []byte
}

// ParseSecretInput validates one secret as POST /api/secrets/ sends it: its
// value is base64 (reana-client encodes it so); an env secret needs a name
// that is an environment variable name.
func ParseSecretInput(name, value, typ string) (Secret, error) {
	if !secretNameRe.MatchString(name) || name == "." || name == ".." {
		return Secret{}, fault.Invalidf("secret name %q: use letters, digits, ., _ and - (at most 255)", name)
	}
	t := SecretType(typ)
	switch t {
	case SecretEnv:
		if !envNameRe.MatchString(name) {
			return Secret{}, fault.Invalidf("secret %q: an env secret's name must be an environment variable name", name)
		}
	case SecretFile:
	default:
		return Secret{}, fault.Invalidf("secret %q: type must be env or file", name)
	}
	v, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return Secret{}, fault.Invalidf("secret %q: value must be base64", name)
	}
	if t == SecretEnv && bytes.IndexByte(v, 0) >= 0 {
		return Secret{}, fault.Invalidf("secret %q: an env secret cannot hold a NUL byte", name)
	}
	return Secret{Name: name, Type: t, Value: v}, nil
}

// SecretBox encrypts secrets at rest with AES-256-GCM (a seal.Box, whose
// binary form REANA's secrets have always used).
type SecretBox struct {
	box *seal.Box
}

// LoadSecretBox returns the box keyed by SecretKeyEnv when set, else by
// dataDir/SecretKeyFile, which it creates on first use.
func LoadSecretBox(dataDir string) (*SecretBox, error) {
	box, err := seal.Load(dataDir, SecretKeyFile, SecretKeyEnv)
	if err != nil {
		return nil, err
	}
	return &SecretBox{box: box}, nil
}

// NewSecretBox returns a box with the given 32-byte key.
func NewSecretBox(key []byte) (*SecretBox, error) {
	box, err := seal.New(key)
	if err != nil {
		return nil, err
	}
	return &SecretBox{box: box}, nil
}

// Seal encrypts value for the owner and name (both bound as associated data,
// so a sealed value cannot be moved to another user or name). The result is
// nonce || ciphertext.
func (b *SecretBox) Seal(owner, name string, value []byte) []byte {
	return b.box.SealBytes(aad(owner, name), value)
}

// Open decrypts what Seal returned for the same owner and name.
func (b *SecretBox) Open(owner, name string, sealed []byte) ([]byte, error) {
	v, err := b.box.OpenBytes(aad(owner, name), sealed)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return v, nil
}

func aad(owner, name string) []byte { return []byte("reehub-reana-secret\x00" + owner + "\x00" + name) }

// StepSecrets is how a step receives its owner's secrets.
type StepSecrets struct {
	// Env are the env secrets, name to value.
	Env map[string]string
	// Dir is a host directory with one 0400 file per file secret, to be
	// mounted read-only at SecretMountDir; "" when there are none.
	Dir string
}

// PrepareSecrets writes the file secrets into a fresh directory under tmpDir
// (readable by uid, the step's user) and collects the env secrets. The caller
// removes Dir after the step.
func PrepareSecrets(secrets []Secret, tmpDir string, uid, gid int) (StepSecrets, error) {
	out := StepSecrets{Env: map[string]string{}}
	var files []Secret
	for _, s := range secrets {
		if s.Type == SecretEnv {
			out.Env[s.Name] = string(s.Value)
		} else {
			files = append(files, s)
		}
	}
	if len(files) == 0 {
		return out, nil
	}
	dir, err := os.MkdirTemp(tmpDir, "reehub-secrets-")
	if err != nil {
		return StepSecrets{}, fmt.Errorf("secrets dir: %w", err)
	}
	for _, s := range files {
		p := filepath.Join(dir, s.Name)
		if err := os.WriteFile(p, s.Value, 0o400); err != nil {
			os.RemoveAll(dir)
			return StepSecrets{}, fmt.Errorf("write secret %s: %w", s.Name, err)
		}
		_ = os.Chown(p, uid, gid)
	}
	_ = os.Chown(dir, uid, gid)
	if err := os.Chmod(dir, 0o500); err != nil {
		os.RemoveAll(dir)
		return StepSecrets{}, fmt.Errorf("secrets dir: %w", err)
	}
	out.Dir = dir
	return out, nil
}

// Redactor replaces secret values in text with [secret NAME].
type Redactor struct {
	pairs []string
}

// NewRedactor returns a redactor for the secrets' values (and, for values of
// several lines, each line of at least 4 characters).
func NewRedactor(secrets []Secret) *Redactor {
	type pair struct{ value, name string }
	var ps []pair
	for _, s := range secrets {
		v := string(s.Value)
		if len(v) >= 3 {
			ps = append(ps, pair{v, s.Name})
		}
		if strings.Contains(v, "\n") {
			for _, l := range strings.Split(v, "\n") {
				if l = strings.TrimSpace(l); len(l) >= 4 {
					ps = append(ps, pair{l, s.Name})
				}
			}
		}
	}
	// Longest first, so that a value containing another is replaced whole.
	sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].value) > len(ps[j].value) })
	r := &Redactor{}
	for _, p := range ps {
		r.pairs = append(r.pairs, p.value, "[secret "+p.name+"]")
	}
	return r
}

// Redact returns s with every secret value replaced.
func (r *Redactor) Redact(s string) string {
	if r == nil || len(r.pairs) == 0 {
		return s
	}
	return strings.NewReplacer(r.pairs...).Replace(s)
}
