package main

// The runtime's output: every line goes to the agent's log (the file LAMBKIN_LOG_PATH names,
// else stdout) as one JSON log event, and the current segment is kept (as plain text) for the
// 4 KB log tail. Also the START / END / REPORT lines in AWS's format.
//
// Events are `{"s":seq,"t":epoch_ms,"r":request_id,"p":phase,"m":message}`: `s` counts from 1
// per agent and never repeats, so the shipper can deliver at least once and drop duplicates.
// The agent's own records (START, END, REPORT, INIT_REPORT, its notices) also carry
// `"k":"platform"`; nothing the runtime prints ever does, however it is worded, so the
// platform's records cannot be forged from inside (the text stays AWS's, forged copies too).
// Lines are split on "\n" only, and a line longer than maxLineBytes is split, never dropped.
// A blocked stdout blocks the pipe reader, which blocks the runtime: back-pressure, no loss.
//
// The runtime's stdout and stderr share one pipe. Its reader reads only while holding the
// capture lock, and drain() reads whatever is left under the same lock, so once a runtime has
// printed a line and then posted its response, drain() accounts the line to that invocation:
// no byte is ever in limbo between a reader and the segment.

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	tailBytes    = 4096
	maxLineBytes = 256 * 1024
	readChunk    = 65536
)

func startLine(requestID, version string) []byte {
	return []byte("START RequestId: " + requestID + " Version: " + version + "\n")
}

func endLine(requestID string) []byte {
	return []byte("END RequestId: " + requestID + "\n")
}

func reportLine(requestID string, durationMs float64, memorySizeMB int, maxMemoryMB int64, initDurationMs *float64) []byte {
	text := "REPORT RequestId: " + requestID + "\tDuration: " + pyFixed(durationMs, 2) + " ms\tBilled Duration: " +
		strconv.FormatInt(ceilMs(durationMs), 10) + " ms\tMemory Size: " + strconv.Itoa(memorySizeMB) +
		" MB\tMax Memory Used: " + strconv.FormatInt(maxMemoryMB, 10) + " MB"
	if initDurationMs != nil {
		text += "\tInit Duration: " + pyFixed(*initDurationMs, 2) + " ms"
	}
	return []byte(text + "\n")
}

func initReportLine(initMs float64, status, errorType string) []byte {
	text := "INIT_REPORT Init Duration: " + pyFixed(initMs, 2) + " ms\tPhase: init\tStatus: " + status
	if errorType != "" {
		text += "\tError Type: " + errorType
	}
	return []byte(text + "\n")
}

// The platform's records in JSON log format (LoggingConfig.LogFormat JSON), as Lambda writes
// them: `{"time","type","record"}`, one line each, START's and REPORT's information in
// `platform.start` and `platform.report` (END has none of its own), INIT_REPORT's in
// `platform.initReport`. Fields in Lambda's order.

func jsonTime(now time.Time) string {
	now = now.UTC()
	ms := strconv.Itoa(1000 + now.Nanosecond()/1e6)
	return now.Format("2006-01-02T15:04:05") + "." + ms[1:] + "Z"
}

func platformRecord(kind string, now time.Time, record string) []byte {
	return []byte(`{"time":"` + jsonTime(now) + `","type":"` + kind + `","record":` + record + "}\n")
}

func startRecord(requestID, version string, now time.Time) []byte {
	return platformRecord("platform.start", now,
		`{"requestId":`+pyString(requestID)+`,"version":`+pyString(version)+`}`)
}

// reportStatus: Lambda's status words for how an invocation ended.
func reportStatus(o outcome) string {
	switch o {
	case outcomeSuccess:
		return "success"
	case outcomeTimeout:
		return "timeout"
	default:
		return "error"
	}
}

