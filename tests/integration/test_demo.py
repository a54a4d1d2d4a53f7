"""`make run`'s demo (`lambkin demo`): a server, the example function deployed, invoked cold and
warm, the server stopped. Process driver, a data directory of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.server import REPO_ROOT, free_port


def test_the_demo_deploys_and_invokes_the_example(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "demo", "--driver", "process",
         "--port", str(free_port())],
        cwd=REPO_ROOT,
        env={**os.environ, "LAMBKIN_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert said.count('"message": "Hello, Lambkin!"') == 2, said
    assert '"invocations_on_this_instance": 2' in said  # the warm one reused the instance
    assert "lambkin stopped; all instances removed" in said
