"""Which conformance combinations exist on this host: the process driver and AWS's emulator run
the host's own interpreters, so a runtime whose exact language version the host lacks has no
such combination here, and an image-only runtime (mono6.12: `Variant.image_only`) has none on
any host. Those items are deselected at collection (reported as deselected, never as skipped or
passed); the docker target runs every runtime in its image."""

from __future__ import annotations

import pytest

from tests.conformance.variants import VARIANTS, runs_on_target


def _absent_here(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return False
    params = callspec.params
    target = params.get("target")
    variant = params.get("variant", params.get("variant_id"))  # the fixture, or a form's id
    return variant in VARIANTS and not runs_on_target(VARIANTS[variant], str(target))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    absent = [item for item in items if _absent_here(item)]
    if absent:
        config.hook.pytest_deselected(items=absent)
        items[:] = [item for item in items if not _absent_here(item)]
