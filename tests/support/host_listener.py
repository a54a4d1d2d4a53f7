"""A TCP server on this host for instances to try to reach (the host firewall's tests): it
greets and hangs up, counting who connected; on every address, or in a network namespace of
its own (a machine of its own)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

GREETING = "hello from the listener"


class Listener:
    """A TCP server that greets and hangs up, counting who connected."""

    def __init__(self, host: str = "0.0.0.0", netns: str | None = None) -> None:
        self.connections = 0
        if netns is None:
            self._socket = socket.create_server((host, 0))
            self.port = self._socket.getsockname()[1]
            threading.Thread(target=self._serve, daemon=True).start()
            self._process: subprocess.Popen[str] | None = None
        else:  # in another network namespace: a machine of its own
            code = (
                "import socket,sys\n"
                f"s=socket.create_server(({host!r},0))\n"
                "print(s.getsockname()[1],flush=True)\n"
                "while True:\n"
                "    c,_=s.accept(); c.sendall(sys.argv[1].encode()); c.close()\n"
            )
            self._process = subprocess.Popen(
                ["ip", "netns", "exec", netns, sys.executable, "-c", code, GREETING],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert self._process.stdout is not None
            self.port = int(self._process.stdout.readline())

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            conn.sendall(GREETING.encode())
            conn.close()

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        else:
            self._socket.close()
