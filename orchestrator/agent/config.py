"""The agent's configuration, read once from its environment (see docs/architecture.md)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

MEMORY_SOURCES = ("cgroup", "proc")


TOKEN_VARIABLE = "LAMBKIN_CONTROL_TOKEN"


class ConfigError(ValueError):
    """The environment does not describe a runnable agent."""


def parse_user(value: str) -> tuple[int, int] | None:
    """`uid:gid` -> (uid, gid); "" -> None (the runtime runs as the agent's own user)."""
    if not value:
        return None
    uid, sep, gid = value.partition(":")
    if not sep or not uid.isdigit() or not gid.isdigit():
        raise ConfigError(f"LAMBKIN_RUNTIME_USER: expected uid:gid (numbers), got {value!r}")
    return int(uid), int(gid)


def parse_addr(value: str, name: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) -> (host, port); port 0 means any free port."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{name}: expected host:port, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def _json(environ: Mapping[str, str], name: str, default: str) -> object:
    raw = environ.get(name, default)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: not valid JSON: {exc}") from None


@dataclass(frozen=True)
class AgentConfig:
    runtime_cmd: tuple[str, ...]
    control_token: str = field(repr=False)  # every control request must carry it
    control_addr: tuple[str, int] = ("0.0.0.0", 9002)
    runtime_api_addr: tuple[str, int] = ("127.0.0.1", 9001)
    runtime_env: Mapping[str, str] = field(default_factory=dict)
    runtime_cwd: str = "/var/task"
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    init_timeout_s: float = 10.0
    memory_source: str = "cgroup"
    runtime_user: tuple[int, int] | None = None  # (uid, gid) the runtime runs as

    @property
    def function_version(self) -> str:
        return self.runtime_env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")

    @property
    def provisioned(self) -> bool:
        """Provisioned instances init ahead of demand: their first REPORT has no Init Duration."""
        return self.runtime_env.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency"

    @property
    def memory_size_mb(self) -> int:
        value = self.runtime_env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        return int(value) if value.isdigit() else 128

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AgentConfig:
        cmd = _json(environ, "LAMBKIN_RUNTIME_CMD", "null")
        if not isinstance(cmd, list) or not cmd or not all(isinstance(a, str) for a in cmd):
            raise ConfigError("LAMBKIN_RUNTIME_CMD: required, a non-empty JSON list of strings")
        env = _json(environ, "LAMBKIN_RUNTIME_ENV", "{}")
        if not isinstance(env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise ConfigError("LAMBKIN_RUNTIME_ENV: a JSON object of strings to strings")
        try:
            init_timeout_s = float(environ.get("LAMBKIN_INIT_TIMEOUT_S", "10"))
        except ValueError:
            raise ConfigError("LAMBKIN_INIT_TIMEOUT_S: not a number") from None
        if not init_timeout_s > 0:
            raise ConfigError("LAMBKIN_INIT_TIMEOUT_S: must be positive")
        memory_source = environ.get("LAMBKIN_MEMORY_SOURCE", "cgroup")
        if memory_source not in MEMORY_SOURCES:
            raise ConfigError(f"LAMBKIN_MEMORY_SOURCE: one of {', '.join(MEMORY_SOURCES)}")
        token = environ.get(TOKEN_VARIABLE, "")
        if not token:
            raise ConfigError(
                f"{TOKEN_VARIABLE}: required (the secret every control request must carry); "
                "the agent has no unauthenticated mode"
            )
        if not (token.isascii() and token.isprintable()):
            raise ConfigError(f"{TOKEN_VARIABLE}: printable ASCII only (it travels in a header)")
        return cls(
            runtime_cmd=tuple(cmd),
            control_token=token,
            control_addr=parse_addr(
                environ.get("LAMBKIN_CONTROL_ADDR", "0.0.0.0:9002"), "LAMBKIN_CONTROL_ADDR"
            ),
            runtime_api_addr=parse_addr(
                environ.get("LAMBKIN_RUNTIME_API_ADDR", "127.0.0.1:9001"),
                "LAMBKIN_RUNTIME_API_ADDR",
            ),
            runtime_env=dict(env),
            runtime_cwd=environ.get("LAMBKIN_RUNTIME_CWD", "/var/task"),
            instance_id=environ.get("LAMBKIN_INSTANCE_ID") or uuid.uuid4().hex,
            init_timeout_s=init_timeout_s,
            memory_source=memory_source,
            runtime_user=parse_user(environ.get("LAMBKIN_RUNTIME_USER", "")),
        )
