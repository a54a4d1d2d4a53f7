package main

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestIPLiterals(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0.0.0.0", "0.0.0.0"}, {"127.0.0.1", "127.0.0.1"}, {"255.255.255.255", "255.255.255.255"},
	} {
		if ip, ok := parseIPv4(c.in); !ok || formatIPv4(ip) != c.want {
			t.Errorf("parseIPv4(%q) = %v %v", c.in, ip, ok)
		}
	}
	for _, bad := range []string{"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "a.b.c.d", "1..2.3", "-1.2.3.4"} {
		if _, ok := parseIPv4(bad); ok {
			t.Errorf("parseIPv4(%q) accepted", bad)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"::", "::"}, {"::1", "::1"}, {"fe80::1:2", "fe80::1:2"}, {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
		{"2001:DB8::", "2001:db8::"}, {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"}, {"::ffff:10.0.0.1", "::ffff:a00:1"},
		{"1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"}, {"0:0:1::", "0:0:1::"},
	} {
		ip, ok := parseIPv6(c.in)
		if !ok || formatIPv6(ip) != c.want {
			t.Errorf("parseIPv6(%q) = %q %v, want %q", c.in, formatIPv6(ip), ok, c.want)
		}
		if std := net.ParseIP(c.in); std == nil || (std.To4() == nil && std.String() != c.want) {
			t.Errorf("net.ParseIP(%q) = %v, want %q", c.in, std, c.want)
		}
	}
	for _, bad := range []string{"", ":", "1::2::3", "12345::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "g::", "fe80::1%eth0", "::1.2.3"} {
		if _, ok := parseIPv6(bad); ok {
			t.Errorf("parseIPv6(%q) accepted", bad)
		}
	}
}

func TestListenAcceptAndAddresses(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "0.0.0.0", "localhost", "::1"} {
		l, err := listen(hostPort{host, 0})
		if err != nil {
			if host == "::1" {
				t.Logf("no IPv6 here: %v", err)
				continue
			}
			t.Fatal(err)
		}
		want := map[string]string{"127.0.0.1": "127.0.0.1:", "0.0.0.0": "127.0.0.1:", "localhost": "127.0.0.1:", "::1": "[::1]:"}[host]
		if !strings.HasPrefix(l.runtimeAPIAddress(), want) || l.bound.port == 0 {
			t.Errorf("%s: runtime API address %s", host, l.runtimeAPIAddress())
		}
		accepted := make(chan *sockConn, 1)
		go func() {
			c, err := l.accept()
			if err != nil {
				t.Error(err)
			}
			accepted <- c
		}()
		client, err := net.Dial("tcp", l.runtimeAPIAddress())
		if err != nil {
			t.Fatal(err)
		}
		c := <-accepted
		if _, err := client.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("read %q %v", buf, err)
		}
		// a deadline wakes a blocked read; CloseWrite is a FIN the client reads as EOF
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Read(buf); err == nil {
			t.Error("the deadline did not end the read")
		}
		_ = c.SetReadDeadline(time.Time{})
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if n, err := client.Read(buf); err != io.EOF {
			t.Errorf("after CloseWrite: %d %v", n, err)
		}
		client.Close()
		c.Close()
		// closing the listener wakes an accept
		done := make(chan error, 1)
		go func() { _, err := l.accept(); done <- err }()
		time.Sleep(20 * time.Millisecond)
		l.Close()
		select {
		case err := <-done:
			if err == nil {
				t.Error("accept after Close succeeded")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Close did not wake accept")
		}
	}
	if _, err := listen(hostPort{"example.com", 0}); err == nil || !strings.Contains(err.Error(), "not an IPv4 address") {
		t.Errorf("a host name: %v", err)
	}
	l, err := listen(hostPort{"127.0.0.1", 0})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := listen(l.bound); err == nil || !strings.Contains(err.Error(), "bind: address already in use") {
		t.Errorf("a port in use: %v", err)
	}
}
