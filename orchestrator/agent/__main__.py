"""Entry point: `python3 -m lambkin_agent` in images, `python -m orchestrator.agent` locally.

Reads the environment, binds both servers, prints the ready line, starts the runtime, then waits
for SIGTERM (or POST /shutdown): the runtime gets SIGTERM, SIGKILL 2 s later, and we exit 0.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading

from .config import TOKEN_VARIABLE, AgentConfig, ConfigError
from .control_server import ControlServer
from .log_capture import LogCapture
from .memory import memory_meter
from .runtime_api import RuntimeApiServer
from .sandbox import Sandbox

SHUTDOWN_GRACE_S = 2.0

logger = logging.getLogger("lambkin_agent")


def main() -> int:
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("LAMBKIN_AGENT_LOG_LEVEL", "WARNING").upper(),
        format="lambkin_agent %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = AgentConfig.from_env(os.environ)
    except ConfigError as exc:
        print(f"lambkin_agent: {exc}", file=sys.stderr)
        return 2
    # Out of reach of anything we start (the runtime gets LAMBKIN_RUNTIME_ENV only anyway).
    os.environ.pop(TOKEN_VARIABLE, None)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())

    log = LogCapture(sys.stdout.fileno())
    runtime_api = RuntimeApiServer(config.runtime_api_addr)
    sandbox = Sandbox(config, log, memory_meter(config.memory_source), runtime_api.address)
    runtime_api.sandbox = sandbox
    control = ControlServer(config.control_addr, config.control_token, sandbox, stop.set)
    for name, server in (("runtime-api", runtime_api), ("control", control)):
        threading.Thread(target=server.serve_forever, name=name, daemon=True).start()

    ready = {"lambkin_agent": "ready", "control_port": control.port}
    log.write_control((json.dumps(ready) + "\n").encode())
    sandbox.start()  # init overlaps the rest of the cold start
    logger.info(
        "instance %s: control :%s, runtime API %s",
        config.instance_id,
        control.port,
        runtime_api.address,
    )

    stop.wait()
    sandbox.shutdown(SHUTDOWN_GRACE_S)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
