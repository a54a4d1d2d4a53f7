"""Hot reload: a function's code served straight from a folder on the server's machine, and
instances retired as soon as a file in it changes, so the next invocation runs what was saved.

How a function asks for it is LocalStack's convention, which SAM and LocalStack users already
script: code from the S3 bucket named `hot-reload` whose key is the folder's absolute path
(`aws lambda create-function --code S3Bucket=hot-reload,S3Key=$PWD/src ...`; UpdateFunctionCode
with `S3Bucket`/`S3Key`). No zip, no copy: the folder itself is the instance's /var/task
(bind-mounted read-only into containers).

Mounting a folder of the server's machine is reading that machine, so the server allows only
folders under the roots its operator names (`lambkin serve --hot-reload-root DIR`); without
one, hot reload is refused with what to do. Symbolic links are resolved before the check.

Watching is watchfiles' (Rust's notify): one watcher over every folder in use, restarted when
that set changes; on a change, idle instances of the functions using the folder stop at once and
busy ones when their invocation ends (the pool's RETIRE).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from .errors import invalid_parameter

log = logging.getLogger(__name__)

HOT_RELOAD_BUCKET = "hot-reload"
DEBOUNCE_MS = 50  # a save often writes several times: one retirement for them all


def hot_reload_folder(bucket: object, key: object, roots: Iterable[Path]) -> Path | None:
    """The folder `S3Bucket` / `S3Key` name for hot reload (None: they are not hot reload).
    Raises InvalidParameterValueException, saying what to do, for a folder not allowed."""
    if bucket != HOT_RELOAD_BUCKET:
        return None
    allowed = [root.resolve() for root in roots]
    if not allowed:
        raise invalid_parameter(
            "Hot reloading is not enabled on this server: start it with "
            "`lambkin serve --hot-reload-root <folder>` (the folders it may serve code from)."
        )
    if not isinstance(key, str) or not key.startswith("/") or "\0" in key or len(key) > 4096:
        raise invalid_parameter(
            "For hot reloading, S3Key must be the absolute path of the code's folder."
        )
    try:
        folder = Path(key).resolve()
    except (OSError, RuntimeError):  # a loop of links, a name too long
        raise invalid_parameter(f"{key} is not a folder on the server's machine.") from None
    if not any(folder == root or root in folder.parents for root in allowed):
        raise invalid_parameter(
            f"{key} is not under a hot-reload root of this server "
            f"({', '.join(map(str, allowed))}): move the code there or add its folder with "
            "--hot-reload-root."
        )
    if not _is_folder(folder):
        raise invalid_parameter(f"{key} is not a folder on the server's machine.")
    return folder


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a component longer than the file system allows, say
        return False


def folder_code_sha256(folder: Path) -> tuple[str, str]:
    """(hex, base64) standing for code that is a folder: the path's digest, stable per folder
    (the files' own would change under the function's feet)."""
    digest = hashlib.sha256(f"hot-reload:{folder}".encode()).digest()
    return digest.hex(), base64.b64encode(digest).decode()


def owners_of(changed: Iterable[str], folders: dict[Path, list[str]]) -> set[str]:
    """The functions whose folder holds one of the changed paths (pure)."""
    names: set[str] = set()
    for path in map(Path, changed):
        for folder, functions in folders.items():
            if path == folder or folder in path.parents:
                names.update(functions)
    return names


class HotReload:
    """Retires a function's instances when a file of its folder changes."""

    def __init__(
        self,
        folders: Callable[[], dict[Path, list[str]]],
        retire: Callable[[str], None],
    ) -> None:
        self._folders = folders  # folder -> the functions (any version) served from it
        self._retire = retire
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._watched: frozenset[Path] = frozenset()  # what the running watcher covers

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def sync(self) -> None:
        """The set of folders may have changed (a function created, updated or deleted): the
        watcher restarts only if it did."""
        if frozenset(self._folders()) != self._watched:
            self._changed.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            every = self._folders()
            self._watched = frozenset(every)
            folders = {f: names for f, names in every.items() if _is_folder(f)}
            if not folders:
                await self._changed.wait()
                continue
            try:
                async for changes in watchfiles.awatch(
                    *folders,
                    stop_event=self._changed,
                    debounce=DEBOUNCE_MS,
                    step=20,
                    recursive=True,
                ):
                    # today's owners: a function may have joined a folder already watched
                    owners = owners_of((path for _, path in changes), self._folders())
                    for name in sorted(owners):
                        log.info("hot reload: code changed", extra={"function": name})
                        self._retire(name)
            except Exception:
                log.exception("hot reload: watching failed; retrying in a second")
                await asyncio.sleep(1)
