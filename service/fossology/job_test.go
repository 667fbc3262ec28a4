package fossology_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/fault"
	"github.com/reehub/reehub/service/fossology"
	"github.com/reehub/reehub/service/fossology/agent"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	p, err := fossology.NewPlan(fossology.ScanOptions{
		Analysis: fossology.Analysis{CopyrightEmailAuthor: true, Ecc: true, Keyword: true, Mime: true, Monk: true, Nomos: true, Package: true, Ojo: true},
		Decider:  fossology.Decider{NomosMonk: true, BulkReused: true, NewScanner: true, OjoDecider: true},
		Reuse:    &fossology.Reuse{Upload: 9, Group: "3", Main: true, Enhanced: true},
	})
	require.NoError(t, err)
	require.Equal(t, []agent.Agent{agent.Mimetype, agent.Nomos, agent.Monk, agent.Ojo, agent.Copyright, agent.Ecc, agent.Keyword, agent.Package}, p.Agents)
	require.Equal(t, []fossology.Step{"mimetype", "nomos", "monk", "ojo", "copyright_email_author", "ecc", "keyword", "package",
		fossology.StepReuse, fossology.StepNomosMonk, fossology.StepOjoDecider, fossology.StepBulkReused, fossology.StepNewScanner}, p.Steps)

	for name, o := range map[string]fossology.ScanOptions{
		"bucket":             {Analysis: fossology.Analysis{Bucket: true, Nomos: true}},
		"nothing":            {},
		"nomos_monk alone":   {Decider: fossology.Decider{NomosMonk: true}, Analysis: fossology.Analysis{Nomos: true}},
		"ojo_decider alone":  {Decider: fossology.Decider{OjoDecider: true}},
		"bulk_reused alone":  {Analysis: fossology.Analysis{Nomos: true}, Decider: fossology.Decider{BulkReused: true}},
		"reuse without from": {Reuse: &fossology.Reuse{Main: true}},
	} {
		_, err := fossology.NewPlan(o)
		require.ErrorIs(t, err, fault.ErrInvalid, name)
	}
}

func TestETA(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0, fossology.ETA(10, 10, time.Second))
	require.Equal(t, -1, fossology.ETA(0, 10, time.Second))
	require.Equal(t, 90, fossology.ETA(10, 100, 10*time.Second))
	require.Equal(t, 1, fossology.ETA(3, 4, time.Second), "rounded up")
}

func TestParseBoolAndIDs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"True": true, "true": true, "FALSE": false, "False": false, "1": true, "0": false} {
		got, err := fossology.ParseBool(in, !want)
		require.NoError(t, err)
		require.Equal(t, want, got, in)
	}
	got, err := fossology.ParseBool("", true)
	require.NoError(t, err)
	require.True(t, got)
	_, err = fossology.ParseBool("public", false)
	require.ErrorIs(t, err, fault.ErrInvalid)
	id, err := fossology.ParseID(" 11 ", "folderId")
	require.NoError(t, err)
	require.Equal(t, int64(11), id)
	_, err = fossology.ParseID("abc", "folderId")
	require.ErrorIs(t, err, fault.ErrInvalid)
	require.ErrorContains(t, err, `folderId "abc"`)
}

func TestTokenExpiryAndTimestamp(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	exp, err := fossology.TokenExpiry("2026-12-11", now, time.UTC, 0)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 12, 11, 23, 59, 59, 0, time.UTC), exp)
	for _, bad := range []string{"2026-12-01", "2026-11-30", "2027-01-01", "tomorrow"} {
		_, err := fossology.TokenExpiry(bad, now, time.UTC, 30)
		require.ErrorIs(t, err, fault.ErrInvalid, bad)
	}
	_, err = fossology.TokenExpiry("2027-01-20", now, time.UTC, 60)
	require.NoError(t, err, "the admin's cap")
	ist := time.FixedZone("IST", 5*3600+1800)
	require.Equal(t, "2019-04-25 11:36:20.903254+05:30", fossology.Timestamp(time.Date(2019, 4, 25, 11, 36, 20, 903254000, ist)))
	require.Equal(t, "ABC123", fossology.UpperHex("abc123"))
}
