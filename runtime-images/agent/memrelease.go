package main

// Giving memory back once the agent is idle. A burst of invocations grows the Go heap to its
// minimum collection goal (4 MB) and the runtime keeps freed pages for reuse, so an instance
// that served a thousand invocations would sit at ~8 MB instead of ~3 MB for as long as it
// stays idle. A second after the last invocation ends (and after start-up), the heap is
// collected and every free page returned to the kernel; under load the timer is only pushed
// back, so a busy agent never pays for it.

import (
	"runtime/debug"
	"time"
)

const idleReleaseDelay = time.Second

type idleRelease struct{ timer *time.Timer }

func newIdleRelease() *idleRelease {
	return &idleRelease{timer: time.AfterFunc(idleReleaseDelay, debug.FreeOSMemory)}
}

// busy: an invocation just ended; release a second from now unless another one ends first.
func (r *idleRelease) busy() {
	r.timer.Reset(idleReleaseDelay)
}
