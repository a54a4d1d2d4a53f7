// Command lambkin-agent runs inside every Lambkin instance, next to the language runtime: it
// serves the Lambda Runtime API to the runtime and the control protocol to the control plane,
// supervises the runtime, and turns its output into log events (docs/architecture.md).
//
// It is a static binary with no dependency beyond Go's standard library, so it can be
// mounted into any image and be its entry point (PID 1: it reaps orphans and turns SIGTERM
// into a shutdown).
package main

import (
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const shutdownGrace = 2 * time.Second

// noNewPrivsVariable (LAMBKIN_NO_NEW_PRIVS=1) makes the agent set PR_SET_NO_NEW_PRIVS
// (linux/prctl.h: 38) on itself before it starts anything.
const (
	noNewPrivsVariable = "LAMBKIN_NO_NEW_PRIVS"
	prSetNoNewPrivs    = 38
)

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "gateway" { // the swarm driver's, gateway.go: it
		os.Exit(runGateway()) // relays many connections at once, so every P it can have
	}
	// One P: the agent does a few syscalls per invocation, one invocation at a time, and every
	// further P costs memory (its own caches and spans, more threads) that grows with the
	// host's CPU count, and CPU: with one P, handing an event from the control connection to
	// the runtime's /next and back stays on one thread instead of waking another (futex,
	// context switch; 0.4-0.5 -> 0.26-0.30 ms per invocation measured). GOMAXPROCS in the
	// environment still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	os.Exit(run())
}

// debugLog: the agent's own diagnostics, on stderr when LAMBKIN_AGENT_LOG_LEVEL is INFO or
// DEBUG, in the log package's format ("lambkin_agent 2026/11/27 13:06:32 ...").
var debugLog bool

func logf(parts ...string) {
	if !debugLog {
		return
	}
	line := "lambkin_agent " + time.Now().Format("2006/01/02 15:04:05 ") + strings.Join(parts, "") + "\n"
	_, _ = os.Stderr.Write([]byte(line))
}

// fail reports a start-up error on stderr.
func fail(what string, err error) {
	_, _ = os.Stderr.Write([]byte("lambkin_agent: " + what + err.Error() + "\n"))
}

func run() int {
	level := os.Getenv("LAMBKIN_AGENT_LOG_LEVEL")
	debugLog = strings.EqualFold(level, "INFO") || strings.EqualFold(level, "DEBUG")
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		fail("", err)
		return 2
	}
	// Out of reach of anything we start (the runtime gets LAMBKIN_RUNTIME_ENV only anyway).
	os.Unsetenv(tokenVariable)
	if os.Getenv(noNewPrivsVariable) == "1" {
		// Where the engine cannot set no-new-privileges (a Swarm service), the agent sets it on
		// itself: everything it starts inherits it, so a setuid binary in the image gives the
		// function's user nothing. (The agent's own setuid to that user is a syscall, not an
		// exec, and still works.)
		// On every thread (the attribute is a thread's, and any thread may start the runtime).
		if _, _, errno := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); errno != 0 {
			fail("PR_SET_NO_NEW_PRIVS: ", errno)
			return 1
		}
	}

	stop := make(chan os.Signal, 2)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	reaper := startReaper()

	runtimeListener, err := listen(cfg.runtimeAPIAddr)
	if err != nil {
		fail("runtime API: ", err)
		return 1
	}
	controlListener, err := listen(cfg.controlAddr)
	if err != nil {
		fail("control: ", err)
		return 1
	}
	logOut, err := openLog(cfg.logPath)
	if err != nil {
		fail("LAMBKIN_LOG_PATH: ", err)
		return 2
	}
	logs := newLogCapture(logOut)
	sb := newSandbox(cfg, logs, newMemoryMeter(cfg.memorySource), reaper, runtimeListener.runtimeAPIAddress())
	// Without its X-Ray address an instance still serves its function: the SDKs log that they
	// cannot send, as they do wherever no daemon listens.
	if xray, err := listenUDP(cfg.xrayAddr); err != nil {
		logf("X-Ray daemon address: ", err.Error(), "; segments from this instance are not traced")
	} else {
		logs.xray, sb.xrayAddress = xray, xray.bound
		go xray.serve(logs)
	}
	control := &controlServer{token: []byte(cfg.controlToken), sandbox: sb, fileRoots: cfg.fileRoots}
	if cfg.logServe {
		control.logPath = cfg.logPath
	}
	shutdownRequested := make(chan struct{}, 1)
	control.requestShutdown = func() {
		select {
		case shutdownRequested <- struct{}{}:
		default:
		}
	}
	runtimeServer := newServer(&runtimeAPI{sandbox: sb}, nil)
	controlServer := newServer(control, &control.accepted)
	go func() { _ = runtimeServer.serve(runtimeListener) }()
	go func() { _ = controlServer.serve(controlListener) }()

	port := controlListener.bound.port
	// The ready line is for whoever started the agent, on stdout, never in the log.
	_, _ = os.Stdout.Write([]byte(`{"lambkin_agent": "ready", "control_port": ` + strconv.Itoa(port) + "}\n"))
	sb.start() // init overlaps the rest of the cold start
	logf("instance ", cfg.instanceID, ": control :", strconv.Itoa(port), ", runtime API ", runtimeListener.String())

	select {
	case <-stop:
	case <-shutdownRequested:
	}
	sb.shutdown(shutdownGrace)
	// Let a reply already on its way (an invoke the shutdown ended) reach the control plane.
	controlServer.shutdown(500 * time.Millisecond)
	return 0
}

// openLog: the file the control plane reads log events from (appended to, never truncated:
// the control plane may have written its header line first), else stdout. Opened close-on-exec,
// so the runtime never inherits it; the function's user cannot open it (the control plane
// makes it readable and writable by its own user and group only).
func openLog(path string) (*os.File, error) {
	if path == "" {
		return os.Stdout, nil
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
}
