package main

// A small HTTP/1.1 server of our own, for both servers, on the sockets of sockets.go.
//
// Why not net/http: it (with crypto/tls, mime, net/url and the reflection they bring) is most
// of the agent's resident memory, all of it file-backed code pages; the agent needs a sliver of
// HTTP/1.1. What it keeps of net/http's behaviour on the wire: persistent connections (HTTP/1.0
// only with "Connection: keep-alive"), requests served one after another on a connection
// (pipelined ones in order), bodies by Content-Length or chunked (trailers kept, declared or
// not), "100 Continue" sent when the handler first reads a body that asked for it, header
// fields case-insensitive and kept in order with their repeats, the raw request target, bytes
// as they came (header values may be Latin-1), replies with an exact Content-Length and no
// Date, the status texts and error replies net/http writes (400/431/501/505, then close), a
// request context that ends when the peer goes away (the long-polled /next needs that), and a
// graceful shutdown. No timeouts: /next is a long poll, /invoke lasts as long as the function.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	maxHeaderBytes   = 64 << 10  // the request line and header fields; trailers get as much again
	maxChunkLine     = 4096      // a chunk-size line, extensions included
	postHandlerDrain = 256 << 10 // unread body bytes discarded to keep a connection; more: close
	readBufferBytes  = 4096
	errorLinger      = 500 * time.Millisecond // after an error reply: let it arrive before a reset
)

// -- requests -------------------------------------------------------------------------------

// field is one header (or trailer) field as it came: name and value bytes untouched, but for
// the value's surrounding blanks.
type field struct{ name, value string }

type fields []field

// values: every value of a field, in order; names compare case-insensitively (ASCII).
func (h fields) values(name string) []string {
	var out []string
	for _, f := range h {
		if asciiEqualFold(f.name, name) {
			out = append(out, f.value)
		}
	}
	return out
}

type request struct {
	method     string
	requestURI string // the request target exactly as sent, query string included
	proto11    bool   // HTTP/1.1 (or a later 1.x), else HTTP/1.0
	header     fields
	trailer    fields // set once the body has been read to its end
	body       *body
	ctx        context.Context
}

// context ends when the handler returns or the peer closes its side of the connection.
func (r *request) context() context.Context { return r.ctx }

// handler serves one request; it replies through w (or calls dropConnection).
type handler interface {
	serve(w *response, r *request)
}

// headerValue reads a request header as Python's agent did: repeated fields joined with ", "
// (so two Lambkin-Token fields never pass as one).
func headerValue(h fields, name string) string {
	return strings.Join(h.values(name), ", ")
}

// trailerValue: a repeated trailer field counts by its last value.
func trailerValue(h fields, name string) string {
	values := h.values(name)
	if len(values) == 0 {
		return ""
	}
	return strings.TrimSpace(values[len(values)-1])
}

// -- the server -----------------------------------------------------------------------------

type server struct {
	handler  handler
	accepted *int64 // connections accepted, for /health (nil: not counted)

	mu       sync.Mutex
	listener *listener
	conns    map[*conn]bool // true while idle (between requests)
	stopping bool
}

// newServer: no timeouts, and a connection counter for /health.
func newServer(h handler, accepted *int64) *server {
	return &server{handler: h, accepted: accepted, conns: map[*conn]bool{}}
}

var errServerClosed = errors.New("server closed")

// serve accepts connections until the listener is closed (shutdown closes it).
func (s *server) serve(l *listener) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		l.Close()
		return errServerClosed
	}
	s.listener = l
	s.mu.Unlock()
	var delay time.Duration
	for {
		rwc, err := l.accept()
		if err != nil {
			if s.isStopping() || errors.Is(err, os.ErrClosed) {
				return errServerClosed
			}
			// Out of descriptors and the like: back off as net/http does, then try again.
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay *= 2; delay > time.Second {
				delay = time.Second
			}
			time.Sleep(delay)
			continue
		}
		delay = 0
		if s.accepted != nil {
			atomic.AddInt64(s.accepted, 1)
		}
		c := newConn(s, rwc)
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			rwc.Close()
			return errServerClosed
		}
		s.conns[c] = true
		s.mu.Unlock()
		go c.serve()
	}
}

