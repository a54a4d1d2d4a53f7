"""debugpy for debugged Python functions (debugging.py): the pure-Python wheel from the package
index, installed once into a cache folder beside a `sitecustomize` hook that starts it.

The folder is mounted read-only into a debugged instance (docker) or put on PYTHONPATH (process),
so no runtime image carries a debugger. The pure wheel serves every Python the runtimes have;
the cache key holds the hook's text, so a changed hook is a new folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from . import pip_cache
from .debugging import DEBUGPY_LISTEN

DEBUGPY_VERSION = "1.8.22"

# Runs at interpreter start-up, before the runtime client. It takes its setting out of the
# environment so that a Python child of the function (which inherits PYTHONPATH) does nothing.
SITECUSTOMIZE = f'''"""Lambkin: start debugpy, wait for a client, then let the runtime run."""
import os

_listen = os.environ.pop("{DEBUGPY_LISTEN}", "")
if _listen:
    import debugpy

    _host, _, _port = _listen.rpartition(":")
    debugpy.listen((_host, int(_port)))
    debugpy.wait_for_client()
'''


def hook_folder(progress: pip_cache.Progress, *, root: Path | None = None) -> Path:
    """The folder to put first on a debugged function's PYTHONPATH (fetched on first use)."""
    key = hashlib.sha256(f"{DEBUGPY_VERSION}\n{SITECUSTOMIZE}".encode()).hexdigest()[:16]
    target = (root or pip_cache.cache_root("debugpy")) / f"{DEBUGPY_VERSION}-{key}"

    def pip_args(folder: Path) -> list[str]:
        return [
            "install",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "any",
            "--implementation",
            "py",
            "--target",
            str(folder),
            f"debugpy=={DEBUGPY_VERSION}",
        ]

    def prepare(folder: Path) -> None:
        # Read by the function's user in the instance, not only by us (mkdtemp made it 0700).
        folder.chmod(0o755)
        (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)

    if not target.is_dir():
        progress(f"fetching debugpy {DEBUGPY_VERSION} for a debugged Python function")
    return pip_cache.wheels_once(target, pip_args, progress, prepare)
