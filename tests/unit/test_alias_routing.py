"""Aliases' pure parts (orchestrator/aliases.py): the weighted choice of a version, tabled by
the uniform draw, and the validation of names and routing configurations."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.aliases import Alias, alias_name, is_alias_name, pick_version, routing
from orchestrator.errors import LambdaError


@pytest.mark.parametrize(
    ("weights", "draw", "version"),
    [
        ({}, 0.0, "1"),
        ({}, 0.999, "1"),
        ({"2": 0.1}, 0.0, "2"),
        ({"2": 0.1}, 0.0999, "2"),
        ({"2": 0.1}, 0.1, "1"),
        ({"2": 0.1}, 0.99, "1"),
        ({"2": 0.0}, 0.0, "1"),  # a weight of 0 sends nothing
        ({"2": 1.0}, 0.999, "2"),  # a weight of 1 sends everything
    ],
)
def test_pick_version(weights: dict[str, float], draw: float, version: str) -> None:
    assert pick_version(Alias("live", "1", weights=weights), draw) == version


@pytest.mark.parametrize(
    ("qualifier", "alias"),
    [("live", True), ("blue-green_2", True), ("7", False), ("$LATEST", False), ("a" * 129, False)],
)
def test_is_alias_name(qualifier: str, alias: bool) -> None:
    assert is_alias_name(qualifier) is alias


@pytest.mark.parametrize("name", ["", "12", "bad name", "a" * 129, None, 5])
def test_bad_alias_names_are_refused(name: Any) -> None:
    with pytest.raises(LambdaError):
        alias_name(name)


@pytest.mark.parametrize(
    ("config", "primary", "parsed"),
    [
        (None, "1", {}),
        ({}, "1", {}),
        ({"AdditionalVersionWeights": {}}, "1", {}),
        ({"AdditionalVersionWeights": {"2": 0.25}}, "1", {"2": 0.25}),
        ({"AdditionalVersionWeights": {"2": 1}}, "1", {"2": 1.0}),
    ],
)
def test_routing_accepted(config: Any, primary: str, parsed: dict[str, float]) -> None:
    assert routing(config, primary) == parsed


@pytest.mark.parametrize(
    ("config", "primary"),
    [
        ({"AdditionalVersionWeights": {"2": 0.5, "3": 0.1}}, "1"),  # more than one
        ({"AdditionalVersionWeights": {"1": 0.5}}, "1"),  # the primary itself
        ({"AdditionalVersionWeights": {"2": 1.5}}, "1"),
        ({"AdditionalVersionWeights": {"2": -0.1}}, "1"),
        ({"AdditionalVersionWeights": {"2": True}}, "1"),
        ({"AdditionalVersionWeights": {"$LATEST": 0.5}}, "1"),  # only published versions
        ({"AdditionalVersionWeights": {"2": 0.5}}, "$LATEST"),
        ({"AdditionalVersionWeights": [1]}, "1"),
    ],
)
def test_routing_refused(config: Any, primary: str) -> None:
    with pytest.raises(LambdaError):
        routing(config, primary)