func (s *server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// setIdle records whether c waits for a request; false once the server is stopping.
func (s *server) setIdle(c *conn, idle bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.conns[c] = idle
	return true
}

// shutdown stops accepting, closes idle connections, and lets a reply already being prepared
// go out: it returns once every connection is gone, or after timeout.
func (s *server) shutdown(timeout time.Duration) {
	s.mu.Lock()
	s.stopping = true
	if s.listener != nil {
		s.listener.Close()
	}
	for c, idle := range s.conns {
		if idle {
			c.rwc.Close()
		}
	}
	s.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		left := len(s.conns)
		s.mu.Unlock()
		if left == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// -- one connection -------------------------------------------------------------------------

type conn struct {
	srv *server
	rwc *sockConn
	cr  *connReader
	br  *bufio.Reader
}

func newConn(s *server, rwc *sockConn) *conn {
	cr := &connReader{rwc: rwc}
	cr.cond = sync.NewCond(&cr.mu)
	return &conn{srv: s, rwc: rwc, cr: cr, br: bufio.NewReaderSize(cr, readBufferBytes)}
}

// errAbortHandler, panicked by a handler, ends the connection without a reply.
var errAbortHandler = errors.New("abort handler")

// dropConnection ends the request without any reply (a stale runtime's /next).
func dropConnection() {
	panic(errAbortHandler)
}

func (c *conn) serve() {
	defer func() {
		// errAbortHandler, or a bug in a handler: either way this connection ends, silently,
		// and the agent goes on (as net/http recovers a handler's panic).
		_ = recover()
		c.rwc.Close()
		c.srv.mu.Lock()
		delete(c.srv.conns, c)
		c.srv.mu.Unlock()
	}()
	for {
		if !c.srv.setIdle(c, true) {
			return
		}
		if _, err := c.br.Peek(1); err != nil {
			return // closed by the peer, or by shutdown
		}
		if !c.srv.setIdle(c, false) {
			return
		}
		r, err := c.readRequest()
		if err != nil {
			c.replyMalformed(err)
			return
		}
		if c.srv.isStopping() {
			return
		}
		if !c.handle(r) {
			return
		}
	}
}

// handle runs the handler; true when the connection can carry another request.
func (c *conn) handle(r *request) bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.ctx = ctx
	w := &response{c: c, req: r}
	if r.body.remainingUnknownOrNonZero() {
		r.body.onEOF = func() { c.cr.startBackgroundRead(cancel) }
	} else {
		c.cr.startBackgroundRead(cancel)
	}
	c.srv.handler.serve(w, r)
	if !w.wrote {
		w.write(200, nil)
	}
	cancel()
	c.cr.abortPendingRead()
	if w.closeAfter {
		if w.lingerOnClose {
			c.closeWriteAndWait()
		}
		return false
	}
	return true
}

// closeWriteAndWait sends our FIN, then reads (and drops) what the peer still sends for a
// moment, so an error reply is not lost to a reset caused by unread input.
func (c *conn) closeWriteAndWait() {
	_ = c.rwc.CloseWrite()
	_ = c.rwc.SetReadDeadline(time.Now().Add(errorLinger))
	_, _ = io.CopyN(io.Discard, c.rwc, 1<<20)
}

// httpError: a request we cannot serve; written as net/http writes these, then we close.
type httpError struct {
	status int
	text   string // after the status text, as in "505 HTTP Version Not Supported: ..."
}

func (e *httpError) Error() string { return e.text }

var (
	errHeaderTooLarge = &httpError{431, ""}
	errUnsupportedTE  = &httpError{501, ""}
	errMalformed      = &httpError{400, ""}
)

func (c *conn) replyMalformed(err error) {
	var he *httpError
	if !errors.As(err, &he) {
		return // the peer went away mid-request: nobody to tell
	}
	const headers = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	status := strconv.Itoa(he.status) + " " + statusText(he.status)
	var reply string
	switch {
	case he == errUnsupportedTE:
		reply = "HTTP/1.1 " + status + headers + "Unsupported transfer encoding"
	case he.text != "":
		reply = "HTTP/1.1 " + status + ": " + he.text + headers + status + ": " + he.text
	default:
		reply = "HTTP/1.1 " + status + headers + status
	}
	_, _ = io.WriteString(c.rwc, reply)
	c.closeWriteAndWait()
}

// readLine reads one line (LF or CRLF ended) within the header budget.
func (c *conn) readLine(budget *int) (string, error) {
	var long []byte
	for {
		chunk, err := c.br.ReadSlice('\n')
		if *budget -= len(chunk); *budget < 0 {
			return "", errHeaderTooLarge
		}
		if err == bufio.ErrBufferFull {
			long = append(long, chunk...)
			continue
		}
		if err != nil {
			if err == io.EOF && (len(long) > 0 || len(chunk) > 0) {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		if long != nil {
			chunk = append(long, chunk...)
		}
		line := chunk[:len(chunk)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		return string(line), nil
	}
}

// readFields reads header fields up to the empty line ending them (obsolete line folding is
// unfolded, as textproto does).
func (c *conn) readFields(budget *int) (fields, error) {
	var h fields
	for {
		line, err := c.readLine(budget)
		if err != nil {
			return nil, err
		}
		if line == "" {
			return h, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(h) == 0 {
				return nil, errMalformed
			}
			more := trimBlanks(line)
			if !validFieldValue(more) {
				return nil, errMalformed
			}
			last := &h[len(h)-1]
			if last.value == "" {
				last.value = more
			} else if more != "" {
				last.value += " " + more
			}
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return nil, errMalformed
		}
		value := trimBlanks(line[colon+1:])
		if !validFieldValue(value) {
			return nil, errMalformed
		}
		h = append(h, field{line[:colon], value})
	}
}

func (c *conn) readRequest() (*request, error) {
	budget := maxHeaderBytes
	var line string
	var err error
	for line == "" { // empty lines before a request line are ignored (RFC 9112, 2.2)
		if line, err = c.readLine(&budget); err != nil {
			return nil, err
		}
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !isToken(method) || !validTarget(target) {
		return nil, errMalformed
	}
	r := &request{method: method, requestURI: target}
	switch {
	case proto == "HTTP/1.1":
		r.proto11 = true
	case proto == "HTTP/1.0":
	case len(proto) == 8 && strings.HasPrefix(proto, "HTTP/") && isDigit(proto[5]) && proto[6] == '.' && isDigit(proto[7]):
		if proto[5] != '1' {
			return nil, &httpError{505, "unsupported protocol version"}
		}
		r.proto11 = true // HTTP/1.2 and up read as 1.1
	default:
		return nil, errMalformed
	}
	if r.header, err = c.readFields(&budget); err != nil {
		return nil, err
	}
	b := &body{c: c, req: r}
	r.body = b
	te := r.header.values("Transfer-Encoding")
	if len(te) > 0 && r.proto11 { // ignored in HTTP/1.0, as net/http does
		if len(te) != 1 || !asciiEqualFold(te[0], "chunked") {
			return nil, errUnsupportedTE
		}
		b.chunked = true
	} else if lengths := r.header.values("Content-Length"); len(lengths) > 0 {
		for _, v := range lengths[1:] {
			if v != lengths[0] {
				return nil, errMalformed
			}
		}
		if !allDigits(lengths[0]) {
			return nil, errMalformed
		}
		n, err := strconv.ParseInt(lengths[0], 10, 64)
		if err != nil {
			return nil, errMalformed
		}
		b.remaining = n
	}
	if expect := r.header.values("Expect"); len(expect) > 0 {
		if !hasToken(expect, "100-continue") {
			return nil, &httpError{417, ""}
		}
		if r.proto11 && (b.chunked || b.remaining > 0) {
			b.needContinue = true
		}
	}
	return r, nil
}

// -- request bodies -------------------------------------------------------------------------

// body reads a request's body, by Content-Length or chunked; errors are sticky.
type body struct {
	c            *conn
	req          *request
	chunked      bool
	remaining    int64 // body bytes left, or the current chunk's when chunked
	inChunk      bool  // chunked: a chunk's data (then its CRLF) is being read
	needContinue bool  // "100 Continue" is owed before the first read
	err          error // io.EOF once the whole body (and any trailers) has been read
	onEOF        func()
}

func (b *body) remainingUnknownOrNonZero() bool { return b.chunked || b.remaining > 0 }

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.needContinue {
		b.needContinue = false
		if _, err := io.WriteString(b.c.rwc, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			b.err = err
			return 0, err
		}
	}
	var n int
	var err error
	if b.chunked {
		n, err = b.readChunked(p)
	} else {
		n, err = b.readFixed(p)
	}
	if err != nil {
		b.err = err
		if err == io.EOF && b.onEOF != nil {
			b.onEOF()
		}
	}
	return n, err
}

func (b *body) readFixed(p []byte) (int, error) {
	if b.remaining == 0 {
		return 0, io.EOF
	}
	return b.readRemaining(p)
}

// readRemaining reads at most what is left of the current body (or chunk); the peer going away
// before its end is an unexpected EOF.
func (b *body) readRemaining(p []byte) (int, error) {
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.c.br.Read(p)
	b.remaining -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *body) readChunked(p []byte) (int, error) {
	if b.remaining == 0 {
		if b.inChunk { // a chunk's data is followed by CRLF
			var end [2]byte
			if _, err := io.ReadFull(b.c.br, end[:]); err != nil {
				return 0, io.ErrUnexpectedEOF
			}
			if end != [2]byte{'\r', '\n'} {
				return 0, errors.New("malformed chunked encoding")
			}
			b.inChunk = false
		}
		size, err := b.chunkSize()
		if err != nil {
			return 0, err
		}
		if size == 0 {
			budget := maxHeaderBytes
			trailer, err := b.c.readFields(&budget)
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return 0, err
			}
			b.req.trailer = trailer
			return 0, io.EOF
		}
		b.remaining, b.inChunk = size, true
	}
	return b.readRemaining(p)
}

// chunkSize reads a chunk-size line: hex digits, extensions dropped, CRLF (no bare LF).
func (b *body) chunkSize() (int64, error) {
	line, err := b.c.br.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return 0, errors.New("chunk line too long")
		}
		return 0, io.ErrUnexpectedEOF
	}
	if len(line) > maxChunkLine || len(line) < 2 || strings.IndexByte(string(line), '\r') != len(line)-2 {
		return 0, errors.New("malformed chunk line")
	}
	text := string(line[:len(line)-2])
	if semi := strings.IndexByte(text, ';'); semi >= 0 {
		text = text[:semi]
	}
	text = strings.TrimRight(text, " \t")
	if text == "" || len(text) > 16 {
		return 0, errors.New("malformed chunk size")
	}
	var n uint64
	for i := 0; i < len(text); i++ {
		if !isHex(text[i]) {
			return 0, errors.New("malformed chunk size")
		}
		n = n<<4 | uint64(unhex(text[i]))
	}
	if n > 1<<62 {
		return 0, errors.New("chunk too large")
	}
	return int64(n), nil
}

// -- background read: noticing a peer that went away ---------------------------------------

// connReader is the connection's reader under the bufio.Reader. Once a request's body is read,
// one byte is read in the background (kept for the next request) so that a peer closing the
// connection ends the request's context, as net/http does.
type connReader struct {
	rwc     *sockConn
	mu      sync.Mutex
	cond    *sync.Cond
	inRead  bool // a background read is running
	aborted bool
	hasByte bool
	byteBuf [1]byte
}

func (cr *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	cr.mu.Lock()
	if cr.hasByte {
		p[0] = cr.byteBuf[0]
		cr.hasByte = false
		cr.mu.Unlock()
		return 1, nil
	}
	cr.mu.Unlock()
	return cr.rwc.Read(p)
}

func (cr *connReader) startBackgroundRead(cancel func()) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.inRead || cr.hasByte {
		return
	}
	cr.inRead = true
	go cr.backgroundRead(cancel)
}

