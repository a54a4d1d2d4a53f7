"""Container-image functions (PackageType Image): what is stored about an image, and what an
instance of one runs. Pure: the engine's side (finding, pulling, pinning an image) is the
driver's (`Driver.resolve_image`).

An image function runs its image's own ENTRYPOINT and CMD, each replaceable by the function's
ImageConfig, as Lambda does; the agent is still PID 1 (mounted, not baked) and starts that
command as the runtime, with the image's ENV beneath Lambda's variables and the function's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import validation

# AWS's limit for a container image, uncompressed, layers included.
MAX_IMAGE_BYTES = 10 * 1024**3
# Lambda's `WorkingDirectory` and list-member bounds (botocore: ImageConfig).
_WORKING_DIRECTORY_MAX = 1000
_STRING_LIST_MAX = 1500

# A Docker image reference: [registry[:port]/]path[:tag][@digest], the grammar of
# distribution/reference, with nothing else (no whitespace, no option-like leading dash).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?/)"
_REFERENCE = re.compile(
    rf"(?P<name>{_DOMAIN}?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
IMAGE_URI_MAX = 1024  # what a reference may be; Docker itself allows no more than 255 a name


class ImageUnavailable(Exception):
    """A function's image cannot be used (not found, not pullable, not runnable here); the
    message says why and what to do."""


@dataclass(frozen=True)
class ImageReference:
    name: str  # registry and path, without tag or digest
    tag: str | None
    digest: str | None

    @property
    def pullable(self) -> tuple[str, str]:
        """(repository, tag or digest) as the engine's pull wants them."""
        return self.name, self.digest or self.tag or "latest"


def parse_image_reference(uri: str) -> ImageReference | None:
    """The parts of a Docker image reference, or None when `uri` is not one."""
    if len(uri) > IMAGE_URI_MAX:
        return None
    match = _REFERENCE.fullmatch(uri)
    if match is None or len(match["name"]) > 255:
        return None
    return ImageReference(match["name"], match["tag"], match["digest"])


@dataclass(frozen=True)
class ImageSettings:
    """ImageConfig: the image's ENTRYPOINT, CMD and WORKDIR as the function replaces them
    (None: the image's own)."""

    entry_point: tuple[str, ...] | None = None
    command: tuple[str, ...] | None = None
    working_directory: str | None = None

    def render(self) -> dict[str, Any]:
        """ImageConfigResponse.ImageConfig: only what the function set."""
        out: dict[str, Any] = {}
        if self.entry_point is not None:
            out["EntryPoint"] = list(self.entry_point)
        if self.command is not None:
            out["Command"] = list(self.command)
        if self.working_directory is not None:
            out["WorkingDirectory"] = self.working_directory
        return out


