package main

// GET /logs?from=N[&follow=1]: the log file from byte N, for a control plane that cannot read
// the file (the swarm driver: the instance runs on another machine). The body is the file's
// bytes as they are (the same log events the control plane reads from a file it made), in
// chunks as they are written; with follow=1 the reply never ends on its own (the control
// plane closes it), else it ends at the file's end. The control plane asks from the offset it
// has stored, so a connection that broke resumes where it stopped, and whatever lies before
// that offset is freed (punched out of the file, which lives on a tmpfs: memory).

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	logPollInterval = 50 * time.Millisecond
	logChunkBytes   = 64 * 1024
	fallocKeepSize  = 0x01
	fallocPunchHole = 0x02
)

func (c *controlServer) serveLogs(w *response, r *request, path string) {
	from, follow, ok := parseLogQuery(path)
	if !ok {
		replyError(w, 400, "InvalidRequest", "expected GET /logs?from=<byte offset>[&follow=1]")
		return
	}
	f, err := os.OpenFile(c.logPath, os.O_RDWR, 0)
	if err != nil {
		replyError(w, 500, "LogUnreadable", err.Error())
		return
	}
	defer f.Close()
	if from > 0 { // stored by the control plane: no longer needed here
		_ = syscall.Fallocate(int(f.Fd()), fallocKeepSize|fallocPunchHole, 0, from)
	}
	w.set("Content-Type", "application/octet-stream")
	if !w.startChunked(200) {
		return
	}
	buf := make([]byte, logChunkBytes)
	ticker := time.NewTicker(logPollInterval)
	defer ticker.Stop()
	for offset := from; ; {
		n, _ := f.ReadAt(buf, offset)
		if n > 0 {
			if !w.writeChunk(buf[:n]) {
				return
			}
			offset += int64(n)
			continue
		}
		if !follow {
			w.endChunked(nil)
			return
		}
		select {
		case <-r.context().Done():
			w.closeAfter = true
			return
		case <-ticker.C:
		}
	}
}

// parseLogQuery reads "/logs?from=N" and an optional "&follow=1".
func parseLogQuery(path string) (from int64, follow bool, ok bool) {
	if !strings.HasPrefix(path, "/logs?") { // (no strings.CutPrefix: the agent builds with Go 1.19)
		return 0, false, false
	}
	rest := strings.TrimPrefix(path, "/logs?")
	seen := false
	for _, part := range strings.Split(rest, "&") {
		name, value, _ := strings.Cut(part, "=")
		switch name {
		case "from":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || !allDigits(value) {
				return 0, false, false
			}
			from, seen = n, true
		case "follow":
			follow = value == "1"
		default:
			return 0, false, false
		}
	}
	return from, follow, seen
}