func (cr *connReader) backgroundRead(cancel func()) {
	n, err := cr.rwc.Read(cr.byteBuf[:])
	cr.mu.Lock()
	if n == 1 {
		cr.hasByte = true
	}
	if err != nil && !(cr.aborted && errors.Is(err, os.ErrDeadlineExceeded)) {
		cancel() // EOF or a broken connection: whoever waits for this request can stop
	}
	cr.aborted = false
	cr.inRead = false
	cr.mu.Unlock()
	cr.cond.Broadcast()
}

// abortPendingRead ends a background read and waits for it.
func (cr *connReader) abortPendingRead() {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if !cr.inRead {
		return
	}
	cr.aborted = true
	_ = cr.rwc.SetReadDeadline(time.Unix(1, 0))
	for cr.inRead {
		cr.cond.Wait()
	}
	_ = cr.rwc.SetReadDeadline(time.Time{})
}

// -- responses ------------------------------------------------------------------------------

type response struct {
	c             *conn
	req           *request
	header        []field // canonical names, one value each
	wrote         bool
	closeAfter    bool
	lingerOnClose bool // request bytes left unread: closeWriteAndWait before closing
	chunked       bool // startChunked: the body goes out in chunks, then trailers
	broken        bool // a chunked reply's write failed: the peer is gone
}

