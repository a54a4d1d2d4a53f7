"""Drivers start and stop instances. Loaded by name, so docker is imported only when it is used."""

from __future__ import annotations

import logging

from ..settings import Settings
from .base import Driver, DriverUnavailable

log = logging.getLogger(__name__)


def load_driver(settings: Settings, server_id: str) -> Driver:
    """The driver named in the settings; `auto` prefers docker when an engine answers (never
    swarm: a cluster is used only when named)."""
    name = settings.driver
    if name == "swarm":
        from .swarm import SwarmDriver

        return SwarmDriver(settings, server_id)
    if name in ("auto", "docker"):
        from .docker import DockerDriver

        try:
            return DockerDriver(settings, server_id)
        except DriverUnavailable as exc:
            if name == "docker":
                raise
            log.warning("no Docker engine answers (%s); using the process driver", exc)
    from .process import ProcessDriver

    return ProcessDriver(settings, server_id)
