package main

// The X-Ray daemon's address, inside the instance: the X-Ray SDKs send each finished segment
// or subsegment as one UDP datagram to AWS_XRAY_DAEMON_ADDRESS (on Lambda 169.254.79.129:2000,
// where Lambda's own daemon listens), `{"format": "json", "version": 1}\n` then the document.
// The agent listens there and appends each document to its log as an event of its own kind
// (`"k":"xray"`), tagged with the invocation in flight; the control plane's log writer hands
// those to the tracer, which folds them into that invocation's trace (orchestrator/tracing.py, xray_segments.py).
// So segments travel the durable channel the logs already use, and the runtime needs no route
// to the control plane: nothing it can reach is added.
//
// What is forwarded is bounded: one datagram is at most 64 KiB (the daemon's limit), at most
// maxSegmentsPerInvocation documents per invocation (a notice says when more were dropped), and
// nothing outside an invocation (there is no trace then; the SDKs log "context missing"). A
// slow log file blocks the reader, and the kernel drops what overflows the socket's buffer, as
// it does in front of AWS's daemon: a flood costs the function its own segments, never memory.

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
)

const (
	xrayMaxDatagram          = 64 * 1024
	maxSegmentsPerInvocation = 1000
	xrayDefaultAddr          = "127.0.0.1:2000"
	xrayContextMissing       = "LOG_ERROR" // Lambda's value: the SDK logs instead of throwing
)

// The daemon protocol's header line, compared without its blanks: the SDKs write
// `{"format": "json", "version": 1}` (Python, Node.js, Java, Go, .NET, Ruby alike).
var xrayHeaders = [][]byte{[]byte(`{"format":"json","version":1}`), []byte(`{"version":1,"format":"json"}`)}

type udpSocket struct {
	f     *os.File
	rc    syscall.RawConn
	bound hostPort
	buf   []byte // one datagram; used only under the capture lock
}

// listenUDP binds an IPv4 UDP socket (the X-Ray SDKs resolve the address as IPv4).
func listenUDP(addr hostPort) (*udpSocket, error) {
	where := "listen udp4 " + joinHostPort(addr.host, addr.port) + ": "
	host := addr.host
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, ok := parseIPv4(host)
	if !ok {
		return nil, errors.New(where + "not an IPv4 address: " + addr.host)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, errors.New(where + "socket: " + err.Error())
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: addr.port, Addr: ip}); err != nil {
		syscall.Close(fd)
		return nil, errors.New(where + "bind: " + err.Error())
	}
	s := &udpSocket{buf: make([]byte, xrayMaxDatagram+1)}
	if s.f, s.rc, s.bound, err = adoptBound(fd, "udp", where); err != nil {
		return nil, err
	}
	return s, nil
}

// readPendingLocked hands every datagram already queued to the log (capture lock held); false
// once none is left. Reading only under the capture lock is what lets drain() account every
// datagram the runtime sent before its response to that invocation, as with its printed lines.
func (s *udpSocket) readPendingLocked(fd int, l *logCapture) {
	for {
		n, _, err := syscall.Recvfrom(fd, s.buf, syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return
		case err != nil || n > xrayMaxDatagram:
			continue // an error on one datagram, or one truncated: not a whole document
		}
		if document := xrayDocument(s.buf[:n]); document != nil {
			l.writeSegmentLocked(document)
		}
	}
}

// serve forwards segment documents to the log until the socket is closed.
func (s *udpSocket) serve(l *logCapture) {
	_ = s.rc.Read(func(fd uintptr) bool {
		l.mu.Lock()
		s.readPendingLocked(int(fd), l)
		l.mu.Unlock()
		return false // wait until the socket is readable again
	})
}

func (s *udpSocket) Close() error { return s.f.Close() }

// xrayDocument: the segment document in one daemon datagram, or nil when the datagram is not
// one (no header line, another format, nothing after the header).
func xrayDocument(datagram []byte) []byte {
	cut := bytes.IndexByte(datagram, '\n')
	if cut < 0 {
		return nil
	}
	header := compactBlanks(datagram[:cut])
	known := false
	for _, h := range xrayHeaders {
		known = known || bytes.Equal(header, h)
	}
	document := bytes.TrimSpace(datagram[cut+1:])
	if !known || len(document) == 0 {
		return nil
	}
	return document
}

func compactBlanks(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			out = append(out, c)
		}
	}
	return out
}

// xrayEvent: one segment document as a log event of kind "xray", one line (the document's own
// line breaks are escaped with the rest of the string).
func xrayEvent(seq int64, stampMs int64, context string, document []byte) []byte {
	out := append([]byte(`{"s":`), strconv.FormatInt(seq, 10)...)
	out = append(out, `,"t":`...)
	out = strconv.AppendInt(out, stampMs, 10)
	out = append(out, ","...)
	out = append(out, context...)
	out = append(out, `,"k":"xray","m":`...)
	out = appendPyRunes(out, []rune(decodeUTF8Replace(document)))
	return append(out, "}\n"...)
}

// writeSegmentLocked appends one document to the log, tagged with the invocation in flight;
// none is kept outside an invocation or past the invocation's budget.
func (l *logCapture) writeSegmentLocked(document []byte) {
	if l.requestID == "" || l.outBroken {
		return
	}
	l.segments++
	if l.segments > maxSegmentsPerInvocation {
		if l.segments == maxSegmentsPerInvocation+1 {
			l.emitLocked([]byte("[lambkin] X-Ray: more than "+strconv.Itoa(maxSegmentsPerInvocation)+
				" segments in one invocation; the rest of this invocation's are dropped\n"), true)
		}
		return
	}
	l.seq++
	l.writeLocked(xrayEvent(l.seq, time.Now().UnixMilli(), l.context, document))
}

// drainSegmentsLocked: the datagrams queued so far, before the invocation's context ends.
func (l *logCapture) drainSegmentsLocked() {
	if l.xray != nil {
		_ = control(l.xray.rc, func(fd int) error { l.xray.readPendingLocked(fd, l); return nil })
	}
}
