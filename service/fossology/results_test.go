package fossology_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/archive/unpack"
	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology"
	"github.com/reehub/reehub/service/fossology/agent"
	"github.com/reehub/reehub/service/fossology/clearing"
	"github.com/reehub/reehub/service/fossology/fossologytest"
)

var (
	scanOnce  sync.Once
	scanTree  *unpack.Tree
	scanFinds []agent.Finding
	scanErr   error
)

// scanned returns the fixture tree and every agent's findings, computed
// once for the package's tests (the tree is kept in a directory of the
// first caller's lifetime, so it is made here).
func scanned(t *testing.T) (*unpack.Tree, []agent.Finding) {
	t.Helper()
	scanOnce.Do(func() {
		scanTree = fossologytest.Tree(&keepTB{TB: t})
		r, err := agent.New(nil)
		if err != nil {
			scanErr = err
			return
		}
		scanErr = r.Run(context.Background(), scanTree, agent.Agents(), func(_ string, _ int, fs []agent.Finding) error {
			scanFinds = append(scanFinds, fs...)
			return nil
		})
	})
	require.NoError(t, scanErr)
	return scanTree, scanFinds
}

// keepTB gives fixtures a temporary directory that outlives one test.
type keepTB struct{ testing.TB }

func (k *keepTB) TempDir() string {
	d, err := osMkdirTemp()
	if err != nil {
		k.Fatal(err)
	}
	return d
}

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestSummaryAndListingsFollowDecisions(t *testing.T) {
	t.Parallel()
	tree, fs := scanned(t)

	s := fossology.Summarize(11, tree, fs, nil, "")
	require.Equal(t, fossologytest.Name, s.UploadName)
	require.Nil(t, s.MainLicense)
	require.Equal(t, fossology.ClearingOpen, s.ClearingStatus)
	require.GreaterOrEqual(t, s.UniqueLicenses, 3, "%+v", s)
	require.GreaterOrEqual(t, s.TotalLicenses, s.UniqueLicenses)
	require.Zero(t, s.FilesCleared)
	require.Zero(t, s.TotalConcludedLicenses)
	require.GreaterOrEqual(t, s.FilesToBeCleared, 3)
	require.GreaterOrEqual(t, s.CopyrightCount, 4)
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var keys map[string]any
	require.NoError(t, json.Unmarshal(b, &keys))
	for _, k := range []string{"id", "uploadName", "mainLicense", "uniqueLicenses", "totalLicenses", "uniqueConcludedLicenses",
		"totalConcludedLicenses", "filesToBeCleared", "filesCleared", "clearingStatus", "copyrightCount"} {
		require.Contains(t, keys, k)
	}

	// Deciders conclude where the scanners agree.
	nm := clearing.NomosMonk(fs, nil, now)
	ojo := clearing.OjoDecider(fs, nil, now)
	ds := clearing.Merge(nil, nm, ojo)
	require.Equal(t, []string{"GPL-2.0-or-later"}, ds[fossologytest.PathGPL].Licenses, "%+v", ds)
	require.Equal(t, clearing.SourceNomosMonk, ds[fossologytest.PathGPL].Source)
	require.Equal(t, []string{"MIT"}, ds[fossologytest.PathMIT].Licenses)
	require.Equal(t, []string{"Apache-2.0"}, ds[fossologytest.PathApache].Licenses)
	require.Equal(t, clearing.SourceOjo, ds[fossologytest.PathApache].Source)

	after := fossology.Summarize(11, tree, fs, ds, "GPL-2.0-or-later")
	require.Equal(t, "GPL-2.0-or-later", *after.MainLicense)
	require.Equal(t, 3, after.FilesCleared)
	require.Equal(t, s.FilesToBeCleared-3, after.FilesToBeCleared)
	require.Equal(t, 3, after.UniqueConcludedLicenses)
	require.Equal(t, 3, after.TotalConcludedLicenses)
	if after.FilesToBeCleared == 0 {
		require.Equal(t, fossology.ClearingClosed, after.ClearingStatus)
	} else {
		require.Equal(t, fossology.ClearingInProgress, after.ClearingStatus)
	}

	agents, err := fossology.ParseAgents("nomos,monk,ojo", agent.Agents())
	require.NoError(t, err)
	list := fossology.ListLicenses(tree, fs, ds, fossology.ListOptions{Agents: agents})
	byPath := map[string]fossology.LicenseEntry{}
	for _, e := range list {
		require.True(t, strings.HasPrefix(e.FilePath, fossologytest.Name+"/"), e.FilePath)
		byPath[e.FilePath] = e
	}
	require.Contains(t, byPath[fossologytest.PathGPL].Findings.Scanner, "GPL-2.0-or-later")
	require.Equal(t, []string{"GPL-2.0-or-later"}, byPath[fossologytest.PathGPL].Findings.Conclusion)
	require.Equal(t, []string{fossology.NoLicenseFound}, byPath[fossologytest.PathBinary].Findings.Scanner)
	require.Nil(t, byPath[fossologytest.PathBinary].Findings.Conclusion)
	_, hasZip := byPath[fossologytest.PathZip]
	require.False(t, hasZip, "containers=false leaves out archives")

	withC := fossology.ListLicenses(tree, fs, ds, fossology.ListOptions{Agents: agents, Containers: true, Copyright: true})
	require.Greater(t, len(withC), len(list))
	var zip fossology.LicenseEntry
	for _, e := range withC {
		if e.FilePath == fossologytest.PathZip {
			zip = e
		}
		if e.FilePath == fossologytest.PathGPL {
			require.Contains(t, e.Findings.Copyright, "Copyright (c) 2019 Jane Roe <jane@example.org>")
		}
	}
	require.Equal(t, fossologytest.PathZip, zip.FilePath)
	raw, err := json.Marshal(byPath[fossologytest.PathBinary])
	require.NoError(t, err)
	require.JSONEq(t, `{"filePath":"`+fossologytest.PathBinary+`","findings":{"scanner":["No_license_found"],"conclusion":null}}`, string(raw))

	ojoOnly := fossology.ListLicenses(tree, fs, nil, fossology.ListOptions{Agents: []agent.Agent{agent.Ojo}})
	for _, e := range ojoOnly {
		if e.FilePath == fossologytest.PathGPL {
			require.Equal(t, []string{fossology.NoLicenseFound}, e.Findings.Scanner, "agent filter")
		}
	}

	crs := fossology.ListCopyrights(fs)
	found := false
	for _, c := range crs {
		if c.Copyright == "Copyright (c) 2020 John Doe" {
			found = true
			require.Equal(t, []string{fossologytest.PathMIT}, c.FilePath)
		}
	}
	require.True(t, found, "%+v", crs)
}

