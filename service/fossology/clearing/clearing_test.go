package clearing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/clearing"
)

func lic(a agent.Agent, path, id string) agent.Finding {
	return agent.Finding{Agent: a, Path: path, SHA1: "sha-" + path, Type: agent.TypeLicense, Value: id}
}

// TestFileDeciders: each decider concludes a file from its findings and
// decision so far, as FOSSology's deciders do.
func TestFileDeciders(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	user := &clearing.Decision{Path: "p/a.c", Status: clearing.StatusIdentified, Licenses: []string{"MIT"}, Source: clearing.SourceUser}
	copyright := agent.Finding{Agent: agent.Copyright, Path: "p/a.c", Type: agent.TypeCopyright, Value: "(c) 2020 A"}
	for name, c := range map[string]struct {
		decide   clearing.FileDecider
		fs       []agent.Finding
		existing *clearing.Decision
		want     []string // the licenses concluded; nil: no decision
		status   clearing.Status
	}{
		"nomos_monk: agree":                 {decide: clearing.NomosMonkFile, fs: []agent.Finding{lic(agent.Nomos, "p/a.c", "MIT"), lic(agent.Monk, "p/a.c", "MIT"), copyright}, want: []string{"MIT"}},
		"nomos_monk: nomos among monk's":    {decide: clearing.NomosMonkFile, fs: []agent.Finding{lic(agent.Nomos, "p/a.c", "MIT"), lic(agent.Monk, "p/a.c", "MIT"), lic(agent.Monk, "p/a.c", "Zlib")}, want: []string{"MIT", "Zlib"}},
		"nomos_monk: nomos finds more":      {decide: clearing.NomosMonkFile, fs: []agent.Finding{lic(agent.Nomos, "p/a.c", "MIT"), lic(agent.Nomos, "p/a.c", "Zlib"), lic(agent.Monk, "p/a.c", "MIT")}},
		"nomos_monk: monk alone":            {decide: clearing.NomosMonkFile, fs: []agent.Finding{lic(agent.Monk, "p/a.c", "MIT")}},
		"nomos_monk: nomos alone":           {decide: clearing.NomosMonkFile, fs: []agent.Finding{lic(agent.Nomos, "p/a.c", "MIT")}},
		"nomos_monk: decided already":       {decide: clearing.NomosMonkFile, fs: []agent.Finding{lic(agent.Nomos, "p/a.c", "MIT"), lic(agent.Monk, "p/a.c", "MIT")}, existing: user},
		"ojo: tag alone":                    {decide: clearing.OjoFile, fs: []agent.Finding{lic(agent.Ojo, "p/a.c", "Apache-2.0")}, want: []string{"Apache-2.0"}},
		"ojo: scanners agree":               {decide: clearing.OjoFile, fs: []agent.Finding{lic(agent.Ojo, "p/a.c", "Apache-2.0"), lic(agent.Nomos, "p/a.c", "Apache-2.0")}, want: []string{"Apache-2.0"}},
		"ojo: a scanner contradicts":        {decide: clearing.OjoFile, fs: []agent.Finding{lic(agent.Ojo, "p/a.c", "Apache-2.0"), lic(agent.Monk, "p/a.c", "GPL-2.0-only")}},
		"ojo: no tag":                       {decide: clearing.OjoFile, fs: []agent.Finding{lic(agent.Nomos, "p/a.c", "MIT"), copyright}},
		"ojo: decided already":              {decide: clearing.OjoFile, fs: []agent.Finding{lic(agent.Ojo, "p/a.c", "MIT")}, existing: user},
		"new_scanner: a license not named":  {decide: clearing.NewScannerFile, fs: []agent.Finding{lic(agent.Nomos, "p/a.c", "GPL-2.0-only")}, existing: user, want: []string{"MIT"}, status: clearing.StatusWIP},
		"new_scanner: nothing new":          {decide: clearing.NewScannerFile, fs: []agent.Finding{lic(agent.Monk, "p/a.c", "MIT")}, existing: user},
		"new_scanner: no decision to check": {decide: clearing.NewScannerFile, fs: []agent.Finding{lic(agent.Monk, "p/a.c", "GPL-2.0-only")}},
	} {
		t.Run(name, func(t *testing.T) {
			d, ok := c.decide(c.fs, c.existing, now)
			if c.want == nil {
				require.False(t, ok, "no decision: %+v", d)
				return
			}
			require.True(t, ok)
			require.Equal(t, c.want, d.Licenses)
			require.Equal(t, "p/a.c", d.Path)
			require.Equal(t, now, d.Time)
			status := c.status
			if status == "" {
				status = clearing.StatusIdentified
				require.Equal(t, "sha-p/a.c", d.SHA1)
			}
			require.Equal(t, status, d.Status)
		})
	}
}

// TestEachDecidesFileByFile: over an upload's findings, a decider decides
// each file on that file's findings alone, in path order.
func TestEachDecidesFileByFile(t *testing.T) {
	now := time.Now()
	fs := []agent.Finding{
		lic(agent.Nomos, "p/b.c", "MIT"), lic(agent.Monk, "p/a.c", "Zlib"), lic(agent.Nomos, "p/a.c", "Zlib"),
		lic(agent.Monk, "p/b.c", "MIT"), lic(agent.Nomos, "p/c.c", "MIT"), lic(agent.Monk, "p/d.c", "MIT"),
	}
	got := clearing.NomosMonk(fs, map[string]clearing.Decision{"p/b.c": {Path: "p/b.c", Source: clearing.SourceUser}}, now)
	require.Len(t, got, 1)
	require.Equal(t, "p/a.c", got[0].Path)
	require.Equal(t, []string{"Zlib"}, got[0].Licenses)
	got = clearing.NomosMonk(fs, nil, now)
	require.Equal(t, []string{"p/a.c", "p/b.c"}, []string{got[0].Path, got[1].Path})
}
