package main

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testReaperOnce sync.Once
	testReaper     *reaper
)

// streamRig: a sandbox whose "runtime" is a process that never polls (sleep), so the test
// itself speaks the Runtime API; the control server and the Runtime API on real sockets.
type streamRig struct {
	t       *testing.T
	sandbox *sandbox
	control string
	runtime string
}

func newStreamRig(t *testing.T) *streamRig {
	t.Helper()
	testReaperOnce.Do(func() { testReaper = startReaper() })
	logFile, err := os.Create(filepath.Join(t.TempDir(), "events"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config{runtimeCmd: []string{"sleep", "60"}, runtimeCwd: "/", initTimeoutS: 10, memorySource: "proc", runtimeEnv: map[string]string{}}
	sb := newSandbox(cfg, newLogCapture(logFile), newMemoryMeter("proc"), testReaper, "127.0.0.1:1")
	_, runtimeAddr, _ := startTestServer(t, &runtimeAPI{sandbox: sb})
	_, controlAddr, _ := startTestServer(t, &controlServer{token: []byte("tok"), sandbox: sb, requestShutdown: func() {}})
	sb.start()
	t.Cleanup(func() { sb.shutdown(100 * time.Millisecond) })
	return &streamRig{t, sb, controlAddr, runtimeAddr}
}

// invoke sends a control /invoke (streaming or not) and returns the connection to read from.
func (g *streamRig) invoke(id string, timeoutMs int, streaming bool) (net.Conn, *bufio.Reader) {
	c, br := dial(g.t, g.control)
	mode := ""
	if streaming {
		mode = "Lambkin-Response-Mode: streaming\r\n"
	}
	send(g.t, c, "POST /invoke HTTP/1.1\r\nLambkin-Token: tok\r\nLambkin-Request-Id: "+id+
		"\r\nLambkin-Timeout-Ms: "+strconv.Itoa(timeoutMs)+"\r\n"+mode+"Content-Length: 2\r\n\r\n{}")
	return c, br
}

// next polls as the runtime does and returns the delivered request id.
func (g *streamRig) next() string {
	c, br := dial(g.t, g.runtime)
	send(g.t, c, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
	r := readResponse(g.t, br)
	return r.header("Lambda-Runtime-Aws-Request-Id")
}

// startStream opens the runtime's streamed /response and returns its connection.
func (g *streamRig) startStream(id string) (net.Conn, *bufio.Reader) {
	c, br := dial(g.t, g.runtime)
	send(g.t, c, "POST /2018-06-01/runtime/invocation/"+id+"/response HTTP/1.1\r\n"+
		"Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"+
		"Content-Type: text/plain\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n")
	return c, br
}

func chunk(p string) string { return strconv.FormatInt(int64(len(p)), 16) + "\r\n" + p + "\r\n" }

// readHead reads a reply's status line and headers.
func readHead(t *testing.T, br *bufio.Reader) testResponse {
	t.Helper()
	var r testResponse
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("status line: %v", err)
	}
	r.line = strings.TrimRight(line, "\r\n")
	r.status, _ = strconv.Atoi(strings.SplitN(r.line, " ", 3)[1])
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("header: %v", err)
		}
		if line = strings.TrimRight(line, "\r\n"); line == "" {
			return r
		}
		r.headers = append(r.headers, line)
	}
}

// readChunk reads one chunk; the last one returns its trailers too.
func readStreamChunk(t *testing.T, br *bufio.Reader) (string, map[string]string) {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("chunk size: %v", err)
	}
	size, err := strconv.ParseInt(strings.TrimRight(line, "\r\n"), 16, 64)
	if err != nil {
		t.Fatalf("chunk size %q", line)
	}
	if size == 0 {
		trailers := map[string]string{}
		for {
			line, _ := br.ReadString('\n')
			if line = strings.TrimRight(line, "\r\n"); line == "" {
				return "", trailers
			}
			k, v, _ := strings.Cut(line, ": ")
			trailers[k] = v
		}
	}
	data := make([]byte, size+2)
	if _, err := io.ReadFull(br, data); err != nil {
		t.Fatal(err)
	}
	return string(data[:size]), nil
}

