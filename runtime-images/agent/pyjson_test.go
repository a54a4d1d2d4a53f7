package main

import (
	"strings"
	"testing"
)

// The same table as tests/unit/test_agent_formats.py: both agents hand the runtime the same bytes.
func TestRuntimeJSONHeaderIsCompactASCIIJSON(t *testing.T) {
	cases := []struct{ text, want string }{
		{`{"custom": {"k": "v"}}`, `{"custom":{"k":"v"}}`},
		{"{\"custom\":\r\n\r\n{\"k\":\"v\"}}", `{"custom":{"k":"v"}}`},
		{"\n{\t\"a\" :\r[1, 2.5, -0, 1e5, 12345678901234567890]\n}\n", `{"a":[1,2.5,0,100000.0,12345678901234567890]}`},
		{`{"k":"€"}`, `{"k":"\u20ac"}`},
		{`{"k":"😀"}`, `{"k":"\ud83d\ude00"}`},
		{`{"k":"a\nb\u0000c"}`, `{"k":"a\nb\u0000c"}`},
		{`{"k":"\ud800"}`, `{"k":"\ud800"}`},
		{`{"k":"\ud83d\ude00"}`, `{"k":"\ud83d\ude00"}`},
		{`{"k":"\/\"\\\b\f\t\u007f"}`, `{"k":"/\"\\\b\f\t\u007f"}`},
		{`{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`}, // a dict: first position, last value
		{`{"a":[true,false,null,{}]}`, `{"a":[true,false,null,{}]}`},
		{`{"f":[1e16,1e15,0.0001,0.00001,-0.0,1e-400,1.5e300,123.456e5,5e-324,1E2,-2.50]}`,
			`{"f":[1e+16,1000000000000000.0,0.0001,1e-05,-0.0,0.0,1.5e+300,12345600.0,5e-324,100.0,-2.5]}`},
		{"{}", "{}"},
	}
	for _, c := range cases {
		got, err := runtimeJSONHeader(c.text)
		if err != nil || got != c.want {
			t.Errorf("runtimeJSONHeader(%q) = %q, %v; want %q", c.text, got, err, c.want)
		}
	}
}

func TestRuntimeJSONHeaderRefusesWhatIsNotAJSONObject(t *testing.T) {
	deep := func(n int) string { return `{"a": ` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}" }
	for _, text := range []string{
		"", "[1]", `"text"`, "null", "{nope", `{"a": NaN}`, `{"a": -Infinity}`, `{"a": Infinity}`,
		`{"a": 1e400}`, "{\"k\": \"raw\nline\"}", deep(100000), `{"a": 1} {"b": 2}`,
		`{"a": 01}`, `{"a": 1.}`, `{"a": .5}`, `{"a": +1}`, `{"a": "\x"}`, `{"a": "\u12"}`,
		`{"a": 1,}`, `{,}`, `{"a" 1}`, "\ufeff{}", `{"a": ` + strings.Repeat("9", 4301) + "}",
	} {
		if got, err := runtimeJSONHeader(text); err == nil {
			t.Errorf("runtimeJSONHeader(%.60q) = %q, want an error", text, got)
		}
	}
	if _, err := runtimeJSONHeader(deep(maxJSONDepth - 1)); err != nil {
		t.Errorf("nesting Python accepts was refused: %v", err)
	}
	if _, err := runtimeJSONHeader(`{"a": ` + strings.Repeat("9", 4300) + "}"); err != nil {
		t.Errorf("a 4300-digit int was refused: %v", err)
	}
}

func TestJSONFromBase64(t *testing.T) {
	const name = "Lambkin-Client-Context-B64"
	if got, err := jsonFromBase64(name, ""); got != "" || err != nil {
		t.Fatalf("empty header: %q %v", got, err)
	}
	got, err := jsonFromBase64(name, "eyJrIjoNCiLigqwifQ==") // {"k":\r\n"€"}
	if err != nil || got != `{"k":"\u20ac"}` {
		t.Fatalf("got %q %v", got, err)
	}
	for _, bad := range []string{"not base64!", "//57fQ==", "WzFd", "ew==", "eyJrIjoxfQ", "eyJr\r\nIjoxfQ=="} {
		if _, err := jsonFromBase64(name, bad); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("jsonFromBase64(%q): %v, want an error naming the header", bad, err)
		}
	}
}

func TestPyString(t *testing.T) {
	if got := pyString("a\"\\\n\x01é😀"); got != `"a\"\\\n\u0001\u00e9\ud83d\ude00"` {
		t.Errorf("pyString = %s", got)
	}
}
