package main

// The sandbox: one runtime process, its state machine and the one in-flight invocation.
//
// Both servers call in here: the control server (invoke, shutdown) and the Runtime API
// (nextInvocation, post*). One mutex guards everything; waiters wait on a broadcast channel
// that is closed and replaced on every change (sync.Cond has no timed wait), never by
// polling. Each Runtime API call validates first, then makes one transition.

import (
	"context"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	mib               = 1024 * 1024
	killGrace         = 500 * time.Millisecond // SIGTERM -> SIGKILL after a timeout, an init timeout or a restart
	initErrorExitWait = time.Second            // a runtime that posted /init/error is expected to exit by itself
)

var (
	errBusy    = &apiError{409, "Busy", "another invocation is in flight on this instance"}
	errStopped = &apiError{503, "Stopped", "the agent is shutting down"}
	errVacant  = &apiError{409, "Vacant", "this instance has no function yet: POST /specialise first"}
	errTaken   = &apiError{409, "AlreadySpecialised", "this instance already serves a function; an instance is never handed another"}
)

// apiError is a request refused before any state changed; each server picks its status.
type apiError struct {
	status    int
	errorType string
	message   string
}

func (e *apiError) Error() string { return e.message }

type sandbox struct {
	cfg        *config
	log        *logCapture
	memory     memoryMeter
	reaper     *reaper
	runtimeAPI string // host:port for AWS_LAMBDA_RUNTIME_API
	// Where the X-Ray SDKs send segments (xray.go); port 0 when nothing listens.
	xrayAddress hostPort

	mu            sync.Mutex
	changed       chan struct{} // closed (and replaced) by notifyLocked
	machine       stateMachine
	process       *runtimeProcess
	output        []*pipeReader
	generation    int // bumped per runtime start; stale /next waiters notice and leave
	initStarted   time.Time
	initTimer     *time.Timer
	pendingInitMs *float64 // for the first invocation after an init
	current       *invocation
	lastDelivered *invocation
	invocations   int64
	peakBytes     int64
	oomBaseline   int64
	oomKnown      bool
	release       *idleRelease
	debug         *debugClock // nil unless a debugger listens (debugger.go)
}

func newSandbox(cfg *config, log *logCapture, memory memoryMeter, r *reaper, runtimeAPI string) *sandbox {
	first := stateInitializing
	if cfg.vacant {
		first = stateVacant
	}
	s := &sandbox{
		cfg: cfg, log: log, memory: memory, reaper: r, runtimeAPI: runtimeAPI,
		changed: make(chan struct{}), machine: stateMachine{first},
		release: newIdleRelease(),
	}
	if cfg.debugPort != 0 {
		s.debug = &debugClock{port: cfg.debugPort, attached: debuggerAttached}
	}
	return s
}

func (s *sandbox) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitLocked releases the lock until something changes, the timer fires or ctx ends.
func (s *sandbox) waitLocked(ctx context.Context, timeout time.Duration) {
	ch := s.changed
	s.mu.Unlock()
	var timer <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ch:
	case <-timer:
	case <-ctx.Done():
	}
	s.mu.Lock()
}

func (s *sandbox) state() runtimeState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.machine.state
}

func (s *sandbox) invocationCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invocations
}

func (s *sandbox) maxMemoryMB() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sampleMemoryLocked()
}

// -- control side ---------------------------------------------------------------------------

// start begins the init of a configured instance; a vacant one waits for specialise.
func (s *sandbox) start() {
	s.mu.Lock()
	if s.machine.state == stateInitializing {
		s.spawnLocked()
	}
	s.mu.Unlock()
}

// specialise makes a vacant instance one function's and begins its init; once only, so a
// function can never be handed an instance another function ran in.
func (s *sandbox) specialise(f functionPart) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.machine.state {
	case stateVacant:
	case stateStopped:
		return errStopped
	default:
		return errTaken
	}
	s.cfg.adopt(f)
	s.machine.transition(stateInitializing)
	s.spawnLocked()
	s.notifyLocked()
	return nil
}

// whileVacant runs f while the instance has no function (its files arriving, files.go); the
// function cannot be given meanwhile.
func (s *sandbox) whileVacant(f func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.machine.state != stateVacant {
		return errNotVacant
	}
	return f()
}

