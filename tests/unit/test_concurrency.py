from __future__ import annotations

import pytest

from orchestrator.concurrency import ConcurrencyLimiter, ReservationTooLarge, ThrottleReason


def test_reserved_function_is_capped_and_isolated() -> None:
    limiter = ConcurrencyLimiter(limit=10, unreserved_floor=2)
    limiter.set_reserved("r", 2)
    assert [limiter.try_acquire("r") for _ in range(3)] == [None, None, ThrottleReason.RESERVED]
    # others share 10 - 2 = 8, unaffected by r's use
    assert [limiter.try_acquire("u") for _ in range(9)][-2:] == [None, ThrottleReason.ACCOUNT]
    limiter.release("r")
    assert limiter.try_acquire("r") is None
    assert limiter.in_flight() == 10


def test_zero_reservation_throttles_everything() -> None:
    limiter = ConcurrencyLimiter(limit=10, unreserved_floor=2)
    limiter.set_reserved("off", 0)
    assert limiter.try_acquire("off") is ThrottleReason.RESERVED


def test_reservations_keep_the_unreserved_floor() -> None:
    limiter = ConcurrencyLimiter(limit=10, unreserved_floor=2)
    limiter.set_reserved("a", 5)
    with pytest.raises(ReservationTooLarge):
        limiter.set_reserved("b", 4)
    limiter.set_reserved("b", 3)
    limiter.set_reserved("a", 5)  # re-setting one's own value does not count twice


@pytest.mark.parametrize("reserve_first", [True, False])
def test_reservation_change_moves_in_flight_counts(reserve_first: bool) -> None:
    limiter = ConcurrencyLimiter(limit=4, unreserved_floor=1)
    if reserve_first:
        limiter.set_reserved("f", 3)
    assert limiter.try_acquire("f") is None
    limiter.set_reserved("f", None if reserve_first else 3)
    limiter.release("f")
    # every slot is free again: 4 unreserved (or 3 reserved + 1)
    assert limiter.in_flight() == 0
    grabbed = [limiter.try_acquire("g") for _ in range(4 if reserve_first else 1)]
    assert all(r is None for r in grabbed)