@dataclass(frozen=True)
class ResolvedImage:
    """An image as the engine holds it, at the moment a function was pointed at it."""

    uri: str  # Code.ImageUri as the caller gave it
    resolved_uri: str  # pinned: <name>@sha256:<digest>
    image_id: str  # the engine's content id (sha256:...): what instances run
    size: int
    entry_point: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    working_dir: str = ""
    env: dict[str, str] = field(default_factory=dict)
    volumes: tuple[str, ...] = ()  # the image's VOLUME paths (they get no volume: see docker.py)

    @property
    def digest_hex(self) -> str:
        return self.resolved_uri.rsplit("@sha256:", 1)[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "resolved_uri": self.resolved_uri,
            "image_id": self.image_id,
            "size": self.size,
            "entry_point": list(self.entry_point),
            "command": list(self.command),
            "working_dir": self.working_dir,
            "env": dict(self.env),
            "volumes": list(self.volumes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResolvedImage:
        return cls(
            uri=data["uri"],
            resolved_uri=data["resolved_uri"],
            image_id=data["image_id"],
            size=int(data["size"]),
            entry_point=tuple(data.get("entry_point", ())),
            command=tuple(data.get("command", ())),
            working_dir=data.get("working_dir", ""),
            env=dict(data.get("env", {})),
            volumes=tuple(data.get("volumes", ())),
        )


def image_env(pairs: list[str] | None) -> dict[str, str]:
    """An image config's Env (["K=V", ...]) as a mapping; a bare "K" means an empty value."""
    env: dict[str, str] = {}
    for pair in pairs or []:
        name, _, value = pair.partition("=")
        if name:
            env[name] = value
    return env


def runtime_command(image: ResolvedImage, settings: ImageSettings) -> list[str]:
    """What the agent starts: ENTRYPOINT then CMD, each the function's when it set one.

    Unlike `docker run --entrypoint`, replacing the entry point keeps the image's CMD: Lambda
    treats the two as separate settings.
    """
    entry = settings.entry_point if settings.entry_point is not None else image.entry_point
    command = settings.command if settings.command is not None else image.command
    return [*entry, *command]


def working_directory(image: ResolvedImage, settings: ImageSettings) -> str:
    return settings.working_directory or image.working_dir or "/"


def handler_of(image: ResolvedImage, settings: ImageSettings) -> str:
    """_HANDLER for an image: the first word of CMD (the handler, in AWS's base images)."""
    command = settings.command if settings.command is not None else image.command
    return command[0] if command else ""


# Lambda's variables an image may set for itself (AWS's base images do): the image wins.
IMAGE_MAY_SET = ("PATH", "LANG", "TZ", "LD_LIBRARY_PATH", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR")


def image_environment(
    image_env: Mapping[str, str], lambda_env: Mapping[str, str], function_env: Mapping[str, str]
) -> dict[str, str]:
    """The runtime's environment: the image's ENV, Lambda's variables over it (but for the few
    an image may set for itself), the function's own variables over both."""
    env = dict(image_env)
    for name, value in lambda_env.items():
        if name not in IMAGE_MAY_SET or name not in image_env:
            env[name] = value
    env.update(function_env)
    return env


def describe_missing_command(uri: str) -> str:
    return (
        f"The image {uri} has neither an ENTRYPOINT nor a CMD, and ImageConfig sets neither: "
        'give the image one (e.g. ENTRYPOINT ["/main"]) or set ImageConfig.EntryPoint.'
    )


def validate_image_config(value: Any) -> ImageSettings:
    """ImageConfig from a request, checked as botocore's model bounds it.
    Fails as AWS does, with a ValidationException naming the member."""
    if value is None:
        return ImageSettings()
    if not isinstance(value, dict):
        raise validation("imageConfig", "Member must be an object")
    lists: dict[str, tuple[str, ...] | None] = {}
    for key, member in (
        ("EntryPoint", "imageConfig.entryPoint"),
        ("Command", "imageConfig.command"),
    ):
        items = value.get(key)
        if items is None:
            lists[key] = None
            continue
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise validation(member, "Member must be a list of strings")
        if len(items) > _STRING_LIST_MAX:
            raise validation(
                member, f"Member must have length less than or equal to {_STRING_LIST_MAX}"
            )
        if any("\x00" in i for i in items):
            raise validation(member, "Member must not contain a NUL character")
        lists[key] = tuple(items)
    workdir = value.get("WorkingDirectory")
    if workdir is not None:
        if not isinstance(workdir, str):
            raise validation("imageConfig.workingDirectory", "Member must be a string")
        if len(workdir) > _WORKING_DIRECTORY_MAX:
            raise validation(
                "imageConfig.workingDirectory",
                f"Member must have length less than or equal to {_WORKING_DIRECTORY_MAX}",
            )
        if workdir and (not workdir.startswith("/") or "\x00" in workdir):
            raise validation("imageConfig.workingDirectory", "Member must be an absolute path")
    return ImageSettings(lists["EntryPoint"], lists["Command"], workdir or None)