// invoke runs one invocation to its end, or, for a streaming one whose runtime began a
// streamed response, until then: the caller reads the stream (consumeStream) to the end.
func (s *sandbox) invoke(request invokeRequest) (*invokeResult, *responseStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.machine.state == stateStopped {
		return nil, nil, errStopped
	}
	if s.machine.state == stateVacant {
		return nil, nil, errVacant
	}
	if s.current != nil {
		return nil, nil, errBusy
	}
	inv := &invocation{request: request, acceptedAt: time.Now(), done: make(chan struct{})}
	s.current = inv
	if s.machine.state == stateFailed {
		s.restartLocked() // lazily, so a broken function does not crash-loop
	}
	s.notifyLocked()
	for inv.result == nil {
		if inv.stream != nil {
			return nil, inv.stream, nil
		}
		s.debug.credit(inv, time.Now())
		limit, bounded := s.waitLimitLocked(inv)
		if !bounded {
			s.waitLocked(context.Background(), s.debugWait(-1))
			continue
		}
		remaining := time.Until(limit)
		if remaining <= 0 {
			s.finishLocked(inv, timeoutEnding(request.requestID, request.timeoutMs), nil)
			s.restartLocked()
			break
		}
		s.waitLocked(context.Background(), s.debugWait(remaining))
	}
	return inv.result, nil, nil
}

// debugWait: a debugged instance's waiter wakes at least every debugPoll, to credit the time
// a debugger was attached; -1 (no limit) otherwise stays as it is.
func (s *sandbox) debugWait(d time.Duration) time.Duration {
	if s.debug != nil && (d < 0 || d > debugPoll) {
		return debugPoll
	}
	return d
}

// expire ends a streamed invocation still running at its deadline, as invoke's own wait does,
// unless a debugger moved the deadline on: then it says when to look again.
func (s *sandbox) expire(inv *invocation) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.result != nil || s.current != inv {
		return 0, true
	}
	s.debug.credit(inv, time.Now())
	if remaining := time.Until(inv.deadlineAt); remaining > 0 {
		return s.debugWait(remaining), false
	}
	s.finishLocked(inv, timeoutEnding(inv.request.requestID, inv.request.timeoutMs), nil)
	s.restartLocked()
	return 0, true
}

func (s *sandbox) shutdown(grace time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.machine.state == stateStopped {
		return
	}
	s.machine.transition(stateStopped)
	s.cancelInitTimerLocked()
	p := s.process
	if p != nil {
		p.stop(grace)
		s.log.drain(s.output)
	}
	if inv := s.current; inv != nil && inv.result == nil {
		status := "signal: terminated"
		if p != nil {
			status = p.status
		}
		s.finishLocked(inv, exitEnding(outcomeExit, inv.request.requestID, status, "Runtime.ExitError"), nil)
	}
	s.notifyLocked()
}

// -- Runtime API side -----------------------------------------------------------------------

// nextInvocation blocks until there is an event for the runtime; nil: drop the connection.
// ctx ends when the runtime's connection closes (the server watches it for us).
func (s *sandbox) nextInvocation(ctx context.Context) *invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	generation := s.generation
	if s.machine.state == stateVacant {
		return nil // no runtime was started: whatever asks is not ours
	}
	if s.machine.state == stateInitializing {
		if ctx.Err() != nil {
			return nil
		}
		s.initDoneLocked()
	}
	for {
		state := s.machine.state
		if generation != s.generation || state == stateFailed || state == stateStopped || ctx.Err() != nil {
			return nil
		}
		if inv := s.current; inv != nil && inv.result == nil {
			if inv.delivered {
				return inv // a second /next gets the same event again, as RIE
			}
			if state == stateReady {
				s.deliverLocked(inv)
				return inv
			}
		}
		s.waitLocked(ctx, -1)
	}
}

func (s *sandbox) postResponse(requestID string, body []byte, contentType string) error {
	if contentType == "" {
		contentType = defaultContentType
	}
	return s.post(requestID, ending{outcome: outcomeSuccess, body: body, contentType: contentType})
}

func (s *sandbox) postError(requestID string, body []byte, errorTypeHeader string) error {
	return s.post(requestID, postedError(outcomeFunctionError, body, errorTypeHeader))
}

func (s *sandbox) postTooLarge(requestID string) error {
	return s.post(requestID, tooLargeEnding())
}

