package main

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRepeatedHeadersReadAsPythonReadThem(t *testing.T) {
	h := fields{{"Lambkin-Token", "a"}, {"x-one", "v"}, {"lambkin-token", "b"}}
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

func TestCanonicalKeys(t *testing.T) {
	for in, want := range map[string]string{
		"content-length": "Content-Length", "LAMBKIN-LOG-TAIL": "Lambkin-Log-Tail",
		"Lambkin-Max-Memory-Mb": "Lambkin-Max-Memory-Mb", "x_y-z": "X_y-Z", "bad key": "bad key",
	} {
		if got := canonicalKey(in); got != want {
			t.Errorf("canonicalKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// echoHandler replies with what it saw, so the tests can check what the server parsed.
type echoHandler struct {
	mu   sync.Mutex
	seen []*request
	hook func(w *response, r *request) bool // true: handled
}

func (e *echoHandler) requests() []*request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*request(nil), e.seen...)
}

func (e *echoHandler) serve(w *response, r *request) {
	e.mu.Lock()
	e.seen = append(e.seen, r)
	e.mu.Unlock()
	if e.hook != nil && e.hook(w, r) {
		return
	}
	data, err := io.ReadAll(r.body)
	text := r.method + " " + r.requestURI + " body=" + string(data)
	if err != nil {
		text += " err=" + err.Error()
	}
	for _, f := range r.trailer {
		text += " trailer " + f.name + "=" + f.value
	}
	reply(w, 200, "text/plain", []byte(text), []header{{"x-echo", "1"}})
}

func startTestServer(t *testing.T, h handler) (*server, string, *int64) {
	t.Helper()
	l, err := listen(hostPort{"127.0.0.1", 0})
	if err != nil {
		t.Fatal(err)
	}
	var accepted int64
	s := newServer(h, &accepted)
	go func() { _ = s.serve(l) }()
	t.Cleanup(func() { s.shutdown(100 * time.Millisecond) })
	return s, l.String(), &accepted
}

type testResponse struct {
	status  int
	line    string
	headers []string // "Name: value", in order
	body    string
}

func (r testResponse) header(name string) string {
	for _, h := range r.headers {
		if k, v, _ := strings.Cut(h, ": "); strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// readResponse reads one response (Content-Length framed, or to EOF without one).
func readResponse(t *testing.T, br *bufio.Reader) testResponse {
	t.Helper()
	var r testResponse
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("status line: %v (%q)", err, line)
	}
	r.line = strings.TrimRight(line, "\r\n")
	parts := strings.SplitN(r.line, " ", 3)
	r.status, _ = strconv.Atoi(parts[1])
	length := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("header: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		r.headers = append(r.headers, line)
		if k, v, _ := strings.Cut(line, ": "); strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.Atoi(v)
		}
	}
	if r.status == 100 {
		return r
	}
	var data []byte
	if length >= 0 {
		data = make([]byte, length)
		if _, err := io.ReadFull(br, data); err != nil {
			t.Fatalf("body: %v", err)
		}
	} else {
		data, _ = io.ReadAll(br)
	}
	r.body = string(data)
	return r
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func send(t *testing.T, c net.Conn, text string) {
	t.Helper()
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatal(err)
	}
}

// expectClosed: the server closed the connection (EOF, or a reset).
func expectClosed(t *testing.T, br *bufio.Reader) {
	t.Helper()
	if n, err := br.Read(make([]byte, 1)); err == nil {
		t.Fatalf("connection still open (read %d bytes)", n)
	}
}

func TestKeepAliveServesSeveralRequestsOnOneConnection(t *testing.T) {
	_, addr, accepted := startTestServer(t, &echoHandler{})
	c, br := dial(t, addr)
	for i := 0; i < 3; i++ {
		body := strings.Repeat("x", i)
		send(t, c, "POST /p?q="+strconv.Itoa(i)+" HTTP/1.1\r\nHost: h\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
		r := readResponse(t, br)
		want := "POST /p?q=" + strconv.Itoa(i) + " body=" + body
		if r.status != 200 || r.body != want {
			t.Fatalf("request %d: %q %q", i, r.line, r.body)
		}
		// Exactly what reply() sends: sorted, canonical, no Date, no Connection.
		wantHeaders := []string{"Content-Length: " + strconv.Itoa(len(want)), "Content-Type: text/plain", "X-Echo: 1"}
		if strings.Join(r.headers, "|") != strings.Join(wantHeaders, "|") || r.line != "HTTP/1.1 200 OK" {
			t.Fatalf("request %d: %q %q", i, r.line, r.headers)
		}
	}
	if n := atomic.LoadInt64(accepted); n != 1 {
		t.Errorf("accepted = %d, want 1", n)
	}
	send(t, c, "GET /bye HTTP/1.1\r\nConnection: close\r\n\r\n")
	if r := readResponse(t, br); r.header("Connection") != "close" || r.body != "GET /bye body=" {
		t.Fatalf("close: %q %q", r.headers, r.body)
	}
	expectClosed(t, br)
}

func TestPipelinedRequestsAreServedInOrder(t *testing.T) {
	_, addr, _ := startTestServer(t, &echoHandler{})
	c, br := dial(t, addr)
	send(t, c, "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"+
		"POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\nGET /4 HTTP/1.1\r\n\r\n")
	for _, want := range []string{"GET /1 body=", "POST /2 body=abc", "POST /3 body=z", "GET /4 body="} {
		if r := readResponse(t, br); r.body != want {
			t.Fatalf("got %q, want %q", r.body, want)
		}
	}
}

func TestChunkedBodyWithTrailers(t *testing.T) {
	_, addr, _ := startTestServer(t, &echoHandler{})
	c, br := dial(t, addr)
	send(t, c, "POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n"+
		"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"+
		"Lambda-Runtime-Function-Error-Type: Function.X\r\nlambda-runtime-function-error-body:  YWJj \r\n\r\n")
	r := readResponse(t, br)
	want := "POST /r body=hello world trailer Lambda-Runtime-Function-Error-Type=Function.X trailer lambda-runtime-function-error-body=YWJj"
	if r.body != want {
		t.Fatalf("got %q", r.body)
	}
	// no trailers, a chunk split over writes, and the connection still usable
	send(t, c, "POST /s HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nab")
	time.Sleep(20 * time.Millisecond)
	send(t, c, "c\r\n0\r\n\r\n")
	if r := readResponse(t, br); r.body != "POST /s body=abc" {
		t.Fatalf("got %q", r.body)
	}
}

func TestRuntimeTrailersAsRuntimeAPIReadsThem(t *testing.T) {
	h := &echoHandler{}
	h.hook = func(w *response, r *request) bool {
		_, _ = io.ReadAll(r.body)
		reply(w, 202, "", []byte(trailerValue(r.trailer, errorTypeHeader)+"|"+trailerValue(r.trailer, errorBodyHeader)), nil)
		return true
	}
	_, addr, _ := startTestServer(t, h)
	c, br := dial(t, addr)
	send(t, c, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"+
		errorTypeHeader+": A\r\n"+errorTypeHeader+": Function.B \r\n"+errorBodyHeader+": Ym9keQ==\r\n\r\n")
	if r := readResponse(t, br); r.status != 202 || r.body != "Function.B|Ym9keQ==" {
		t.Fatalf("got %q %q", r.line, r.body)
	}
}

func TestMalformedChunkedBodyClosesTheConnection(t *testing.T) {
	_, addr, _ := startTestServer(t, &echoHandler{})
	for _, bad := range []string{"zz\r\nab\r\n0\r\n\r\n", "2\nab\r\n0\r\n\r\n", "2\r\nabXY0\r\n\r\n", "11111111111111111\r\n"} {
		c, br := dial(t, addr)
		send(t, c, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"+bad)
		r := readResponse(t, br)
		if !strings.Contains(r.body, "err=") || r.header("Connection") != "close" {
			t.Errorf("%q: %q %q", bad, r.body, r.headers)
		}
		expectClosed(t, br)
	}
}

func TestExpectContinueIsAnsweredBeforeTheBody(t *testing.T) {
	_, addr, _ := startTestServer(t, &echoHandler{})
	c, br := dial(t, addr)
	send(t, c, "POST /big HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	if r := readResponse(t, br); r.line != "HTTP/1.1 100 Continue" || len(r.headers) != 0 {
		t.Fatalf("got %q %q", r.line, r.headers)
	}
	send(t, c, "data")
	if r := readResponse(t, br); r.status != 200 || r.body != "POST /big body=data" {
		t.Fatalf("got %q %q", r.line, r.body)
	}
	// chunked too, and the connection stays usable
	send(t, c, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-Continue\r\n\r\n")
	if r := readResponse(t, br); r.status != 100 {
		t.Fatalf("got %q", r.line)
	}
	send(t, c, "2\r\nok\r\n0\r\n\r\n")
	if r := readResponse(t, br); r.body != "POST /c body=ok" {
		t.Fatalf("got %q", r.body)
	}
	// a body the handler never reads: no 100, and the connection closes after the reply
	h := &echoHandler{hook: func(w *response, r *request) bool {
		w.set("Connection", "close")
		replyError(w, 401, "Unauthorized", "no")
		return true
	}}
	_, addr2, _ := startTestServer(t, h)
	c2, br2 := dial(t, addr2)
	send(t, c2, "POST /x HTTP/1.1\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
	if r := readResponse(t, br2); r.status != 401 || r.header("Connection") != "close" {
		t.Fatalf("got %q %q", r.line, r.headers)
	}
	expectClosed(t, br2)
	// other expectations: 417
	c3, br3 := dial(t, addr)
	send(t, c3, "POST /x HTTP/1.1\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx")
	if r := readResponse(t, br3); r.status != 417 {
		t.Fatalf("got %q", r.line)
	}
}

func TestHTTP10ClosesUnlessKeepAliveIsAsked(t *testing.T) {
	_, addr, _ := startTestServer(t, &echoHandler{})
	c, br := dial(t, addr)
	send(t, c, "GET /a HTTP/1.0\r\n\r\n")
	r := readResponse(t, br)
	if r.line != "HTTP/1.0 200 OK" || r.header("Connection") != "" || r.body != "GET /a body=" {
		t.Fatalf("got %q %q %q", r.line, r.headers, r.body)
	}
	expectClosed(t, br)

	c, br = dial(t, addr)
	for i := 0; i < 2; i++ {
		send(t, c, "GET /k HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
		if r := readResponse(t, br); r.header("Connection") != "keep-alive" || r.body != "GET /k body=" {
			t.Fatalf("got %q %q", r.headers, r.body)
		}
	}
	// Transfer-Encoding means nothing in HTTP/1.0: Content-Length frames the body
	send(t, c, "POST /t HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nhi")
	if r := readResponse(t, br); r.body != "POST /t body=hi" {
		t.Fatalf("got %q", r.body)
	}
	expectClosed(t, br)
}

func TestMalformedRequestsGet400AndAClose(t *testing.T) {
	h := &echoHandler{}
	_, addr, _ := startTestServer(t, h)
	for _, bad := range []string{
		"GET\r\n\r\n",
		"GET /\r\n\r\n",
		"GET / HTTP/1.1 extra\r\n\r\n",
		"GET / FTP/1.0\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET nopath HTTP/1.1\r\n\r\n",
		"GET /a%zz HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
		"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
		"GET / HTTP/1.1\r\n continued: x\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
	} {
		c, br := dial(t, addr)
		send(t, c, bad)
		r := readResponse(t, br)
		if r.line != "HTTP/1.1 400 Bad Request" || r.header("Connection") != "close" || r.body != "400 Bad Request" {
			t.Errorf("%q: %q %q %q", bad, r.line, r.headers, r.body)
		}
		expectClosed(t, br)
	}
	c, br := dial(t, addr)
	send(t, c, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")
	if r := readResponse(t, br); r.status != 501 || r.body != "Unsupported transfer encoding" {
		t.Errorf("TE gzip: %q %q", r.line, r.body)
	}
	c, br = dial(t, addr)
	send(t, c, "GET / HTTP/2.0\r\n\r\n")
	if r := readResponse(t, br); r.status != 505 {
		t.Errorf("HTTP/2.0: %q", r.line)
	}
	if n := len(h.requests()); n != 0 {
		t.Errorf("the handler saw %d malformed requests", n)
	}
	// What is fine: empty lines before the request, folded and Latin-1 values, bare LF lines,
	// a raw target with odd (but valid) bytes kept as it came.
	c, br = dial(t, addr)
	send(t, c, "\r\nGET /x/%41?a=%zz&b=\xe9 HTTP/1.1\nX-Fold: a\n  b\nX-Latin: caf\xe9\n\n")
	r := readResponse(t, br)
	if r.status != 200 || r.body != "GET /x/%41?a=%zz&b=\xe9 body=" {
		t.Fatalf("got %q %q", r.line, r.body)
	}
	all := h.requests()
	seen := all[len(all)-1]
	if headerValue(seen.header, "x-fold") != "a b" || headerValue(seen.header, "X-Latin") != "caf\xe9" {
		t.Errorf("headers %q", seen.header)
	}
}

func TestOversizedHeadersGet431(t *testing.T) {
	_, addr, _ := startTestServer(t, &echoHandler{})
	c, br := dial(t, addr)
	big := strings.Repeat("a", maxHeaderBytes)
	go func() { _, _ = io.WriteString(c, "GET / HTTP/1.1\r\nX-Big: "+big+"\r\n\r\n") }()
	r := readResponse(t, br)
	if r.line != "HTTP/1.1 431 Request Header Fields Too Large" || r.header("Connection") != "close" {
		t.Fatalf("got %q %q", r.line, r.headers)
	}
	expectClosed(t, br)
	// many small fields count too; just under the limit is fine
	c, br = dial(t, addr)
	fieldsText := strings.Repeat("X-Many: 0123456789\r\n", maxHeaderBytes/20)
	go func() { _, _ = io.WriteString(c, "GET / HTTP/1.1\r\n"+fieldsText+"\r\n") }()
	if r := readResponse(t, br); r.status != 431 {
		t.Fatalf("got %q", r.line)
	}
	c, br = dial(t, addr)
	send(t, c, "GET / HTTP/1.1\r\nX-Long: "+strings.Repeat("b", maxHeaderBytes-100)+"\r\n\r\n")
	if r := readResponse(t, br); r.status != 200 {
		t.Fatalf("a long header under the limit: %q", r.line)
	}
}

func TestLargeBodiesAndUnreadBodies(t *testing.T) {
	h := &echoHandler{}
	h.hook = func(w *response, r *request) bool {
		if r.requestURI == "/ignore" {
			reply(w, 404, "", nil, nil)
			return true
		}
		data, _ := io.ReadAll(r.body)
		reply(w, 200, "", []byte(strconv.Itoa(len(data))), nil)
		return true
	}
	_, addr, _ := startTestServer(t, h)
	c, br := dial(t, addr)
	payload := strings.Repeat("p", 7_000_000)
	go func() {
		_, _ = io.WriteString(c, "POST /len HTTP/1.1\r\nContent-Length: "+strconv.Itoa(len(payload))+"\r\n\r\n"+payload)
	}()
	if r := readResponse(t, br); r.body != "7000000" {
		t.Fatalf("got %q", r.body)
	}
	// a small unread body is discarded and the connection kept
	send(t, c, "POST /ignore HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
	if r := readResponse(t, br); r.status != 404 || r.header("Connection") != "" {
		t.Fatalf("got %q %q", r.line, r.headers)
	}
	send(t, c, "POST /len HTTP/1.1\r\nContent-Length: 2\r\n\r\nab")
	if r := readResponse(t, br); r.body != "2" {
		t.Fatalf("got %q", r.body)
	}
	// a big unread one closes it
	go func() {
		_, _ = io.WriteString(c, "POST /ignore HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n"+strings.Repeat("q", 1000000))
	}()
	if r := readResponse(t, br); r.status != 404 || r.header("Connection") != "close" {
		t.Fatalf("got %q %q", r.line, r.headers)
	}
}

func TestDropConnectionAndAPeerThatLeaves(t *testing.T) {
	left := make(chan struct{})
	h := &echoHandler{hook: func(w *response, r *request) bool {
		switch r.requestURI {
		case "/drop":
			dropConnection()
		case "/wait":
			<-r.context().Done() // the peer went away
			close(left)
			dropConnection()
		}
		return false
	}}
	_, addr, _ := startTestServer(t, h)
	c, br := dial(t, addr)
	send(t, c, "GET /drop HTTP/1.1\r\n\r\n")
	expectClosed(t, br)

	c, _ = dial(t, addr)
	send(t, c, "GET /wait HTTP/1.1\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case <-left:
	case <-time.After(5 * time.Second):
		t.Fatal("the request's context did not end when its peer closed")
	}
}

func TestShutdownLetsAnInFlightReplyFinish(t *testing.T) {
	release := make(chan struct{})
	h := &echoHandler{hook: func(w *response, r *request) bool {
		if r.requestURI == "/slow" {
			<-release
		}
		return false
	}}
	s, addr, _ := startTestServer(t, h)
	idle, idleBr := dial(t, addr)
	send(t, idle, "GET /fast HTTP/1.1\r\n\r\n")
	readResponse(t, idleBr)
	busy, busyBr := dial(t, addr)
	send(t, busy, "GET /slow HTTP/1.1\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		s.shutdown(2 * time.Second)
		close(done)
	}()
	expectClosed(t, idleBr) // idle connections go at once
	time.Sleep(50 * time.Millisecond)
	close(release)
	if r := readResponse(t, busyBr); r.body != "GET /slow body=" {
		t.Fatalf("got %q", r.body)
	}
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("shutdown did not return")
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestShutdownGivesUpAfterItsTimeout(t *testing.T) {
	h := &echoHandler{hook: func(w *response, r *request) bool {
		time.Sleep(2 * time.Second)
		return false
	}}
	s, addr, _ := startTestServer(t, h)
	c, _ := dial(t, addr)
	send(t, c, "GET /stuck HTTP/1.1\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	s.shutdown(200 * time.Millisecond)
	if took := time.Since(start); took < 150*time.Millisecond || took > time.Second {
		t.Errorf("shutdown took %v", took)
	}
}

func TestControlServerRepliesOnTheWire(t *testing.T) {
	var shutdowns int64
	cs := &controlServer{token: []byte("t0ken"), requestShutdown: func() { atomic.AddInt64(&shutdowns, 1) }}
	_, addr, _ := startTestServer(t, cs)
	c, br := dial(t, addr)
	send(t, c, "GET /health HTTP/1.1\r\nLambkin-Token: t0ken\r\nLambkin-Token: t0ken\r\n\r\n")
	r := readResponse(t, br)
	if r.status != 401 || r.header("Connection") != "close" || !strings.Contains(r.body, `"errorType": "Unauthorized"`) {
		t.Fatalf("a repeated token: %q %q %q", r.line, r.headers, r.body)
	}
	expectClosed(t, br)
	c, br = dial(t, addr)
	send(t, c, "POST /shutdown HTTP/1.1\r\nlambkin-token: t0ken\r\nContent-Length: 2\r\n\r\n{}")
	r = readResponse(t, br)
	if r.line != "HTTP/1.1 200 OK" || r.body != `{"status": "stopping"}` ||
		strings.Join(r.headers, "|") != "Content-Length: 22|Content-Type: application/json" || atomic.LoadInt64(&shutdowns) != 1 {
		t.Fatalf("shutdown: %q %q %q (%d)", r.line, r.headers, r.body, shutdowns)
	}
}
