package main

// The swarm driver's gateway (`lambkin-agent gateway`): how the control plane, outside the
// swarm, reaches agents on overlay networks (orchestrator/drivers/swarm_gateways.py starts
// one per node, attached to the overlay network of every instance there; tunnel.py is the
// other end). It listens on its bridge address only and serves HTTP CONNECT: the control plane
// asks for `<instance address>:9002`, the gateway connects there and copies bytes both ways.
//
// It is this binary, not a separate program, because the agent is already in every image the
// nodes pull: a gateway can start from whatever runtime's image a node has. And it is Go for
// the hop's cost: a warm invocation crosses it twice.
//
// What it refuses: a request without the gateway's token (instances can reach the node's
// address too, through their node's NAT, so the port alone proves nothing); a target that is
// not an IPv4 address in the instances' address pool, or not the agents' control port (nothing
// else of the cluster, the host or the registry can be reached through it); more than
// gatewayMaxPending connections that have not shown the token yet (an instance on the node
// must not fill the gateway with idle handshakes).
//
// Sockets as in sockets.go, without the net package.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	gatewayTokenHeader   = "lambkin-gateway-token"
	gatewayMaxHeadBytes  = 4096
	gatewayMaxPending    = 64
	gatewayHeadTimeout   = 5 * time.Second
	gatewayDialTimeout   = 5 * time.Second
	gatewayCopyBytes     = 256 * 1024
	gatewayEstablished   = "HTTP/1.1 200 Connection Established\r\n\r\n"
	gatewayTokenVariable = "LAMBKIN_GATEWAY_TOKEN"
)

// ipv4Network: an IPv4 CIDR block.
type ipv4Network struct {
	ip   uint32
	mask uint32
}

func parseIPv4Network(text string) (ipv4Network, error) {
	address, bits, found := strings.Cut(strings.TrimSpace(text), "/")
	ip, ok := parseIPv4(address)
	prefix, err := strconv.Atoi(bits)
	if !found || !ok || err != nil || prefix < 0 || prefix > 32 {
		return ipv4Network{}, errors.New("not an IPv4 network (a.b.c.d/n): " + pyRepr(text))
	}
	mask := uint32(0)
	if prefix > 0 {
		mask = ^uint32(0) << (32 - prefix)
	}
	return ipv4Network{ip: ipv4Number(ip) & mask, mask: mask}, nil
}

func ipv4Number(ip [4]byte) uint32 {
	return uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
}

func (n ipv4Network) contains(ip [4]byte) bool { return ipv4Number(ip)&n.mask == n.ip }

// gatewayPolicy: what the gateway lets through.
type gatewayPolicy struct {
	token     []byte
	allowed   []ipv4Network
	agentPort int
	relaysAPI bool // whether instances may call the platform's API through it (apirelay.go)
	apiPort   int  // where (0: a port the kernel chooses)
}

// target: the address a CONNECT head (without its blank line) asks for, or the status line
// that refuses it; port 0 with no refusal is the control plane's `ACCEPT api`: it offers a
// connection for an instance's call to the platform's API (apirelay.go).
func (p gatewayPolicy) target(head []byte) (ip [4]byte, port int, refusal string) {
	lines := bytes.Split(head, []byte("\r\n"))
	parts := bytes.Split(lines[0], []byte(" "))
	accept := len(parts) == 3 && string(parts[0]) == "ACCEPT" && string(parts[1]) == "api"
	if len(parts) != 3 || (string(parts[0]) != "CONNECT" && !accept) {
		return ip, 0, "405 Method Not Allowed"
	}
	var offered []byte
	for _, line := range lines[1:] {
		name, value, _ := bytes.Cut(line, []byte(":"))
		if strings.EqualFold(string(bytes.TrimSpace(name)), gatewayTokenHeader) {
			offered = bytes.TrimSpace(value)
		}
	}
	if len(p.token) == 0 || !constantTimeEqual(offered, p.token) {
		return ip, 0, "407 Proxy Authentication Required"
	}
	if accept {
		return ip, 0, ""
	}
	authority := string(parts[1])
	colon := strings.LastIndexByte(authority, ':')
	if colon < 0 {
		return ip, 0, "400 Bad Request"
	}
	ip, ok := parseIPv4(authority[:colon])
	port, err := strconv.Atoi(authority[colon+1:])
	if !ok || err != nil {
		return ip, 0, "400 Bad Request"
	}
	if port != p.agentPort {
		return ip, 0, "403 Forbidden"
	}
	for _, network := range p.allowed {
		if network.contains(ip) {
			return ip, port, ""
		}
	}
	return ip, 0, "403 Forbidden"
}

