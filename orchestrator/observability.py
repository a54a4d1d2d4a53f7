"""Logs, metrics and traces, wired together: what app.py builds, starts and closes as one.

    driver --(agent stdout)--> LogShipper --> LogStore (logs.db) <-- api/logs.py (CloudWatch Logs)
    invoker --> Telemetry --> Metrics (/metrics), Tracing (OTLP, /lambkin/traces)
    pool --on_started/on_stopped--> Metrics

Retention runs every `log_retention_interval_s`: each log group keeps `log_retention_days` and
`log_retention_bytes` (server settings), overridden per function by the tags
`lambkin:log-retention-days` and `lambkin:log-retention-bytes`, and by PutRetentionPolicy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from .drivers.base import Driver
from .function_config import FunctionConfig
from .log_names import function_of_log_group
from .log_writer import LogWriter
from .logstore import LogStore
from .metrics import Metrics
from .pool import Pool
from .settings import Settings
from .telemetry import Telemetry
from .tracing import Tracing

log = logging.getLogger(__name__)

TAG_LOG_RETENTION_DAYS = "lambkin:log-retention-days"
TAG_LOG_RETENTION_BYTES = "lambkin:log-retention-bytes"


def retention_limits(
    settings: Settings, config_of: Callable[[str], FunctionConfig | None]
) -> Callable[[str, int | None], tuple[int | None, int | None]]:
    """(group, PutRetentionPolicy days) -> (days, bytes): tags, then the policy, then settings."""

    def limits(group: str, policy_days: int | None) -> tuple[int | None, int | None]:
        days: int | None = policy_days or settings.log_retention_days or None
        max_bytes: int | None = settings.log_retention_bytes or None
        function = function_of_log_group(group)
        config = config_of(function) if function is not None else None
        tags = config.tags if config is not None else {}
        try:
            if TAG_LOG_RETENTION_DAYS in tags:
                days = int(tags[TAG_LOG_RETENTION_DAYS]) or None
            if TAG_LOG_RETENTION_BYTES in tags:
                max_bytes = int(tags[TAG_LOG_RETENTION_BYTES]) or None
        except ValueError:
            log.warning(
                "ignoring a malformed log retention tag",
                extra={"function": config.name if config else group},
            )
        return days, max_bytes

    return limits


@dataclass
class Observability:
    settings: Settings
    store: LogStore  # reads (the Logs API) and retention; the log writer process stores
    metrics: Metrics
    tracing: Tracing
    telemetry: Telemetry
    retention: Callable[[str, int | None], tuple[int | None, int | None]]
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    @classmethod
    def build(
        cls, settings: Settings, config_of: Callable[[str], FunctionConfig | None]
    ) -> Observability:
        store = LogStore(settings.logs_path)
        metrics = Metrics()
        tracing = Tracing(settings.otlp_endpoint, settings.recent_traces)
        return cls(
            settings,
            store,
            metrics,
            tracing,
            Telemetry(metrics, tracing),
            retention_limits(settings, config_of),
        )

    def attach(self, driver: Driver, pool: Pool) -> None:
        """Follow every instance's log (in the log writer process); count instance starts and
        stops; watch the pool."""
        if self.settings.store_logs:
            driver.follow_logs(
                lambda directory: LogWriter(
                    directory,
                    self.settings.logs_path,
                    self.metrics.log_lines,
                    self.tracing.fold_segments,  # the functions' X-Ray segments ride the logs
                )
            )
        self.metrics.watch_xray_segments(lambda: dict(self.tracing.segments))
        pool.on_started.append(self.metrics.instance_started)
        pool.on_stopped.append(self.metrics.instance_stopped)
        self.metrics.watch_instances(pool.instances, driver.node_of)
        self.metrics.watch_vacancies(pool.vacancies.ready_count, lambda: pool.vacancies.handed_out)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._retain())

    async def _retain(self) -> None:
        while True:
            await asyncio.sleep(self.settings.log_retention_interval_s)
            try:
                deleted = await asyncio.to_thread(self.store.enforce_retention, self.retention)
                if deleted:
                    log.info("log retention deleted %d events", deleted)
            except Exception:
                log.exception("log retention failed; retrying next interval")

    async def close(self) -> None:
        """After the pool stopped (every instance's last line was fed): store the rest, close."""
        if self._task is not None:
            self._task.cancel()
        self.store.close()
        self.tracing.shutdown()
