package scancmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/cmd/reehub/internal/scancmd"
	"github.com/reehub/reehub/fault"
)

func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range map[string]string{
		"a.c":     "// SPDX-License-Identifier: MIT OR Apache-2.0\n// Copyright (c) 2020 Jane Roe\n",
		"b/c.go":  "// Copyright 2021 Jane Roe\n// Licensed under the Apache License 2.0\n",
		"bin.dat": "\x00\x01\x02",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644))
	}
	return dir
}

func TestRunTable(t *testing.T) {
	t.Parallel()
	dir := fixture(t)
	var out, errOut bytes.Buffer
	require.NoError(t, scancmd.Run(context.Background(), []string{dir}, &out, &errOut))
	s := out.String()
	require.Contains(t, s, "Scanned 3 files")
	require.Regexp(t, `Apache-2.0\s+2\n`, s)
	require.Regexp(t, `MIT\s+1\n`, s)
	require.Regexp(t, `Jane Roe\s+2\n`, s)
	require.Regexp(t, `binary \(skipped\)\s+1\n`, s)
	require.Empty(t, errOut.String(), "no progress line when stderr is not a terminal")
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	dir := fixture(t)
	var out, errOut bytes.Buffer
	require.NoError(t, scancmd.Run(context.Background(), []string{dir, "--json"}, &out, &errOut))
	var doc struct {
		Root  string `json:"root"`
		Files []struct {
			Path     string `json:"path"`
			Skipped  string `json:"skipped"`
			Licenses []struct {
				ID, Kind string
			} `json:"licenses"`
		} `json:"files"`
		Summary struct {
			Files    int            `json:"files"`
			Licenses map[string]int `json:"licenses"`
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
	require.Equal(t, dir, doc.Root)
	require.Len(t, doc.Files, 3)
	require.Equal(t, 3, doc.Summary.Files)
	require.Equal(t, map[string]int{"Apache-2.0": 2, "MIT": 1}, doc.Summary.Licenses)
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	require.ErrorIs(t, scancmd.Run(context.Background(), nil, &out, &errOut), fault.ErrInvalid)
	require.ErrorIs(t, scancmd.Run(context.Background(), []string{"a", "b"}, &out, &errOut), fault.ErrInvalid)
	require.ErrorIs(t, scancmd.Run(context.Background(), []string{"--bogus", "x"}, &out, &errOut), fault.ErrInvalid)
	require.ErrorIs(t, scancmd.Run(context.Background(), []string{filepath.Join(t.TempDir(), "none")}, &out, &errOut), fault.ErrNotFound)
}
