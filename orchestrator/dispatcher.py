"""Runs queued asynchronous invocations: retries, event age, destinations, dead letters.

Async work gets a share, not the whole: at most `async_max_in_flight` queued events run at
once across the server, so synchronous callers always keep the rest of the concurrency limit.
Within that share, each event still passes the same concurrency checks as a synchronous call
(reserved concurrency included); a throttled event waits and is retried until its age runs out.

Ordering is not promised: events may run out of order and concurrently. Delivery is at least
once; an event's request id stays the same across retries, so handlers can deduplicate.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from .arns import LATEST
from .errors import LambdaError, LambdaErrorCode
from .event_config import (
    EventInvokeConfig,
    destination_function,
    event_config_setting,
)
from .event_queue import Event, EventQueue
from .function_config import FunctionConfig
from .functions import FunctionService
from .invoker import (
    MAX_ASYNC_PAYLOAD,
    InvokeInput,
    InvokeOutput,
    Invoker,
    check_payload,
    new_request_id,
)
from .metrics import Metrics
from .registry import Registry
from .settings import Settings

log = logging.getLogger(__name__)


def _split(queued_as: str) -> tuple[str, str | None]:
    name, _, qualifier = queued_as.partition(":")
    return name, qualifier or None


def destination_record(
    event: Event, function_arn: str, condition: str, attempts: int, output: InvokeOutput | None
) -> dict[str, Any]:
    """Lambda's destination record format."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": function_arn,  # qualified: the version that ran
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": _json_or_text(event.payload),
    }
    if output is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if output.function_error:
            context["functionError"] = output.function_error
        record["responseContext"] = context
        record["responsePayload"] = _json_or_text(output.body)
    return record


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return base64.b64encode(data).decode()