func reportRecord(requestID string, durationMs float64, memorySizeMB int, maxMemoryMB int64,
	initDurationMs *float64, status, errorType string, now time.Time) []byte {
	metrics := `{"durationMs":` + pyFixed(durationMs, 3) + `,"billedDurationMs":` +
		strconv.FormatInt(ceilMs(durationMs), 10) + `,"memorySizeMB":` + strconv.Itoa(memorySizeMB) +
		`,"maxMemoryUsedMB":` + strconv.FormatInt(maxMemoryMB, 10)
	if initDurationMs != nil {
		metrics += `,"initDurationMs":` + pyFixed(*initDurationMs, 3)
	}
	record := `{"requestId":` + pyString(requestID) + `,"metrics":` + metrics + `},"status":"` + status + `"`
	if errorType != "" {
		record += `,"errorType":` + pyString(errorType)
	}
	return platformRecord("platform.report", now, record+"}")
}

func initReportRecord(initMs float64, initType, status, errorType string, now time.Time) []byte {
	record := `{"initializationType":` + pyString(initType) + `,"phase":"init","status":"` + status + `"`
	if errorType != "" {
		record += `,"errorType":` + pyString(errorType)
	}
	record += `,"metrics":{"durationMs":` + pyFixed(initMs, 3) + `}}`
	return platformRecord("platform.initReport", now, record)
}

// timestampedLine: `2026-11-27T13:06:32.563Z <id> <message>`, as Lambda prints its notices.
func timestampedLine(requestID, message string, now time.Time) []byte {
	now = now.UTC()
	ms := strconv.Itoa(1000 + now.Nanosecond()/1e6) // "1563": the milliseconds, zero-padded
	stamp := now.Format("2006-01-02T15:04:05") + "." + ms[1:] + "Z"
	return []byte(stamp + " " + requestID + " " + message + "\n")
}

