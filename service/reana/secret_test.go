package reana_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/reana"
)

func TestSecretBoxKeyFile(t *testing.T) {
	// Not parallel: it sets REEHUB_SECRET_KEY.
	t.Setenv(reana.SecretKeyEnv, "")
	dir := t.TempDir()
	box, err := reana.LoadSecretBox(dir)
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dir, reana.SecretKeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.EqualValues(t, 32, st.Size())

	sealed := box.Seal("user-1", "API_KEY", []byte("s3cr3t-value"))
	require.False(t, bytes.Contains(sealed, []byte("s3cr3t-value")), "never stored in clear")
	again := box.Seal("user-1", "API_KEY", []byte("s3cr3t-value"))
	require.NotEqual(t, sealed, again, "a fresh nonce per seal")

	// The same data directory gives the same key.
	box2, err := reana.LoadSecretBox(dir)
	require.NoError(t, err)
	v, err := box2.Open("user-1", "API_KEY", sealed)
	require.NoError(t, err)
	require.Equal(t, "s3cr3t-value", string(v))

	_, err = box2.Open("user-2", "API_KEY", sealed)
	require.Error(t, err, "bound to its owner")
	_, err = box2.Open("user-1", "OTHER", sealed)
	require.Error(t, err, "bound to its name")
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	_, err = box2.Open("user-1", "API_KEY", tampered)
	require.Error(t, err)
	_, err = box2.Open("user-1", "API_KEY", []byte("short"))
	require.Error(t, err)

	other, err := reana.LoadSecretBox(t.TempDir())
	require.NoError(t, err)
	_, err = other.Open("user-1", "API_KEY", sealed)
	require.Error(t, err, "another key cannot open it")
}

func TestSecretBoxEnvKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	dir := t.TempDir()
	t.Setenv(reana.SecretKeyEnv, hex.EncodeToString(key))
	a, err := reana.LoadSecretBox(dir)
	require.NoError(t, err)
	require.NoFileExists(t, filepath.Join(dir, reana.SecretKeyFile), "the env key is used, no file made")
	t.Setenv(reana.SecretKeyEnv, base64.StdEncoding.EncodeToString(key))
	b, err := reana.LoadSecretBox(dir)
	require.NoError(t, err)
	v, err := b.Open("u", "n", a.Seal("u", "n", []byte("x")))
	require.NoError(t, err)
	require.Equal(t, "x", string(v))
	t.Setenv(reana.SecretKeyEnv, "too-short")
	_, err = reana.LoadSecretBox(dir)
	require.ErrorContains(t, err, reana.SecretKeyEnv)
}

func TestParseSecretInput(t *testing.T) {
	t.Parallel()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	s, err := reana.ParseSecretInput("API_KEY", b64("abc"), "env")
	require.NoError(t, err)
	require.Equal(t, reana.Secret{Name: "API_KEY", Type: reana.SecretEnv, Value: []byte("abc")}, s)
	s, err = reana.ParseSecretInput(".netrc", b64("machine x\n"), "file")
	require.NoError(t, err)
	require.Equal(t, reana.SecretFile, s.Type)
	for _, tc := range [][3]string{
		{"a/b", b64("x"), "file"},
		{"..", b64("x"), "file"},
		{".netrc", b64("x"), "env"},
		{"K", "not base64!", "env"},
		{"K", b64("x"), "volume"},
		{"K", b64("a\x00b"), "env"},
	} {
		_, err := reana.ParseSecretInput(tc[0], tc[1], tc[2])
		require.ErrorIs(t, err, fault.ErrInvalid, "%v", tc)
	}
}

func TestPrepareSecretsAndRedact(t *testing.T) {
	t.Parallel()
	secrets := []reana.Secret{
		{Name: "TOKEN", Type: reana.SecretEnv, Value: []byte("tok-12345")},
		{Name: "cert.pem", Type: reana.SecretFile, Value: []byte("-----BEGIN-----\nMIIBxyz123\n-----END-----")},
	}
	ss, err := reana.PrepareSecrets(secrets, t.TempDir(), os.Getuid(), os.Getgid())
	require.NoError(t, err)
	require.Equal(t, map[string]string{"TOKEN": "tok-12345"}, ss.Env)
	b, err := os.ReadFile(filepath.Join(ss.Dir, "cert.pem"))
	require.NoError(t, err)
	require.Equal(t, secrets[1].Value, b)
	st, err := os.Stat(filepath.Join(ss.Dir, "cert.pem"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o400), st.Mode().Perm())
	t.Cleanup(func() { _ = os.Chmod(ss.Dir, 0o700) })

	none, err := reana.PrepareSecrets(secrets[:1], t.TempDir(), 0, 0)
	require.NoError(t, err)
	require.Empty(t, none.Dir)

	r := reana.NewRedactor(secrets)
	out := r.Redact("got tok-12345 and MIIBxyz123 here")
	require.Equal(t, "got [secret TOKEN] and [secret cert.pem] here", out)
	require.NotContains(t, r.Redact(strings.Repeat("tok-12345", 3)), "tok")
	var nilR *reana.Redactor
	require.Equal(t, "x", nilR.Redact("x"))
}