func TestParseAgents(t *testing.T) {
	t.Parallel()
	_, err := fossology.ParseAgents("nomos,ojo", []agent.Agent{agent.Nomos})
	require.ErrorIs(t, err, fossology.ErrAgentNotScheduled)
	_, err = fossology.ParseAgents("copyright", agent.Agents())
	require.ErrorIs(t, err, fault.ErrInvalid)
	got, err := fossology.ParseAgents("", []agent.Agent{agent.Monk, agent.Mimetype})
	require.NoError(t, err)
	require.Equal(t, []agent.Agent{agent.Monk}, got)
}

func TestClearingUserBulkReuseNewScanner(t *testing.T) {
	t.Parallel()
	tree, fs := scanned(t)
	items := map[string]unpack.Item{}
	for _, it := range tree.Items {
		items[it.Path] = it
	}

	d, err := clearing.Decide(items[fossologytest.PathLatin1], "identified", []string{"LicenseRef-public-domain"}, "checked", "u1", now)
	require.NoError(t, err)
	require.Equal(t, clearing.StatusIdentified, d.Status)
	_, err = clearing.Decide(items[fossologytest.PathLatin1], "IDENTIFIED", nil, "", "u1", now)
	require.ErrorIs(t, err, fault.ErrInvalid)
	_, err = clearing.Decide(items[fossologytest.PathZip], "IRRELEVANT", nil, "", "u1", now)
	require.ErrorIs(t, err, fault.ErrInvalid)
	_, err = clearing.Decide(items[fossologytest.PathGPL], "IDENTIFIED", []string{"Not A License"}, "", "u1", now)
	require.ErrorIs(t, err, fault.ErrInvalid)
	_, err = clearing.Decide(items[fossologytest.PathGPL], "MAYBE", []string{"MIT"}, "", "u1", now)
	require.ErrorIs(t, err, fault.ErrInvalid)

	// Bulk: every file with the MIT grant is concluded MIT.
	bulk, err := clearing.NewBulk("Permission is hereby granted, free of charge,\n * to any person", []string{"MIT"}, nil, "u1")
	require.NoError(t, err)
	read := func(it unpack.Item) ([]byte, error) { return agent.ReadText(tree.FilePath(it), 1<<20) }
	bd, err := clearing.ApplyBulk(tree, []clearing.Bulk{bulk}, map[string]clearing.Decision{d.Path: d}, fs, clearing.SourceBulk, read, now)
	require.NoError(t, err)
	require.Len(t, bd, 1)
	require.Equal(t, fossologytest.PathMIT, bd[0].Path)
	require.Equal(t, []string{"MIT"}, bd[0].Licenses)
	_, err = clearing.NewBulk("word", []string{"MIT"}, nil, "u1")
	require.ErrorIs(t, err, fault.ErrInvalid)
	_, err = clearing.NewBulk("two words", nil, nil, "u1")
	require.ErrorIs(t, err, fault.ErrInvalid)
	_, err = clearing.NewBulk("two words", []string{"MIT"}, []string{"MIT"}, "u1")
	require.ErrorIs(t, err, fault.ErrInvalid)

	// Bulk REMOVE: the GPL file's notice text removes GPL-2.0-or-later from
	// what the scanners found there (no decision yet) and adds MIT; a file
	// the text is not in is untouched, and a user's decision is kept.
	gplText := "it under the terms of the GNU General Public License as published by"
	require.Contains(t, scannerOf(fs, fossologytest.PathGPL), "GPL-2.0-or-later")
	rm, err := clearing.NewBulk(gplText, []string{"MIT"}, []string{"GPL-2.0-or-later"}, "u1")
	require.NoError(t, err)
	rd, err := clearing.ApplyBulk(tree, []clearing.Bulk{rm}, map[string]clearing.Decision{d.Path: d}, fs, clearing.SourceBulk, read, now)
	require.NoError(t, err)
	require.Len(t, rd, 1, "%+v", rd)
	require.Equal(t, fossologytest.PathGPL, rd[0].Path)
	require.Equal(t, clearing.StatusIdentified, rd[0].Status)
	want := slices.DeleteFunc(scannerOf(fs, fossologytest.PathGPL), func(id string) bool { return id == "GPL-2.0-or-later" })
	want = append(want, "MIT")
	slices.Sort(want)
	require.Equal(t, slices.Compact(want), rd[0].Licenses)
	// Removing from a decided file removes from its decision; removing a
	// license a file does not have changes nothing.
	decided := clearing.Decision{Path: fossologytest.PathGPL, SHA1: items[fossologytest.PathGPL].Hash.SHA1, Status: clearing.StatusIdentified,
		Licenses: []string{"Apache-2.0", "GPL-2.0-or-later"}, Source: clearing.SourceNomosMonk}
	onlyRm, err := clearing.NewBulk(gplText, nil, []string{"GPL-2.0-or-later"}, "u1")
	require.NoError(t, err)
	rd, err = clearing.ApplyBulk(tree, []clearing.Bulk{onlyRm}, map[string]clearing.Decision{decided.Path: decided}, fs, clearing.SourceBulk, read, now)
	require.NoError(t, err)
	require.Len(t, rd, 1)
	require.Equal(t, []string{"Apache-2.0"}, rd[0].Licenses)
	rd, err = clearing.ApplyBulk(tree, []clearing.Bulk{onlyRm}, map[string]clearing.Decision{decided.Path: rd[0]}, fs, clearing.SourceBulk, read, now)
	require.NoError(t, err)
	require.Empty(t, rd, "nothing left to remove")
	user := decided
	user.Source = clearing.SourceUser
	rd, err = clearing.ApplyBulk(tree, []clearing.Bulk{onlyRm}, map[string]clearing.Decision{user.Path: user}, fs, clearing.SourceBulk, read, now)
	require.NoError(t, err)
	require.Empty(t, rd, "a user's decision is not overridden by a bulk")

	// Reuse onto a second upload of the same content (another name): matched by hash.
	earlier := []clearing.Decision{d, bd[0]}
	tree2 := fossologytest.Tree(t)
	reused := clearing.Reuse(tree2, earlier, nil, clearing.ReuseOptions{}, now)
	require.Len(t, reused, 2)
	for _, r := range reused {
		require.Equal(t, clearing.SourceReuse, r.Source)
		require.Equal(t, clearing.StatusIdentified, r.Status)
	}

	// A reused MIT decision on the GPL file gets flagged by new_scanner.
	wrong := clearing.Decision{Path: fossologytest.PathGPL, SHA1: items[fossologytest.PathGPL].Hash.SHA1, Status: clearing.StatusIdentified,
		Licenses: []string{"MIT"}, Source: clearing.SourceReuse}
	changed := clearing.NewScanner(fs, map[string]clearing.Decision{wrong.Path: wrong, bd[0].Path: bd[0]}, now)
	require.Len(t, changed, 1)
	require.Equal(t, clearing.StatusWIP, changed[0].Status)
	require.Contains(t, changed[0].Comment, "GPL-2.0-or-later")

	// Deciders leave decided files alone.
	require.Empty(t, clearing.NomosMonk(fs, map[string]clearing.Decision{
		fossologytest.PathGPL: wrong, fossologytest.PathMIT: bd[0],
	}, now))
}

// scannerOf returns the license ids nomos, monk and ojo found in the file p.
func scannerOf(fs []agent.Finding, p string) []string {
	var out []string
	for _, f := range fs {
		if f.Path == p && f.Type == agent.TypeLicense && (f.Agent == agent.Nomos || f.Agent == agent.Monk || f.Agent == agent.Ojo) {
			out = append(out, f.Value)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