// encodeEvents turns complete lines of text into one numbered JSON event line each.
func encodeEvents(data []byte, firstSeq int64, stampMs int64, context string, platform bool) ([]byte, int64) {
	lines := bytes.Split(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	head := `,"t":` + strconv.FormatInt(stampMs, 10) + "," + context
	if platform {
		head += `,"k":"platform"`
	}
	head += `,"m":`
	seq := firstSeq
	var out []byte
	for _, line := range lines {
		seq++
		out = append(out, `{"s":`...)
		out = strconv.AppendInt(out, seq, 10)
		out = append(out, head...)
		out = appendPyRunes(out, []rune(decodeUTF8Replace(line)))
		out = append(out, "}\n"...)
	}
	return out, seq
}

func eventContext(requestID, phase string) string {
	return `"r":` + pyString(requestID) + `,"p":` + pyString(phase)
}

type logCapture struct {
	mu        sync.Mutex
	out       *os.File
	outBroken bool // the log cannot be written any more (nobody reads the pipe, disk gone)
	segment   []byte
	collect   bool
	seq       int64
	context   string
	requestID string // the invocation in flight ("" during init): X-Ray segments need one
	segments  int    // X-Ray documents forwarded for it (xray.go)
	xray      *udpSocket
	dropped   int64 // lines lost because stdout is gone
}

func newLogCapture(out *os.File) *logCapture {
	return &logCapture{out: out, context: eventContext("", "init")}
}

// setContext tags the events that follow with this request id and phase.
func (l *logCapture) setContext(requestID, phase string) {
	l.mu.Lock()
	l.context = eventContext(requestID, phase)
	if requestID != l.requestID {
		l.requestID, l.segments = requestID, 0
	}
	l.mu.Unlock()
}

// emitLocked: `platform` for the agent's own records, false for whatever the runtime printed.
func (l *logCapture) emitLocked(data []byte, platform bool) {
	if l.collect {
		l.segment = append(l.segment, data...)
		if len(l.segment) > 2*tailBytes {
			l.segment = append(l.segment[:0:0], l.segment[len(l.segment)-tailBytes:]...)
		}
	}
	if l.outBroken {
		l.dropped += int64(bytes.Count(data, []byte("\n")))
		return
	}
	encoded, seq := encodeEvents(data, l.seq, time.Now().UnixMilli(), l.context, platform)
	l.seq = seq
	l.writeLocked(encoded)
}

func (l *logCapture) writeLocked(data []byte) {
	for len(data) > 0 {
		n, err := l.out.Write(data)
		data = data[n:]
		if err != nil {
			l.outBroken = true // nobody reads our stdout any more; keep the runtime going
			l.dropped += int64(bytes.Count(data, []byte("\n")))
			return
		}
	}
}

// write: the agent's own records (START, END, REPORT, notices): the log and the segment.
func (l *logCapture) write(data []byte) {
	l.mu.Lock()
	l.emitLocked(data, true)
	l.mu.Unlock()
}

// drain accounts everything the runtime has written so far (unterminated lines included).
func (l *logCapture) drain(readers []*pipeReader) {
	l.mu.Lock()
	for _, r := range readers {
		r.readAvailableLocked()
		r.flushPartialLocked()
	}
	l.drainSegmentsLocked()
	l.mu.Unlock()
}

func (l *logCapture) startSegment() {
	l.mu.Lock()
	l.segment, l.collect = nil, true
	l.mu.Unlock()
}

// takeSegment stops collecting; the last tailBytes of what was collected.
func (l *logCapture) takeSegment() []byte {
	l.mu.Lock()
	segment := l.segment
	l.segment, l.collect = nil, false
	l.mu.Unlock()
	if len(segment) > tailBytes {
		segment = segment[len(segment)-tailBytes:]
	}
	return segment
}

// pipeReader reads one runtime pipe (a non-blocking fd) into the capture, line by line. The
// fd is an *os.File on the runtime's poller, waited on outside the lock (no thread sits in a
// blocking call for it) and read only under it; only the reader's own goroutine closes it, so
// drain() never reads a reused descriptor number.
type pipeReader struct {
	fd      int
	file    *os.File
	capture *logCapture
	partial []byte
	buf     []byte // one read buffer for the pipe's lifetime
	eof     bool
}

func (l *logCapture) attach(fd int) *pipeReader {
	_ = syscall.SetNonblock(fd, true)
	r := &pipeReader{fd: fd, capture: l, file: os.NewFile(uintptr(fd), "runtime-output")}
	go r.run()
	return r
}

func (r *pipeReader) run() {
	rc, err := r.file.SyscallConn()
	if err == nil {
		// Called at once, then each time the pipe turns readable (or its writers are gone),
		// until it reports EOF; each call reads until the pipe is empty.
		err = rc.Read(func(uintptr) bool {
			r.capture.mu.Lock()
			defer r.capture.mu.Unlock()
			r.readAvailableLocked()
			return r.eof
		})
	}
	for err != nil { // not pollable after all (never seen with a pipe): look every 10 ms
		r.capture.mu.Lock()
		r.readAvailableLocked()
		eof := r.eof
		r.capture.mu.Unlock()
		if eof {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.capture.mu.Lock()
	r.file.Close()
	r.capture.mu.Unlock()
}

// readAvailableLocked consumes everything the pipe holds right now (capture lock held).
func (r *pipeReader) readAvailableLocked() {
	if r.buf == nil {
		r.buf = make([]byte, readChunk)
	}
	buf := r.buf
	for !r.eof {
		n, err := syscall.Read(r.fd, buf)
		if err == syscall.EAGAIN {
			return
		}
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			r.flushPartialLocked()
			r.eof = true
			return
		}
		r.feedLocked(buf[:n])
		if n < readChunk {
			return
		}
	}
}

func (r *pipeReader) feedLocked(data []byte) {
	buffer := append(r.partial, data...)
	if cut := bytes.LastIndexByte(buffer, '\n') + 1; cut > 0 {
		r.capture.emitLocked(buffer[:cut], false)
		buffer = buffer[cut:]
	}
	for len(buffer) >= maxLineBytes {
		line := append(append([]byte(nil), buffer[:maxLineBytes]...), '\n')
		r.capture.emitLocked(line, false)
		buffer = buffer[maxLineBytes:]
	}
	r.partial = append([]byte(nil), buffer...)
}

// flushPartialLocked: an unterminated last line counts as a line (a print before exit).
func (r *pipeReader) flushPartialLocked() {
	if len(r.partial) > 0 {
		r.capture.emitLocked(append(r.partial, '\n'), false)
		r.partial = nil
	}
}
