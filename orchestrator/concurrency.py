"""Concurrency accounting: Lambda's server-wide limit and per-function reserved concurrency.

Pure bookkeeping (no I/O, no awaiting), so the rules are tested with plain tables. A function
with reserved concurrency R runs at most R invocations at once and never competes with others;
all other functions share what is left of the limit (limit - sum of reservations), and the
reservations may not eat into the unreserved floor.
"""

from __future__ import annotations

from enum import StrEnum


class ThrottleReason(StrEnum):
    RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
    ACCOUNT = "ConcurrentInvocationLimitExceeded"


class ReservationTooLarge(Exception):
    def __init__(self, floor: int) -> None:
        super().__init__(
            "Specified ReservedConcurrentExecutions for function decreases account's "
            f"UnreservedConcurrentExecution below its minimum value of [{floor}]."
        )


class ConcurrencyLimiter:
    def __init__(self, limit: int, unreserved_floor: int) -> None:
        self.limit = limit
        self.unreserved_floor = unreserved_floor
        self._reserved: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self._unreserved_in_flight = 0

    def reserved(self, function: str) -> int | None:
        return self._reserved.get(function)

    def unreserved_capacity(self) -> int:
        return self.limit - sum(self._reserved.values())

    def check_reservation(self, function: str, value: int) -> None:
        others = sum(v for name, v in self._reserved.items() if name != function)
        if others + value > self.limit - self.unreserved_floor:
            raise ReservationTooLarge(self.unreserved_floor)

    def set_reserved(self, function: str, value: int | None) -> None:
        """Reserve (or, with None, release) concurrency; in-flight invocations are moved over."""
        running = self._in_flight.get(function, 0)
        if function not in self._reserved:
            self._unreserved_in_flight -= running
        if value is None:
            self._reserved.pop(function, None)
            self._unreserved_in_flight += running
        else:
            self.check_reservation(function, value)
            self._reserved[function] = value

    def try_acquire(self, function: str) -> ThrottleReason | None:
        """Count one more invocation of `function`, or say why it must be throttled."""
        running = self._in_flight.get(function, 0)
        reserved = self._reserved.get(function)
        if reserved is not None:
            if running >= reserved:
                return ThrottleReason.RESERVED
        elif self._unreserved_in_flight >= self.unreserved_capacity():
            return ThrottleReason.ACCOUNT
        else:
            self._unreserved_in_flight += 1
        self._in_flight[function] = running + 1
        return None

    def release(self, function: str) -> None:
        running = self._in_flight[function] - 1
        if running:
            self._in_flight[function] = running
        else:
            del self._in_flight[function]
        if function not in self._reserved:
            self._unreserved_in_flight -= 1

    def in_flight(self, function: str | None = None) -> int:
        if function is None:
            return sum(self._in_flight.values())
        return self._in_flight.get(function, 0)
