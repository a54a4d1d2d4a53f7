"""The console's one third-party front-end file, htmx, fetched from npm at build time.

`python -m orchestrator.console.assets` (run by `make install`) installs the pinned htmx.org
package with the host's npm into a cache folder and copies its minified build to
`static/vendor/`, which git ignores: nothing third-party is committed, and once built the
console needs no network. A server whose copy is missing still serves the pages (forms work
without script) and says on each page how to build it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HTMX_PACKAGE = "htmx.org@2.0.11"
HTMX_FILE = "dist/htmx.min.js"
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
HTMX = VENDOR / "htmx.min.js"


def cache_dir() -> Path:
    root = Path(os.environ.get("LAMBKIN_CACHE_DIR", Path.home() / ".cache" / "lambkin"))
    return root / "console-assets" / HTMX_PACKAGE.replace("@", "-")


def npm_install(prefix: Path, spec: str) -> None:
    """`npm install <spec>` into `prefix`, as a build step: no package.json or lock file written
    (they would name the registry), no install scripts run, no audit or funding calls."""
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(prefix),
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            spec,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def build(say: Callable[[str], None] = print) -> Path:
    """Fetch (once) and copy htmx into static/vendor; returns the copied file."""
    cache = cache_dir()
    source = cache / "node_modules" / "htmx.org" / HTMX_FILE
    if not source.is_file():
        if shutil.which("npm") is None:
            raise SystemExit(
                "console assets: npm is not installed: run scripts/ensure-host-runtimes.sh "
                "(or apt-get install npm), then make install again"
            )
        cache.mkdir(parents=True, exist_ok=True)
        say(f"console assets: fetching {HTMX_PACKAGE} with npm into {cache}")
        npm_install(cache, HTMX_PACKAGE)
    VENDOR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, HTMX)
    say(f"console assets: {HTMX.relative_to(VENDOR.parents[2])} ready")
    return HTMX


if __name__ == "__main__":
    build(lambda line: print(line, file=sys.stderr))
