package dockerfile

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
)

func TestInstalls(t *testing.T) {
	t.Parallel()
	df := `FROM python_3_11
# a comment
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends -o Dpkg::Options::=--force-confnew jq \
    # inside
      "curl" && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -r req.txt 'requests[socks]>=2' six ; python3 -m pip install -U attrs
RUN cd /app && npm install && npm i -g left-pad@1 @scope/pkg
RUN echo apt-get install not-a-command-here | cat
`
	f, err := Parse([]byte(df))
	require.NoError(t, err)
	ins, err := f.Installs()
	require.NoError(t, err)
	type got struct {
		Tool     Tool
		Line     int
		Packages []string
		Global   bool
		Lock     bool
	}
	var gs []got
	for _, in := range ins {
		gs = append(gs, got{in.Tool, in.Line, in.Packages, in.Global, in.FromLockfile})
	}
	require.Equal(t, []got{
		{ToolApt, 3, []string{"jq", "curl"}, false, false},
		{ToolPip, 7, []string{"requests[socks]>=2", "six"}, false, false},
		{ToolPip, 7, []string{"attrs"}, false, false},
		{ToolNpm, 8, nil, false, true},
		{ToolNpm, 8, []string{"left-pad@1", "@scope/pkg"}, true, false},
	}, gs)

	out, err := f.PinInstalls(func(i int, in Install) []string {
		switch i {
		case 0:
			return []string{"curl=7.88.1-10+deb12u12", "jq=1.6-2.1", "libjq1=1.6-2.1"}
		case 1:
			return []string{"requests[socks]==2.32.3", "six==1.16.0", "idna==3.10"}
		case 2:
			return nil
		case 4:
			return []string{"left-pad@1.3.0", "@scope/pkg@2.0.0"}
		}
		t.Fatalf("unexpected install %d", i)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, `FROM python_3_11
# a comment
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y       --no-install-recommends -o Dpkg::Options::=--force-confnew curl=7.88.1-10+deb12u12 jq=1.6-2.1 libjq1=1.6-2.1 && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -r req.txt 'requests[socks]==2.32.3' six==1.16.0 idna==3.10 ; python3 -m pip install -U attrs
RUN cd /app && npm ci && npm i -g left-pad@1.3.0 @scope/pkg@2.0.0
RUN echo apt-get install not-a-command-here | cat
`, string(out))

	// The pinned file parses and finds the same installs, now pinned.
	f2, err := Parse(out)
	require.NoError(t, err)
	ins2, err := f2.Installs()
	require.NoError(t, err)
	require.Equal(t, []string{"curl=7.88.1-10+deb12u12", "jq=1.6-2.1", "libjq1=1.6-2.1"}, ins2[0].Packages)
	require.True(t, ins2[3].FromLockfile)
}

func TestInstallsRejects(t *testing.T) {
	t.Parallel()
	for name, df := range map[string]string{
		"variable":  "FROM x\nRUN apt-get install -y $PKGS\n",
		"quoted":    "FROM x\nRUN pip install \"${P}\"\n",
		"exec form": "FROM x\nRUN [\"apt-get\", \"install\", \"-y\", \"jq\"]\n",
		"upgrade":   "FROM x\nRUN apt-get update && apt-get -y dist-upgrade\n",
		"deb file":  "FROM x\nRUN apt-get install -y ./local.deb\n",
	} {
		t.Run(name, func(t *testing.T) {
			f, err := Parse([]byte(df))
			require.NoError(t, err)
			_, err = f.Installs()
			require.Error(t, err)
			require.True(t, errors.Is(err, fault.ErrInvalid), err)
		})
	}
}

func TestInjectAptSources(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte("FROM x\nRUN apt-get update\nRUN [\"true\"]\n"))
	require.NoError(t, err)
	require.Equal(t, "FROM x\n"+
		"RUN --mount=type=secret,id=reehub-apt-sources.conf,target=/run/reehub-apt-sources.conf,mode=0444 --mount=type=secret,id=reehub-sources.list,target=/run/reehub-sources.list,mode=0444 export APT_CONFIG=/run/reehub-apt-sources.conf; apt-get update\n"+
		"RUN --mount=type=secret,id=reehub-apt-sources.conf,target=/run/reehub-apt-sources.conf,mode=0444 --mount=type=secret,id=reehub-sources.list,target=/run/reehub-sources.list,mode=0444 [\"/usr/bin/env\",\"APT_CONFIG=/run/reehub-apt-sources.conf\",\"true\"]\n",
		string(f.InjectAptSources()))
	files := AptSourcesFiles("http://snapshot.debian.org/archive/debian/20250520T000000Z", "bookworm")
	require.Equal(t, "deb http://snapshot.debian.org/archive/debian/20250520T000000Z bookworm main\n", string(files[SecretSourcesList]))
	require.Contains(t, string(files[SecretAptSourcesConf]), `Dir::Etc::SourceList "/run/reehub-sources.list";`)
}
