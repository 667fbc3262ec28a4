package dockerfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
)

const (
	mounts = "--mount=type=secret,id=reehub-ca,target=/run/reehub-ca.pem,mode=0444 " +
		"--mount=type=secret,id=reehub-apt.conf,target=/run/reehub-apt.conf,mode=0444 " +
		"--mount=type=secret,id=reehub-wgetrc,target=/run/reehub-wgetrc,mode=0444"
	exports = "export SSL_CERT_FILE=/run/reehub-ca.pem CURL_CA_BUNDLE=/run/reehub-ca.pem " +
		"REQUESTS_CA_BUNDLE=/run/reehub-ca.pem PIP_CERT=/run/reehub-ca.pem NODE_EXTRA_CA_CERTS=/run/reehub-ca.pem " +
		"GIT_SSL_CAINFO=/run/reehub-ca.pem APT_CONFIG=/run/reehub-apt.conf WGETRC=/run/reehub-wgetrc; "
	envArgs = `"/usr/bin/env","SSL_CERT_FILE=/run/reehub-ca.pem","CURL_CA_BUNDLE=/run/reehub-ca.pem",` +
		`"REQUESTS_CA_BUNDLE=/run/reehub-ca.pem","PIP_CERT=/run/reehub-ca.pem","NODE_EXTRA_CA_CERTS=/run/reehub-ca.pem",` +
		`"GIT_SSL_CAINFO=/run/reehub-ca.pem","APT_CONFIG=/run/reehub-apt.conf","WGETRC=/run/reehub-wgetrc"`
)

