package main

import "testing"

func TestHolderKeyYears(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"2001-2005 Jane Roe <jane@example.org>", "jane roe"},
		{"Jane Roe 2001-2005", "jane roe"},
		{"Jane Roe, 2003", "jane roe"},
		{"James Keenan, and Richard Elberger 1995-2020", "james keenan and richard elberger"},
		{"1991, 92, 93 Free Software Foundation, Inc.", "free software foundation inc"},
		{"1991,1993, 1995 Free Software Foundation, Inc.", "free software foundation inc"},
		{"2016-present, Yann Collet, Facebook, Inc.", "yann collet facebook inc"},
		{"2013 - 2022 Nobuhiro Iwamatsu", "nobuhiro iwamatsu"},
		{"2018—2021, Andrej Shadura <andrewsh@debian.org>", "andrej shadura"},
		{"2016,2018 Laurent Bigonville", "laurent bigonville"},
		{"(C) 1995-96 Chris Fearnley.", "chris fearnley"},
		{"Copyright © 1999-2002 Wichert Akkerman", "wichert akkerman"},
		{"OS/2 port Copyright (c) 1990, 1991, Raymond Chen", "raymond chen"},
		{"Jane Roe (2001, 2004) and John Doe (2010)", "jane roe and john doe"},
		{"3Com Corporation", "3com corporation"},
		{"This module is copyright (C) Charles Bailey, Tim Bunce, David Landgren,", "charles bailey tim bunce david landgren"},
		{"Copyright 2006 Yves Orton and 2007 Ævar Arnfjörð Bjarmason.", "yves orton and ævar arnfjörð bjarmason"},
	} {
		if got := holderKey(stripYears(c.line)); got != c.want {
			t.Errorf("holderKey(stripYears(%q)) = %q, want %q", c.line, got, c.want)
		}
	}
}

func TestRecalled(t *testing.T) {
	found := []string{holderKey("Free Software Foundation, Inc."), holderKey("Lasse Collin")}
	for _, c := range []struct {
		line string
		want bool
	}{
		{"1985-2022, Free Software Foundation, Inc.", true},
		{"Lasse Collin 2009-2010", true},
		{"2009, Andrew Dudman", false},
		{"Lasse Collin (c) 2002", true},
	} {
		if got := recalled(holderKey(stripYears(c.line)), found); got != c.want {
			t.Errorf("recalled(%q) = %v, want %v", c.line, got, c.want)
		}
	}
}
