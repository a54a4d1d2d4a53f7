"""The sandbox: one runtime process, its state machine and the one in-flight invocation.

Both servers call in here: the control server (`invoke`, `shutdown`) and the Runtime API
(`next_invocation`, `post_*`). One lock guards everything; waiting is done on one condition
variable, never by polling. Each Runtime API call validates first, then makes one transition.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from .config import AgentConfig
from .errors import Busy, RuntimeApiError, Stopped
from .invocation import (
    DEFAULT_CONTENT_TYPE,
    Ending,
    Invocation,
    InvokeRequest,
    InvokeResult,
    Outcome,
    entrypoint_ending,
    exit_ending,
    init_timeout_ending,
    posted_error,
    timeout_ending,
    too_large_ending,
)
from .log_capture import (
    TAIL_BYTES,
    LogCapture,
    PipeReader,
    end_line,
    init_report_line,
    report_line,
    start_line,
)
from .memory import MemoryMeter
from .state import RuntimeState, RuntimeStateMachine
from .supervisor import RuntimeProcess, StartError

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
KILL_GRACE_S = 0.5  # SIGTERM -> SIGKILL after a timeout, an init timeout or a lazy restart
INIT_ERROR_EXIT_WAIT_S = 1.0  # a runtime that posted /init/error is expected to exit by itself


class Sandbox:
    def __init__(
        self, config: AgentConfig, log: LogCapture, memory: MemoryMeter, runtime_api: str
    ) -> None:
        self._config = config
        self._log = log
        self._memory = memory
        self._runtime_api = runtime_api  # host:port for AWS_LAMBDA_RUNTIME_API
        self._cond = threading.Condition(threading.Lock())
        self._machine = RuntimeStateMachine(RuntimeState.INITIALIZING)
        self._process: RuntimeProcess | None = None
        self._output: tuple[PipeReader, ...] = ()
        self._generation = 0  # bumped per runtime start; stale /next waiters notice and leave
        self._init_started = 0.0
        self._init_timer: threading.Timer | None = None
        self._pending_init_ms: float | None = None  # for the first invocation after an init
        self._current: Invocation | None = None
        self._last_delivered: Invocation | None = None
        self._invocations = 0
        self._peak_bytes = 0
        self._oom_baseline: int | None = None
        self.last_init_error: Ending | None = None

    # -- read-only views (no lock: single attribute reads) --------------------------------------

    @property
    def state(self) -> RuntimeState:
        return self._machine.state

    @property
    def invocations(self) -> int:
        return self._invocations

    def max_memory_mb(self) -> int:
        with self._cond:
            return self._sample_memory_locked()

    # -- control side ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            self._spawn_locked()

    def invoke(self, request: InvokeRequest) -> InvokeResult:
        with self._cond:
            if self._machine.state is RuntimeState.STOPPED:
                raise Stopped()
            if self._current is not None:
                raise Busy()
            invocation = Invocation(request, accepted_at=time.monotonic())
            self._current = invocation
            if self._machine.state is RuntimeState.FAILED:
                self._restart_locked()  # lazily, so a broken function does not crash-loop
            self._cond.notify_all()
            while invocation.result is None:
                limit = self._wait_limit_locked(invocation)
                if limit is None:
                    self._cond.wait()
                    continue
                remaining = limit - time.monotonic()
                if remaining <= 0:
                    self._finish_locked(
                        invocation, timeout_ending(request.request_id, request.timeout_ms)
                    )
                    self._restart_locked()
                    break
                self._cond.wait(remaining)
            assert invocation.result is not None
            return invocation.result

    def shutdown(self, grace_s: float) -> None:
        with self._cond:
            if self._machine.state is RuntimeState.STOPPED:
                return
            self._machine.transition(RuntimeState.STOPPED)
            self._cancel_init_timer_locked()
            process = self._process
            if process is not None:
                process.stop(grace_s)
                self._log.drain(self._output)
            invocation = self._current
            if invocation is not None and invocation.result is None:
                status = process.status if process is not None else "signal: terminated"
                ending = exit_ending(
                    Outcome.EXIT, invocation.request_id, status, "Runtime.ExitError"
                )
                self._finish_locked(invocation, ending)
            self._cond.notify_all()

    # -- Runtime API side -----------------------------------------------------------------------

    def next_invocation(self, connected: Callable[[], bool]) -> Invocation | None:
        """Block until there is an event for the runtime; None: drop this connection."""
        with self._cond:
            generation = self._generation
            if self._machine.state is RuntimeState.INITIALIZING:
                if not connected():
                    return None
                self._init_done_locked()
            while True:
                state = self._machine.state
                if generation != self._generation or state in (
                    RuntimeState.FAILED,
                    RuntimeState.STOPPED,
                ):
                    return None
                invocation = self._current
                if invocation is not None and invocation.result is None:
                    if invocation.delivered_at is not None:
                        return invocation  # a second /next gets the same event again, as RIE
                    if state is RuntimeState.READY:
                        if not connected():
                            return None  # a dead runtime's request: leave the event alone
                        self._deliver_locked(invocation)
                        return invocation
                self._cond.wait()

    def post_response(self, request_id: str, body: bytes, content_type: str | None) -> None:
        ending = Ending(Outcome.SUCCESS, body, content_type or DEFAULT_CONTENT_TYPE)
        self._post(request_id, ending)

    def post_error(self, request_id: str, body: bytes, error_type_header: str | None) -> None:
        self._post(request_id, posted_error(Outcome.FUNCTION_ERROR, body, error_type_header))

    def post_too_large(self, request_id: str) -> None:
        self._post(request_id, too_large_ending())

    def _post(self, request_id: str, ending: Ending) -> None:
        with self._cond:
            invocation = self._current
            if (
                invocation is None
                or invocation.delivered_at is None
                or invocation.request_id != request_id
            ):
                last = self._last_delivered
                if last is not None and last.request_id == request_id:
                    raise RuntimeApiError(
                        403, "InvalidStateTransition", "Invocation already completed"
                    )
                raise RuntimeApiError(400, "InvalidRequestID", "Invalid request ID")
            self._finish_locked(invocation, ending)
            self._machine.transition(RuntimeState.READY)

    def post_init_error(self, body: bytes, error_type_header: str | None) -> None:
        with self._cond:
            if self._machine.state is not RuntimeState.INITIALIZING:
                raise RuntimeApiError(
                    403, "InvalidStateTransition", "Init error is only accepted during init"
                )
            self._init_failed_locked(
                lambda rid: posted_error(Outcome.INIT_ERROR, body, error_type_header),
                "error",
                exit_wait_s=INIT_ERROR_EXIT_WAIT_S,
            )

    # -- process events -------------------------------------------------------------------------

    def _on_exit(self, process: RuntimeProcess) -> None:
        with self._cond:
            if process is not self._process:
                return  # a runtime we already replaced
            state = self._machine.state
            logger.info(
                "runtime pid %s exited (%s) while %s", process.pid, process.status, state.value
            )
            if state is RuntimeState.INITIALIZING:
                self._init_failed_locked(
                    lambda rid: exit_ending(
                        Outcome.INIT_ERROR, rid, process.status, "Runtime.ExitError"
                    ),
                    "error",
                    exit_wait_s=0.0,
                )
            elif state is RuntimeState.BUSY and self._current is not None:
                ending = exit_ending(
                    Outcome.EXIT, self._current.request_id, process.status, self._exit_type(process)
                )
                self._finish_locked(self._current, ending)
                self._restart_locked()
            elif state is RuntimeState.READY:
                self._restart_locked()
            # FAILED (exit after /init/error) and STOPPED: expected, nothing to do.

    def _on_init_timeout(self, process: RuntimeProcess) -> None:
        with self._cond:
            if process is not self._process or self._machine.state is not RuntimeState.INITIALIZING:
                return
            timeout_s = self._config.init_timeout_s
            self._init_failed_locked(
                lambda rid: init_timeout_ending(rid, timeout_s), "timeout", exit_wait_s=0.0
            )

    def _exit_type(self, process: RuntimeProcess) -> str:
        if process.killed_by_signal == signal.SIGKILL and self._oom_baseline is not None:
            kills = self._memory.oom_kills()
            if kills is not None and kills > self._oom_baseline:
                return "Runtime.OutOfMemory"
        return "Runtime.ExitError"

    # -- transitions (lock held) ----------------------------------------------------------------

    def _spawn_locked(self) -> None:
        self._generation += 1
        self._init_started = time.monotonic()
        self._pending_init_ms = None
        self._log.set_context("", "init")
        self._log.start_segment()  # init lines: the tail of an invocation that waits and fails
        env = dict(self._config.runtime_env)
        env["AWS_LAMBDA_RUNTIME_API"] = self._runtime_api
        try:
            process = RuntimeProcess.start(
                self._config.runtime_cmd,
                env,
                self._config.runtime_cwd,
                self._on_exit,
                user=self._config.runtime_user,
            )
        except StartError as exc:
            self._process, self._output = None, ()
            reason = str(exc)
            self._init_failed_locked(lambda rid: entrypoint_ending(rid, reason), "error", 0.0)
            return
        self._process = process
        self._output = self._log.attach((process.output_fd,), str(process.pid))
        self._oom_baseline = self._memory.oom_kills()
        timer = threading.Timer(self._config.init_timeout_s, self._on_init_timeout, (process,))
        timer.daemon = True
        timer.start()
        self._init_timer = timer

    def _restart_locked(self) -> None:
        """Kill what is left of the runtime and start a fresh one (the next invoke re-inits)."""
        if self._machine.state is RuntimeState.STOPPED:
            return
        self._cancel_init_timer_locked()
        if self._process is not None:
            self._process.stop(KILL_GRACE_S)
            self._log.drain(self._output)
        if self._machine.state is not RuntimeState.INITIALIZING:
            self._machine.transition(RuntimeState.INITIALIZING)
        self._spawn_locked()
        self._cond.notify_all()

    def _init_done_locked(self) -> None:
        self._machine.transition(RuntimeState.READY)
        self._cancel_init_timer_locked()
        ahead_of_demand = self._config.provisioned and self._generation == 1
        self._pending_init_ms = (
            None if ahead_of_demand else (time.monotonic() - self._init_started) * 1000
        )
        self._log.drain(self._output)
        self._log.take_segment()  # init went well: its lines stay on stdout only
        self._cond.notify_all()

    def _init_failed_locked(
        self, make_ending: Callable[[str], Ending], status: str, exit_wait_s: float
    ) -> None:
        self._machine.transition(RuntimeState.FAILED)
        self._cancel_init_timer_locked()
        init_ms = (time.monotonic() - self._init_started) * 1000
        invocation = self._current
        ending = make_ending(invocation.request_id if invocation is not None else "")
        self.last_init_error = ending
        self._log.drain(self._output)
        self._log.write(init_report_line(init_ms, status, ending.error_type))
        if invocation is not None and invocation.result is None:
            self._finish_locked(invocation, ending, init_duration_ms=init_ms)
        else:
            self._log.take_segment()
        process = self._process
        if process is not None and not process.exited.is_set():

            def reap() -> None:
                if not process.exited.wait(exit_wait_s):
                    process.stop(KILL_GRACE_S)

            threading.Thread(target=reap, name="runtime-reap", daemon=True).start()
        self._cond.notify_all()

    def _deliver_locked(self, invocation: Invocation) -> None:
        self._log.drain(self._output)  # what was printed between invocations belongs to none
        self._machine.transition(RuntimeState.BUSY)
        invocation.deliver(time.monotonic(), time.time(), self._pending_init_ms)
        self._pending_init_ms = None
        self._last_delivered = invocation
        self._log.set_context(invocation.request_id, "invoke")
        self._log.start_segment()
        self._log.write(start_line(invocation.request_id, self._config.function_version))

    def _finish_locked(
        self, invocation: Invocation, ending: Ending, init_duration_ms: float | None = None
    ) -> None:
        now = time.monotonic()
        request_id = invocation.request_id
        max_memory_mb = self._sample_memory_locked()
        self._log.drain(self._output)
        delivered = invocation.delivered_at is not None
        if invocation.delivered_at is not None:
            duration_ms = (now - invocation.delivered_at) * 1000
            init_duration_ms = invocation.init_duration_ms
        elif ending.outcome is Outcome.INIT_ERROR:
            duration_ms = 0.0
        else:
            duration_ms = (now - invocation.accepted_at) * 1000
        memory_size_mb = self._config.memory_size_mb
        closing = ending.notice + end_line(request_id)
        closing += report_line(
            request_id, duration_ms, memory_size_mb, max_memory_mb, init_duration_ms
        )
        if delivered:
            self._log.write(closing)
            tail = self._log.take_segment()
        else:
            # Never reached the runtime (init failed, or the runtime stopped polling): the tail
            # shows the init output between a START and an END of our own.
            init_lines = self._log.take_segment()
            opening = start_line(request_id, self._config.function_version)
            self._log.set_context(request_id, "invoke")
            self._log.write(opening + closing)
            tail = (opening + init_lines + closing)[-TAIL_BYTES:]
        self._log.set_context(
            "", "idle" if self._machine.state is not RuntimeState.INITIALIZING else "init"
        )
        invocation.result = InvokeResult(
            outcome=ending.outcome,
            body=ending.body,
            content_type=ending.content_type,
            error_type=ending.error_type,
            duration_ms=duration_ms,
            init_duration_ms=init_duration_ms,
            max_memory_mb=max_memory_mb,
            log_tail=tail,
        )
        self._current = None
        self._invocations += 1
        self._cond.notify_all()

    # -- helpers --------------------------------------------------------------------------------

    def _wait_limit_locked(self, invocation: Invocation) -> float | None:
        if invocation.deadline_at is not None:
            return invocation.deadline_at  # the function timeout, from delivery
        if self._machine.state is RuntimeState.INITIALIZING:
            return None  # bounded by the init timer
        # Ready but not polling (still busy after its last response): the timeout bounds that too.
        return invocation.accepted_at + invocation.request.timeout_ms / 1000

    def _cancel_init_timer_locked(self) -> None:
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None

    def _sample_memory_locked(self) -> int:
        process = self._process
        pid = process.pid if process is not None and not process.exited.is_set() else None
        try:
            peak = self._memory.peak_bytes(pid)
        except (OSError, ValueError):
            peak = 0
        self._peak_bytes = max(self._peak_bytes, peak)
        return -(-self._peak_bytes // MIB)
