package main

import "testing"

func TestParseLogQuery(t *testing.T) {
	cases := []struct {
		path   string
		from   int64
		follow bool
		ok     bool
	}{
		{"/logs?from=0", 0, false, true},
		{"/logs?from=123&follow=1", 123, true, true},
		{"/logs?follow=1&from=7", 7, true, true},
		{"/logs?follow=1", 0, false, false},
		{"/logs?from=-1", 0, false, false},
		{"/logs?from=+1", 0, false, false},
		{"/logs?from=1&x=2", 0, false, false},
		{"/logs", 0, false, false},
	}
	for _, c := range cases {
		from, follow, ok := parseLogQuery(c.path)
		if ok != c.ok || (ok && (from != c.from || follow != c.follow)) {
			t.Errorf("%s: got %d %v %v", c.path, from, follow, ok)
		}
	}
}
