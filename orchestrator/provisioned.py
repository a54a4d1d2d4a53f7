"""Provisioned concurrency: keep N initialized instances of a version warm.

A configuration belongs to a qualifier, a published version or an alias (whose version it
warms), as on AWS; a function may have one per qualifier. The pool's housekeeping calls
`tick()`; this module decides (via policy) how many provisioned instances of each target
version to start or retire, starts them in the background with back-off after failures, and
reports AWS's status (IN_PROGRESS until N are initialized, then READY). The configurations are
one function setting, {qualifier: {requested, last_modified}}.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import policy
from .drivers.base import StartFailed
from .function_config import FunctionConfig, now_timestamp
from .instance import Instance, State
from .pool import CodePath, Pool
from .registry import Registry

log = logging.getLogger(__name__)

SETTING = "provisioned_concurrency"
MAX_BACKOFF_S = 30.0


@dataclass
class _Attempts:
    failures: int = 0
    next_try: float = 0.0
    last_error: str = ""


def _configs(stored: Any) -> dict[str, dict[str, Any]]:
    """The stored setting as {qualifier: config}; an older server stored one config with its
    qualifier inside."""
    if not isinstance(stored, dict):
        return {}
    if "qualifier" in stored:
        return {str(stored["qualifier"]): stored}
    return {str(q): c for q, c in stored.items()}


class Provisioner:
    def __init__(
        self,
        pool: Pool,
        registry: Registry,
        code_path_for: Callable[[FunctionConfig], CodePath],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._registry = registry
        self._code_path_for = code_path_for
        self._clock = clock
        self._attempts: dict[tuple[str, str], _Attempts] = {}
        pool.on_tick.append(self.tick)

    def target(self, function: str, qualifier: str) -> FunctionConfig | None:
        """The version a qualifier's instances run: the version itself, or the alias's ($LATEST
        only from an older server's configuration)."""
        return self._registry.resolve(function, qualifier)

    def configured(self, function: str) -> dict[str, dict[str, Any]]:
        return _configs(self._registry.setting(function, SETTING))

    def total(self, function: str, without: str | None = None) -> int:
        """Provisioned executions the function's configurations ask for (but `without`'s)."""
        return sum(
            int(c["requested"]) for q, c in self.configured(function).items() if q != without
        )

    def put(self, function: str, qualifier: str, requested: int) -> dict[str, Any]:
        configs = self.configured(function)
        configs[qualifier] = {"requested": requested, "last_modified": now_timestamp()}
        self._registry.set_setting(function, SETTING, configs)
        self._attempts.pop((function, qualifier), None)
        self.tick()
        return self.describe(function, qualifier) or {}

    def forget(self, function: str, qualifier: str) -> None:
        """The version or alias is gone: so is its configuration."""
        configs = self.configured(function)
        if configs.pop(qualifier, None) is not None:
            self._registry.set_setting(function, SETTING, configs or None)

    def delete(self, function: str, qualifier: str) -> bool:
        configs = self.configured(function)
        if qualifier not in configs:
            return False
        del configs[qualifier]
        self._registry.set_setting(function, SETTING, configs or None)
        target = self.target(function, qualifier)
        if target is not None and not any(
            self.target(function, q) == target for q in configs
        ):  # no other qualifier keeps that version warm
            for instance in self._pool.instances_of(target):
                instance.provisioned = False  # an ordinary instance now: idles out as usual
        return True

    def describe(self, function: str, qualifier: str) -> dict[str, Any] | None:
        stored = self.configured(function).get(qualifier)
        config = self.target(function, qualifier)
        if stored is None or config is None:
            return None
        ready = sum(
            1
            for i in self._pool.instances_of(config)
            if i.provisioned
            and i.revision_id == config.revision_id
            and i.state in (State.IDLE, State.BUSY)
        )
        requested = int(stored["requested"])
        attempts = self._attempts.get((function, qualifier))
        status = "READY" if ready >= requested else "IN_PROGRESS"
        result: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": min(ready, requested),
            "AllocatedProvisionedConcurrentExecutions": min(ready, requested),
            "Status": status,
            "LastModified": stored["last_modified"],
        }
        if status != "READY" and attempts and attempts.failures:
            result["StatusReason"] = (
                f"{attempts.failures} instance start(s) failed; last: {attempts.last_error}"
            )
            if attempts.failures >= 5:
                result["Status"] = "FAILED"
        return result

    def tick(self) -> None:
        now = self._clock()
        for function, stored in self._registry.settings_named(SETTING).items():
            wanted: dict[str, tuple[FunctionConfig, int, str]] = {}
            for qualifier, config in _configs(stored).items():
                target = self.target(function, qualifier)
                if target is None:
                    continue  # its version or alias is gone
                # Two qualifiers on one version (an alias and the version): the larger wins.
                previous = wanted.get(target.pool_key)
                if previous is None or previous[1] < int(config["requested"]):
                    wanted[target.pool_key] = (target, int(config["requested"]), qualifier)
            for target, requested, qualifier in wanted.values():
                self._tick_one(target, requested, (function, qualifier), now)

    def _tick_one(
        self, config: FunctionConfig, requested: int, key: tuple[str, str], now: float
    ) -> None:
        instances = self._pool.instances_of(config)
        shortfall = policy.provisioned_shortfall(instances, config.revision_id, requested)
        if shortfall < 0:
            idle = [i for i in instances if i.provisioned and i.state is State.IDLE]
            for instance in idle[:-shortfall]:
                instance.provisioned = False  # an ordinary idle instance now
            return
        attempts = self._attempts.setdefault(key, _Attempts())
        if shortfall == 0 or now < attempts.next_try:
            return
        for _ in range(shortfall):
            # Registered before this returns: the next tick must count it, even if its start
            # has not begun yet (or it would start another).
            instance = self._pool.new_provisioned(config)
            self._pool.spawn(self._start_one(instance, config, attempts))

    async def _start_one(
        self, instance: Instance, config: FunctionConfig, attempts: _Attempts
    ) -> None:
        try:
            await self._pool.start_provisioned(instance, config, self._code_path_for(config))
            attempts.failures = 0
        except StartFailed as exc:
            attempts.failures += 1
            attempts.last_error = str(exc)
            attempts.next_try = self._clock() + min(MAX_BACKOFF_S, 2.0**attempts.failures)
