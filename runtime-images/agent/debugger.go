package main

// A debugged instance (the control plane's debugging.py): the runtime starts with its
// language's debugger listening on debugPort and waiting for a client. The function's timeout
// is suspended while a client is connected (what someone stepping through code needs), so the
// agent asks the kernel, not the debugger: an established TCP connection on that local port
// (/proc/net/tcp and tcp6) from outside the instance counts as attached, whatever the protocol
// (DAP, the inspector's WebSocket, JDWP); one the function's own code made does not.
// Init is not bounded by the agent at all there: the runtime waits for the client by design,
// and the control plane bounds the debug session instead.

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
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

// socketAddress: an address and port as /proc/net/tcp{,6} print them, IPv4 as IPv4-mapped
// IPv6, so that the two ends of a loopback connection, one in each table, compare equal. (Not
// netip: the agent keeps out of the net packages, see sockets.go.)
type socketAddress struct {
	ip   [16]byte
	port uint16
}

// tcpSocket: one row of /proc/net/tcp{,6}.
type tcpSocket struct {
	local, remote socketAddress
	established   bool
	uid           string
	inode         string
}

// parseTCPTable reads the rows "sl local_address rem_address st ... uid timeout inode ..." of
// a /proc/net/tcp{,6} table; a row it cannot read is left out.
func parseTCPTable(table []byte) []tcpSocket {
	var rows []tcpSocket
	for i, line := range bytes.Split(table, []byte("\n")) {
		fields := strings.Fields(string(line))
		if i == 0 || len(fields) < 4 { // the header, or not a row
			continue
		}
		local, okLocal := parseProcAddress(fields[1])
		remote, okRemote := parseProcAddress(fields[2])
		if !okLocal || !okRemote {
			continue
		}
		row := tcpSocket{local: local, remote: remote, established: fields[3] == tcpEstablished}
		if len(fields) > 9 {
			row.uid, row.inode = fields[7], fields[9]
		}
		rows = append(rows, row)
	}
	return rows
}

// parseProcAddress reads HEXIP:HEXPORT as the kernel prints it: the address as 32-bit words in
// host byte order (little-endian on every platform we build for), the port big-endian.
func parseProcAddress(text string) (socketAddress, bool) {
	colon := strings.LastIndexByte(text, ':')
	if colon < 0 {
		return socketAddress{}, false
	}
	raw, err := hex.DecodeString(text[:colon])
	port, errPort := strconv.ParseUint(text[colon+1:], 16, 16)
	if err != nil || errPort != nil || (len(raw) != 4 && len(raw) != 16) {
		return socketAddress{}, false
	}
	for word := 0; word < len(raw); word += 4 {
		raw[word], raw[word+1], raw[word+2], raw[word+3] = raw[word+3], raw[word+2], raw[word+1], raw[word]
	}
	address := socketAddress{port: uint16(port)}
	if len(raw) == 4 {
		address.ip[10], address.ip[11] = 0xff, 0xff
		copy(address.ip[12:], raw)
	} else {
		copy(address.ip[:], raw)
	}
	return address, true
}

// String: as net.JoinHostPort would print it (for tests and diagnostics).
func (a socketAddress) String() string {
	if bytes.Equal(a.ip[:12], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) {
		return joinHostPort(formatIPv4([4]byte{a.ip[12], a.ip[13], a.ip[14], a.ip[15]}), int(a.port))
	}
	return joinHostPort(formatIPv6(a.ip), int(a.port))
}

// instanceSockets: what the instance's processes hold. The agent reads each process's fds; where
// it may not (root without CAP_SYS_PTRACE, as in a container, cannot read another user's), it
// counts every socket of that process's user as the instance's.
type instanceSockets struct {
	inodes map[string]bool
	users  map[string]bool
}

func (o instanceSockets) holds(socket tcpSocket) bool {
	return o.inodes[socket.inode] || o.users[socket.uid]
}

// attachedFromOutside: is a client connected to `port` from outside the instance? An
// established socket on that local port counts unless its other end is a socket the instance's
// own processes hold: the function's code could otherwise connect to its own debugger and keep
// its timeout suspended for the whole debug session. A client in another network namespace
// (Docker publishes the port from the host's side) has no row here; one in the same namespace
// (the process driver runs in the host's) has a row that no process of ours holds. own is
// only asked when a peer is found.
func attachedFromOutside(rows []tcpSocket, port int, own func() instanceSockets) bool {
	var ours *instanceSockets
	for _, row := range rows {
		if !row.established || int(row.local.port) != port {
			continue
		}
		peer := -1
		for j, other := range rows {
			if other.established && other.local == row.remote && other.remote == row.local {
				peer = j
				break
			}
		}
		if peer < 0 {
			return true
		}
		if ours == nil {
			found := own()
			ours = &found
		}
		if !ours.holds(rows[peer]) {
			return true
		}
	}
	return false
}

// heldByInstance: the sockets of the agent and every process below it (the agent is a
// subreaper, so a function's double-forked children stay below it too).
func heldByInstance() instanceSockets {
	held := instanceSockets{inodes: map[string]bool{}, users: map[string]bool{}}
	for _, pid := range processTree(os.Getpid()) {
		proc := "/proc/" + strconv.Itoa(pid)
		entries, err := os.ReadDir(proc + "/fd")
		if err != nil {
			if info, statErr := os.Stat(proc); statErr == nil {
				if stat, ok := info.Sys().(*syscall.Stat_t); ok {
					held.users[strconv.FormatUint(uint64(stat.Uid), 10)] = true
				}
			}
			continue
		}
		for _, entry := range entries {
			target, err := os.Readlink(proc + "/fd/" + entry.Name())
			if err == nil && strings.HasPrefix(target, "socket:[") {
				held.inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
			}
		}
	}
	return held
}

// debuggerAttached reads this network namespace's socket tables.
func debuggerAttached(port int) bool {
	var rows []tcpSocket
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if table, err := os.ReadFile(path); err == nil {
			rows = append(rows, parseTCPTable(table)...)
		}
	}
	return attachedFromOutside(rows, port, heldByInstance)
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
