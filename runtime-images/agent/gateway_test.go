package main

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func connectHead(target, token string) string {
	return "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\nLambkin-Gateway-Token: " + token
}

func TestGatewayTarget(t *testing.T) {
	pool, _ := parseIPv4Network("10.213.0.0/16")
	policy := gatewayPolicy{token: []byte("t0ken"), allowed: []ipv4Network{pool}, agentPort: 9002}
	cases := []struct {
		head, refusal string
	}{
		{connectHead("10.213.4.2:9002", "t0ken"), ""},
		{connectHead("10.213.4.2:9002", "wrong"), "407 Proxy Authentication Required"},
		{"CONNECT 10.213.4.2:9002 HTTP/1.1\r\nHost: x", "407 Proxy Authentication Required"},
		{connectHead("10.213.4.2:22", "t0ken"), "403 Forbidden"},           // agents' port only
		{connectHead("172.21.0.1:9002", "t0ken"), "403 Forbidden"},         // the pool only
		{connectHead("10.214.0.1:9002", "t0ken"), "403 Forbidden"},         // just outside it
		{connectHead("lkswarm-registry:9002", "t0ken"), "400 Bad Request"}, // no names
		{connectHead("10.213.4.2", "t0ken"), "400 Bad Request"},
		{connectHead("[::1]:9002", "t0ken"), "400 Bad Request"},
		{"GET / HTTP/1.1\r\nHost: x", "405 Method Not Allowed"},
		{"CONNECT 10.213.4.2:9002", "405 Method Not Allowed"},
	}
	for _, c := range cases {
		ip, port, refusal := policy.target([]byte(c.head))
		if refusal != c.refusal {
			t.Errorf("%q: refusal %q, want %q", c.head, refusal, c.refusal)
		}
		if c.refusal == "" && (formatIPv4(ip) != "10.213.4.2" || port != 9002) {
			t.Errorf("%q: target %s:%d", c.head, formatIPv4(ip), port)
		}
	}
	// No token configured: nothing passes, an empty offer included.
	empty := gatewayPolicy{allowed: []ipv4Network{pool}, agentPort: 9002}
	if _, _, refusal := empty.target([]byte(connectHead("10.213.4.2:9002", ""))); refusal == "" {
		t.Error("a gateway without a token let an empty one through")
	}
}

