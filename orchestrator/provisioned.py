"""Provisioned concurrency: keep N initialized instances of a function warm.

The pool's housekeeping calls `tick()`; this module decides (via policy) how many provisioned
instances to start or retire, starts them in the background with back-off after failures, and
reports AWS's status (IN_PROGRESS until N are initialized, then READY).

Until versions and aliases exist, a configuration under any qualifier applies to the function's
latest code.
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
        self._attempts: dict[str, _Attempts] = {}
        pool.on_tick.append(self.tick)

    def put(self, function: str, qualifier: str, requested: int) -> dict[str, Any]:
        self._registry.set_setting(
            function,
            SETTING,
            {"qualifier": qualifier, "requested": requested, "last_modified": now_timestamp()},
        )
        self._attempts.pop(function, None)
        self.tick()
        return self.describe(function) or {}

    def delete(self, function: str) -> bool:
        if self._registry.setting(function, SETTING) is None:
            return False
        self._registry.set_setting(function, SETTING, None)
        for instance in self._pool.instances(function):
            if instance.provisioned:
                instance.provisioned = False  # becomes an ordinary instance: idles out as usual
        return True

    def describe(self, function: str) -> dict[str, Any] | None:
        target = self._registry.setting(function, SETTING)
        config = self._registry.get(function)
        if target is None or config is None:
            return None
        ready = sum(
            1
            for i in self._pool.instances(function)
            if i.provisioned
            and i.revision_id == config.revision_id
            and i.state in (State.IDLE, State.BUSY)
        )
        requested = int(target["requested"])
        attempts = self._attempts.get(function)
        status = "READY" if ready >= requested else "IN_PROGRESS"
        result: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": min(ready, requested),
            "AllocatedProvisionedConcurrentExecutions": min(ready, requested),
            "Status": status,
            "LastModified": target["last_modified"],
        }
        if status != "READY" and attempts and attempts.failures:
            result["StatusReason"] = (
                f"{attempts.failures} instance start(s) failed; last: {attempts.last_error}"
            )
            if attempts.failures >= 5:
                result["Status"] = "FAILED"
        return result

    def qualifier(self, function: str) -> str | None:
        target = self._registry.setting(function, SETTING)
        return None if target is None else str(target["qualifier"])

    def tick(self) -> None:
        now = self._clock()
        for function, target in self._registry.settings_named(SETTING).items():
            config = self._registry.get(function)
            if config is None:
                continue
            shortfall = policy.provisioned_shortfall(
                self._pool.instances(function), config.revision_id, int(target["requested"])
            )
            if shortfall < 0:
                self._retire_extra(function, -shortfall)
                continue
            attempts = self._attempts.setdefault(function, _Attempts())
            if shortfall == 0 or now < attempts.next_try:
                continue
            for _ in range(shortfall):
                # Registered before this returns: the next tick must count it, even if its start
                # has not begun yet (or it would start another).
                instance = self._pool.new_provisioned(config)
                self._pool.spawn(self._start_one(instance, config, attempts))

    def _retire_extra(self, function: str, extra: int) -> None:
        idle = [
            i for i in self._pool.instances(function) if i.provisioned and i.state is State.IDLE
        ]
        for instance in idle[:extra]:
            instance.provisioned = False  # an ordinary idle instance now; idle timeout applies

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
