"""Functions on a swarm calling the platform's API. The control plane is outside the swarm, and
the nodes need not be able to reach it: instead it offers each node's gateway a few connections
(`ACCEPT api`, with the gateway's token; runtime-images/agent/apirelay.go is the other end),
which the gateway parks. An instance calls `http://lambkin-api:9101` (the gateway's alias on
every instance network); the gateway hands its connection to a parked one and answers that
`200`; here, the connection is relayed to the API's listener for instances on this host's
loopback, and a new offer replaces the one used. Every request is authenticated as on any
listener (the function's temporary credentials): the relay itself grants nothing.

Offers are kept for every gateway in use (polled, and at once when a new instance is placed), so
an instance's first call finds one waiting; the gateway holds a call up to 5 s for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from .tunnel import Gateway, accept_request

log = logging.getLogger(__name__)

OFFERS_PER_GATEWAY = 4  # calls that can start at the same moment; each used one is replaced
REFRESH_S = 0.5  # how often the gateways in use are looked at (besides wake())
RETRY_S = 1.0  # after a gateway refused or could not be reached
COPY_BYTES = 256 * 1024


class ApiRelay:
    def __init__(self, gateways: Callable[[], dict[str, Gateway]], api: tuple[str, int]) -> None:
        self._gateways = gateways  # node hostname -> its gateway, as the driver knows them now
        self._api = api
        self._offers: dict[str, tuple[Gateway, list[asyncio.Task[None]]]] = {}
        self._relays: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run())

    def wake(self) -> None:
        """A gateway may be new: look now (callable from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            known = self._gateways()
            for hostname, gateway in known.items():
                current = self._offers.get(hostname)
                if current is None or current[0] != gateway:  # new, or started again
                    if current is not None:
                        _cancel(current[1])
                    tasks = [
                        asyncio.create_task(self._offer(hostname, gateway))
                        for _ in range(OFFERS_PER_GATEWAY)
                    ]
                    self._offers[hostname] = (gateway, tasks)
            for hostname in [h for h in self._offers if h not in known]:  # its node went
                _cancel(self._offers.pop(hostname)[1])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), REFRESH_S)
            self._wake.clear()

    async def _offer(self, hostname: str, gateway: Gateway) -> None:
        """Offer connections to one gateway, one at a time, for as long as it is in use."""
        while True:
            try:
                reader, writer = await asyncio.open_connection(gateway.host, gateway.port)
            except OSError as exc:
                log.info("cannot offer %s's gateway a connection: %s", hostname, exc)
                await asyncio.sleep(RETRY_S)
                continue
            try:
                writer.write(accept_request(gateway.token))
                await writer.drain()
                answer = await reader.readuntil(b"\r\n\r\n")  # when an instance calls
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                writer.close()
                await asyncio.sleep(RETRY_S)  # the gateway went (its node, say)
                continue
            status = answer.split(b"\r\n", 1)[0]
            if status.split(b" ")[1:2] != [b"200"]:
                log.warning("%s's gateway refused an offer: %s", hostname, status[:100])
                writer.close()
                await asyncio.sleep(RETRY_S)
                continue
            relay = asyncio.create_task(self._relay(reader, writer))
            self._relays.add(relay)
            relay.add_done_callback(self._relays.discard)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """An instance's call, to the API's listener here, and its answers back."""
        try:
            api_reader, api_writer = await asyncio.open_connection(*self._api)
        except OSError as exc:
            log.warning("cannot reach the API's listener for instances: %s", exc)
            writer.close()
            return
        try:
            await asyncio.gather(_copy(reader, api_writer), _copy(api_reader, writer))
        finally:
            writer.close()
            api_writer.close()

    async def close(self) -> None:
        tasks = [t for _, offers in self._offers.values() for t in offers]
        tasks += list(self._relays)
        if self._task is not None:
            tasks.append(self._task)
        _cancel(tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
        self._offers.clear()


def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until the end, then pass the end on (half-close); an error closes the writer."""
    try:
        while data := await reader.read(COPY_BYTES):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.close()
    except asyncio.CancelledError:
        writer.close()
        raise
