package agent_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/fossologytest"
)

// has reports whether fs holds a finding of agent a, type t and value v at path p.
func has(fs []agent.Finding, a agent.Agent, t agent.Type, p, v string) bool {
	return slices.ContainsFunc(fs, func(f agent.Finding) bool {
		return f.Agent == a && f.Type == t && f.Path == p && f.Value == v
	})
}

func runAll(t *testing.T) []agent.Finding {
	t.Helper()
	tree := fossologytest.Tree(t)
	r, err := agent.New(&agent.Options{Workers: 2})
	require.NoError(t, err)
	var all []agent.Finding
	seen := map[string]bool{}
	last := 0
	err = r.Run(context.Background(), tree, agent.Agents(), func(p string, done int, fs []agent.Finding) error {
		require.GreaterOrEqual(t, done, last)
		last = done
		seen[p] = true
		all = append(all, fs...)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, len(tree.Files()), last)
	for _, it := range tree.Files() {
		require.True(t, seen[it.Path], it.Path)
	}
	return all
}

func TestAgentsOnFixture(t *testing.T) {
	t.Parallel()
	fs := runAll(t)
	const (
		gpl, mit, apache = fossologytest.PathGPL, fossologytest.PathMIT, fossologytest.PathApache
	)
	require.True(t, has(fs, agent.Nomos, agent.TypeLicense, gpl, "GPL-2.0-or-later"), "%+v", fs)
	require.True(t, has(fs, agent.Monk, agent.TypeLicense, gpl, "GPL-2.0-or-later"), "%+v", fs)
	require.True(t, has(fs, agent.Monk, agent.TypeLicense, mit, "MIT"))
	require.True(t, has(fs, agent.Nomos, agent.TypeLicense, mit, "MIT"))
	require.True(t, has(fs, agent.Ojo, agent.TypeLicense, apache, "Apache-2.0"))
	require.False(t, has(fs, agent.Nomos, agent.TypeLicense, apache, "Apache-2.0"), "SPDX tags are ojo's")
	require.False(t, slices.ContainsFunc(fs, func(f agent.Finding) bool {
		return f.Path == fossologytest.PathBinary && f.Type != agent.TypeMimetype
	}), "binaries are not read")

	require.True(t, has(fs, agent.Copyright, agent.TypeCopyright, gpl, "Copyright (c) 2019 Jane Roe <jane@example.org>"), "%+v", fs)
	require.True(t, has(fs, agent.Copyright, agent.TypeEmail, gpl, "jane@example.org"))
	require.True(t, has(fs, agent.Copyright, agent.TypeAuthor, gpl, "Jane Roe"))
	require.True(t, has(fs, agent.Copyright, agent.TypeCopyright, fossologytest.PathLatin1, "Copyright (c) 2018 José Müller"), "%+v", fs)
	require.True(t, has(fs, agent.Ecc, agent.TypeEcc, apache, "aes"))
	require.True(t, has(fs, agent.Keyword, agent.TypeKeyword, gpl, "warranty"))
	require.True(t, has(fs, agent.Mimetype, agent.TypeMimetype, gpl, "text/x-c"))
	require.True(t, has(fs, agent.Mimetype, agent.TypeMimetype, fossologytest.PathBinary, "application/x-elf"), "%+v", fs)

	for _, f := range fs {
		if f.Type == agent.TypeLicense || f.Type == agent.TypeCopyright {
			require.Positive(t, f.StartLine, "%+v", f)
			require.GreaterOrEqual(t, f.EndLine, f.StartLine)
			require.Len(t, f.SHA1, 40)
		}
	}
	for _, f := range fs {
		if f.Path == gpl && f.Agent == agent.Monk {
			require.LessOrEqual(t, f.StartLine, 7, "the notice starts by line 7")
			require.GreaterOrEqual(t, f.EndLine, 10, "and spans its lines")
		}
	}
}

func TestOnlyRequestedAgents(t *testing.T) {
	t.Parallel()
	tree := fossologytest.Tree(t)
	r, err := agent.New(nil)
	require.NoError(t, err)
	var fs []agent.Finding
	require.NoError(t, r.Run(context.Background(), tree, []agent.Agent{agent.Ojo}, func(_ string, _ int, f []agent.Finding) error {
		fs = append(fs, f...)
		return nil
	}))
	require.NotEmpty(t, fs)
	for _, f := range fs {
		require.Equal(t, agent.Ojo, f.Agent)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	a, err := agent.Parse("mime")
	require.NoError(t, err)
	require.Equal(t, agent.Mimetype, a)
	_, err = agent.Parse("bucket")
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, "bucket")
	_, err = agent.Parse("ninja")
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorIs(t, agent.ErrBucketDeclined, fault.ErrInvalid)
	r, err := agent.New(nil)
	require.NoError(t, err)
	err = r.Run(context.Background(), fossologytest.Tree(t), []agent.Agent{agent.Bucket}, func(string, int, []agent.Finding) error { return nil })
	require.ErrorIs(t, err, agent.ErrBucketDeclined)
}