class Dispatcher:
    def __init__(
        self,
        queue: EventQueue,
        invoker: Invoker,
        registry: Registry,
        settings: Settings,
        arn: Callable[[str], str],
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._queue = queue
        self._invoker = invoker
        self._registry = registry
        self._settings = settings
        self._arn = arn
        self._clock = clock
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._rng = random.Random()  # aliases' weighted routing, for events
        self.stats = {
            "retries": 0,
            "dropped_by_age": 0,
            "destination_deliveries": 0,
            "destination_failures": 0,
        }

    def event_config(self, function: str, qualifier: str | None = None) -> EventInvokeConfig:
        """The settings for events of the function, or of one of its versions or aliases (each
        qualifier has its own, as on AWS)."""
        stored = self._registry.setting(function, event_config_setting(qualifier))
        return EventInvokeConfig.from_json(stored)

    async def accept(self, functions: FunctionService, request: InvokeInput) -> InvokeOutput:
        """An Event invocation: validate, store durably, answer 202 with the request id. The
        event keeps the qualifier it was sent to: an alias is resolved when the event runs."""
        config = functions.require_for_invoke(request.ref)
        payload = check_payload(request.payload, MAX_ASYNC_PAYLOAD)
        request_id = new_request_id()
        qualifier = request.ref.qualifier
        queued_as = config.name if qualifier in (None, LATEST) else f"{config.name}:{qualifier}"
        await self.enqueue(request_id, queued_as, payload)
        return InvokeOutput(request_id, 202)

    async def enqueue(self, request_id: str, function: str, payload: bytes) -> None:
        """Store the event durably; only then may the caller answer 202."""
        await asyncio.to_thread(self._queue.put, request_id, function, payload, self._clock())
        self._wake.set()

    async def enqueue_wakeup(self) -> None:
        """Events were put back (replay): look at the queue now."""
        self._wake.set()

    def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, drain_s: float = 5.0) -> None:
        """Stop taking events; give running ones `drain_s` to finish, then abandon them (they
        are still in the queue as running, and run again after restart: at least once)."""
        if self._loop_task is not None:
            self._loop_task.cancel()
        if self._running:
            await asyncio.wait(list(self._running), timeout=drain_s)
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    async def depth(self) -> int:
        return await asyncio.to_thread(self._queue.depth)

    async def _run(self) -> None:
        while True:
            try:
                free = self._settings.async_max_in_flight - len(self._running)
                events = await asyncio.to_thread(self._queue.claim_due, self._clock(), free)
                for event in events:
                    task = asyncio.get_running_loop().create_task(self._execute(event))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                    task.add_done_callback(lambda _: self._wake.set())
                next_due = await asyncio.to_thread(self._queue.next_due_at)
            except Exception:
                log.exception("dispatcher loop failed; retrying")
                next_due = None
            wait = 1.0 if next_due is None else max(0.0, min(1.0, next_due - self._clock()))
            if len(self._running) >= self._settings.async_max_in_flight:
                wait = 1.0  # woken when a running event finishes
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                pass

    def _qualified_arn(self, queued_as: str) -> str:
        name, qualifier = _split(queued_as)
        return f"{self._arn(name)}:{qualifier or LATEST}"

    def _config_of(self, queued_as: str) -> FunctionConfig | None:
        """What an event queued for "name" or "name:qualifier" runs now: $LATEST, the version,
        or the version the alias's weights pick (None: that is gone)."""
        return self._registry.resolve(*_split(queued_as), draw=self._rng.random())

    async def _execute(self, event: Event) -> None:
        config = self._config_of(event.function)
        if config is None:
            await asyncio.to_thread(
                self._queue.fail, event.id, event.attempts, "FunctionDeleted", None
            )
            return
        settings = self.event_config(*_split(event.function))
        age = self._clock() - event.received_at
        if self._metrics is not None:
            self._metrics.async_event_age.labels(self._metrics.function(config.name)).observe(age)
        if age > settings.maximum_event_age_s:
            self.stats["dropped_by_age"] += 1
            if self._metrics is not None:
                self._metrics.async_dropped_by_age.labels(self._metrics.function(config.name)).inc()
            await self._give_up(event, settings, "EventAgeExceeded", event.attempts, None)
            return
        try:
            output = await self._invoker.run_event(config, event.request_id, event.payload)
        except LambdaError as exc:
            # Throttled or the platform failed: not the function's fault, so this does not use
            # up a retry; back off and try again until the event is too old.
            delay = min(
                self._settings.async_platform_retry_max_s, 2.0 ** min(event.attempts, 6) * 0.1
            )
            retryable = exc.code in (LambdaErrorCode.TOO_MANY_REQUESTS, LambdaErrorCode.SERVICE)
            if retryable and age + delay <= settings.maximum_event_age_s:
                await asyncio.to_thread(
                    self._queue.retry, event.id, self._clock() + delay, event.attempts, exc.message
                )
            else:
                await self._give_up(
                    event,
                    settings,
                    "EventAgeExceeded" if retryable else "PlatformError",
                    event.attempts,
                    None,
                )
            return
        attempts = event.attempts + 1
        if output.function_error is None:
            await asyncio.to_thread(self._queue.done, event.id)
            if settings.on_success:
                await self._deliver(
                    settings.on_success,
                    destination_record(
                        event, self._qualified_arn(event.function), "Success", attempts, output
                    ),
                )
            return
        if attempts <= settings.maximum_retry_attempts:
            self.stats["retries"] += 1
            if self._metrics is not None:
                self._metrics.async_retries.labels(self._metrics.function(config.name)).inc()
            delays = self._settings.async_retry_delays_s
            delay = delays[min(attempts, len(delays)) - 1]
            error = output.body[:1000].decode(errors="replace")
            await asyncio.to_thread(
                self._queue.retry, event.id, self._clock() + delay, attempts, error
            )
            return
        await self._give_up(event, settings, "RetriesExhausted", attempts, output)

    async def _give_up(
        self,
        event: Event,
        settings: EventInvokeConfig,
        condition: str,
        attempts: int,
        output: InvokeOutput | None,
    ) -> None:
        error = output.body[:1000].decode(errors="replace") if output else event.last_error
        await asyncio.to_thread(self._queue.fail, event.id, attempts, condition, error)
        log.warning(
            "async event failed",
            extra={
                "function": event.function,
                "request_id": event.request_id,
                "condition": condition,
            },
        )
        if settings.on_failure:
            record = destination_record(
                event, self._qualified_arn(event.function), condition, attempts, output
            )
            await self._deliver(settings.on_failure, record)

    async def _deliver(self, destination: str, record: dict[str, Any]) -> None:
        body = json.dumps(record).encode()
        try:
            target = destination_function(destination)
            if target is not None:
                # Lambda invokes a function destination asynchronously, with the record as event.
                await self.enqueue(new_request_id(), target, body)
            else:
                assert self._http is not None
                async with self._http.post(
                    destination, data=body, headers={"Content-Type": "application/json"}
                ) as r:
                    if r.status >= 300:
                        raise RuntimeError(f"webhook answered {r.status}")
            self.stats["destination_deliveries"] += 1
            if self._metrics is not None:
                self._metrics.async_destination_deliveries.labels("delivered").inc()
        except Exception as exc:
            self.stats["destination_failures"] += 1
            if self._metrics is not None:
                self._metrics.async_destination_deliveries.labels("failed").inc()
            log.warning("destination delivery failed: %s", exc, extra={"destination": destination})