func gatewayPolicyFrom(lookup func(string) (string, bool)) (gatewayPolicy, hostPort, error) {
	need := func(name string) (string, error) {
		value, ok := lookup(name)
		if !ok || strings.TrimSpace(value) == "" {
			return "", errors.New(name + " is not set (the swarm driver sets it)")
		}
		return value, nil
	}
	var policy gatewayPolicy
	token, err := need(gatewayTokenVariable)
	if err != nil {
		return policy, hostPort{}, err
	}
	policy.token = []byte(token)
	allow, err := need("LAMBKIN_GATEWAY_ALLOW")
	if err != nil {
		return policy, hostPort{}, err
	}
	for _, block := range strings.Split(allow, ",") {
		network, err := parseIPv4Network(block)
		if err != nil {
			return policy, hostPort{}, errors.New("LAMBKIN_GATEWAY_ALLOW: " + err.Error())
		}
		policy.allowed = append(policy.allowed, network)
	}
	ports := [2]int{}
	for i, name := range []string{"LAMBKIN_GATEWAY_AGENT_PORT", "LAMBKIN_GATEWAY_PORT"} {
		text, err := need(name)
		if err != nil {
			return policy, hostPort{}, err
		}
		if ports[i], err = strconv.Atoi(text); err != nil || ports[i] < 0 || ports[i] > 65535 {
			return policy, hostPort{}, errors.New(name + ": a TCP port, got " + pyRepr(text))
		}
	}
	policy.agentPort = ports[0]
	if text, ok := lookup("LAMBKIN_GATEWAY_API_PORT"); ok && text != "" {
		policy.relaysAPI = true
		if policy.apiPort, err = strconv.Atoi(text); err != nil || policy.apiPort < 0 || policy.apiPort > 65535 {
			return policy, hostPort{}, errors.New("LAMBKIN_GATEWAY_API_PORT: a TCP port, got " + pyRepr(text))
		}
	}
	listenHost, _ := lookup("LAMBKIN_GATEWAY_LISTEN")
	if listenHost == "" {
		// The bridge address: a container's hostname resolves to it in its /etc/hosts, and at
		// start the bridge is its only network, never one of the instances' overlays.
		if listenHost, err = ownAddress(); err != nil {
			return policy, hostPort{}, err
		}
	}
	return policy, hostPort{listenHost, ports[1]}, nil
}

// ownAddress: the IPv4 address /etc/hosts gives this container's hostname (what Docker writes).
func ownAddress() (string, error) {
	name, err := os.Hostname()
	if err != nil {
		return "", err
	}
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(hosts), "\n") {
		fields := strings.Fields(strings.SplitN(line, "#", 2)[0])
		if len(fields) < 2 {
			continue
		}
		if _, ok := parseIPv4(fields[0]); !ok {
			continue
		}
		for _, alias := range fields[1:] {
			if alias == name {
				return fields[0], nil
			}
		}
	}
	return "", errors.New("no IPv4 address for " + pyRepr(name) + " in /etc/hosts: set LAMBKIN_GATEWAY_LISTEN")
}

// runGateway: `lambkin-agent gateway`, configured by its environment; runs until killed.
func runGateway() int {
	policy, at, err := gatewayPolicyFrom(os.LookupEnv)
	if err != nil {
		fail("gateway: ", err)
		return 2
	}
	os.Unsetenv(gatewayTokenVariable)
	l, err := listen(at)
	if err != nil {
		fail("gateway: ", err)
		return 1
	}
	api := newAPIRelay()
	ready := "lambkin gateway listening on " + l.String()
	if policy.relaysAPI {
		// Every address unless told: the instances' overlays are attached after it starts.
		host := os.Getenv("LAMBKIN_GATEWAY_API_LISTEN")
		if host == "" {
			host = "0.0.0.0"
		}
		apiListener, err := listen(hostPort{host, policy.apiPort})
		if err != nil {
			fail("gateway: ", err)
			return 1
		}
		ready += ", instances' API calls on " + apiListener.String()
		go api.serve(apiListener)
	}
	_, _ = os.Stdout.Write([]byte(ready + "\n"))
	serveGateway(l, policy, api)
	return 0
}

