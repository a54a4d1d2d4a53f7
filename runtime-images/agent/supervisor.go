package main

// The runtime process: started in its own process group (so the whole group can be
// signalled), optionally as another user with no supplementary groups, watched until it
// exits, killed as a group.
//
// The agent is a container's PID 1, so it also reaps every orphan that is re-parented to it,
// as docker-init and tini do. One reaper owns all waiting: on SIGCHLD it calls wait4(-1) until
// nothing is left, hands a runtime's status to that runtime, and drops the others. A runtime
// is registered while the reaper's lock is held across fork/exec, so its status can never be
// collected before we know its pid.
//
// Exits are worded as Go's os/exec words them ("exit status 3", "signal: killed"), which is
// the wording AWS puts into Runtime.ExitError messages.

import (
	"errors"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// describeWaitStatus renders a wait status as Go's ProcessState.String() does.
func describeWaitStatus(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return "exit status " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		text := "signal: " + ws.Signal().String()
		if ws.CoreDump() {
			text += " (core dumped)"
		}
		return text
	}
	return "unknown wait status " + strconv.Itoa(int(ws))
}

type reaper struct {
	mu      sync.Mutex
	waiting map[int]*runtimeProcess
}

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER (linux/prctl.h).
const prSetChildSubreaper = 36

func startReaper() *reaper {
	r := &reaper{waiting: map[int]*runtimeProcess{}}
	// Not PID 1 (the process driver): orphans of the runtime's tree come to us all the same,
	// so nothing it leaves behind outlives the instance as a zombie of someone else's.
	if os.Getpid() != 1 {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	}
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	go func() {
		for range sigchld {
			r.reapAll()
		}
	}()
	return r
}

func (r *reaper) reapAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		if p, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			go p.exitedWith(ws) // outside the lock: the exit handler may start a new runtime
		}
	}
}

// startError: the runtime command could not be executed (AWS: Runtime.InvalidEntrypoint).
type startError struct{ reason string }

func (e *startError) Error() string { return e.reason }

type runtimeProcess struct {
	pid          int
	outputFd     int // read end of the one pipe behind the runtime's stdout AND stderr
	exited       chan struct{}
	status       string // Go-style exit description, once exited
	killedSignal syscall.Signal
	onExit       func(*runtimeProcess)
	stopOnce     sync.Mutex
	stopped      bool
}

// lookPath finds the command as Python's subprocess does: in the runtime's own PATH
// (os.defpath when it has none), not the agent's.
func lookPath(name string, env map[string]string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	search, ok := env["PATH"]
	if !ok {
		search = "/bin:/usr/bin"
	}
	if search == "" {
		return "", &startError{"fork/exec " + name + ": no such file or directory"}
	}
	for _, dir := range strings.Split(search, ":") { // filepath.SplitList, on Unix
		candidate := path.Join(dir, name)
		if info, err := os.Stat(candidate); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", &startError{"fork/exec " + name + ": no such file or directory"}
}

func (r *reaper) start(cmd []string, env map[string]string, cwd string, user *runtimeUser, onExit func(*runtimeProcess)) (*runtimeProcess, error) {
	path, err := lookPath(cmd[0], env)
	if err != nil {
		return nil, err
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, &startError{"fork/exec " + cmd[0] + ": " + err.Error()}
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, &startError{"fork/exec " + cmd[0] + ": " + err.Error()}
	}
	defer devnull.Close()
	envList := make([]string, 0, len(env))
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	attr := &syscall.SysProcAttr{Setpgid: true}
	if user != nil {
		attr.Credential = &syscall.Credential{Uid: user.uid, Gid: user.gid, Groups: []uint32{}}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := syscall.ForkExec(path, cmd, &syscall.ProcAttr{
		Dir:   cwd,
		Env:   envList,
		Files: []uintptr{devnull.Fd(), uintptr(fds[1]), uintptr(fds[1])},
		Sys:   attr,
	})
	syscall.Close(fds[1])
	if err != nil {
		syscall.Close(fds[0])
		what := path
		if errors.Is(err, syscall.ENOENT) {
			if info, statErr := os.Stat(cwd); statErr != nil || !info.IsDir() {
				what = cwd // subprocess names the directory it could not enter
			}
		}
		return nil, &startError{"fork/exec " + what + ": " + err.Error()}
	}
	p := &runtimeProcess{pid: pid, outputFd: fds[0], exited: make(chan struct{}), onExit: onExit}
	r.waiting[pid] = p
	return p, nil
}

func (p *runtimeProcess) exitedWith(ws syscall.WaitStatus) {
	p.status = describeWaitStatus(ws)
	if ws.Signaled() {
		p.killedSignal = ws.Signal()
	}
	close(p.exited)
	p.onExit(p)
}

func (p *runtimeProcess) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *runtimeProcess) signalGroup(sig syscall.Signal) {
	_ = syscall.Kill(-p.pid, sig)
}

// stop sends SIGTERM to the group, SIGKILL after grace; it returns once the runtime is reaped.
func (p *runtimeProcess) stop(grace time.Duration) {
	p.stopOnce.Lock()
	defer p.stopOnce.Unlock()
	if p.stopped {
		return
	}
	if !p.hasExited() {
		p.signalGroup(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(grace):
			p.signalGroup(syscall.SIGKILL)
		}
		<-p.exited
	}
	p.signalGroup(syscall.SIGKILL) // once, after the reap: what the runtime left in its group
	p.stopped = true
}
