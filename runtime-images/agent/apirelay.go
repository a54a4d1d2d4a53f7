package main

// Instances calling the platform's API through their node's gateway (gateway.go). The control
// plane is outside the swarm and the nodes need not reach it: it opens connections to each
// gateway instead (`ACCEPT api`, with the gateway's token) and the gateway parks them. An
// instance connects to the gateway's API port on its own overlay network; the gateway takes a
// parked connection, answers it `200`, and copies bytes between the two: the control plane
// then serves that connection as one to its instances' listener. Every request on it is
// authenticated like any other (the function's temporary credentials), so the relay itself
// grants nothing.

import (
	"sync"
	"time"
)

const (
	// Parked connections a gateway keeps at most (the control plane keeps a few per gateway,
	// replacing each one used); more are refused, so a misbehaving caller cannot pile them up.
	apiMaxParked = 64
	// Instances' API connections relayed at once, at most, per gateway.
	apiMaxActive = 512
)

// How long an instance's connection waits for a parked one before it is closed (a variable for
// the tests).
var apiClaimWait = 5 * time.Second

type parkedConn struct {
	conn    *sockConn
	claimed bool
	watched chan struct{} // closed when its watcher has stopped reading
}

type apiRelay struct {
	mu     sync.Mutex
	parked []*parkedConn
	active int
}

func newAPIRelay() *apiRelay { return &apiRelay{} }

// offer parks a connection the control plane opened; a watcher reads it until it is claimed,
// so one that the control plane closes (or that dies with it) is dropped, not handed on.
func (r *apiRelay) offer(c *sockConn) {
	r.mu.Lock()
	if len(r.parked) >= apiMaxParked {
		r.mu.Unlock()
		_, _ = c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n"))
		c.Close()
		return
	}
	p := &parkedConn{conn: c, watched: make(chan struct{})}
	r.parked = append(r.parked, p)
	r.mu.Unlock()
	go r.watch(p)
}

func (r *apiRelay) watch(p *parkedConn) {
	defer close(p.watched)
	one := make([]byte, 1)
	_, _ = p.conn.Read(one) // returns at EOF, on an error, or when claim sets a past deadline
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.claimed {
		return
	}
	for i, other := range r.parked { // gone (or it spoke out of turn): not to be handed on
		if other == p {
			r.parked = append(r.parked[:i], r.parked[i+1:]...)
			break
		}
	}
	p.conn.Close()
}

// claim takes the oldest parked connection whose watcher has let go of it, or nil.
func (r *apiRelay) claim() *sockConn {
	r.mu.Lock()
	if len(r.parked) == 0 {
		r.mu.Unlock()
		return nil
	}
	p := r.parked[0]
	r.parked = r.parked[1:]
	p.claimed = true
	r.mu.Unlock()
	_ = p.conn.SetReadDeadline(time.Unix(1, 0)) // wakes the watcher's read
	<-p.watched
	if err := p.conn.SetReadDeadline(time.Time{}); err != nil {
		p.conn.Close()
		return nil
	}
	return p.conn
}

// serve accepts instances' connections to the API port until the listener is closed.
func (r *apiRelay) serve(l *listener) {
	for {
		instance, err := l.accept()
		if err != nil {
			if isClosed(err) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		r.mu.Lock()
		full := r.active >= apiMaxActive
		if !full {
			r.active++
		}
		r.mu.Unlock()
		if full {
			instance.Close()
			continue
		}
		go r.connect(instance)
	}
}

func (r *apiRelay) connect(instance *sockConn) {
	defer func() {
		r.mu.Lock()
		r.active--
		r.mu.Unlock()
	}()
	deadline := time.Now().Add(apiClaimWait)
	for {
		if upstream := r.claim(); upstream != nil {
			if _, err := upstream.Write([]byte(gatewayEstablished)); err != nil {
				upstream.Close()
				continue // that one was dead after all: the next
			}
			pipe(instance, upstream)
			return
		}
		if time.Now().After(deadline) {
			instance.Close() // the control plane keeps none here now: the SDK retries
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