// serveGateway accepts until the listener is closed.
func serveGateway(l *listener, policy gatewayPolicy, api *apiRelay) {
	var pending int64
	for {
		client, err := l.accept()
		if err != nil {
			if isClosed(err) {
				return
			}
			time.Sleep(10 * time.Millisecond) // out of descriptors, say: not a busy loop
			continue
		}
		if atomic.AddInt64(&pending, 1) > gatewayMaxPending {
			atomic.AddInt64(&pending, -1)
			client.Close()
			continue
		}
		go relay(client, policy, api, &pending)
	}
}

func isClosed(err error) bool { return errors.Is(err, os.ErrClosed) }

// readConnectHead reads up to and including the blank line that ends a request head, never past it
// (what follows is the tunnel's), within gatewayMaxHeadBytes and the deadline.
func readConnectHead(c *sockConn) ([]byte, error) {
	if err := c.SetReadDeadline(time.Now().Add(gatewayHeadTimeout)); err != nil {
		return nil, err
	}
	head := make([]byte, 0, 512)
	one := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if len(head) >= gatewayMaxHeadBytes {
			return nil, errors.New("head too long")
		}
		if _, err := c.Read(one); err != nil {
			return nil, err
		}
		head = append(head, one[0])
	}
	return head[:len(head)-4], c.SetReadDeadline(time.Time{})
}

func relay(client *sockConn, policy gatewayPolicy, api *apiRelay, pending *int64) {
	head, err := readConnectHead(client)
	atomic.AddInt64(pending, -1)
	if err != nil {
		client.Close()
		return
	}
	ip, port, refusal := policy.target(head)
	if refusal != "" {
		_, _ = client.Write([]byte("HTTP/1.1 " + refusal + "\r\nConnection: close\r\n\r\n"))
		client.Close()
		return
	}
	if port == 0 {
		if !policy.relaysAPI {
			_, _ = client.Write([]byte("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n"))
			client.Close()
			return
		}
		api.offer(client)
		return
	}
	agent, err := dialIPv4(ip, port, gatewayDialTimeout)
	if err != nil {
		_, _ = client.Write([]byte("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n"))
		client.Close()
		return
	}
	if _, err := client.Write([]byte(gatewayEstablished)); err != nil {
		client.Close()
		agent.Close()
		return
	}
	pipe(client, agent)
}

// pipe copies both ways until both directions end: each direction's end is passed on as a
// FIN (half-close), and an error either way closes both.
func pipe(a, b *sockConn) {
	var wg sync.WaitGroup
	var once sync.Once
	closeBoth := func() { once.Do(func() { a.Close(); b.Close() }) }
	copyOne := func(from, to *sockConn) {
		defer wg.Done()
		buffer := make([]byte, gatewayCopyBytes)
		for {
			n, err := from.Read(buffer)
			if n > 0 {
				if _, werr := to.Write(buffer[:n]); werr != nil {
					closeBoth()
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					_ = to.CloseWrite()
				} else {
					closeBoth()
				}
				return
			}
		}
	}
	wg.Add(2)
	go copyOne(a, b)
	go copyOne(b, a)
	wg.Wait()
	closeBoth()
}

// dialIPv4 connects to ip:port within timeout, as accept's connections are set up.
func dialIPv4(ip [4]byte, port int, timeout time.Duration) (*sockConn, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return nil, err
	}
	_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	err = syscall.Connect(fd, &syscall.SockaddrInet4{Port: port, Addr: ip})
	if err != nil && err != syscall.EINPROGRESS && err != syscall.EINTR {
		syscall.Close(fd)
		return nil, err
	}
	c := &sockConn{f: os.NewFile(uintptr(fd), "tcp")}
	if c.rc, err = c.f.SyscallConn(); err != nil {
		c.f.Close()
		return nil, err
	}
	// Connected when the socket becomes writable; SO_ERROR says how it went.
	if err := c.f.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		c.Close()
		return nil, err
	}
	var connectErr error
	waitErr := c.rc.Write(func(fd uintptr) bool {
		if _, err := syscall.Getpeername(int(fd)); err == nil {
			return true // connected
		}
		code, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		switch {
		case err != nil:
			connectErr = err
		case code != 0:
			connectErr = syscall.Errno(code)
		default:
			return false // still connecting: wait until the socket is writable
		}
		return true
	})
	if waitErr == nil {
		waitErr = connectErr
	}
	if waitErr == nil {
		waitErr = c.f.SetWriteDeadline(time.Time{})
	}
	if waitErr != nil {
		c.Close()
		return nil, waitErr
	}
	return c, nil
}
