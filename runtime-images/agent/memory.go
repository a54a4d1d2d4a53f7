package main

// Max memory used, measured (never copied from the configured size).
//
// cgroup: the peak of our own memory cgroup (v2 memory.peak, v1 memory.max_usage_in_bytes):
// the directory /proc/self/cgroup names when it is visible, else the mount's root (which is
// the container's own cgroup inside a container); proc when none is readable.
// proc: the sum of VmHWM (peak resident set) over the runtime's process tree.

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	cgroupV2Root = "/sys/fs/cgroup"
	cgroupV1Root = "/sys/fs/cgroup/memory"
	procRescan   = 100 * time.Millisecond // walking the tree costs more than an invoke
)

// memoryMeter: peakBytes is 0 when unknown; oomKills reports ok=false when it cannot tell.
type memoryMeter interface {
	peakBytes(runtimePid int) (int64, error)
	oomKills() (int64, bool)
}

type cgroupMemory struct {
	peak    *os.File // kept open: one pread a sample
	oomPath string
}

func newCgroupMemory(peakPath, oomPath string) (*cgroupMemory, error) {
	f, err := os.Open(peakPath)
	if err != nil {
		return nil, err
	}
	m := &cgroupMemory{peak: f, oomPath: oomPath}
	if _, err := m.peakBytes(0); err != nil { // fail now, not on the first invoke
		f.Close()
		return nil, err
	}
	return m, nil
}

func (m *cgroupMemory) peakBytes(int) (int64, error) {
	buf := make([]byte, 64)
	n, err := m.peak.ReadAt(buf, 0)
	if n == 0 && err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(buf[:n])), 10, 64)
}

func (m *cgroupMemory) oomKills() (int64, bool) { return counter(m.oomPath, "oom_kill") }

// counter reads `key value` lines (memory.events, memory.oom_control).
func counter(path, key string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		name, value, _ := strings.Cut(scanner.Text(), " ")
		if name == key {
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// vmHWMBytes: the VmHWM line of a /proc/<pid>/status; 0 for a zombie, which has none.
func vmHWMBytes(status []byte) int64 {
	start := bytes.Index(status, []byte("VmHWM:"))
	if start < 0 {
		return 0
	}
	rest := status[start+6:]
	if end := bytes.IndexByte(rest, '\n'); end >= 0 {
		rest = rest[:end]
	}
	fields := strings.Fields(string(rest))
	if len(fields) == 0 {
		return 0
	}
	kb, _ := strconv.ParseInt(fields[0], 10, 64)
	return kb * 1024
}

// processTree: root and all its descendants, via /proc/<pid>/task/<tid>/children.
func processTree(root int) []int {
	pids := []int{root}
	for i := 0; i < len(pids); i++ { // grows while we walk it
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pids[i]) + "/task")
		if err != nil {
			continue
		}
		for _, task := range tasks {
			data, err := os.ReadFile("/proc/" + strconv.Itoa(pids[i]) + "/task/" + task.Name() + "/children")
			if err != nil {
				continue
			}
			for _, field := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(field); err == nil {
					pids = append(pids, pid)
				}
			}
		}
	}
	return pids
}

// procTreeMemory keeps status files open (one pread each a sample) and walks the tree again
// at most every procRescan. Not safe for concurrent use: the sandbox calls it under its lock.
type procTreeMemory struct {
	root      int
	status    map[int]*os.File
	scannedAt time.Time
}

func newProcTreeMemory() *procTreeMemory { return &procTreeMemory{status: map[int]*os.File{}} }

func (m *procTreeMemory) peakBytes(runtimePid int) (int64, error) {
	if runtimePid <= 0 {
		return 0, nil
	}
	if now := time.Now(); runtimePid != m.root || now.Sub(m.scannedAt) > procRescan {
		m.rescan(runtimePid)
		m.scannedAt = now
	}
	var total int64
	buf := make([]byte, 4096)
	for pid, f := range m.status {
		n, err := f.ReadAt(buf, 0)
		if n == 0 && err != nil { // gone (an open status file never follows a reused pid)
			f.Close()
			delete(m.status, pid)
			continue
		}
		total += vmHWMBytes(buf[:n])
	}
	return total, nil
}

func (m *procTreeMemory) rescan(root int) {
	m.root = root
	live := map[int]bool{}
	for _, pid := range processTree(root) {
		live[pid] = true
	}
	for pid, f := range m.status {
		if !live[pid] {
			f.Close()
			delete(m.status, pid)
		}
	}
	for pid := range live {
		if _, open := m.status[pid]; !open {
			if f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status"); err == nil {
				m.status[pid] = f
			}
		}
	}
}

func (m *procTreeMemory) oomKills() (int64, bool) { return 0, false }

// cgroupCandidates: (peak file, oom file) pairs to try, most specific first.
func cgroupCandidates(procSelfCgroup string) [][2]string {
	ownV2, ownV1 := "", ""
	haveV2, haveV1 := false, false
	for _, line := range strings.Split(procSelfCgroup, "\n") {
		parts := strings.SplitN(line, ":", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		hierarchy, controllers, path := parts[0], parts[1], parts[2]
		if hierarchy == "0" && controllers == "" {
			ownV2, haveV2 = strings.Trim(path, "/"), true
		} else {
			for _, c := range strings.Split(controllers, ",") {
				if c == "memory" {
					ownV1, haveV1 = strings.Trim(path, "/"), true
				}
			}
		}
	}
	type dir struct{ path, peak, oom string }
	var dirs []dir
	if haveV2 && ownV2 != "" {
		dirs = append(dirs, dir{cgroupV2Root + "/" + ownV2, "memory.peak", "memory.events"})
	}
	dirs = append(dirs, dir{cgroupV2Root, "memory.peak", "memory.events"})
	if haveV1 && ownV1 != "" {
		dirs = append(dirs, dir{cgroupV1Root + "/" + ownV1, "memory.max_usage_in_bytes", "memory.oom_control"})
	}
	dirs = append(dirs, dir{cgroupV1Root, "memory.max_usage_in_bytes", "memory.oom_control"})
	out := make([][2]string, 0, len(dirs))
	for _, d := range dirs {
		out = append(out, [2]string{d.path + "/" + d.peak, d.path + "/" + d.oom})
	}
	return out
}

func newMemoryMeter(source string) memoryMeter {
	if source == "cgroup" {
		own, _ := os.ReadFile("/proc/self/cgroup")
		for _, c := range cgroupCandidates(string(own)) {
			if m, err := newCgroupMemory(c[0], c[1]); err == nil {
				return m
			}
		}
	}
	return newProcTreeMemory()
}
