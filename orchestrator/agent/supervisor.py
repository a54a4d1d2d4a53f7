"""The runtime process: started in its own process group, watched until it exits, killed as a group.

Given a user, the runtime runs as that uid and gid with no supplementary groups: the agent
(root in a container, holding only CAP_SETUID, CAP_SETGID and CAP_KILL) keeps a uid the
function's processes cannot signal, trace or read through /proc.

The exit is reported the way Go's os/exec words it ("exit status 3", "signal: killed"), because
that is the wording AWS puts into `Runtime.ExitError` messages.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence

logger = logging.getLogger(__name__)

# Go's syscall signal names (zsyscall signalList), which AWS's messages carry.
_GO_SIGNAL_NAMES: dict[signal.Signals, str] = {
    signal.SIGHUP: "hangup",
    signal.SIGINT: "interrupt",
    signal.SIGQUIT: "quit",
    signal.SIGILL: "illegal instruction",
    signal.SIGTRAP: "trace/breakpoint trap",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGKILL: "killed",
    signal.SIGUSR1: "user defined signal 1",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGUSR2: "user defined signal 2",
    signal.SIGPIPE: "broken pipe",
    signal.SIGALRM: "alarm clock",
    signal.SIGTERM: "terminated",
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGXFSZ: "file size limit exceeded",
    signal.SIGVTALRM: "virtual timer expired",
    signal.SIGPROF: "profiling timer expired",
    signal.SIGSYS: "bad system call",
}


def describe_wait_status(status: int) -> str:
    """A raw waitpid status as Go's ProcessState.String() renders it."""
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        text = "signal: " + _GO_SIGNAL_NAMES.get(signal.Signals(signum), f"signal {signum}")
        return text + (" (core dumped)" if os.WCOREDUMP(status) else "")
    return f"unknown wait status {status}"


class StartError(Exception):
    """The runtime command could not be executed (AWS: Runtime.InvalidEntrypoint)."""


class RuntimeProcess:
    """One runtime process. `exited` is set (and `status` known) before `on_exit` is called."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        output_fd: int,
        on_exit: Callable[[RuntimeProcess], None],
    ) -> None:
        self._popen = popen
        self._on_exit = on_exit
        self.pid = popen.pid
        self.exited = threading.Event()
        self.status = ""  # Go-style exit description, once exited
        self.killed_by_signal: int | None = None
        self._stop_lock = threading.Lock()
        self._stopped = False
        # Read end of the one pipe behind the runtime's stdout AND stderr (as RAPID does: one
        # pipe keeps the order in which lines were written), owned by its reader (log capture).
        self.output_fd = output_fd
        threading.Thread(target=self._watch, name=f"runtime-exit-{self.pid}", daemon=True).start()

    @classmethod
    def start(
        cls,
        cmd: Sequence[str],
        env: Mapping[str, str],
        cwd: str,
        on_exit: Callable[[RuntimeProcess], None],
        user: tuple[int, int] | None = None,
    ) -> RuntimeProcess:
        # Our own pipe rather than Popen's file objects, so that no garbage collection ever
        # closes a descriptor a reader thread still uses.
        out_r, out_w = os.pipe()
        try:
            popen = subprocess.Popen(
                list(cmd),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                process_group=0,
                close_fds=True,
                user=user[0] if user else None,
                group=user[1] if user else None,
                extra_groups=[] if user else None,  # setgroups(0): no supplementary groups
            )
        except OSError as exc:
            os.close(out_r)
            what = exc.filename if exc.filename else cmd[0]
            reason = (exc.strerror or str(exc)).lower()
            raise StartError(f"fork/exec {what}: {reason}") from None
        finally:
            os.close(out_w)
        return cls(popen, out_r, on_exit)

    def _watch(self) -> None:
        # We reap the child ourselves (not Popen.wait) to keep the raw status: core dumps, signals.
        _, status = os.waitpid(self.pid, 0)
        self._popen.returncode = os.waitstatus_to_exitcode(status)
        self.status = describe_wait_status(status)
        if os.WIFSIGNALED(status):
            self.killed_by_signal = os.WTERMSIG(status)
        self.exited.set()
        try:
            self._on_exit(self)
        except Exception:
            logger.exception("runtime exit handler failed (pid %s)", self.pid)

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, grace_s: float) -> None:
        """SIGTERM to the group, SIGKILL after `grace_s`; returns once the runtime is reaped."""
        with self._stop_lock:
            if self._stopped:
                return
            if not self.exited.is_set():
                self._signal_group(signal.SIGTERM)
                if not self.exited.wait(grace_s):
                    self._signal_group(signal.SIGKILL)
                self.exited.wait()
            # Once, right after the reap: children the runtime left behind in its group.
            self._signal_group(signal.SIGKILL)
            self._stopped = True