func (s *sandbox) post(requestID string, e ending) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, err := s.postedLocked(requestID)
	if err != nil {
		return err
	}
	s.finishLocked(inv, e, nil)
	s.machine.transition(stateReady)
	return nil
}

// postedLocked: the invocation a runtime's post names, or the refusal it gets.
func (s *sandbox) postedLocked(requestID string) (*invocation, error) {
	inv := s.current
	if inv == nil || !inv.delivered || inv.request.requestID != requestID {
		if last := s.lastDelivered; last != nil && last.request.requestID == requestID {
			return nil, &apiError{403, "InvalidStateTransition", "Invocation already completed"}
		}
		return nil, &apiError{400, "InvalidRequestID", "Invalid request ID"}
	}
	return inv, nil
}

// beginStream: the runtime began a streamed response to a streaming invocation. nil, nil when
// the invocation is not a streaming one (the response is then read whole, as a buffered one).
func (s *sandbox) beginStream(requestID, contentType string) (*responseStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, err := s.postedLocked(requestID)
	if err != nil || !inv.request.streaming {
		return nil, err
	}
	if inv.stream != nil {
		return nil, &apiError{403, "InvalidStateTransition", "Invocation response already started"}
	}
	inv.stream = newResponseStream(inv, contentType)
	s.notifyLocked()
	return inv.stream, nil
}

// endStream finishes a streamed invocation with the stream's outcome.
func (s *sandbox) endStream(stream *responseStream, e ending) error {
	return s.post(stream.inv.request.requestID, e)
}

func (s *sandbox) postInitError(body []byte, errorTypeHeader string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.machine.state != stateInitializing {
		return &apiError{403, "InvalidStateTransition", "Init error is only accepted during init"}
	}
	s.initFailedLocked(func(string) ending {
		return postedError(outcomeInitError, body, errorTypeHeader)
	}, "error", initErrorExitWait)
	return nil
}

// -- process events -------------------------------------------------------------------------

func (s *sandbox) onExit(p *runtimeProcess) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p != s.process {
		return // a runtime we already replaced
	}
	state := s.machine.state
	logf("runtime pid ", strconv.Itoa(p.pid), " exited (", p.status, ") while ", string(state))
	switch {
	case state == stateInitializing:
		s.initFailedLocked(func(rid string) ending {
			return exitEnding(outcomeInitError, rid, p.status, "Runtime.ExitError")
		}, "error", 0)
	case state == stateBusy && s.current != nil:
		inv := s.current
		s.finishLocked(inv, exitEnding(outcomeExit, inv.request.requestID, p.status, s.exitTypeLocked(p)), nil)
		s.restartLocked()
	case state == stateReady:
		s.restartLocked()
	}
	// failed (exit after /init/error) and stopped: expected, nothing to do.
}

func (s *sandbox) onInitTimeout(p *runtimeProcess) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p != s.process || s.machine.state != stateInitializing {
		return
	}
	timeout := s.cfg.initTimeoutS
	s.initFailedLocked(func(rid string) ending { return initTimeoutEnding(rid, timeout) }, "timeout", 0)
}

func (s *sandbox) exitTypeLocked(p *runtimeProcess) string {
	if p.killedSignal == syscall.SIGKILL && s.oomKnown {
		if kills, ok := s.memory.oomKills(); ok && kills > s.oomBaseline {
			return "Runtime.OutOfMemory"
		}
	}
	return "Runtime.ExitError"
}

// -- transitions (lock held) ----------------------------------------------------------------

