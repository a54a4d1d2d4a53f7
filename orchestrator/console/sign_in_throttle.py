"""How many wrong sign-ins a browser's address may try (pure, with an injected clock).

The console's sign-in form checks a secret; without a bound an attacker could try secrets as
fast as the server answers. Each client address may fail `MAX_FAILURES` times in
`WINDOW_S`; after that its sign-ins are refused, right or wrong, until the oldest failure
leaves the window. Counted per address, not per access key, so nobody can lock another user
out from elsewhere. Memory is bounded: at most `MAX_ADDRESSES` addresses are remembered.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_FAILURES = 10
WINDOW_S = 300.0
MAX_ADDRESSES = 10_000


class SignInThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures.get(address)
        if failures is None:
            return deque()
        cutoff = self._clock() - WINDOW_S
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[address]
        return failures

    def wait_s(self, address: str) -> float:
        """0 when the address may try; otherwise how long until it may."""
        failures = self._recent(address)
        if len(failures) < MAX_FAILURES:
            return 0.0
        return max(0.0, failures[0] + WINDOW_S - self._clock())

    def failed(self, address: str) -> None:
        failures = self._failures.setdefault(address, deque())
        self._failures.move_to_end(address)
        failures.append(self._clock())
        while len(failures) > MAX_FAILURES:
            failures.popleft()
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)
