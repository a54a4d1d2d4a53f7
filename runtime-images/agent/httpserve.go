package main

// HTTP plumbing shared by both servers: listening as Python's agent did (IPv4 unless the host
// is an IPv6 literal), counting connections, and replies with the agent's JSON bodies.

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

func listen(addr hostPort) (net.Listener, error) {
	network := "tcp4" // Python's server binds AF_INET: 0.0.0.0 is not also [::]
	for i := 0; i < len(addr.host); i++ {
		if addr.host[i] == ':' {
			network = "tcp6"
		}
	}
	return net.Listen(network, net.JoinHostPort(addr.host, strconv.Itoa(addr.port)))
}

// newServer: no timeouts (/next is a long poll, /invoke as long as the function runs), and a
// connection counter for /health.
func newServer(handler http.Handler, accepted *int64) *http.Server {
	return &http.Server{
		Handler: handler,
		ConnState: func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew && accepted != nil {
				atomic.AddInt64(accepted, 1)
			}
		},
		ErrorLog: quietLog,
	}
}

// reply writes status, headers and body with an exact Content-Length and no Date header.
func reply(w http.ResponseWriter, status int, contentType string, body []byte, headers []header) {
	h := w.Header()
	h["Date"] = nil
	if contentType != "" {
		h["Content-Type"] = []string{contentType}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	for _, kv := range headers {
		h[http.CanonicalHeaderKey(kv.name)] = []string{kv.value}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// replyError: {"errorMessage": ..., "errorType": ...} as Python's json.dumps writes it.
func replyError(w http.ResponseWriter, status int, errorType, message string) {
	body := `{"errorMessage": ` + pyString(message) + `, "errorType": ` + pyString(errorType) + `}`
	reply(w, status, "application/json", []byte(body), nil)
}

// dropConnection ends the request without any reply (a stale runtime's /next).
func dropConnection() {
	panic(http.ErrAbortHandler)
}

// headerValue reads a request header as Python's agent did: repeated fields joined with ", "
// (so two Lambkin-Token fields never pass as one).
func headerValue(h http.Header, name string) string {
	return strings.Join(h.Values(name), ", ")
}

// trailerValue: a repeated trailer field counts by its last value.
func trailerValue(h http.Header, name string) string {
	values := h.Values(name)
	if len(values) == 0 {
		return ""
	}
	return strings.TrimSpace(values[len(values)-1])
}
