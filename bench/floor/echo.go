// A minimal TCP request/response server: the least any agent can spend (in CPU) to be woken by a
// request and answer it, on this machine. bench/floor.py measures its CPU per round trip.
package main

import (
	"net"
	"os"
	"strconv"
)

func main() {
	listener, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	os.Stdout.WriteString(strconv.Itoa(listener.Addr().(*net.TCPAddr).Port) + "\n")
	conn, err := listener.Accept()
	if err != nil {
		os.Exit(1)
	}
	buf := make([]byte, 65536)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return
		}
		if _, err := conn.Write(buf[:n]); err != nil {
			return
		}
	}
}