func (s *sandbox) spawnLocked() {
	s.generation++
	s.initStarted = time.Now()
	s.pendingInitMs = nil
	s.log.setContext("", "init")
	s.log.startSegment() // init lines: the tail of an invocation that waits and fails
	env := make(map[string]string, len(s.cfg.runtimeEnv)+1)
	for k, v := range s.cfg.runtimeEnv {
		env[k] = v
	}
	env["AWS_LAMBDA_RUNTIME_API"] = s.runtimeAPI
	for k, v := range s.xrayVariables() {
		if _, set := env[k]; !set { // the function's own settings win, as on Lambda
			env[k] = v
		}
	}
	var p *runtimeProcess
	p, err := s.reaper.start(s.cfg.runtimeCmd, env, s.cfg.runtimeCwd, s.cfg.runtimeUser, s.onExit)
	if err != nil {
		s.process, s.output = nil, nil
		reason := err.Error()
		s.initFailedLocked(func(rid string) ending { return entrypointEnding(rid, reason) }, "error", 0)
		return
	}
	s.process = p
	s.output = []*pipeReader{s.log.attach(p.outputFd)}
	s.oomBaseline, s.oomKnown = s.memory.oomKills()
	if s.debug == nil { // a debugged runtime waits for its client first (debugger.go)
		s.initTimer = time.AfterFunc(time.Duration(s.cfg.initTimeoutS*float64(time.Second)), func() { s.onInitTimeout(p) })
	}
}

// xrayVariables: what Lambda sets for the X-Ray SDKs (the daemon's address three ways, and
// LOG_ERROR so a subsegment outside an invocation is logged, not thrown).
func (s *sandbox) xrayVariables() map[string]string {
	if s.xrayAddress.port == 0 {
		return nil
	}
	return map[string]string{
		"AWS_XRAY_DAEMON_ADDRESS":  joinHostPort(s.xrayAddress.host, s.xrayAddress.port),
		"_AWS_XRAY_DAEMON_ADDRESS": s.xrayAddress.host,
		"_AWS_XRAY_DAEMON_PORT":    strconv.Itoa(s.xrayAddress.port),
		"AWS_XRAY_CONTEXT_MISSING": xrayContextMissing,
	}
}

// restartLocked kills what is left of the runtime and starts a fresh one.
func (s *sandbox) restartLocked() {
	if s.machine.state == stateStopped {
		return
	}
	s.cancelInitTimerLocked()
	if s.process != nil {
		s.process.stop(killGrace)
		s.log.drain(s.output)
	}
	if s.machine.state != stateInitializing {
		s.machine.transition(stateInitializing)
	}
	s.spawnLocked()
	s.notifyLocked()
}

func (s *sandbox) initDoneLocked() {
	s.machine.transition(stateReady)
	s.cancelInitTimerLocked()
	aheadOfDemand := s.cfg.provisioned() && s.generation == 1
	if aheadOfDemand {
		s.pendingInitMs = nil
	} else {
		ms := msSince(s.initStarted)
		s.pendingInitMs = &ms
	}
	s.log.drain(s.output)
	s.log.takeSegment() // init went well: its lines stay on stdout only
	s.notifyLocked()
}

func (s *sandbox) initFailedLocked(makeEnding func(string) ending, status string, exitWait time.Duration) {
	s.machine.transition(stateFailed)
	s.cancelInitTimerLocked()
	initMs := msSince(s.initStarted)
	inv := s.current
	rid := ""
	if inv != nil {
		rid = inv.request.requestID
	}
	e := makeEnding(rid)
	s.log.drain(s.output)
	s.log.write(s.initReportBytes(initMs, status, e.errorType))
	if inv != nil && inv.result == nil {
		s.finishLocked(inv, e, &initMs)
	} else {
		s.log.takeSegment()
	}
	if p := s.process; p != nil && !p.hasExited() {
		go func() {
			select {
			case <-p.exited:
			case <-time.After(exitWait):
				p.stop(killGrace)
			}
		}()
	}
	s.notifyLocked()
}

func (s *sandbox) deliverLocked(inv *invocation) {
	s.log.drain(s.output) // what was printed between invocations belongs to none
	s.machine.transition(stateBusy)
	inv.deliver(time.Now(), s.pendingInitMs)
	s.pendingInitMs = nil
	s.lastDelivered = inv
	s.log.setContext(inv.request.requestID, "invoke")
	s.log.startSegment()
	s.log.write(s.startBytes(inv.request.requestID))
}

// startBytes, closingBytes and initReportBytes: the platform's records in the function's log
// format (START / END / REPORT text, or platform.* JSON records filtered by SystemLogLevel).
func (s *sandbox) startBytes(rid string) []byte {
	if !s.cfg.jsonLogs() {
		return startLine(rid, s.cfg.functionVersion())
	}
	if !s.cfg.systemRecordsShown("INFO") {
		return nil
	}
	return startRecord(rid, s.cfg.functionVersion(), time.Now())
}

