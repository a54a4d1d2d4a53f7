package main

import "testing"

// Python's bytes.decode("utf-8", "replace"): one U+FFFD per maximal invalid subpart.
func TestDecodeUTF8ReplaceIsPythons(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"\xe2\x82x", "\ufffdx"},
		{"\xff\xfe", "\ufffd\ufffd"},
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // an encoded surrogate: three
		{"\xf0\x9f\x98", "\ufffd"},
		{"a\xc3", "a\ufffd"},
		{"\xe0\x80\x80", "\ufffd\ufffd\ufffd"},
	}
	for _, c := range cases {
		if got := decodeUTF8Replace([]byte(c.in)); got != c.want {
			t.Errorf("decodeUTF8Replace(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLatin1RoundTrip(t *testing.T) {
	if latin1("r\xe9") != "ré" || toLatin1("ré") != "r\xe9" || latin1("plain") != "plain" {
		t.Error("latin1 round trip")
	}
	if isPrintableASCII("a\x7f") || isPrintableASCII("\t") || !isPrintableASCII("Runtime.X y") {
		t.Error("isPrintableASCII")
	}
}
