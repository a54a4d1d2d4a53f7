"""HTTP plumbing shared by both servers: keep-alive HTTP/1.1, TCP_NODELAY, one write per reply.

Bodies are read by Content-Length or chunked transfer coding (streamed runtime responses), with an
optional size limit past which the body is read and discarded so the connection stays usable.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

logger = logging.getLogger(__name__)

_SMALL_BODY = 64 * 1024
_DISCARD_CHUNK = 1024 * 1024
_MAX_HEADER_LINE = 65536
_MAX_HEADERS = 100


class UnsafeHeader(ValueError):
    """A reply header holds CR, LF or NUL: written, it could end the header block early and
    smuggle bytes into the reply. Every value is generated or escaped before it gets here, so
    this is a bug; refusing beats writing it."""


def response_head(
    status: int,
    content_type: str | None,
    content_length: int,
    headers: Iterable[tuple[str, str]],
    close: bool,
) -> bytes:
    """The status line and header block of a reply; UnsafeHeader if a value could break it."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"]
    fields = list(headers)
    if content_type is not None:
        fields.insert(0, ("Content-Type", content_type))
    for name, value in fields:
        if any(c in value or c in name for c in "\r\n\0"):
            raise UnsafeHeader(f"refusing to write header {name}: {value[:60]!r}")
        lines.append(f"{name}: {value}\r\n")
    lines.insert(2 if content_type is not None else 1, f"Content-Length: {content_length}\r\n")
    if close:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


class Headers(dict[str, str]):
    """Request headers by lower-case name. http.client's email-based parser costs ~15 us a
    request, more than half of the agent's own work per invoke; this is a plain dict."""

    # One signature in place of dict.get's overloads, so mypy calls it an incompatible override.
    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, handler)
        self.connections_accepted = 0  # only the accept loop thread writes it

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        # A peer that went away mid-request (a killed runtime, a closed control connection).
        logger.debug("connection from %s ended with an error", client_address)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections_accepted += 1
        return sock, addr


class BodyTooLarge(Exception):
    """The request body went past the limit; it was read and discarded."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lambkin-agent"
    raw_requestline: bytes  # set by handle_one_request before parse_request

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would cost more than the request itself

    def parse_request(self) -> bool:
        """BaseHTTPRequestHandler.parse_request, with a plain-dict header parser."""
        self.command = ""
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request line {self.requestline!r}")
            return False
        self.command, self.path, self.request_version = words
        headers = Headers()
        while True:
            line = self.rfile.readline(_MAX_HEADER_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                break
            name, sep, value = line.decode("iso-8859-1").partition(":")
            if len(line) > _MAX_HEADER_LINE or len(headers) >= _MAX_HEADERS or not sep:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Bad headers")
                return False
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        # The handler's headers are declared as http.client's Message; this dict reads the same.
        self.headers = headers  # type: ignore[assignment]
        connection = (headers.get("connection") or "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        if (headers.get("expect") or "").lower() == "100-continue":
            return self.handle_expect_100()
        return True

    def read_body(self, limit: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The request body and its trailers (chunked only); BodyTooLarge past `limit` bytes."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        length = int(self.headers.get("Content-Length") or 0)
        if limit is not None and length > limit:
            self._discard(length)
            raise BodyTooLarge()
        return (self.rfile.read(length) if length else b""), {}

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, _DISCARD_CHUNK))
            if not chunk:
                break
            length -= len(chunk)

    def _read_chunked(self, limit: int | None) -> tuple[bytes, dict[str, str]]:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                break
            chunk = self.rfile.read(size)
            self.rfile.readline(16)  # CRLF after the chunk
            total += len(chunk)
            if limit is None or total <= limit:
                parts.append(chunk)
        trailers: dict[str, str] = {}
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            trailers[name.strip().lower()] = value.strip()
        if limit is not None and total > limit:
            raise BodyTooLarge()
        return b"".join(parts), trailers

    def reply(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = "application/json",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Status line, headers and (small) body in a single write."""
        head = response_head(status, content_type, len(body), headers, self.close_connection)
        if len(body) <= _SMALL_BODY:
            self.wfile.write(head + body)
        else:
            self.wfile.write(head)
            self.wfile.write(body)

    def reply_json(self, status: int, obj: object, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.reply(status, json.dumps(obj).encode(), "application/json", headers)

    def reply_error(self, status: int, error_type: str, message: str) -> None:
        self.reply_json(status, {"errorMessage": message, "errorType": error_type})