func (s *sandbox) closingBytes(rid string, e ending, durationMs float64, maxMemoryMB int64, initDurationMs *float64) []byte {
	closing := append([]byte(nil), e.notice...)
	if !s.cfg.jsonLogs() {
		closing = append(closing, endLine(rid)...)
		return append(closing, reportLine(rid, durationMs, s.cfg.memorySizeMB(), maxMemoryMB, initDurationMs)...)
	}
	if !s.cfg.systemRecordsShown("INFO") {
		return closing
	}
	return append(closing, reportRecord(rid, durationMs, s.cfg.memorySizeMB(), maxMemoryMB, initDurationMs,
		reportStatus(e.outcome), e.errorType, time.Now())...)
}

func (s *sandbox) initReportBytes(initMs float64, status, errorType string) []byte {
	if !s.cfg.jsonLogs() {
		return initReportLine(initMs, status, errorType)
	}
	if !s.cfg.systemRecordsShown("INFO") {
		return nil
	}
	initType := s.cfg.runtimeEnv["AWS_LAMBDA_INITIALIZATION_TYPE"]
	if initType == "" {
		initType = "on-demand"
	}
	return initReportRecord(initMs, initType, status, errorType, time.Now())
}

func (s *sandbox) finishLocked(inv *invocation, e ending, initDurationMs *float64) {
	now := time.Now()
	rid := inv.request.requestID
	maxMemoryMB := s.sampleMemoryLocked()
	s.log.drain(s.output)
	var durationMs float64
	switch {
	case inv.delivered:
		durationMs = float64(now.Sub(inv.deliveredAt)) / float64(time.Millisecond)
		initDurationMs = inv.initDurationMs
	case e.outcome == outcomeInitError:
		durationMs = 0
	default:
		durationMs = float64(now.Sub(inv.acceptedAt)) / float64(time.Millisecond)
	}
	closing := s.closingBytes(rid, e, durationMs, maxMemoryMB, initDurationMs)
	var tail []byte
	if inv.delivered {
		s.log.write(closing)
		tail = s.log.takeSegment()
	} else {
		// Never reached the runtime (init failed, or the runtime stopped polling): the tail
		// shows the init output between a START and an END of our own.
		initLines := s.log.takeSegment()
		opening := s.startBytes(rid)
		s.log.setContext(rid, "invoke")
		s.log.write(append(append([]byte(nil), opening...), closing...))
		tail = append(append(append([]byte(nil), opening...), initLines...), closing...)
		if len(tail) > tailBytes {
			tail = tail[len(tail)-tailBytes:]
		}
	}
	if s.machine.state != stateInitializing {
		s.log.setContext("", "idle")
	} else {
		s.log.setContext("", "init")
	}
	inv.result = &invokeResult{
		outcome: e.outcome, body: e.body, contentType: e.contentType, errorType: e.errorType,
		durationMs: durationMs, initDurationMs: initDurationMs, maxMemoryMB: maxMemoryMB, logTail: tail,
	}
	close(inv.done)
	s.current = nil
	s.invocations++
	s.release.busy()
	s.notifyLocked()
}

// -- helpers --------------------------------------------------------------------------------

// waitLimitLocked: when the waiting invoke gives up; unbounded while init runs (the init
// timer bounds that).
func (s *sandbox) waitLimitLocked(inv *invocation) (time.Time, bool) {
	if inv.delivered {
		return inv.deadlineAt, true // the function timeout, from delivery
	}
	if s.machine.state == stateInitializing {
		return time.Time{}, false
	}
	// Ready but not polling (still busy after its last response): the timeout bounds that too.
	return inv.acceptedAt.Add(time.Duration(inv.request.timeoutMs) * time.Millisecond), true
}

func (s *sandbox) cancelInitTimerLocked() {
	if s.initTimer != nil {
		s.initTimer.Stop()
		s.initTimer = nil
	}
}

func (s *sandbox) sampleMemoryLocked() int64 {
	pid := 0
	if p := s.process; p != nil && !p.hasExited() {
		pid = p.pid
	}
	peak, err := s.memory.peakBytes(pid)
	if err != nil {
		peak = 0
	}
	if peak > s.peakBytes {
		s.peakBytes = peak
	}
	return (s.peakBytes + mib - 1) / mib
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t)) / float64(time.Millisecond)
}
