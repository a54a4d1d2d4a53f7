package main

import (
	"strings"
	"testing"
)

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) { v, ok := env[name]; return v, ok }
}

func TestConfigDefaultsAndParsing(t *testing.T) {
	c, err := loadConfig(lookupIn(map[string]string{"LAMBKIN_CONTROL_TOKEN": "t0ken", "LAMBKIN_RUNTIME_CMD": `["python3", "-m", "x"]`}))
	if err != nil {
		t.Fatal(err)
	}
	if c.controlAddr != (hostPort{"0.0.0.0", 9002}) || c.runtimeAPIAddr != (hostPort{"127.0.0.1", 9001}) ||
		c.runtimeCwd != "/var/task" || c.initTimeoutS != 10 || c.memorySource != "cgroup" ||
		c.functionVersion() != "$LATEST" || c.memorySizeMB() != 128 || c.instanceID == "" || c.runtimeUser != nil {
		t.Errorf("defaults: %+v", c)
	}
	c, err = loadConfig(lookupIn(map[string]string{
		"LAMBKIN_CONTROL_TOKEN":    "t0ken",
		"LAMBKIN_RUNTIME_USER":     "993:990",
		"LAMBKIN_RUNTIME_CMD":      `["/var/task/bootstrap"]`,
		"LAMBKIN_CONTROL_ADDR":     "127.0.0.1:0",
		"LAMBKIN_RUNTIME_API_ADDR": "[::1]:9101",
		"LAMBKIN_RUNTIME_ENV":      `{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}`,
		"LAMBKIN_INIT_TIMEOUT_S":   "2.5",
		"LAMBKIN_MEMORY_SOURCE":    "proc",
		"LAMBKIN_INSTANCE_ID":      "i-1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.controlAddr != (hostPort{"127.0.0.1", 0}) || c.runtimeAPIAddr != (hostPort{"::1", 9101}) ||
		c.memorySizeMB() != 512 || c.initTimeoutS != 2.5 || c.memorySource != "proc" || c.instanceID != "i-1" ||
		*c.runtimeUser != (runtimeUser{993, 990}) {
		t.Errorf("parsed: %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"LAMBKIN_RUNTIME_CMD": "[]"},
		{"LAMBKIN_RUNTIME_CMD": `"python"`},
		{"LAMBKIN_RUNTIME_CMD": `["x", 1]`},
		{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_RUNTIME_ENV": `{"A": 1}`},
		{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_RUNTIME_ENV": `[]`},
		{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_CONTROL_ADDR": "nowhere"},
		{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_CONTROL_ADDR": "h:70000"},
		{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_INIT_TIMEOUT_S": "0"},
		{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_INIT_TIMEOUT_S": "soon"},
		{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_MEMORY_SOURCE": "guess"},
		{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_RUNTIME_USER": "993"},
		{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_RUNTIME_USER": "sbx:990"},
	} {
		env["LAMBKIN_CONTROL_TOKEN"] = "t0ken"
		if _, err := loadConfig(lookupIn(env)); err == nil {
			t.Errorf("loadConfig(%v) accepted", env)
		}
	}
	for _, token := range []string{"", "caf\xc3\xa9"} {
		env := map[string]string{"LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_CONTROL_TOKEN": token}
		if _, err := loadConfig(lookupIn(env)); err == nil {
			t.Errorf("token %q accepted", token)
		}
	}
	if _, err := loadConfig(lookupIn(map[string]string{"LAMBKIN_RUNTIME_CMD": `["x"]`})); err == nil {
		t.Error("no token accepted")
	}
}

func TestConfigJSONAndRandomIDs(t *testing.T) {
	c, err := loadConfig(lookupIn(map[string]string{
		"LAMBKIN_CONTROL_TOKEN": "t0ken",
		"LAMBKIN_RUNTIME_CMD":   ` ["/bin/sh", "-c", "echo \u00e9 \"q\""] `,
		"LAMBKIN_RUNTIME_ENV":   `{"A": "1", "B": "caf\u00e9", "A": "2", "EMPTY": ""}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.runtimeCmd) != 3 || c.runtimeCmd[2] != `echo é "q"` {
		t.Errorf("cmd %q", c.runtimeCmd)
	}
	if len(c.runtimeEnv) != 3 || c.runtimeEnv["A"] != "2" || c.runtimeEnv["B"] != "café" || c.runtimeEnv["EMPTY"] != "" {
		t.Errorf("env %q", c.runtimeEnv)
	}
	for _, env := range []string{"null", `{"A": null}`, `{"A": "1"} x`, `{"A": ["1"]}`} {
		if _, err := loadConfig(lookupIn(map[string]string{"LAMBKIN_CONTROL_TOKEN": "t", "LAMBKIN_RUNTIME_CMD": `["x"]`, "LAMBKIN_RUNTIME_ENV": env})); err == nil {
			t.Errorf("env %s accepted", env)
		}
	}
	a, b := randomID(), randomID()
	if len(a) != 32 || a == b || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("random ids %q %q", a, b)
	}
}

func TestVacantConfigAndSpecialisation(t *testing.T) {
	c, err := loadConfig(lookupIn(map[string]string{"LAMBKIN_CONTROL_TOKEN": "t0ken", "LAMBKIN_VACANT": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.vacant || c.runtimeCmd != nil {
		t.Fatalf("vacant config: %+v", c)
	}
	f, err := parseSpecialisation([]byte(`{"LAMBKIN_RUNTIME_CMD": "[\"python3\", \"-m\", \"x\"]",
		"LAMBKIN_RUNTIME_ENV": "{\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\": \"256\"}", "LAMBKIN_INIT_TIMEOUT_S": "3"}`))
	if err != nil {
		t.Fatal(err)
	}
	c.adopt(f)
	if c.vacant || len(c.runtimeCmd) != 3 || c.memorySizeMB() != 256 || c.runtimeCwd != "/var/task" || c.initTimeoutS != 3 {
		t.Errorf("specialised: %+v", c)
	}
	for _, body := range []string{
		``, `[]`, `{}`, `{"LAMBKIN_RUNTIME_CMD": ["x"]}`, `{"LAMBKIN_RUNTIME_CMD": "[]"}`,
		`{"LAMBKIN_RUNTIME_CMD": "[\"x\"]", "LAMBKIN_CONTROL_TOKEN": "mine"}`,
		`{"LAMBKIN_RUNTIME_CMD": "[\"x\"]", "LAMBKIN_INIT_TIMEOUT_S": "-1"}`,
		`{"LAMBKIN_RUNTIME_CMD": "[\"x\"]", "LAMBKIN_RUNTIME_ENV": "{\"A\": 1}"}`,
	} {
		if _, err := parseSpecialisation([]byte(body)); err == nil {
			t.Errorf("specialisation %s accepted", body)
		}
	}
	// Not vacant unless asked in exactly those words: a configured agent stays as it was.
	c, err = loadConfig(lookupIn(map[string]string{"LAMBKIN_CONTROL_TOKEN": "t", "LAMBKIN_VACANT": "", "LAMBKIN_RUNTIME_CMD": `["x"]`}))
	if err != nil || c.vacant {
		t.Errorf("blank LAMBKIN_VACANT: %+v %v", c, err)
	}
}