// set sets a response header (replacing one of the same name).
func (w *response) set(name, value string) {
	name = canonicalKey(name)
	for i := range w.header {
		if w.header[i].name == name {
			w.header[i].value = value
			return
		}
	}
	w.header = append(w.header, field{name, value})
}

func (w *response) get(name string) (string, bool) {
	for _, f := range w.header {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}

// write sends the status, the headers (sorted by name, as net/http writes them) and the body
// in one go; whatever the handler set, nothing is buffered after it returns.
func (w *response) write(status int, data []byte) {
	if w.wrote {
		return
	}
	w.wrote = true
	if _, ok := w.get("Content-Length"); !ok {
		w.set("Content-Length", strconv.Itoa(len(data)))
	}
	head := w.appendHead(make([]byte, 0, 256), status)
	if w.req.method == "HEAD" {
		data = nil
	}
	// One write (one segment, mostly) unless the body is big enough that copying it costs more.
	var err error
	if len(data) <= 64<<10 {
		_, err = w.c.rwc.Write(append(head, data...))
	} else if _, err = w.c.rwc.Write(head); err == nil {
		_, err = w.c.rwc.Write(data)
	}
	if err != nil {
		w.closeAfter = true
	}
}

// appendHead appends the status line and the header fields (sorted by name, as net/http
// writes them), and decides whether the connection closes after this reply.
func (w *response) appendHead(head []byte, status int) []byte {
	r, b := w.req, w.req.body
	// As net/http decides before its headers go out: an unread body whose "100 Continue" was
	// never sent closes the connection; any other unread body is discarded up to a limit.
	if b.err != io.EOF && b.remainingUnknownOrNonZero() {
		if b.needContinue {
			w.closeAfter = true
		} else if b.err != nil {
			w.closeAfter = true
		} else if _, err := io.CopyN(io.Discard, b, postHandlerDrain+1); err != io.EOF {
			w.closeAfter, w.lingerOnClose = true, true
		}
	}
	connection, connectionSet := w.get("Connection")
	if hasToken([]string{connection}, "close") {
		w.closeAfter = true
	}
	requested := r.header.values("Connection")
	keepAlive10 := !r.proto11 && hasToken(requested, "keep-alive")
	extra := ""
	switch {
	case keepAlive10:
		if !connectionSet {
			extra = "keep-alive"
		}
	case !r.proto11 || hasToken(requested, "close"):
		w.closeAfter = true
	}
	if w.closeAfter && !hasToken([]string{connection}, "close") {
		w.header = withoutConnection(w.header)
		extra = ""
		if r.proto11 {
			extra = "close"
		}
	}
	sortFields(w.header)
	if r.proto11 {
		head = append(head, "HTTP/1.1 "...)
	} else {
		head = append(head, "HTTP/1.0 "...)
	}
	if text := statusText(status); text != "" {
		head = strconv.AppendInt(head, int64(status), 10)
		head = append(head, ' ')
		head = append(head, text...)
	} else {
		code := strconv.Itoa(status)
		head = append(head, code+" status code "+code...)
	}
	head = append(head, "\r\n"...)
	for _, f := range w.header {
		head = append(head, f.name...)
		head = append(head, ": "...)
		head = append(head, headerText(f.value)...)
		head = append(head, "\r\n"...)
	}
	if extra != "" {
		head = append(head, "Connection: "+extra+"\r\n"...)
	}
	return append(head, "\r\n"...)
}

// -- chunked replies (the control server's streamed invocations) -----------------------------

// startChunked sends the status and headers of a reply whose body follows in chunks, as they
// come (writeChunk), then trailers (endChunked). An HTTP/1.0 peer gets the body unframed and
// the connection closed after it, without trailers. false: the peer is gone.
func (w *response) startChunked(status int) bool {
	if w.wrote {
		return false
	}
	w.wrote = true
	w.header = withoutField(w.header, "Content-Length")
	if w.req.proto11 {
		w.chunked = true
		w.set("Transfer-Encoding", "chunked")
	} else {
		w.set("Connection", "close")
	}
	head := w.appendHead(make([]byte, 0, 512), status)
	return w.send(head)
}

// writeChunk sends one chunk (size line, data and CRLF in one write); an empty p sends nothing
// (a zero-size chunk would end the body).
func (w *response) writeChunk(p []byte) bool {
	if len(p) == 0 || w.broken {
		return !w.broken
	}
	if !w.chunked {
		return w.send(p)
	}
	frame := make([]byte, 0, len(p)+20)
	frame = strconv.AppendInt(frame, int64(len(p)), 16)
	frame = append(frame, "\r\n"...)
	frame = append(frame, p...)
	return w.send(append(frame, "\r\n"...))
}

// endChunked sends the last chunk and the trailer fields (values as headerText makes them).
func (w *response) endChunked(trailers []header) bool {
	if w.broken {
		return false
	}
	if !w.chunked {
		w.closeAfter = true
		return true
	}
	end := make([]byte, 0, 1024)
	end = append(end, "0\r\n"...)
	for _, t := range trailers {
		end = append(end, canonicalKey(t.name)...)
		end = append(end, ": "...)
		end = append(end, headerText(t.value)...)
		end = append(end, "\r\n"...)
	}
	return w.send(append(end, "\r\n"...))
}

func (w *response) send(p []byte) bool {
	if _, err := w.c.rwc.Write(p); err != nil {
		w.broken, w.closeAfter = true, true
	}
	return !w.broken
}

// reply writes status, headers and body with an exact Content-Length and no Date header.
func reply(w *response, status int, contentType string, data []byte, headers []header) {
	if contentType != "" {
		w.set("Content-Type", contentType)
	}
	w.set("Content-Length", strconv.Itoa(len(data)))
	for _, kv := range headers {
		w.set(kv.name, kv.value)
	}
	w.write(status, data)
}

// replyError: {"errorMessage": ..., "errorType": ...} as Python's json.dumps writes it.
func replyError(w *response, status int, errorType, message string) {
	data := `{"errorMessage": ` + pyString(message) + `, "errorType": ` + pyString(errorType) + `}`
	reply(w, status, "application/json", []byte(data), nil)
}

func withoutConnection(h []field) []field {
	return withoutField(h, "Connection")
}

func withoutField(h []field, name string) []field {
	out := h[:0]
	for _, f := range h {
		if f.name != name {
			out = append(out, f)
		}
	}
	return out
}

// sortFields: insertion sort by name (a handful of fields).
func sortFields(h []field) {
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && h[j].name < h[j-1].name; j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}

// headerText: a value as net/http writes it: CR and LF become spaces, blanks trimmed.
func headerText(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
	}
	return strings.Trim(v, " \t")
}

func statusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 200:
		return "OK"
	case 202:
		return "Accepted"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 409:
		return "Conflict"
	case 413:
		return "Request Entity Too Large"
	case 417:
		return "Expectation Failed"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return ""
}

// -- tokens and text ------------------------------------------------------------------------

// isTokenByte: tchar of RFC 9110 (method and field names).
func isTokenByte(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	return s != "" && allBytes(s, isTokenByte)
}

// validFieldValue: no control characters but tab (bytes 0x80 and up are fine: Latin-1).
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validTarget is what net/url.ParseRequestURI accepts, roughly: origin form (its path's
// %-escapes well formed), "*", or an absolute URI; never a control character.
func validTarget(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] == 0x7f {
			return false
		}
	}
	if t == "*" {
		return true
	}
	if t[0] != '/' {
		colon := strings.IndexByte(t, ':')
		if colon <= 0 || !(t[0] >= 'a' && t[0] <= 'z' || t[0] >= 'A' && t[0] <= 'Z') {
			return false
		}
		for i := 1; i < colon; i++ {
			if c := t[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
				return false
			}
		}
		return true
	}
	path, _, _ := strings.Cut(t, "?")
	for i := 0; i < len(path); i++ {
		if path[i] == '%' && (i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2])) {
			return false
		}
	}
	return true
}

func trimBlanks(s string) string { return strings.Trim(s, " \t") }

// hasToken: whether a comma-separated list (in any of the values) holds token, any case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if asciiEqualFold(trimBlanks(part), token) {
				return true
			}
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// canonicalKey is http.CanonicalHeaderKey: "lambkin-log-tail" -> "Lambkin-Log-Tail"; a name
// that is not a token stays as it is.
func canonicalKey(s string) string {
	if !isToken(s) {
		return s
	}
	b := []byte(s)
	upper := true
	for i, c := range b {
		if upper && c >= 'a' && c <= 'z' {
			b[i] = c - ('a' - 'A')
		} else if !upper && c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
	return string(b)
}

// constantTimeEqual is subtle.ConstantTimeCompare == 1: the time taken depends on the lengths
// only, never on where the bytes differ.
func constantTimeEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
