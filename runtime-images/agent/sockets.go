package main

// TCP sockets without the net package: the agent listens on an IP literal and accepts, and
// each socket is an *os.File, which the runtime's poller serves as it serves net's sockets
// (blocking reads park the goroutine, deadlines and Close wake it). net alone (its resolver,
// netip, DNS messages) is a large share of a small agent's resident code.
//
// Sockets get the options net gives them: listeners SO_REUSEADDR (IPv6 ones IPV6_V6ONLY) and
// the largest backlog the kernel allows; accepted connections TCP_NODELAY and keep-alive probes
// after 15 s idle, every 15 s, 9 of them.

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type listener struct {
	f     *os.File
	rc    syscall.RawConn
	bound hostPort // the address actually bound (port 0 resolved)
	v6    bool
}

// sockConn is one accepted TCP connection.
type sockConn struct {
	f  *os.File
	rc syscall.RawConn
}

func (c *sockConn) Read(p []byte) (int, error)               { return c.f.Read(p) }
func (c *sockConn) Write(p []byte) (int, error)              { return c.f.Write(p) }
func (c *sockConn) Close() error                             { return c.f.Close() }
func (c *sockConn) SetReadDeadline(t time.Time) error        { return c.f.SetReadDeadline(t) }
func (c *sockConn) withFd(op func(fd int) error) (err error) { return control(c.rc, op) }

// CloseWrite sends our FIN (shutdown(SHUT_WR)); reading goes on.
func (c *sockConn) CloseWrite() error {
	return c.withFd(func(fd int) error { return syscall.Shutdown(fd, syscall.SHUT_WR) })
}

func control(rc syscall.RawConn, op func(fd int) error) error {
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = op(int(fd)) }); err != nil {
		return err
	}
	return opErr
}

// listen binds addr: IPv4 unless the host is an IPv6 literal (Python's server binds AF_INET:
// 0.0.0.0 is not also [::]); "localhost" is the loopback address.
func listen(addr hostPort) (*listener, error) {
	v6 := strings.IndexByte(addr.host, ':') >= 0
	network := "tcp4"
	if v6 {
		network = "tcp6"
	}
	where := "listen " + network + " " + joinHostPort(addr.host, addr.port) + ": "
	var sa syscall.Sockaddr
	family := syscall.AF_INET
	if v6 {
		ip, ok := parseIPv6(addr.host)
		if !ok {
			return nil, errors.New(where + "not an IPv6 address: " + addr.host)
		}
		sa, family = &syscall.SockaddrInet6{Port: addr.port, Addr: ip}, syscall.AF_INET6
	} else {
		host := addr.host
		if host == "localhost" {
			host = "127.0.0.1"
		}
		ip, ok := parseIPv4(host)
		if !ok {
			return nil, errors.New(where + "not an IPv4 address: " + addr.host)
		}
		sa = &syscall.SockaddrInet4{Port: addr.port, Addr: ip}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return nil, errors.New(where + "socket: " + err.Error())
	}
	step, err := "setsockopt", syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err == nil && v6 {
		err = syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1)
	}
	if err == nil {
		step, err = "bind", syscall.Bind(fd, sa)
	}
	if err == nil {
		step, err = "listen", syscall.Listen(fd, 65535) // the kernel caps it at somaxconn
	}
	if err != nil {
		syscall.Close(fd)
		return nil, errors.New(where + step + ": " + err.Error())
	}
	l := &listener{v6: v6}
	if l.f, l.rc, l.bound, err = adoptBound(fd, "tcp-listener", where); err != nil {
		return nil, err
	}
	return l, nil
}

// adoptBound: a bound socket as a file the runtime's poller drives, and the address it got
// (the port the kernel chose for port 0); the socket is closed on failure.
func adoptBound(fd int, name, where string) (*os.File, syscall.RawConn, hostPort, error) {
	bound, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, nil, hostPort{}, errors.New(where + "getsockname: " + err.Error())
	}
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, hostPort{}, err
	}
	var at hostPort
	switch b := bound.(type) {
	case *syscall.SockaddrInet4:
		at = hostPort{formatIPv4(b.Addr), b.Port}
	case *syscall.SockaddrInet6:
		at = hostPort{formatIPv6(b.Addr), b.Port}
	}
	return f, rc, at, nil
}

