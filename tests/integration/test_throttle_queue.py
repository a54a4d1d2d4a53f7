"""The optional bounded wait queue: over the limit, wait for a slot up to a deadline, then 429."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.server import start_server
from tests.support.zips import make_zip

APP = make_zip(
    {
        "app.py": "import time\n"
        "def handler(event, context):\n"
        "    time.sleep(event['s'])\n"
        "    return 'done'\n"
    }
)


def test_waiting_instead_of_throttling(tmp_path: Path) -> None:
    server = start_server("process", tmp_path, env={"LAMBKIN_THROTTLE_WAIT_S": "3"})
    try:
        lam = server.client()
        lam.create_function(
            FunctionName="q",
            Runtime="python3.11",
            Role="arn:aws:iam::123456789012:role/r",
            Handler="app.handler",
            Code={"ZipFile": APP},
            Timeout=10,
        )
        lam.put_function_concurrency(FunctionName="q", ReservedConcurrentExecutions=1)

        def call(seconds: float) -> str:
            try:
                response = lam.invoke(FunctionName="q", Payload=json.dumps({"s": seconds}))
            except lam.exceptions.TooManyRequestsException:
                return "throttled"
            result: str = json.loads(response["Payload"].read())
            return result

        with ThreadPoolExecutor(2) as executor:
            # Two 1 s calls with one slot: the second waits (< 3 s) instead of being throttled.
            assert list(executor.map(call, [1, 1])) == ["done", "done"]
        with ThreadPoolExecutor(2) as executor:
            # A 5 s call holds the slot past the 3 s deadline: the other is throttled.
            long_call = executor.submit(call, 5)
            time.sleep(0.5)
            assert call(0) == "throttled"
            assert long_call.result() == "done"
    finally:
        assert server.stop() == 0