func TestInjectTrust(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "shell form",
			in:   "FROM debian\nRUN apt-get update\n",
			want: "FROM debian\nRUN " + mounts + " " + exports + "apt-get update\n",
		},
		{
			name: "lowercase and indented, no trailing newline",
			in:   "from debian\n  run echo hi",
			want: "from debian\n  run " + mounts + " " + exports + "echo hi",
		},
		{
			name: "exec form",
			in:   "FROM debian\nRUN [\"sh\", \"-c\", \"echo <a> & b\"]\n",
			want: "FROM debian\nRUN " + mounts + " [" + envArgs + `,"sh","-c","echo <a> & b"]` + "\n",
		},
		{
			name: "exec form across lines",
			in:   "FROM debian\nRUN [\"echo\", \\\n  \"hi\"]\nCMD [\"x\"]\n",
			want: "FROM debian\nRUN " + mounts + " [" + envArgs + `,"echo","hi"]` + "\nCMD [\"x\"]\n",
		},
		{
			name: "invalid JSON runs as shell form",
			in:   "FROM debian\nRUN [ -f /x ] && echo yes\n",
			want: "FROM debian\nRUN " + mounts + " " + exports + "[ -f /x ] && echo yes\n",
		},
		{
			name: "continuations with comments keep their lines",
			in: "FROM debian\nRUN apt-get update \\\n" +
				"# a comment inside\n" +
				"\n" +
				"    && apt-get install -y curl \\\n" +
				"    && rm -rf /var/lib/apt/lists/*\nUSER nobody\n",
			want: "FROM debian\nRUN " + mounts + " " + exports + "apt-get update \\\n" +
				"# a comment inside\n" +
				"\n" +
				"    && apt-get install -y curl \\\n" +
				"    && rm -rf /var/lib/apt/lists/*\nUSER nobody\n",
		},
		{
			name: "existing mount flags are kept",
			in:   "FROM debian\nRUN --mount=type=cache,target=/var/cache/apt --network=default apt-get update\n",
			want: "FROM debian\nRUN " + mounts + " --mount=type=cache,target=/var/cache/apt --network=default " + exports + "apt-get update\n",
		},
		{
			name: "flags and command on continuation lines",
			in:   "FROM debian\nRUN \\\n  --mount=type=cache,target=/c \\\n  # why\n  make\n",
			want: "FROM debian\nRUN " + mounts + " \\\n  --mount=type=cache,target=/c \\\n  # why\n  " + exports + "make\n",
		},
		{
			name: "keyword directly followed by escape",
			in:   "FROM debian\nRUN\\\n make\n",
			want: "FROM debian\nRUN " + mounts + " \\\n " + exports + "make\n",
		},
		{
			name: "backtick escape directive",
			in:   "# escape=`\nFROM debian\nRUN echo a `\n  echo b\n",
			want: "# escape=`\nFROM debian\nRUN " + mounts + " " + exports + "echo a `\n  echo b\n",
		},
		{
			name: "backslash is literal under backtick escape",
			in:   "# escape=`\nFROM debian\nRUN echo C:\\\nUSER x\n",
			want: "# escape=`\nFROM debian\nRUN " + mounts + " " + exports + "echo C:\\\nUSER x\n",
		},
		{
			name: "CRLF",
			in:   "FROM debian\r\nRUN echo hi\r\nRUN [\"true\"]\r\n",
			want: "FROM debian\r\nRUN " + mounts + " " + exports + "echo hi\r\nRUN " + mounts + " [" + envArgs + `,"true"]` + "\r\n",
		},
		{
			name: "other instructions untouched",
			in:   "# syntax=docker/dockerfile:1\nARG V=1\nFROM debian AS b\nENV A=b\nCOPY . /src\nONBUILD RUN make\nCMD echo hi\n",
			want: "# syntax=docker/dockerfile:1\nARG V=1\nFROM debian AS b\nENV A=b\nCOPY . /src\nONBUILD RUN make\nCMD echo hi\n",
		},
		{
			name: "here-string is not a heredoc",
			in:   "FROM debian\nRUN cat <<< \"x\" && echo \"<<EOF\"\n",
			want: "FROM debian\nRUN " + mounts + " " + exports + "cat <<< \"x\" && echo \"<<EOF\"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse([]byte(tt.in))
			require.NoError(t, err)
			got := f.InjectTrust()
			require.Equal(t, tt.want, string(got))
			require.Equal(t, tt.in, string(f.Bytes()), "Bytes re-emits the original")
			// The rewrite parses again and is stable.
			again, err := Parse(got)
			require.NoError(t, err)
			require.Equal(t, string(got), string(again.Bytes()))
		})
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "empty", in: "", want: "empty"},
		{name: "no FROM", in: "# just a comment\n", want: "no FROM"},
		{name: "instruction before FROM", in: "RUN x\nFROM y\n", want: "before the first FROM"},
		{name: "unknown instruction", in: "FROM x\nFORM y\n", want: `unknown instruction "FORM"`},
		{name: "RUN heredoc", in: "FROM x\nRUN <<EOF\necho hi\nEOF\n", want: "RUN heredoc \"<<EOF\""},
		{name: "RUN heredoc with command", in: "FROM x\nRUN python3 <<-'PY'\nprint(1)\nPY\n", want: "heredoc"},
		{name: "COPY heredoc", in: "FROM x\nCOPY <<EOF /a\nhi\nEOF\n", want: "COPY heredoc"},
		{name: "bad escape", in: "# escape=x\nFROM x\n", want: "escape must be"},
		{name: "duplicate directive", in: "# escape=`\n# escape=`\nFROM x\n", want: "appears twice"},
		{name: "non-POSIX shell", in: "FROM x\nSHELL [\"powershell\", \"-Command\"]\n", want: "not a POSIX shell"},
		{name: "bad FROM", in: "FROM a b c d\n", want: "FROM needs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.in))
			require.ErrorIs(t, err, fault.ErrInvalid)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestBasesAndRewrite(t *testing.T) {
	t.Parallel()
	in := "# escape=\\\n" +
		"ARG X=1\n" +
		"FROM --platform=linux/amd64 python_3_11 AS builder\n" +
		"RUN make\n" +
		"FROM builder AS test\n" +
		"FROM scratch\n" +
		"from Debian_Bookworm as final\n" +
		"COPY --from=builder /a /a\n" +
		"FROM python_3_11\n" +
		"FROM ${X}\n"
	f, err := Parse([]byte(in))
	require.NoError(t, err)
	require.Equal(t, []string{"python_3_11", "Debian_Bookworm", "${X}"}, f.Bases())

	f.RewriteBases(map[string]string{
		"python_3_11":     "localhost/python_3_11@sha256:" + strings.Repeat("a", 64),
		"builder":         "must-not-replace-a-stage",
		"Debian_Bookworm": "0123456789ab",
	})
	want := "# escape=\\\n" +
		"ARG X=1\n" +
		"FROM --platform=linux/amd64 localhost/python_3_11@sha256:" + strings.Repeat("a", 64) + " AS builder\n" +
		"RUN make\n" +
		"FROM builder AS test\n" +
		"FROM scratch\n" +
		"from 0123456789ab as final\n" +
		"COPY --from=builder /a /a\n" +
		"FROM localhost/python_3_11@sha256:" + strings.Repeat("a", 64) + "\n" +
		"FROM ${X}\n"
	require.Equal(t, want, string(f.Bytes()))
	require.Contains(t, string(f.InjectTrust()), "from 0123456789ab as final\n")
	require.Contains(t, string(f.InjectTrust()), "RUN "+mounts+" "+exports+"make\n")
}

func TestTrustFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		roots string
		want  string
	}{
		{name: "roots without final newline", roots: "ROOTS", want: "ROOTS\nCA\n"},
		{name: "roots with newline", roots: "ROOTS\n", want: "ROOTS\nCA\n"},
		{name: "no roots", roots: "", want: "CA\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := TrustFiles([]byte("CA\n"), []byte(tt.roots))
			require.Len(t, files, 3)
			require.Equal(t, tt.want, string(files[SecretCA]))
			require.Contains(t, string(files[SecretAptConf]), `Acquire::https::CaInfo "/run/reehub-ca.pem";`)
			require.Contains(t, string(files[SecretAptConf]), `Acquire::Check-Valid-Until "false";`)
			require.Equal(t, "ca_certificate=/run/reehub-ca.pem\n", string(files[SecretWgetrc]))
		})
	}
}

