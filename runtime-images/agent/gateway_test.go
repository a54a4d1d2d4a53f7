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
		{"ACCEPT api HTTP/1.1\r\nLambkin-Gateway-Token: wrong", "407 Proxy Authentication Required"},
		{"ACCEPT other HTTP/1.1\r\nLambkin-Gateway-Token: t0ken", "405 Method Not Allowed"},
	}
	for _, c := range cases {
		ip, port, refusal := policy.target([]byte(c.head))
		if refusal != c.refusal {
			t.Errorf("%q: refusal %q, want %q", c.head, refusal, c.refusal)
		}
		if c.refusal == "" && !strings.HasPrefix(c.head, "ACCEPT") && (formatIPv4(ip) != "10.213.4.2" || port != 9002) {
			t.Errorf("%q: target %s:%d", c.head, formatIPv4(ip), port)
		}
	}
	if _, port, refusal := policy.target([]byte("ACCEPT api HTTP/1.1\r\nLambkin-Gateway-Token: t0ken")); refusal != "" || port != 0 {
		t.Errorf("the control plane's ACCEPT: port %d, refusal %q", port, refusal)
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
	go serveGateway(l, gatewayPolicy{token: []byte("t0ken"), allowed: []ipv4Network{loopback}, agentPort: agentPort}, newAPIRelay())
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

// startAPIGateway: a gateway whose API port relays instances' connections to parked ones.
func startAPIGateway(t *testing.T) (gateway, api string) {
	t.Helper()
	l, err := listen(hostPort{"127.0.0.1", 0})
	if err != nil {
		t.Fatal(err)
	}
	apiListener, err := listen(hostPort{"127.0.0.1", 0})
	if err != nil {
		t.Fatal(err)
	}
	relay := newAPIRelay()
	go relay.serve(apiListener)
	policy := gatewayPolicy{token: []byte("t0ken"), agentPort: 9002, relaysAPI: true, apiPort: apiListener.bound.port}
	go serveGateway(l, policy, relay)
	t.Cleanup(func() { l.Close(); apiListener.Close() })
	return l.String(), apiListener.String()
}

// park: the control plane's side, a connection offered with ACCEPT api (nothing answers yet).
func park(t *testing.T, gateway, token string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp4", gateway, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "ACCEPT api HTTP/1.1\r\nLambkin-Gateway-Token: "+token+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return c
}

func readStatus(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	status, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("no status: %v", err)
	}
	for line := ""; line != "\r\n"; {
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	return strings.TrimSpace(status)
}

func TestAPIRelayHandsAnInstancesConnectionToAParkedOne(t *testing.T) {
	gateway, api := startAPIGateway(t)
	upstream := park(t, gateway, "t0ken")
	defer upstream.Close()
	time.Sleep(50 * time.Millisecond) // parked

	instance, err := net.Dial("tcp4", api)
	if err != nil {
		t.Fatal(err)
	}
	defer instance.Close()
	_ = instance.SetDeadline(time.Now().Add(5 * time.Second))
	_ = upstream.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(instance, "GET /2015-03-31/functions HTTP/1.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	up := bufio.NewReader(upstream)
	if status := readStatus(t, up); status != "HTTP/1.1 200 Connection Established" {
		t.Fatalf("the parked connection got %q", status)
	}
	request, err := up.ReadString('\n')
	if err != nil || request != "GET /2015-03-31/functions HTTP/1.1\r\n" {
		t.Fatalf("relayed %q, %v", request, err)
	}
	if _, err := io.WriteString(upstream, "HTTP/1.1 200 OK\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	answer, err := bufio.NewReader(instance).ReadString('\n')
	if err != nil || answer != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("the instance got %q, %v", answer, err)
	}
}

func TestAPIRelayDropsParkedConnectionsThatWentAway(t *testing.T) {
	saved := apiClaimWait
	apiClaimWait = 300 * time.Millisecond
	defer func() { apiClaimWait = saved }()
	gateway, api := startAPIGateway(t)
	gone := park(t, gateway, "t0ken")
	time.Sleep(50 * time.Millisecond)
	gone.Close() // the control plane went: its offer is withdrawn
	time.Sleep(50 * time.Millisecond)

	instance, err := net.Dial("tcp4", api)
	if err != nil {
		t.Fatal(err)
	}
	defer instance.Close()
	_ = instance.SetReadDeadline(time.Now().Add(3 * time.Second))
	started := time.Now()
	if n, err := instance.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("with nothing parked: %d bytes, %v (want closed)", n, err)
	}
	if waited := time.Since(started); waited < 250*time.Millisecond {
		t.Errorf("closed after %v, before the claim wait ran out", waited)
	}

	// An offer made while the instance waits is taken.
	late, err := net.Dial("tcp4", api)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	upstream := park(t, gateway, "t0ken")
	defer upstream.Close()
	_ = upstream.SetReadDeadline(time.Now().Add(3 * time.Second))
	if status := readStatus(t, bufio.NewReader(upstream)); !strings.Contains(status, "200") {
		t.Errorf("a late offer: %q", status)
	}
}

func TestAPIRelayRefusals(t *testing.T) {
	gateway, _ := startAPIGateway(t)
	wrong := park(t, gateway, "nope")
	defer wrong.Close()
	_ = wrong.SetReadDeadline(time.Now().Add(3 * time.Second))
	if status := readStatus(t, bufio.NewReader(wrong)); !strings.Contains(status, "407") {
		t.Errorf("an ACCEPT without the token: %q", status)
	}
	var offers []net.Conn
	for i := 0; i < apiMaxParked; i++ {
		offers = append(offers, park(t, gateway, "t0ken"))
	}
	time.Sleep(100 * time.Millisecond)
	extra := park(t, gateway, "t0ken")
	_ = extra.SetReadDeadline(time.Now().Add(3 * time.Second))
	if status := readStatus(t, bufio.NewReader(extra)); !strings.Contains(status, "503") {
		t.Errorf("an offer past the bound: %q", status)
	}
	extra.Close()
	for _, c := range offers {
		c.Close()
	}

	// A gateway without an API port parks nothing.
	_, plain := startGateway(t, 9002)
	refused := park(t, plain, "t0ken")
	defer refused.Close()
	_ = refused.SetReadDeadline(time.Now().Add(3 * time.Second))
	if status := readStatus(t, bufio.NewReader(refused)); !strings.Contains(status, "404") {
		t.Errorf("ACCEPT where instances may not call the API: %q", status)
	}
}
