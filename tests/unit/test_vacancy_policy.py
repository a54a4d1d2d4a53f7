"""The vacancy policy (vacancy_policy.py) as tables: demand in, vacancies per shape out."""

from __future__ import annotations

import pytest

from orchestrator.vacancy_policy import Shape, VacancyLimits, largest_burst, vacancy_targets

PY = Shape("python3.11", 128, 512)
PY_BIG = Shape("python3.11", 1024, 512)
NODE = Shape("nodejs18.x", 128, 512)
JAVA = Shape("java17", 512, 512)

LIMITS = VacancyLimits(memory_budget_mb=1024, per_shape=2, window_s=900, burst_s=10)


@pytest.mark.parametrize(
    ("times", "burst_s", "expected"),
    [
        ([], 10, 0),
        ([5.0], 10, 1),
        ([0.0, 1.0, 2.0], 10, 3),
        ([0.0, 20.0, 40.0], 10, 1),  # spread out: never more than one at a time
        ([0.0, 10.0], 10, 2),  # exactly burst_s apart still counts together
        ([0.0, 10.5], 10, 1),
        ([0.0, 30.0, 31.0, 32.0, 60.0], 10, 3),  # the largest burst wins, wherever it is
    ],
)
def test_largest_burst(times: list[float], burst_s: float, expected: int) -> None:
    assert largest_burst(times, burst_s) == expected


NOW = 1000.0


@pytest.mark.parametrize(
    ("demand", "limits", "expected"),
    [
        # No cold starts, no vacancies.
        ({}, LIMITS, {}),
        # One cold start: one vacancy, so the next one is fast.
        ({PY: [NOW - 5]}, LIMITS, {PY: 1}),
        # A burst of five: as many as the per-shape cap allows.
        ({PY: [NOW - 5 + i * 0.1 for i in range(5)]}, LIMITS, {PY: 2}),
        # Demand older than the window is forgotten.
        ({PY: [NOW - 901]}, LIMITS, {}),
        ({PY: [NOW - 901, NOW - 1]}, LIMITS, {PY: 1}),
        # Several shapes, each from its own demand.
        ({PY: [NOW - 1], NODE: [NOW - 2, NOW - 2]}, LIMITS, {PY: 1, NODE: 2}),
        # The budget counts memory limits: 1024 MB holds one 1024 MB vacancy and nothing else;
        # the most recent demand is served first.
        ({PY_BIG: [NOW - 1, NOW - 1], PY: [NOW - 2]}, LIMITS, {PY_BIG: 1}),
        ({PY_BIG: [NOW - 2], PY: [NOW - 1]}, LIMITS, {PY: 1}),
        # What is left of the budget goes to the next shape, as far as it reaches.
        (
            {JAVA: [NOW - 1], PY: [NOW - 2, NOW - 2], NODE: [NOW - 3]},
            LIMITS,
            {JAVA: 1, PY: 2, NODE: 1},
        ),
        ({JAVA: [NOW - 1, NOW - 1], PY: [NOW - 2]}, LIMITS, {JAVA: 2}),
        # A budget of 0 turns vacancies off; so does a cap of 0.
        ({PY: [NOW - 1]}, VacancyLimits(memory_budget_mb=0), {}),
        ({PY: [NOW - 1]}, VacancyLimits(per_shape=0), {}),
        # Equal recency: shape order decides, never the mapping's order.
        ({PY_BIG: [NOW - 1], JAVA: [NOW - 1]}, LIMITS, {JAVA: 1}),
        ({JAVA: [NOW - 1], PY_BIG: [NOW - 1]}, LIMITS, {JAVA: 1}),
    ],
)
def test_vacancy_targets(
    demand: dict[Shape, list[float]], limits: VacancyLimits, expected: dict[Shape, int]
) -> None:
    assert vacancy_targets(demand, NOW, limits) == expected


def test_unsorted_demand_is_read_in_time_order() -> None:
    assert vacancy_targets({PY: [NOW - 1, NOW - 800, NOW - 2]}, NOW, LIMITS) == {PY: 2}


def test_a_shape_names_what_cannot_change_once_its_container_runs() -> None:
    assert str(Shape("python3.11", 256, 1024)) == "python3.11/256MB/tmp1024MB"
