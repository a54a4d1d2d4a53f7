"""A response-streaming invocation as its callers see it (InvokeWithResponseStream, function
URLs): the body as the function writes it, then the outcome. `Invoker.invoke_stream` makes one.

The invocation holds its admission slot and its instance until `chunks` is exhausted or
`aclose()`d: exhausted, the instance is released for the next invocation; closed early (the
client went away), the instance is discarded, since its runtime may still be writing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from .agent_client import AgentResult, AgentUnreachable


@dataclass(frozen=True)
class StreamOutcome:
    error_type: str | None
    error_message: str | None
    log_tail_b64: str
    function_error: bool


def outcome_of(result: AgentResult) -> StreamOutcome:
    """The outcome of an invocation the agent finished (its error document, when it failed)."""
    if result.succeeded:
        return StreamOutcome(None, None, result.log_tail_b64, False)
    error_type, message = result.error_type, None
    try:
        document = json.loads(result.body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        message = document.get("errorMessage")
        error_type = error_type or document.get("errorType")
        message = None if message is None else str(message)
    return StreamOutcome(error_type or "Unhandled", message, result.log_tail_b64, True)


class StreamClosedEarly(Exception):
    """The reader closed the chunks before their end."""


# What ends a relay: None (the stream's end), AgentUnreachable (the instance died mid-stream),
# or anything else (the reader closed it early or was cancelled). Returns the outcome.
Finish = Callable[[BaseException | None], Awaitable[StreamOutcome]]


class ChunkRelay:
    """The body's chunks, an AsyncIterator[bytes] with `aclose()`; `finish` runs exactly once."""

    def __init__(self, source: AsyncIterator[bytes] | None, finish: Finish) -> None:
        self._source = source
        self._finish = finish
        self.outcome: StreamOutcome | None = None

    def __aiter__(self) -> ChunkRelay:
        return self

    async def __anext__(self) -> bytes:
        if self.outcome is not None:
            raise StopAsyncIteration
        if self._source is None:
            await self._end(None)
            raise StopAsyncIteration
        try:
            return await self._source.__anext__()
        except StopAsyncIteration:
            await self._end(None)
            raise
        except AgentUnreachable as exc:  # the instance died: the outcome says so
            await self._end(exc)
            raise StopAsyncIteration from None
        except BaseException as exc:
            await self._end(exc)
            raise

    async def aclose(self) -> None:
        if self.outcome is None:
            await self._end(StreamClosedEarly("the reader closed the stream"))

    async def _end(self, why: BaseException | None) -> None:
        if self.outcome is None:
            self.outcome = StreamOutcome(None, None, "", False)  # in case finish fails
            self.outcome = await self._finish(why)


@dataclass
class StreamedInvocation:
    request_id: str
    executed_version: str
    content_type: str  # the runtime's Content-Type of the response
    chunks: ChunkRelay
    trace_id: str | None = None

    async def outcome(self) -> StreamOutcome:
        """Available once the chunks ended (exhausted or closed)."""
        if self.chunks.outcome is None:
            raise RuntimeError("the stream has not ended: read or aclose() the chunks first")
        return self.chunks.outcome
