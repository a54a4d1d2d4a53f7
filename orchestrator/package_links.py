"""Which symbolic links in a code package are kept: those that resolve inside the package.

A zip entry is a link when its Unix mode (the high 16 bits of its external attributes) says
S_IFLNK; its content is the target. AWS keeps such links when it unpacks a package (npm's
`node_modules/.bin/x -> ../x/bin/cli.js`, `libfoo.so -> libfoo.so.1.2`), so Lambkin does too,
as long as nothing they lead to lies outside the package. Targets are resolved the way the
kernel will resolve them at run time, following other links of the package on the way (so
`up -> ..` inside `a/` makes `a/up/..` the parent of the package, not `a`), over the package's
paths alone: nothing on disk is consulted.

The code store writes links last, after every file and directory, and no entry may lie under a
link, so unpacking never writes through one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

MAX_TARGET_BYTES = 4095  # PATH_MAX less its NUL
_MAX_HOPS = 40  # Linux's limit on links followed in one lookup


class LinkRefused(Exception):
    """A link (or an entry under one) cannot be kept; the message names it and says why."""


class _Loop(Exception):
    pass


def check_links(links: Mapping[str, str], paths: Collection[str]) -> None:
    """Raise LinkRefused unless every link in `links` (normalised path -> target) resolves
    inside the package and no other entry of `paths` (every entry's normalised path, links
    included, possibly more than once) is a link itself or lies under one."""
    seen: set[str] = set()
    for path in paths:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix in links:
                raise LinkRefused(
                    f"Zip entry {path!r} lies under the symbolic link {prefix!r}; store it under "
                    "the link's target instead"
                )
        if path in links and path in seen:
            raise LinkRefused(
                f"Zip entry {path!r} is a symbolic link and another entry of the same name"
            )
        seen.add(path)
    for path, target in links.items():  # first, so a chain names the link that is wrong
        if not target or "\0" in target:
            message = f"Zip entry {path!r} is a symbolic link with an empty or invalid target"
            raise LinkRefused(message)
        if target.startswith("/"):
            raise LinkRefused(
                f"Zip entry {path!r} is a symbolic link to the absolute path {target!r}; only "
                "relative links to files in the package are kept"
            )
    for path, target in links.items():
        _check_inside(path, target, links)


def _check_inside(path: str, target: str, links: Mapping[str, str]) -> None:
    try:
        inside = resolve(path.split("/")[:-1], target, links) is not None
    except _Loop:
        raise LinkRefused(
            f"Zip entry {path!r} is a symbolic link in a loop of links (more than {_MAX_HOPS} "
            "followed)"
        ) from None
    if not inside:
        raise LinkRefused(
            f"Zip entry {path!r} is a symbolic link to {target!r}, which escapes the package root"
        )


def resolve(start: list[str], target: str, links: Mapping[str, str]) -> list[str] | None:
    """The components of `target`, looked up from the directory `start`, as the kernel would
    walk them through the package's `links` (all relative); None if the walk leaves the
    package. Raises _Loop past the kernel's limit of links followed."""
    here = list(start)
    pending = _components(target)
    hops = 0
    while pending:
        name = pending.pop()
        if name == "..":
            if not here:
                return None
            here.pop()
            continue
        candidate = "/".join([*here, name])
        if candidate not in links:
            here.append(name)  # a file, a directory, or nothing (a dangling link's target)
            continue
        hops += 1
        if hops > _MAX_HOPS:
            raise _Loop
        pending.extend(_components(links[candidate]))  # resolved from `here`, the link's directory
    return here


def _components(target: str) -> list[str]:
    """The target's components, reversed (a stack), without empty and "." ones."""
    return [part for part in reversed(target.split("/")) if part not in ("", ".")]
