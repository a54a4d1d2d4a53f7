package main

import (
	"testing"
	"time"
)

// Two tables as the kernel writes them: a listener on 5678 (0A), a connection to it from
// loopback (01), and one to port 9229 from the other side (local port ephemeral).
const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:162E 00000000:0000 0A 00000000:00000000 00:00000000 00000000   993        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:162E 0100007F:D431 01 00000000:00000000 00:00000000 00000000   993        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:D432 0100007F:2405 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
`

const tcp6Table = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:138D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   993        0 1 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000200110A:138D 0000000000000000FFFF00000100110A:C350 01 00000000:00000000 00:00000000 00000000   993        0 2 1 0000000000000000 20 4 30 10 -1
`

func TestEstablishedOnPort(t *testing.T) {
	cases := []struct {
		table string
		port  int
		want  bool
	}{
		{tcpTable, 5678, true},   // 0x162E: established on the local side
		{tcpTable, 9229, false},  // 0x2405 is only the remote side of a connection
		{tcpTable, 5005, false},  // nothing
		{tcp6Table, 5005, true},  // 0x138D, IPv4-mapped, as the JVM listens
		{tcp6Table, 5678, false}, // another table's port
		{"", 5678, false},
		{"header only\n", 5678, false},
		{"h\n   0: 00000000:162E 00000000:0000 0A\n", 5678, false}, // listening is not attached
	}
	for _, c := range cases {
		if got := establishedOnPort([]byte(c.table), c.port); got != c.want {
			t.Errorf("establishedOnPort(port %d) = %v, want %v", c.port, got, c.want)
		}
	}
}

func TestParseDebugPort(t *testing.T) {
	for value, want := range map[string]int{"": 0, "5678": 5678, " 9229 ": 9229, "65535": 65535} {
		if got, err := parseDebugPort(value); err != nil || got != want {
			t.Errorf("parseDebugPort(%q) = %d, %v; want %d", value, got, err, want)
		}
	}
	for _, value := range []string{"0", "65536", "-1", "port", "5678x"} {
		if _, err := parseDebugPort(value); err == nil {
			t.Errorf("parseDebugPort(%q): no error", value)
		}
	}
}

func TestDebugClockCreditsAttachedTimeOnly(t *testing.T) {
	attached := false
	clock := &debugClock{port: 5678, attached: func(int) bool { return attached }}
	t0 := time.Unix(1000, 0)
	inv := &invocation{request: invokeRequest{timeoutMs: 3000}, done: make(chan struct{})}
	inv.deliver(t0, nil)
	want := t0.Add(3 * time.Second)

	clock.credit(inv, t0.Add(time.Second)) // detached: the timeout runs
	attached = true
	clock.credit(inv, t0.Add(1200*time.Millisecond)) // attached for 200 ms
	clock.credit(inv, t0.Add(1400*time.Millisecond)) // and 200 more
	want = want.Add(400 * time.Millisecond)
	attached = false
	clock.credit(inv, t0.Add(1600*time.Millisecond)) // detached again
	if !inv.deadlineAt.Equal(want) {
		t.Fatalf("deadline %v, want %v", inv.deadlineAt.Sub(t0), want.Sub(t0))
	}

	// The next invocation counts from its own delivery, not the last check of the previous one.
	next := &invocation{request: invokeRequest{timeoutMs: 1000}, done: make(chan struct{})}
	next.deliver(t0.Add(10*time.Second), nil)
	attached = true
	clock.credit(next, t0.Add(10*time.Second+100*time.Millisecond))
	if got := next.deadlineAt.Sub(t0); got != 11*time.Second+100*time.Millisecond {
		t.Fatalf("next deadline at %v", got)
	}

	var none *debugClock // an undebugged instance: nothing moves
	none.credit(next, t0.Add(20*time.Second))
	if got := next.deadlineAt.Sub(t0); got != 11*time.Second+100*time.Millisecond {
		t.Fatalf("undebugged deadline moved to %v", got)
	}
}
