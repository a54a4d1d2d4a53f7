package main

import (
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestErrorTypeFromBodyThenHeader(t *testing.T) {
	cases := []struct{ body, header, want string }{
		{`{"errorType": "ValueError", "errorMessage": "x"}`, "Unhandled", "ValueError"},
		{`{"errorMessage": "x"}`, "Runtime.ImportModuleError", "Runtime.ImportModuleError"},
		{"not json", "Function.Custom", "Function.Custom"},
		{"not json", "Unhandled", "Runtime.Unknown"},
		{"", "", "Runtime.Unknown"},
		{`{"errorType": ""}`, "Function.X", "Runtime.Unknown"},              // "X" is too short for the pattern
		{`{"errorType": 3}`, "Function.Xy", "Function.Xy"},                  // not a string
		{`["errorType"]`, "Runtime.Late", "Runtime.Late"},                   // not an object
		{`{"errorType": "E", "v": NaN}`, "", "E"},                           // json.loads takes NaN
		{"\ufeff{\"errorType\": \"Bom\"}", "", "Bom"},                       // and a UTF-8 BOM
		{`{"errorType": "a\nb"}`, "Function.Fallback", "Function.Fallback"}, // never into a header
		{`{"errorType": "€"}`, "", "Runtime.Unknown"},
		{"{}", "Function.Bad1", "Runtime.Unknown"},
		{"{}", "Function.bad", "Runtime.Unknown"},
		{"{}", "Other.Thing", "Runtime.Unknown"},
		{"{}", "xRuntime.Thing", "Runtime.Unknown"},
		{"{}", "Runtime.Thing ", "Runtime.Unknown"},
		{"{}", "Runtime.ImportModuleError", "Runtime.ImportModuleError"},
	}
	for _, c := range cases {
		if got := errorTypeOf([]byte(c.body), c.header); got != c.want {
			t.Errorf("errorTypeOf(%q, %q) = %q, want %q", c.body, c.header, got, c.want)
		}
	}
}

func TestEmptyPostedErrorGetsABody(t *testing.T) {
	e := postedError(outcomeFunctionError, nil, "Function.Oops")
	if string(e.body) != `{"errorType":"Function.Oops","errorMessage":""}` || e.errorType != "Function.Oops" {
		t.Errorf("got %s / %s", e.body, e.errorType)
	}
}

func TestErrorBodiesTheAgentWrites(t *testing.T) {
	cases := []struct {
		e    ending
		body string
	}{
		{timeoutEnding("abc", 1000), `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: abc Error: Task timed out after 1.00 seconds"}`},
		{exitEnding(outcomeExit, "abc", "exit status 3", "Runtime.ExitError"), `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: abc Error: Runtime exited with error: exit status 3"}`},
		{initTimeoutEnding("r", 0.4), `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r Error: Init timed out after 0.40 seconds"}`},
		{entrypointEnding("r", "fork/exec /x: no such file or directory"), `{"errorType":"Runtime.InvalidEntrypoint","errorMessage":"RequestId: r Error: fork/exec /x: no such file or directory"}`},
		{tooLargeEnding(), `{"errorType":"Function.ResponseSizeTooLarge","errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes)."}`},
	}
	for _, c := range cases {
		if string(c.e.body) != c.body {
			t.Errorf("body %s, want %s", c.e.body, c.body)
		}
	}
	if n := string(timeoutEnding("abc", 1500).notice); !strings.HasSuffix(n, "Z abc Task timed out after 1.50 seconds\n") {
		t.Errorf("timeout notice %q", n)
	}
}

func TestNextHeadersOmitEmptyOnesAndDeadlineIsEpochMs(t *testing.T) {
	got := nextHeaders(invokeRequest{requestID: "r1", timeoutMs: 3000, traceID: "Root=1"}, 1_700_000_000_250)
	want := []header{
		{"Lambda-Runtime-Aws-Request-Id", "r1"},
		{"Lambda-Runtime-Deadline-Ms", "1700000003250"},
		{"Lambda-Runtime-Trace-Id", "Root=1"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("header %d: %v, want %v", i, got[i], want[i])
		}
	}
	inv := &invocation{request: invokeRequest{requestID: "r", timeoutMs: 3000}}
	now := time.Unix(10, 0)
	inv.deliver(now, nil)
	if !inv.deadlineAt.Equal(now.Add(3 * time.Second)) {
		t.Errorf("deadline %v", inv.deadlineAt)
	}
}

func TestLogLinesInAWSFormat(t *testing.T) {
	init := 130.491
	cases := []struct{ got, want string }{
		{string(startLine("r1", "$LATEST")), "START RequestId: r1 Version: $LATEST\n"},
		{string(endLine("r1")), "END RequestId: r1\n"},
		{string(reportLine("r1", 15.734, 128, 56, &init)), "REPORT RequestId: r1\tDuration: 15.73 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\n"},
		{string(reportLine("r1", 2.0, 128, 56, nil)), "REPORT RequestId: r1\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\n"},
		{string(initReportLine(12.345, "error", "Runtime.ExitError")), "INIT_REPORT Init Duration: 12.35 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError\n"},
		{string(initReportLine(1, "timeout", "")), "INIT_REPORT Init Duration: 1.00 ms\tPhase: init\tStatus: timeout\n"},
		{string(timestampedLine("r", "m", time.Date(2026, 11, 27, 13, 6, 32, 563_900_000, time.UTC))), "2026-11-27T13:06:32.563Z r m\n"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestEventsAreNumberedAndEscapedAsPythonWrites(t *testing.T) {
	out, seq := encodeEvents([]byte("a\n\"é\"\n\xff\n"), 16, 1795790936212, eventContext("8d93", "invoke"), false)
	want := `{"s":17,"t":1795790936212,"r":"8d93","p":"invoke","m":"a"}` + "\n" +
		`{"s":18,"t":1795790936212,"r":"8d93","p":"invoke","m":"\"\u00e9\""}` + "\n" +
		`{"s":19,"t":1795790936212,"r":"8d93","p":"invoke","m":"\ufffd"}` + "\n"
	if string(out) != want || seq != 19 {
		t.Errorf("got %s (seq %d)", out, seq)
	}
	if out, seq := encodeEvents([]byte("\n"), 0, 1, eventContext("", "init"), false); string(out) != `{"s":1,"t":1,"r":"","p":"init","m":""}`+"\n" || seq != 1 {
		t.Errorf("an empty line: %s", out)
	}
	out, _ = encodeEvents([]byte("REPORT RequestId: 8d93\n"), 2, 5, eventContext("8d93", "invoke"), true)
	if string(out) != `{"s":3,"t":5,"r":"8d93","p":"invoke","k":"platform","m":"REPORT RequestId: 8d93"}`+"\n" {
		t.Errorf("a platform record: %s", out)
	}
}

func TestOnlyTheAgentsOwnRecordsArePlatform(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	capture := newLogCapture(w)
	capture.write([]byte("START RequestId: a Version: $LATEST\n"))
	reader := &pipeReader{capture: capture}
	capture.mu.Lock()
	reader.feedLocked([]byte("REPORT RequestId: a\tDuration: 1.00 ms\n"))
	capture.mu.Unlock()
	w.Close()
	data, _ := io.ReadAll(r)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"k":"platform"`) || strings.Contains(lines[1], `"k"`) {
		t.Errorf("platform marks: %q", lines)
	}
}

func TestExitWordingIsGos(t *testing.T) {
	cases := []struct {
		ws   syscall.WaitStatus
		want string
	}{
		{0, "exit status 0"},
		{3 << 8, "exit status 3"},
		{syscall.WaitStatus(syscall.SIGKILL), "signal: killed"},
		{syscall.WaitStatus(syscall.SIGTERM), "signal: terminated"},
		{syscall.WaitStatus(syscall.SIGSEGV) | 0x80, "signal: segmentation fault (core dumped)"},
		{syscall.WaitStatus(syscall.SIGABRT), "signal: aborted"},
	}
	for _, c := range cases {
		if got := describeWaitStatus(c.ws); got != c.want {
			t.Errorf("describeWaitStatus(%#x) = %q, want %q", int(c.ws), got, c.want)
		}
	}
}

func TestCgroupCandidatesPreferOurOwnCgroup(t *testing.T) {
	got := cgroupCandidates("12:pids:/x\n4:memory:/docker/abc\n0::/\n")
	want := [][2]string{
		{"/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory.events"},
		{"/sys/fs/cgroup/memory/docker/abc/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory/docker/abc/memory.oom_control"},
		{"/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory/memory.oom_control"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %v, want %v", i, got[i], want[i])
		}
	}
	if got := cgroupCandidates("0::/system.slice/x.service\n")[0][0]; got != "/sys/fs/cgroup/system.slice/x.service/memory.peak" {
		t.Errorf("v2: %s", got)
	}
}

func TestRuntimeAPIPathsAndBodies(t *testing.T) {
	if got := pyUnquote("a%2Fb%e2%82%ac%zz%4"); got != "a/b€%zz%4" {
		t.Errorf("pyUnquote = %q", got)
	}
	if got := string(lenientBase64("eyJ\nhIjox fQ==")); got != `{"a":1}` {
		t.Errorf("lenientBase64 = %q", got)
	}
	if got := lenientBase64("abc"); got != nil {
		t.Errorf("undecodable: %q", got)
	}
}

func TestPlatformRecordsInJSONFormat(t *testing.T) {
	at := time.Date(2026, 11, 27, 13, 6, 32, 563_900_000, time.UTC)
	init := 130.4915
	cases := []struct{ got, want string }{
		{string(startRecord("r1", "$LATEST", at)),
			`{"time":"2026-11-27T13:06:32.563Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}}` + "\n"},
		{string(reportRecord("r1", 15.7344, 128, 56, &init, "success", "", at)),
			`{"time":"2026-11-27T13:06:32.563Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":15.734,"billedDurationMs":16,"memorySizeMB":128,"maxMemoryUsedMB":56,"initDurationMs":130.492},"status":"success"}}` + "\n"},
		{string(reportRecord("r\"2", 1000.5, 256, 60, nil, reportStatus(outcomeTimeout), "Sandbox.Timedout", at)),
			`{"time":"2026-11-27T13:06:32.563Z","type":"platform.report","record":{"requestId":"r\"2","metrics":{"durationMs":1000.500,"billedDurationMs":1001,"memorySizeMB":256,"maxMemoryUsedMB":60},"status":"timeout","errorType":"Sandbox.Timedout"}}` + "\n"},
		{string(initReportRecord(12.3456, "on-demand", "error", "Runtime.ExitError", at)),
			`{"time":"2026-11-27T13:06:32.563Z","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"error","errorType":"Runtime.ExitError","metrics":{"durationMs":12.346}}}` + "\n"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
	if reportStatus(outcomeFunctionError) != "error" || reportStatus(outcomeExit) != "error" {
		t.Error("every failure but a timeout is an error")
	}
}

func TestSystemLogLevelFiltersOnlyJSONRecords(t *testing.T) {
	text := &config{runtimeEnv: map[string]string{}, systemLevel: "WARN"}
	if text.jsonLogs() || !text.systemRecordsShown("INFO") {
		t.Error("text logs are never filtered")
	}
	for level, shown := range map[string]bool{"": true, "DEBUG": true, "INFO": true, "WARN": false} {
		c := &config{runtimeEnv: map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON"}, systemLevel: level}
		if c.systemRecordsShown("INFO") != shown {
			t.Errorf("SystemLogLevel %q: INFO records shown should be %v", level, shown)
		}
	}
	f, err := readFunctionPart(func(name, def string) string {
		if name == "LAMBKIN_RUNTIME_CMD" {
			return `["x"]`
		}
		if name == "LAMBKIN_RUNTIME_ENV" {
			return `{"AWS_LAMBDA_LOG_FORMAT":"JSON","LAMBKIN_SYSTEM_LOG_LEVEL":"WARN"}`
		}
		return def
	})
	if err != nil || f.systemLevel != "WARN" || len(f.env) != 1 {
		t.Errorf("the level is taken out of the runtime's environment: %+v %v", f, err)
	}
}