// TestAptConfigKeepsDefaults runs the host's apt-config with APT_CONFIG set
// to the generated apt.conf and a test root: apt reads the APT_CONFIG file
// first and then still reads apt.conf.d and apt.conf, so the image's own
// configuration keeps working.
func TestAptConfigKeepsDefaults(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("apt-config"); err != nil {
		t.Skip("apt-config is not installed")
	}
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc") + "/"
	require.NoError(t, os.MkdirAll(filepath.Join(etc, "apt.conf.d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "apt.conf"), []byte("Test::Main \"yes\";\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "apt.conf.d", "10test"), []byte("Test::Part \"yes\";\n"), 0o644))
	conf := string(TrustFiles([]byte("CA\n"), nil)[SecretAptConf])
	// Point Dir::Etc at the test root instead of the host's /etc/apt.
	path := filepath.Join(dir, "reehub-apt.conf")
	require.NoError(t, os.WriteFile(path, []byte("Dir::Etc \""+etc+"\";\n"+conf), 0o644))
	cmd := exec.Command("apt-config", "dump")
	cmd.Env = append(os.Environ(), "APT_CONFIG="+path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	for _, want := range []string{
		`Test::Main "yes";`,
		`Test::Part "yes";`,
		`Acquire::https::CaInfo "/run/reehub-ca.pem";`,
		`Acquire::Check-Valid-Until "false";`,
	} {
		require.Contains(t, string(out), want)
	}
}

func TestInjectTrustEnv(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte("FROM debian\nRUN make\nRUN [\"true\"]\n"))
	require.NoError(t, err)
	got := string(f.InjectTrustEnv([]string{"SOURCE_DATE_EPOCH=1700000000"}))
	require.Contains(t, got, "WGETRC="+WgetrcPath+" SOURCE_DATE_EPOCH=1700000000; make\n", "after the trust variables, shell form")
	require.Contains(t, got, `"WGETRC=`+WgetrcPath+`","SOURCE_DATE_EPOCH=1700000000","true"]`, "exec form")
	require.Equal(t, string(f.InjectTrust()), string(f.InjectTrustEnv(nil)), "no extra variables is InjectTrust")
}
