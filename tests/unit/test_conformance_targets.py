"""Which conformance target runs which variant: an image-only runtime (mono6.12) is never
combined with a host target, by its flag rather than by the host's lack of `mono`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.conformance import variants
from tests.conformance.variants import HOST_TARGETS, VARIANTS, runs_on_target


def test_only_mono_is_image_only() -> None:
    assert [v.id for v in VARIANTS.values() if v.image_only] == ["mono6.12"]


@pytest.mark.parametrize("target", HOST_TARGETS)
def test_an_image_only_variant_never_runs_on_a_host_target(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(variants, "runs_on_host", lambda variant: True)  # a host with mono
    assert runs_on_target(VARIANTS["mono6.12"], target) is False
    assert runs_on_target(replace(VARIANTS["mono6.12"], image_only=False), target) is True


def test_docker_runs_every_variant() -> None:
    assert all(runs_on_target(v, "docker") for v in VARIANTS.values())
