"""Debugger clients for the debugging tests, each speaking its debugger's own protocol the way
an IDE does: the Debug Adapter Protocol (debugpy, as VS Code's Python extension), Chrome's
DevTools protocol over the inspector's WebSocket (node, as VS Code's js-debug) and JDWP's
handshake (Java)."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from websockets.sync.client import ClientConnection, connect

Message = dict[str, Any]
T = TypeVar("T")


class DebuggerNotUp(Exception):
    """The connection closed before the debugger answered."""


def until_up(port: int, exchange: Callable[[], T], timeout: float = 90) -> T:
    """`exchange()`'s answer once the debugger answers on loopback: the instance starts on the
    invocation, and Docker accepts on a published port before anything listens behind it (then
    closes), so a refused or closed first exchange is tried again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return exchange()
        except (OSError, http.client.HTTPException, DebuggerNotUp) as exc:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no debugger answered on 127.0.0.1:{port} within {timeout} s: {exc!r}"
                ) from None
            time.sleep(0.2)


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


class _Messages:
    """Messages from a debugger, taken in the order a test asks for them: those it does not
    want yet are kept (in `seen`) for a later `wait`."""

    def __init__(self) -> None:
        self.seen: list[Message] = []

    def _next(self, timeout: float) -> Message:
        raise NotImplementedError

    def wait(self, match: Callable[[Message], bool], timeout: float = 60) -> Message:
        """The first message `match` accepts, kept or new."""
        for message in self.seen:
            if match(message):
                self.seen.remove(message)
                return message
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self._next(max(0.1, left))
            if match(message):
                return message
            self.seen.append(message)
        raise AssertionError(f"no matching message within {timeout} s; seen: {self.seen}")


class DapClient(_Messages):
    """A Debug Adapter Protocol client (Content-Length framed JSON) on an open socket."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        self._sock.settimeout(60)
        self._buffer = b""
        self._seq = 0

    def _read_message(self) -> Message:
        while b"\r\n\r\n" not in self._buffer:
            self._recv()
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(rest) < length:
            self._buffer = head + b"\r\n\r\n" + rest
            self._recv()
            head, _, rest = self._buffer.partition(b"\r\n\r\n")
        self._buffer = rest[length:]
        message: Message = json.loads(rest[:length])
        return message

    def _recv(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise DebuggerNotUp("the debug adapter closed the connection")
        self._buffer += chunk

    def send(self, command: str, **arguments: Any) -> int:
        self._seq += 1
        body = json.dumps(
            {"seq": self._seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self._sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self._seq

    def request(self, command: str, **arguments: Any) -> Message:
        seq = self.send(command, **arguments)
        return self.wait(lambda m: m.get("type") == "response" and m["request_seq"] == seq)

    def _next(self, timeout: float) -> Message:
        return self._read_message()  # bounded by the socket's own timeout

    def event(self, name: str, timeout: float = 60) -> Message:
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name, timeout)

    def close(self) -> None:
        self._sock.close()


def debugpy_session(port: int) -> DapClient:
    """A DAP session with debugpy's adapter, past its initialize exchange."""

    def initialize() -> DapClient:
        client = DapClient(_connect(port))
        try:
            response = client.request("initialize", adapterID="debugpy", clientID="lambkin-tests")
        except BaseException:
            client.close()
            raise
        assert response["success"], response
        return client

    return until_up(port, initialize)


def debugpy_attach(port: int, source: str, line: int) -> DapClient:
    """Attach as VS Code does and set one breakpoint; the debuggee runs on once this returns."""
    client = debugpy_session(port)
    # attach answers only after configurationDone: send it, then do the configuration.
    attach_seq = client.send("attach", justMyCode=True)
    client.event("initialized")
    breakpoints = client.request(
        "setBreakpoints", source={"path": source}, breakpoints=[{"line": line}]
    )
    assert breakpoints["success"], breakpoints
    assert client.request("configurationDone")["success"]
    attached = client.wait(lambda m: m.get("type") == "response" and m["request_seq"] == attach_seq)
    assert attached["success"], attached
    return client


class InspectorClient(_Messages):
    """Chrome DevTools protocol over node's inspector WebSocket."""

    def __init__(self, port: int, timeout: float = 90) -> None:
        super().__init__()

        def targets_list() -> list[dict[str, Any]]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as got:
                found: list[dict[str, Any]] = json.loads(got.read())
                return found

        targets = until_up(port, targets_list, timeout)
        # The inspector names the address it listens on; we reach it through loopback.
        url = targets[0]["webSocketDebuggerUrl"].split("//", 1)[1].split("/", 1)[1]
        self._ws: ClientConnection = connect(
            f"ws://127.0.0.1:{port}/{url}", open_timeout=10
        ).__enter__()  # closed by close(); the context manager is what websockets wants used
        self._id = 0

    def call(self, method: str, **params: Any) -> Message:
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        return self.wait(lambda m: m.get("id") == self._id)

    def _next(self, timeout: float) -> Message:
        message: Message = json.loads(self._ws.recv(timeout=timeout))
        return message

    def script_url(self, script_id: str) -> str:
        """A script's URL, from the Debugger.scriptParsed event that announced it (call frames
        name scripts by id)."""
        for event in self.seen:
            if event.get("method") == "Debugger.scriptParsed":
                if event["params"]["scriptId"] == script_id:
                    return str(event["params"]["url"])
        raise AssertionError(f"no script {script_id} was announced")

    def paused(self, timeout: float = 60) -> Message:
        return self.wait(lambda m: m.get("method") == "Debugger.paused", timeout)

    def close(self) -> None:
        self._ws.close()


def jdwp_attach(port: int) -> socket.socket:
    """A JDWP connection past its handshake: a debugger attached, as far as the JVM knows."""

    def handshake() -> socket.socket:
        sock = _connect(port)
        try:
            sock.settimeout(30)
            sock.sendall(b"JDWP-Handshake")
            assert _recv_exactly(sock, 14) == b"JDWP-Handshake"
        except BaseException:
            sock.close()
            raise
        return sock

    return until_up(port, handshake)


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise DebuggerNotUp("the JVM closed the JDWP connection")
        data += chunk
    return data


def jdwp_resume(sock: socket.socket) -> None:
    """VirtualMachine.Resume (command set 1, command 9): the JVM started with suspend=y runs.
    Sent only once the JVM's VM_START event has come, as jdb does: the JVM suspends itself just
    before it sends that event, on a thread of its own, so a Resume that got there first would
    resume nothing and the JVM would stay suspended for good."""
    _jdwp_until(sock, lambda flags, header: flags == 0 and header == JDWP_COMPOSITE_EVENT)
    packet_id = (1).to_bytes(4, "big")
    sock.sendall((11).to_bytes(4, "big") + packet_id + bytes([0, 1, 9]))
    reply = _jdwp_until(sock, lambda flags, header: flags == 0x80 and header == packet_id)
    assert reply[5:7] == b"\x00\x00", reply  # our reply's error code


JDWP_COMPOSITE_EVENT = bytes([64, 100])  # the Event command set's Composite command


def _jdwp_until(sock: socket.socket, wanted: Callable[[int, bytes], bool]) -> bytes:
    """The first packet `wanted(flags, header)` accepts (header: a command's set and number, a
    reply's id), past the others; each packet without its length."""
    while True:
        length = int.from_bytes(_recv_exactly(sock, 4), "big")
        packet = _recv_exactly(sock, length - 4)
        flags = packet[4]
        if wanted(flags, packet[:4] if flags == 0x80 else packet[5:7]):
            return packet