func readToEnd(t *testing.T, br *bufio.Reader) (string, map[string]string) {
	var body strings.Builder
	for {
		data, trailers := readStreamChunk(t, br)
		if trailers != nil {
			return body.String(), trailers
		}
		body.WriteString(data)
	}
}

func TestStreamedResponseIsRelayedChunkByChunk(t *testing.T) {
	g := newStreamRig(t)
	_, cbr := g.invoke("r1", 5000, true)
	id := g.next()
	rc, rbr := g.startStream(id)
	send(t, rc, chunk("hello "))
	head := readHead(t, cbr)
	if head.status != 200 || head.header("Transfer-Encoding") != "chunked" || head.header("Content-Type") != "text/plain" ||
		head.header("Lambkin-Response-Mode") != "streaming" || head.header("Content-Length") != "" {
		t.Fatalf("head: %q %q", head.line, head.headers)
	}
	// The first chunk arrives while the runtime has not sent anything else.
	if data, _ := readStreamChunk(t, cbr); data != "hello " {
		t.Fatalf("first chunk %q", data)
	}
	send(t, rc, chunk("world")+"0\r\n\r\n")
	if r := readResponse(t, rbr); r.status != 202 {
		t.Fatalf("runtime got %q %q", r.line, r.body)
	}
	body, trailers := readToEnd(t, cbr)
	if body != "world" || trailers["Lambkin-Outcome"] != "success" || trailers["Lambkin-Duration-Ms"] == "" ||
		trailers["Lambkin-Error-Type"] != "" {
		t.Fatalf("rest %q, trailers %v", body, trailers)
	}
	tail, _ := base64.StdEncoding.DecodeString(trailers["Lambkin-Log-Tail"])
	if !strings.Contains(string(tail), "START RequestId: r1") || !strings.Contains(string(tail), "REPORT RequestId: r1") {
		t.Fatalf("log tail %q", tail)
	}
	// A second response to the same invocation is refused; the next invocation works.
	if g.sandbox.state() != stateReady {
		t.Fatalf("state %s", g.sandbox.state())
	}
}

func TestMidStreamErrorTrailers(t *testing.T) {
	g := newStreamRig(t)
	_, cbr := g.invoke("r2", 5000, true)
	rc, rbr := g.startStream(g.next())
	errorBody := base64.StdEncoding.EncodeToString([]byte(`{"errorType":"Error","errorMessage":"boom","trace":[]}`))
	send(t, rc, chunk("partial")+"0\r\nLambda-Runtime-Function-Error-Type: Error\r\nLambda-Runtime-Function-Error-Body: "+errorBody+"\r\n\r\n")
	if r := readResponse(t, rbr); r.status != 202 {
		t.Fatalf("runtime got %q", r.line)
	}
	readHead(t, cbr)
	body, trailers := readToEnd(t, cbr)
	errorJSON, _ := base64.StdEncoding.DecodeString(trailers["Lambkin-Error-Body"])
	if body != "partial" || trailers["Lambkin-Outcome"] != "function_error" || trailers["Lambkin-Error-Type"] != "Error" ||
		string(errorJSON) != `{"errorType":"Error","errorMessage":"boom","trace":[]}` {
		t.Fatalf("%q %v", body, trailers)
	}
}

func TestStreamOverTheCapEndsWithResponseSizeTooLarge(t *testing.T) {
	defer func(limit int64) { streamLimit = limit }(streamLimit)
	streamLimit = 10000
	g := newStreamRig(t)
	_, cbr := g.invoke("r3", 5000, true)
	rc, rbr := g.startStream(g.next())
	go func() { // an endless stream
		block := chunk(strings.Repeat("x", 4000))
		for i := 0; i < 1000; i++ {
			if _, err := io.WriteString(rc, block); err != nil {
				return
			}
		}
	}()
	r := readResponse(t, rbr)
	if r.status != 413 || r.header("Connection") != "close" {
		t.Fatalf("runtime got %q %q", r.line, r.headers)
	}
	readHead(t, cbr)
	body, trailers := readToEnd(t, cbr)
	if len(body) > 10000 || trailers["Lambkin-Outcome"] != "response_too_large" || trailers["Lambkin-Error-Type"] != "Function.ResponseSizeTooLarge" {
		t.Fatalf("%d bytes, %v", len(body), trailers)
	}
	// The agent goes on: the next invocation (buffered) is served.
	_, cbr = g.invoke("r3b", 5000, false)
	id := g.next()
	rc2, rbr2 := dial(t, g.runtime)
	send(t, rc2, "POST /2018-06-01/runtime/invocation/"+id+"/response HTTP/1.1\r\nContent-Length: 2\r\n\r\nok")
	if r := readResponse(t, rbr2); r.status != 202 {
		t.Fatalf("%q", r.line)
	}
	if r := readResponse(t, cbr); r.body != "ok" || r.header("Lambkin-Outcome") != "success" {
		t.Fatalf("%q %q", r.body, r.headers)
	}
}

