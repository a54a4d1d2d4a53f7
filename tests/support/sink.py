"""An HTTP sink that functions (and webhook destinations) report to, bound to a local address.

Functions in containers reach it on the Docker bridge's gateway address (this machine's own
end of the bridge); functions run by the process driver and the control plane reach it on
loopback.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def docker_gateway() -> str:
    import ipaddress

    import docker

    client = docker.from_env()
    try:
        config = client.api.inspect_network("bridge")["IPAM"]["Config"][0]
    finally:
        client.close()
    # Docker leaves Gateway out when it picked the default: the subnet's first host.
    return str(config.get("Gateway") or next(ipaddress.ip_network(config["Subnet"]).hosts()))


class Sink:
    """POST /<topic> with a JSON body records it; the reply says how often that body's `id` came."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.records: dict[str, list[Any]] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(
                    self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null"
                )
                topic = self.path.strip("/")
                with sink._lock:
                    sink.records.setdefault(topic, []).append(body)
                    key = (topic, str(body.get("id")) if isinstance(body, dict) else "")
                    sink.counts[key] += 1
                    count = sink.counts[key]
                reply = json.dumps({"count": count}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://{host}:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def topic(self, name: str) -> list[Any]:
        with self._lock:
            return list(self.records.get(name, []))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
