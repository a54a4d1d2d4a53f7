package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestXrayDocumentReadsTheDaemonProtocol(t *testing.T) {
	cases := []struct {
		datagram string
		want     string // "" : not a segment document
	}{
		{"{\"format\": \"json\", \"version\": 1}\n{\"id\":\"a\"}", `{"id":"a"}`},
		{"{\"format\":\"json\",\"version\":1}\n {\"id\":\"b\"} \n", `{"id":"b"}`},
		{"{\"version\": 1, \"format\": \"json\"}\n{\"id\":\"c\"}", `{"id":"c"}`},
		{"{\"format\": \"json\", \"version\": 1}\n", ""},          // a header and nothing else
		{"{\"format\": \"xml\", \"version\": 1}\n<segment/>", ""}, // another format
		{"{\"format\": \"json\", \"version\": 2}\n{}", ""},
		{"{\"id\":\"no header\"}", ""},
		{"", ""},
	}
	for _, c := range cases {
		got := string(xrayDocument([]byte(c.datagram)))
		if got != c.want {
			t.Errorf("xrayDocument(%q) = %q, want %q", c.datagram, got, c.want)
		}
	}
}

// A capture writing to a file, with a daemon socket on a free port; what was logged, by kind.
func xrayCapture(t *testing.T) (*logCapture, *net.UDPConn, func() []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	capture := newLogCapture(out)
	socket, err := listenUDP(hostPort{"127.0.0.1", 0})
	if err != nil {
		t.Fatal(err)
	}
	capture.xray = socket
	go socket.serve(capture)
	t.Cleanup(func() { socket.Close(); out.Close() })
	sender, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: socket.bound.port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	logged := func() []string {
		capture.drain(nil)
		data, _ := os.ReadFile(path)
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}
	return capture, sender, logged
}

func sendSegment(t *testing.T, c *net.UDPConn, document string) {
	t.Helper()
	if _, err := c.Write([]byte("{\"format\": \"json\", \"version\": 1}\n" + document)); err != nil {
		t.Fatal(err)
	}
}

func TestSegmentsSentBeforeTheResponseBelongToTheInvocation(t *testing.T) {
	capture, sender, logged := xrayCapture(t)
	sendSegment(t, sender, `{"during":"init"}`) // no invocation: no trace to join
	time.Sleep(20 * time.Millisecond)
	capture.setContext("rid-1", "invoke")
	sendSegment(t, sender, "{\"name\":\"work\",\n\"id\":\"1\"}")
	capture.drain(nil) // what finishLocked does before the context changes: nothing in limbo
	capture.setContext("", "idle")
	sendSegment(t, sender, `{"after":"the invocation"}`)
	time.Sleep(20 * time.Millisecond)
	lines := logged()
	if len(lines) != 1 {
		t.Fatalf("want one event, got %q", lines)
	}
	want := `{"s":1,"t":`
	if !strings.HasPrefix(lines[0], want) ||
		!strings.HasSuffix(lines[0], `"r":"rid-1","p":"invoke","k":"xray","m":"{\"name\":\"work\",\n\"id\":\"1\"}"}`) {
		t.Fatalf("event %q", lines[0])
	}
}

func TestSegmentsPerInvocationAreBounded(t *testing.T) {
	capture, sender, logged := xrayCapture(t)
	capture.setContext("rid-2", "invoke")
	for i := 0; i < maxSegmentsPerInvocation+5; i++ {
		sendSegment(t, sender, `{"n":1}`)
		if i%100 == 0 {
			capture.drain(nil) // keep the socket's buffer from overflowing
		}
	}
	lines := logged()
	xray, notices := 0, 0
	for _, line := range lines {
		switch {
		case strings.Contains(line, `"k":"xray"`):
			xray++
		case strings.Contains(line, `"k":"platform"`) && strings.Contains(line, "segments in one invocation"):
			notices++
		}
	}
	if xray != maxSegmentsPerInvocation || notices != 1 {
		t.Fatalf("%d segments and %d notices forwarded, want %d and 1", xray, notices, maxSegmentsPerInvocation)
	}
	capture.setContext("rid-3", "invoke") // the next invocation has its own budget
	sendSegment(t, sender, `{"n":2}`)
	if last := logged(); !strings.Contains(last[len(last)-1], `"r":"rid-3"`) {
		t.Fatalf("the next invocation's segment was not forwarded: %q", last[len(last)-1])
	}
}

func TestTheRuntimeIsToldWhereTheDaemonListens(t *testing.T) {
	sb := &sandbox{xrayAddress: hostPort{"127.0.0.1", 2000}}
	got := sb.xrayVariables()
	want := map[string]string{
		"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
		"_AWS_XRAY_DAEMON_PORT": "2000", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if (&sandbox{}).xrayVariables() != nil {
		t.Error("no listener, yet the runtime is told of a daemon")
	}
}