func TestMalformedStreamsAreRefusedCleanly(t *testing.T) {
	for _, bad := range []string{"zz\r\nab\r\n", "11111111111111111\r\n", "0\r\n" + strings.Repeat("X-Big: "+strings.Repeat("y", 1000)+"\r\n", 80)} {
		g := newStreamRig(t)
		_, cbr := g.invoke("r4", 5000, true)
		rc, rbr := g.startStream(g.next())
		send(t, rc, chunk("fine")+bad)
		r := readResponse(t, rbr)
		if r.status != 400 || r.header("Connection") != "close" {
			t.Fatalf("%.20q: runtime got %q", bad, r.line)
		}
		readHead(t, cbr)
		body, trailers := readToEnd(t, cbr)
		if body != "fine" || trailers["Lambkin-Outcome"] != "function_error" || trailers["Lambkin-Error-Type"] != "Runtime.TruncatedResponse" {
			t.Fatalf("%.20q: %q %v", bad, body, trailers)
		}
	}
}

func TestStreamTimesOutAtTheDeadline(t *testing.T) {
	g := newStreamRig(t)
	_, cbr := g.invoke("r5", 300, true)
	rc, _ := g.startStream(g.next())
	send(t, rc, chunk("slow"))
	readHead(t, cbr)
	body, trailers := readToEnd(t, cbr)
	errorJSON, _ := base64.StdEncoding.DecodeString(trailers["Lambkin-Error-Body"])
	if body != "slow" || trailers["Lambkin-Outcome"] != "timeout" || trailers["Lambkin-Error-Type"] != "Sandbox.Timedout" ||
		!strings.Contains(string(errorJSON), "Task timed out after 0.30 seconds") {
		t.Fatalf("%q %v %s", body, trailers, errorJSON)
	}
}

func TestStreamedResponseToABufferedInvokeIsBuffered(t *testing.T) {
	g := newStreamRig(t)
	_, cbr := g.invoke("r6", 5000, false)
	rc, rbr := g.startStream(g.next())
	send(t, rc, chunk("a")+chunk("b")+"0\r\n\r\n")
	if r := readResponse(t, rbr); r.status != 202 {
		t.Fatalf("%q", r.line)
	}
	r := readResponse(t, cbr)
	if r.body != "ab" || r.header("Lambkin-Outcome") != "success" || r.header("Transfer-Encoding") != "" {
		t.Fatalf("%q %q", r.body, r.headers)
	}
}

func TestBufferedResponseToAStreamingInvokeIsOneReply(t *testing.T) {
	g := newStreamRig(t)
	_, cbr := g.invoke("r7", 5000, true)
	id := g.next()
	rc, rbr := dial(t, g.runtime)
	send(t, rc, "POST /2018-06-01/runtime/invocation/"+id+"/response HTTP/1.1\r\nContent-Length: 4\r\n\r\n\"ok\"")
	if r := readResponse(t, rbr); r.status != 202 {
		t.Fatalf("%q", r.line)
	}
	if r := readResponse(t, cbr); r.body != `"ok"` || r.header("Lambkin-Outcome") != "success" || r.header("Content-Length") != "4" {
		t.Fatalf("%q %q", r.body, r.headers)
	}
}

func TestStreamingHeaderIsFoundWithoutAllocating(t *testing.T) {
	h := fields{{"Content-Type", "x"}, {"lambda-runtime-function-response-mode", " Streaming "}}
	if !isStreamingResponse(h) || isStreamingResponse(h[:1]) {
		t.Fatal("isStreamingResponse")
	}
	if n := testing.AllocsPerRun(100, func() { isStreamingResponse(h) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
