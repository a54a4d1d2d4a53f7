package main

import (
	"net/http"
	"testing"
)

func TestRepeatedHeadersReadAsPythonReadThem(t *testing.T) {
	h := http.Header{"Lambkin-Token": {"a", "b"}, "X-One": {"v"}}
	cases := []struct{ got, want string }{
		{headerValue(h, "Lambkin-Token"), "a, b"},
		{headerValue(h, "lambkin-token"), "a, b"},
		{headerValue(h, "X-One"), "v"},
		{headerValue(h, "Missing"), ""},
		{trailerValue(h, "Lambkin-Token"), "b"},
		{trailerValue(h, "Missing"), ""},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
