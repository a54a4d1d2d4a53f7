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

func TestParseProcAddress(t *testing.T) {
	cases := map[string]string{
		"0100007F:162E":                         "127.0.0.1:5678",
		"0200110A:C350":                         "10.17.0.2:50000",
		"0000000000000000FFFF00000200110A:138D": "10.17.0.2:5005", // IPv4-mapped: unmapped
		"00000000000000000000000001000000:1F90": "[::1]:8080",
	}
	for text, want := range cases {
		got, ok := parseProcAddress(text)
		if !ok || got.String() != want {
			t.Errorf("parseProcAddress(%q) = %v, %v; want %s", text, got, ok, want)
		}
	}
	for _, text := range []string{"", "0100007F", "0100007F:", "01007F:162E", "zz00007F:162E", "0100007F:1162E"} {
		if _, ok := parseProcAddress(text); ok {
			t.Errorf("parseProcAddress(%q) accepted", text)
		}
	}
}

func TestAttachedFromOutside(t *testing.T) {
	rows := append(parseTCPTable([]byte(tcpTable)), parseTCPTable([]byte(tcp6Table))...)
	if len(rows) != 5 || rows[1].inode != "2" || rows[1].uid != "993" || !rows[1].established || rows[0].established {
		t.Fatalf("parsed %+v", rows)
	}
	// A self-connection: the client's end (inode 7) is in the table too.
	self := parseTCPTable([]byte("h\n" +
		"   0: 0100007F:162E 0100007F:A000 01 0:0 0:0 0 993 0 6 1\n" +
		"   1: 0100007F:A000 0100007F:162E 01 0:0 0:0 0 993 0 7 1\n"))
	none := func() instanceSockets { return instanceSockets{} }
	ours := func() instanceSockets { return instanceSockets{inodes: map[string]bool{"6": true, "7": true}} }
	unreadable := func() instanceSockets { return instanceSockets{users: map[string]bool{"993": true}} }
	otherUser := func() instanceSockets { return instanceSockets{users: map[string]bool{"1000": true}} }
	cases := []struct {
		name string
		rows []tcpSocket
		port int
		own  func() instanceSockets
		want bool
	}{
		{"a client from another namespace (no peer row)", rows, 5678, ours, true},
		{"IPv4-mapped, as the JVM listens", rows, 5005, ours, true},
		{"only the remote side of a connection is on 9229", rows, 9229, ours, false},
		{"nothing on the port", rows, 5006, ours, false},
		{"the function connected to its own debugger", self, 5678, ours, false},
		{"a client in this namespace that is not ours", self, 5678, none, true},
		{"ours by its user, where the agent may not read the fds", self, 5678, unreadable, false},
		{"another user's client, fds unreadable", self, 5678, otherUser, true},
		{"listening is not attached", parseTCPTable([]byte("h\n   0: 00000000:162E 00000000:0000 0A\n")), 5678, none, false},
		{"an empty table", nil, 5678, none, false},
	}
	for _, c := range cases {
		if got := attachedFromOutside(c.rows, c.port, c.own); got != c.want {
			t.Errorf("%s: attachedFromOutside = %v, want %v", c.name, got, c.want)
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