func TestParseIPv4Network(t *testing.T) {
	n, err := parseIPv4Network(" 10.213.0.0/16")
	if err != nil || !n.contains([4]byte{10, 213, 255, 1}) || n.contains([4]byte{10, 212, 0, 1}) {
		t.Fatalf("10.213.0.0/16: %+v %v", n, err)
	}
	if all, _ := parseIPv4Network("0.0.0.0/0"); !all.contains([4]byte{1, 2, 3, 4}) {
		t.Error("/0 contains everything")
	}
	for _, bad := range []string{"10.0.0.0", "10.0.0.0/33", "10.0.0/8", "x/8", ""} {
		if _, err := parseIPv4Network(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestGatewayPolicyFromTheEnvironment(t *testing.T) {
	env := map[string]string{
		"LAMBKIN_GATEWAY_TOKEN": "t", "LAMBKIN_GATEWAY_ALLOW": "10.0.0.0/8,192.168.0.0/16",
		"LAMBKIN_GATEWAY_AGENT_PORT": "9002", "LAMBKIN_GATEWAY_PORT": "9100",
		"LAMBKIN_GATEWAY_LISTEN": "127.0.0.1",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	policy, at, err := gatewayPolicyFrom(lookup)
	if err != nil || len(policy.allowed) != 2 || policy.agentPort != 9002 || at != (hostPort{"127.0.0.1", 9100}) {
		t.Fatalf("%+v %+v %v", policy, at, err)
	}
	for _, name := range []string{"LAMBKIN_GATEWAY_TOKEN", "LAMBKIN_GATEWAY_ALLOW", "LAMBKIN_GATEWAY_PORT"} {
		saved := env[name]
		env[name] = ""
		if _, _, err := gatewayPolicyFrom(lookup); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: %v", name, err)
		}
		env[name] = saved
	}
	env["LAMBKIN_GATEWAY_ALLOW"] = "10.0.0.0/8,nonsense"
	if _, _, err := gatewayPolicyFrom(lookup); err == nil {
		t.Error("a bad network accepted")
	}
}

// startGateway: a gateway on loopback letting 127.0.0.0/8 through to agentPort.
func startGateway(t *testing.T, agentPort int) (*listener, string) {
	t.Helper()
	l, err := listen(hostPort{"127.0.0.1", 0})
	if err != nil {
		t.Fatal(err)
	}
	loopback, _ := parseIPv4Network("127.0.0.0/8")
	go serveGateway(l, gatewayPolicy{token: []byte("t0ken"), allowed: []ipv4Network{loopback}, agentPort: agentPort})
	t.Cleanup(func() { l.Close() })
	return l, l.String()
}

// echoServer answers every connection with what it reads, until EOF, then closes.
func echoServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func dialThrough(t *testing.T, gateway, target, token string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp4", gateway, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, connectHead(target, token)+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	status, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	for line := ""; line != "\r\n"; {
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	return c, r, strings.TrimSpace(status)
}

func TestGatewayRelaysBothWaysAndPassesTheEnd(t *testing.T) {
	agentPort := echoServer(t)
	_, gateway := startGateway(t, agentPort)
	c, r, status := dialThrough(t, gateway, "127.0.0.1:"+strconv.Itoa(agentPort), "t0ken")
	defer c.Close()
	if status != "HTTP/1.1 200 Connection Established" {
		t.Fatalf("status %q", status)
	}
	big := strings.Repeat("0123456789", 100_000) // past one copy buffer
	go func() { _, _ = io.WriteString(c, big); _ = c.(*net.TCPConn).CloseWrite() }()
	back, err := io.ReadAll(r) // EOF arrives only once our FIN went through and the echo's came back
	if err != nil || string(back) != big {
		t.Fatalf("echoed %d bytes of %d, %v", len(back), len(big), err)
	}
}

func TestGatewayRefusals(t *testing.T) {
	agentPort := echoServer(t)
	_, gateway := startGateway(t, agentPort)
	for target, want := range map[string]string{
		"127.0.0.1:" + strconv.Itoa(agentPort+1): "403", // not the agents' port
		"10.1.2.3:" + strconv.Itoa(agentPort):    "403", // not in the pool
	} {
		c, _, status := dialThrough(t, gateway, target, "t0ken")
		c.Close()
		if !strings.Contains(status, want) {
			t.Errorf("%s: %q, want %s", target, status, want)
		}
	}
	c, _, status := dialThrough(t, gateway, "127.0.0.1:"+strconv.Itoa(agentPort), "nope")
	c.Close()
	if !strings.Contains(status, "407") {
		t.Errorf("a wrong token: %q", status)
	}
}

func TestGatewayAnswers502WhenTheAgentIsNotThere(t *testing.T) {
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, gateway := startGateway(t, closedPort)
	c, _, status := dialThrough(t, gateway, "127.0.0.1:"+strconv.Itoa(closedPort), "t0ken")
	c.Close()
	if !strings.Contains(status, "502") {
		t.Errorf("status %q, want 502", status)
	}
}

func TestGatewayBoundsIdleHandshakes(t *testing.T) {
	agentPort := echoServer(t)
	_, gateway := startGateway(t, agentPort)
	var idle []net.Conn
	for i := 0; i < gatewayMaxPending; i++ {
		c, err := net.Dial("tcp4", gateway)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	time.Sleep(100 * time.Millisecond)
	extra, err := net.Dial("tcp4", gateway)
	if err != nil {
		t.Fatal(err)
	}
	_ = extra.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := extra.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("the connection past the bound: %d bytes, %v (want closed at once)", n, err)
	}
	extra.Close()
	idle[0].Close() // a slot frees: a real client gets through again
	time.Sleep(100 * time.Millisecond)
	c, _, status := dialThrough(t, gateway, "127.0.0.1:"+strconv.Itoa(agentPort), "t0ken")
	c.Close()
	if !strings.Contains(status, "200") {
		t.Errorf("after a slot freed: %q", status)
	}
	for _, c := range idle[1:] {
		c.Close()
	}
}
