"""One synchronous invocation, end to end: validate, place on an instance, run, answer."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass

from .agent_client import AgentResult, AgentStream, AgentUnreachable, InvokeRequest
from .arns import LATEST, FunctionRef
from .client_context import runtime_json_header
from .code_store import CodeStore
from .concurrency import ConcurrencyLimiter, ThrottleReason
from .debugging import debug_setup
from .drivers.base import StartFailed
from .errors import LambdaError, LambdaErrorCode, invalid_parameter
from .function_config import FunctionConfig
from .functions import FunctionService
from .instance import StopReason
from .pool import CodePath, Lease, Pool
from .settings import Settings
from .streamed_invocation import ChunkRelay, StreamedInvocation, StreamOutcome, outcome_of
from .telemetry import Observation, Telemetry

log = logging.getLogger(__name__)

MAX_SYNC_PAYLOAD = 6_291_456
MAX_ASYNC_PAYLOAD = 1_048_576
CLIENT_CONTEXT_MAX = 3583
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


@dataclass(frozen=True)
class InvokeInput:
    ref: FunctionRef
    payload: bytes
    invocation_type: str = "RequestResponse"
    log_type: str = "None"
    client_context_b64: str | None = None
    trace_id: str | None = None
    traceparent: str | None = None  # W3C, used when there is no X-Amzn-Trace-Id


@dataclass(frozen=True)
class InvokeOutput:
    request_id: str
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    function_error: str | None = None
    log_result: str | None = None
    executed_version: str = LATEST
    trace_id: str | None = None
    server_timing: str | None = None  # cold starts: the platform's phases, as Server-Timing


def new_request_id() -> str:
    return str(uuid.uuid4())


def new_trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Sampled=0"


def decode_client_context(value: str | None) -> str | None:
    """The client context as compact JSON text, from the base64 the invoker sent.

    Validated exactly as the agent validates it (`runtime_json_header`), so whatever passes here
    the agent takes: a JSON object, no NaN or Infinity, not nested too deeply to parse.
    """
    if not value:
        return None
    if len(value) > CLIENT_CONTEXT_MAX:
        raise invalid_parameter(f"Client context must be at most {CLIENT_CONTEXT_MAX} bytes.")
    try:
        return runtime_json_header(base64.b64decode(value, validate=True).decode())
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        raise invalid_parameter(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None


def server_timing(start_phases_ms: dict[str, float], result: AgentResult) -> str:
    """`queue;dur=..., start;dur=..., ready;dur=..., init;dur=..., invoke;dur=...` (ms)."""
    phases = dict(start_phases_ms)
    if result.init_duration_ms is not None:
        phases["init"] = result.init_duration_ms
    phases["invoke"] = result.duration_ms
    return ", ".join(f"{name};dur={ms:.1f}" for name, ms in phases.items())


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # AWS's parser refuses NaN and Infinity too


def check_payload(payload: bytes, limit: int = MAX_SYNC_PAYLOAD) -> bytes:
    if len(payload) > limit:
        raise LambdaError(
            LambdaErrorCode.REQUEST_TOO_LARGE,
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
        )
    if not payload.strip():
        return b"{}"  # Lambda hands an empty invocation to the handler as an empty object
    try:
        json.loads(payload, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # ValueError includes UnicodeDecodeError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise LambdaError(
            LambdaErrorCode.INVALID_REQUEST_CONTENT,
            f"Could not parse request body into json: Could not parse payload into json: {reason}",
        ) from None
    return payload


def platform_error(request_id: str, error_type: str, message: str) -> bytes:
    return json.dumps(
        {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}
    ).encode()


class Invoker:
    def __init__(
        self,
        functions: FunctionService,
        code_store: CodeStore,
        pool: Pool,
        limiter: ConcurrencyLimiter,
        settings: Settings,
        telemetry: Telemetry,
    ) -> None:
        self._telemetry = telemetry
        self._functions = functions
        self._code = code_store
        self._pool = pool
        self._limiter = limiter
        self._settings = settings
        self._slot_freed = asyncio.Condition()  # only used when throttle_wait_s > 0

    async def _admit(self, function: str) -> None:
        """Count the invocation against concurrency limits, or throttle it (429)."""
        reason = self._limiter.try_acquire(function)
        if reason is not None and self._settings.throttle_wait_s > 0:
            reason = await self._wait_for_slot(function, reason)
        if reason is not None:
            self._telemetry.throttled(function)
            raise LambdaError(
                LambdaErrorCode.TOO_MANY_REQUESTS, "Rate Exceeded.", Reason=reason.value
            )

    async def _wait_for_slot(self, function: str, reason: ThrottleReason) -> ThrottleReason | None:
        """The optional bounded wait: queue for a slot until the deadline, then throttle."""
        last: list[ThrottleReason | None] = [reason]

        def acquired() -> bool:
            last[0] = self._limiter.try_acquire(function)
            return last[0] is None

        try:
            async with self._slot_freed:
                await asyncio.wait_for(
                    self._slot_freed.wait_for(acquired), self._settings.throttle_wait_s
                )
        except TimeoutError:
            pass
        return last[0]

    async def _release_slot(self, function: str) -> None:
        self._limiter.release(function)
        if self._settings.throttle_wait_s > 0:
            async with self._slot_freed:
                self._slot_freed.notify_all()

    async def invoke(self, request: InvokeInput) -> InvokeOutput:
        """A synchronous (RequestResponse) or DryRun invocation; Event goes to the dispatcher."""
        config = self._functions.require_for_invoke(request.ref)
        if request.invocation_type not in INVOCATION_TYPES or request.invocation_type == "Event":
            raise invalid_parameter(
                f"InvocationType {request.invocation_type!r} is not one of "
                f"{', '.join(INVOCATION_TYPES)}."
            )
        request_id = new_request_id()
        if request.invocation_type == "DryRun":
            return InvokeOutput(request_id, 204, executed_version=config.version)
        payload = check_payload(request.payload)
        client_context = decode_client_context(request.client_context_b64)
        await self._admit(config.name)
        obs = self._telemetry.begin(
            config.name, request_id, request.trace_id, request.traceparent, config.tracing_mode
        )
        try:
            return await self._run(config, request, request_id, payload, client_context, obs)
        finally:
            obs.end()
            await self._release_slot(config.name)

    async def invoke_stream(self, request: InvokeInput) -> StreamedInvocation:
        """A RequestResponse invocation whose response is read as the function writes it
        (streamed, or buffered: then the whole response as it came). LambdaError, as `invoke`,
        for whatever fails before the first byte: function missing, bad input, throttled, no
        instance could be started. The slot and the instance are held until `chunks` ends."""
        config = self._functions.require_for_invoke(request.ref)
        if request.invocation_type != "RequestResponse":
            raise invalid_parameter(
                f"InvocationType {request.invocation_type!r} is not one of RequestResponse, DryRun."
            )
        request_id = new_request_id()
        payload = check_payload(request.payload)
        client_context = decode_client_context(request.client_context_b64)
        await self._admit(config.name)
        obs = self._telemetry.begin(
            config.name, request_id, request.trace_id, request.traceparent, config.tracing_mode
        )
        leases = AsyncExitStack()
        try:
            try:
                lease = await leases.enter_async_context(
                    self._pool.lease(config, self.code_path_for(config))
                )
            except StartFailed as exc:
                raise self._start_failed(config, obs, exc) from None
            obs.acquired(lease.cold, self._pool.node_of(lease.instance))
            agent_request = self._agent_request(
                config, request, request_id, payload, client_context, obs.runtime_header
            )
            wait_s = self._wait_s(config)
            try:
                stream: AgentStream | None = await lease.agent.invoke_stream(agent_request, wait_s)
                died: AgentUnreachable | None = None
            except AgentUnreachable as exc:
                stream, died = None, exc
        except BaseException as exc:
            obs.end()
            # A StartFailed leased nothing; anything else discards the instance (the lease's rule).
            await leases.__aexit__(type(exc), exc, exc.__traceback__)
            await self._release_slot(config.name)
            raise

        async def finish(why: BaseException | None) -> StreamOutcome:
            why = why or died  # no stream at all: the instance died before its first byte
            early = None if why is None or isinstance(why, AgentUnreachable) else why
            try:
                return await self._finish_stream(lease, stream, obs, request_id, why)
            finally:
                # Released; or, closed early, discarded in the background (the lease's rule for
                # anything that escapes it): its runtime may still be writing.
                if early is not None:
                    await leases.__aexit__(type(early), early, None)
                else:
                    await leases.__aexit__(None, None, None)
                obs.end()
                await self._release_slot(config.name)

        relay = ChunkRelay(None if stream is None else stream.chunks(), finish)
        return StreamedInvocation(
            request_id=request_id,
            executed_version=config.version,
            content_type=stream.content_type if stream is not None else "application/json",
            chunks=relay,
            trace_id=obs.runtime_header,
        )

    async def _finish_stream(
        self,
        lease: Lease,
        stream: AgentStream | None,
        obs: Observation,
        request_id: str,
        why: BaseException | None,
    ) -> StreamOutcome:
        if why is None and stream is not None:
            result = stream.result()
            obs.completed(result)
            return outcome_of(result)
        if isinstance(why, AgentUnreachable) or stream is None:
            obs.failed("function_error", str(why))
            error_type = await self._died(lease, request_id, str(why))
            message = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
            return StreamOutcome(error_type, message, "", True)
        stream.abandon()  # the connection closes; `finish` discards the instance
        obs.failed("function_error", "the caller closed the stream")
        return StreamOutcome("Client.Disconnected", "the caller closed the stream", "", True)

    async def _run(
        self,
        config: FunctionConfig,
        request: InvokeInput,
        request_id: str,
        payload: bytes,
        client_context: str | None,
        obs: Observation,
    ) -> InvokeOutput:
        trace_id = obs.runtime_header
        agent_request = self._agent_request(
            config, request, request_id, payload, client_context, trace_id
        )
        wait_s = self._wait_s(config)
        try:
            # Whatever escapes this block (a bug, a cancellation) discards the instance: the
            # lease, not this code, guarantees it is never left BUSY.
            async with self._pool.lease(config, self.code_path_for(config)) as lease:
                obs.acquired(lease.cold, self._pool.node_of(lease.instance))
                try:
                    result = await lease.agent.invoke(agent_request, wait_s)
                except AgentUnreachable as exc:
                    obs.failed("function_error", str(exc))
                    return await self._instance_died(lease, request_id, trace_id, str(exc))
                obs.completed(result)
                start_phases_ms = lease.instance.start_phases_ms if lease.cold else None
        except StartFailed as exc:
            raise self._start_failed(config, obs, exc) from None
        return InvokeOutput(
            request_id=request_id,
            status=200,
            body=result.body,
            content_type=result.content_type,
            function_error=None if result.succeeded else "Unhandled",
            log_result=result.log_tail_b64 if request.log_type == "Tail" else None,
            executed_version=config.version,
            trace_id=trace_id,
            server_timing=None
            if start_phases_ms is None
            else server_timing(start_phases_ms, result),
        )

    def _agent_request(
        self,
        config: FunctionConfig,
        request: InvokeInput,
        request_id: str,
        payload: bytes,
        client_context: str | None,
        trace_id: str,
    ) -> InvokeRequest:
        return InvokeRequest(
            request_id=request_id,
            payload=payload,
            timeout_ms=config.timeout * 1000,
            function_arn=self._functions.arn(config.name, request.ref.qualifier),
            trace_id=trace_id,
            client_context=client_context,
        )

    def _wait_s(self, config: FunctionConfig) -> float:
        """The agent enforces the timeout itself; this bound only catches a dead or wedged
        agent. A debugger may hold the invocation for the whole debug session (debugging.py)."""
        if debug_setup(config.tags, config.runtime) is not None:
            return self._settings.debug_session_s
        return config.timeout + self._settings.init_timeout_s + self._settings.agent_grace_s

    @staticmethod
    def _start_failed(config: FunctionConfig, obs: Observation, exc: StartFailed) -> LambdaError:
        obs.failed("platform_error", str(exc))
        log.error("could not start an instance: %s", exc, extra={"function": config.name})
        return LambdaError(
            LambdaErrorCode.SERVICE, f"Could not start an instance of {config.name}: {exc}"
        )

    async def run_event(
        self, config: FunctionConfig, request_id: str, payload: bytes
    ) -> InvokeOutput:
        """One attempt at a queued asynchronous event, under the same limits as a sync call."""
        await self._admit(config.name)
        obs = self._telemetry.begin(config.name, request_id, new_trace_id())
        try:
            request = InvokeInput(FunctionRef(config.name), payload, "Event")
            return await self._run(config, request, request_id, payload, None, obs)
        finally:
            obs.end()
            await self._release_slot(config.name)

    def code_path_for(self, config: FunctionConfig) -> CodePath:
        return lambda: self._functions.files_for(config)

    async def _died(self, lease: Lease, request_id: str, detail: str) -> str:
        """Discard an instance that died mid-invoke; the error type to report."""
        log.warning(
            "instance died mid-invoke: %s",
            detail,
            extra={"instance": lease.instance.id, "request_id": request_id},
        )
        if await lease.discard(StopReason.CRASH) is StopReason.OOM:
            return "Runtime.OutOfMemory"
        return "Runtime.ExitError"

    async def _instance_died(
        self, lease: Lease, request_id: str, trace_id: str, detail: str
    ) -> InvokeOutput:
        error_type = await self._died(lease, request_id, detail)
        body = platform_error(request_id, error_type, "Runtime exited with error: signal: killed")
        return InvokeOutput(request_id, 200, body, function_error="Unhandled", trace_id=trace_id)
