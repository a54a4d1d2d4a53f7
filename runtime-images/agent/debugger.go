package main

// A debugged instance (the control plane's debugging.py): the runtime starts with its
// language's debugger listening on debugPort and waiting for a client. The function's timeout
// is suspended while a client is connected (what someone stepping through code needs), so the
// agent asks the kernel, not the debugger: any established TCP connection on that local port
// in this network namespace (/proc/net/tcp and tcp6) counts as attached. Each debugger speaks
// its own protocol (DAP, the inspector's WebSocket, JDWP); the socket table serves all three.
// Init is not bounded by the agent at all there: the runtime waits for the client by design,
// and the control plane bounds the debug session instead.

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"
)

const debugPortVariable = "LAMBKIN_DEBUG_PORT"

// debugPoll: how often a waiting invocation looks at the socket table while debugged; also the
// granularity of the suspension (a second of attachment credits a second, to within this).
const debugPoll = 200 * time.Millisecond

// tcpEstablished is the "st" column's value for ESTABLISHED in /proc/net/tcp.
const tcpEstablished = "01"

func parseDebugPort(value string) (int, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, nil
	}
	port, err := strconv.Atoi(value)
	if err != nil || port < 1 || port > 65535 {
		return 0, errors.New(debugPortVariable + ": a TCP port (1-65535), got " + pyRepr(value))
	}
	return port, nil
}

// establishedOnPort: does a /proc/net/tcp{,6} table hold an established connection whose local
// port is `port`? Lines: "sl local_address rem_address st ...", addresses as HEXIP:HEXPORT.
func establishedOnPort(table []byte, port int) bool {
	want := strings.ToUpper(strconv.FormatInt(int64(port), 16))
	for len(want) < 4 {
		want = "0" + want
	}
	for i, line := range bytes.Split(table, []byte("\n")) {
		if i == 0 { // the header
			continue
		}
		fields := strings.Fields(string(line))
		if len(fields) < 4 || fields[3] != tcpEstablished {
			continue
		}
		local := fields[1]
		if colon := strings.LastIndexByte(local, ':'); colon >= 0 && strings.ToUpper(local[colon+1:]) == want {
			return true
		}
	}
	return false
}

// debuggerAttached reads this network namespace's socket tables.
func debuggerAttached(port int) bool {
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		table, err := os.ReadFile(path)
		if err == nil && establishedOnPort(table, port) {
			return true
		}
	}
	return false
}

// debugClock credits an invocation's deadline with the time a debugger was attached: called
// whenever its waiter wakes (at least every debugPoll), it moves the deadline on by the time
// since its last call when a client is attached now.
type debugClock struct {
	port      int
	attached  func(port int) bool
	lastCheck time.Time
}

func (d *debugClock) credit(inv *invocation, now time.Time) {
	if d == nil || !inv.delivered {
		return
	}
	since := d.lastCheck
	if since.Before(inv.deliveredAt) {
		since = inv.deliveredAt
	}
	d.lastCheck = now
	if d.attached(d.port) {
		inv.deadlineAt = inv.deadlineAt.Add(now.Sub(since))
	}
}
