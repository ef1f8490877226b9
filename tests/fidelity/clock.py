"""The behaviour layer's clock: real time plus an offset that every sleep advances, so that waiting for AWS
(30 s between custom-domain calls, minutes for a replica or a certificate's release) costs no real time.

The offset lives in the layer's store, so every process of one lifecycle (and every thread) sees the same
simulated time: the rules and the product's own wait loops agree on what time it is. Concurrent sleeps add up
(two threads sleeping 5 s move the clock 10 s): simulated time never runs slower than any one waiter's.
"""

from __future__ import annotations

import time
from typing import Any


class SimulatedTime:
    """`wildrydes_mr.aws.Clock`'s interface (now, monotonic, sleep) over a store's `clock_offset`."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def offset(self) -> float:
        return float(self.store.read().get("clock_offset", 0.0))

    def now(self) -> float:
        return time.time() + self.offset()

    def monotonic(self) -> float:
        return time.monotonic() + self.offset()

    def sleep(self, seconds: float) -> None:
        def advance(data: dict[str, Any]) -> None:
            data["clock_offset"] = float(data.get("clock_offset", 0.0)) + max(0.0, float(seconds))
        self.store.update(advance)
