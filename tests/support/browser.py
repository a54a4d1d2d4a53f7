"""A real browser for the console's end-to-end tests: Debian's Chromium, driven by playwright-core
(npm), which is fetched at test time into the cache folder and never committed.

`run_browser_script(script, env)` runs one of `tests/browser/*.mjs` under node with the path of
playwright-core and of the browser in its environment; the script launches Chromium headless with
a fresh profile and fails on any console error of the pages it visits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from orchestrator.console import assets
from tests.support.oracles import cache_dir, locked

PLAYWRIGHT_CORE = "playwright-core@1.65.2"
BROWSER_DIR = Path(__file__).resolve().parents[1] / "browser"


def chromium_path() -> str:
    found = shutil.which("chromium")
    if found is None:
        raise RuntimeError("no chromium on this host: run scripts/ensure-host-runtimes.sh")
    return found


def playwright_core() -> Path:
    """The installed package's folder (its index.mjs is what the scripts import)."""
    prefix = cache_dir() / PLAYWRIGHT_CORE.replace("@", "-")
    package = prefix / "node_modules" / "playwright-core"
    with locked("playwright-core"):
        if not (package / "index.mjs").is_file():
            assets.npm_install(prefix, PLAYWRIGHT_CORE)  # its install script would fetch browsers
    return package


def console_assets() -> None:
    """The console's htmx, as `make install` builds it (a checkout tested without it)."""
    if not assets.HTMX.is_file():
        assets.build(lambda line: None)


def run_browser_script(
    script: str, env: dict[str, str], profile: Path, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Run tests/browser/<script> with node; its stdout is the steps it took."""
    console_assets()
    full_env = {
        **os.environ,
        **env,
        "PLAYWRIGHT_CORE": str(playwright_core() / "index.mjs"),
        "CHROMIUM": chromium_path(),
        "BROWSER_PROFILE": str(profile),
    }
    return subprocess.run(
        ["node", str(BROWSER_DIR / script)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