// accept waits for the next connection (the poller parks us while none is queued).
func (l *listener) accept() (*sockConn, error) {
	nfd := -1
	var acceptErr error
	err := l.rc.Read(func(fd uintptr) bool {
		for {
			nfd, _, acceptErr = syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			switch acceptErr {
			case syscall.EINTR, syscall.ECONNABORTED: // a connection reset while queued: the next
				continue
			case syscall.EAGAIN:
				return false // nothing queued: wait until the socket is readable
			}
			return true
		}
	})
	if err != nil {
		return nil, err // the listener was closed
	}
	if acceptErr != nil {
		return nil, acceptErr
	}
	_ = syscall.SetsockoptInt(nfd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	_ = syscall.SetsockoptInt(nfd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1)
	_ = syscall.SetsockoptInt(nfd, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 15)
	_ = syscall.SetsockoptInt(nfd, syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 15)
	_ = syscall.SetsockoptInt(nfd, syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, 9)
	c := &sockConn{f: os.NewFile(uintptr(nfd), "tcp")}
	if c.rc, err = c.f.SyscallConn(); err != nil {
		c.f.Close()
		return nil, err
	}
	return c, nil
}

func (l *listener) Close() error { return l.f.Close() }

// String: host:port as bound, e.g. "127.0.0.1:38211".
func (l *listener) String() string { return joinHostPort(l.bound.host, l.bound.port) }

// runtimeAPIAddress is what the runtime gets as AWS_LAMBDA_RUNTIME_API: the bound address,
// with an unspecified host (0.0.0.0, ::) as the loopback address.
func (l *listener) runtimeAPIAddress() string {
	host := l.bound.host
	switch host {
	case "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return joinHostPort(host, l.bound.port)
}

func joinHostPort(host string, port int) string {
	if strings.IndexByte(host, ':') >= 0 {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// parseIPv4: a dotted quad, as net.ParseIP reads one (no leading zeros).
func parseIPv4(s string) ([4]byte, bool) {
	var ip [4]byte
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return ip, false
	}
	for i, p := range parts {
		if p == "" || len(p) > 3 || !allDigits(p) || len(p) > 1 && p[0] == '0' {
			return ip, false
		}
		n, _ := strconv.Atoi(p)
		if n > 255 {
			return ip, false
		}
		ip[i] = byte(n)
	}
	return ip, true
}

// parseIPv6: an IPv6 literal ("::1", "fe80::1:2", "::ffff:10.0.0.1"); no zones.
func parseIPv6(s string) ([16]byte, bool) {
	var ip [16]byte
	head, tail, compressed := strings.Cut(s, "::")
	if strings.Contains(tail, "::") {
		return ip, false
	}
	groups := func(text string, allowV4 bool) ([]byte, bool) {
		if text == "" {
			return nil, true
		}
		var out []byte
		parts := strings.Split(text, ":")
		for i, p := range parts {
			if allowV4 && i == len(parts)-1 && strings.IndexByte(p, '.') >= 0 {
				v4, ok := parseIPv4(p)
				if !ok {
					return nil, false
				}
				out = append(out, v4[:]...)
				continue
			}
			if p == "" || len(p) > 4 {
				return nil, false
			}
			var v uint16
			for j := 0; j < len(p); j++ {
				if !isHex(p[j]) {
					return nil, false
				}
				v = v<<4 | uint16(unhex(p[j]))
			}
			out = append(out, byte(v>>8), byte(v))
		}
		return out, true
	}
	if !compressed {
		all, ok := groups(s, true)
		if !ok || len(all) != 16 {
			return ip, false
		}
		copy(ip[:], all)
		return ip, true
	}
	front, ok1 := groups(head, false)
	back, ok2 := groups(tail, true)
	if !ok1 || !ok2 || len(front)+len(back) > 14 {
		return ip, false
	}
	copy(ip[:], front)
	copy(ip[16-len(back):], back)
	return ip, true
}

func formatIPv4(ip [4]byte) string {
	return strconv.Itoa(int(ip[0])) + "." + strconv.Itoa(int(ip[1])) + "." + strconv.Itoa(int(ip[2])) + "." + strconv.Itoa(int(ip[3]))
}

// formatIPv6 writes RFC 5952's form, as net.IP.String does: lower-case hex, the longest run
// of two or more zero groups (the first of equals) as "::".
func formatIPv6(ip [16]byte) string {
	var g [8]uint16
	for i := range g {
		g[i] = uint16(ip[2*i])<<8 | uint16(ip[2*i+1])
	}
	bestAt, bestLen := -1, 1
	for i := 0; i < 8; {
		if g[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && g[j] == 0 {
			j++
		}
		if j-i > bestLen {
			bestAt, bestLen = i, j-i
		}
		i = j
	}
	var b strings.Builder
	for i := 0; i < 8; i++ {
		if i == bestAt {
			b.WriteString("::")
			i += bestLen - 1
			continue
		}
		if i > 0 && i != bestAt+bestLen {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(uint64(g[i]), 16))
	}
	return b.String()
}
