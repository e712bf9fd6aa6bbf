"""Exponential backoff with jitter for reconnect loops (control task and image thread).

Layer: seestar (asyncio engine), but pure: no clock, no sleeping, no I/O; the caller sleeps.
Must not import indi/, devices/ or sim/.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays initial, initial*factor, ... capped at maximum; each randomised by +-jitter."""

    def __init__(self, initial_s: float, maximum_s: float, factor: float = 2.0,
                 jitter: float = 0.25, rng: random.Random | None = None) -> None:
        if initial_s < 0 or maximum_s < initial_s or factor < 1 or not 0 <= jitter < 1:
            raise ValueError("backoff needs 0 <= initial <= maximum, factor >= 1, 0 <= jitter < 1")
        self._initial, self._max, self._factor, self._jitter = initial_s, maximum_s, factor, jitter
        self._rng = rng or random.Random()
        self._next = initial_s
        self.attempts = 0

    def next_delay_s(self) -> float:
        """The delay before the next attempt; grows on every call."""
        base = self._next
        self._next = min(self._max, self._next * self._factor)
        self.attempts += 1
        spread = base * self._jitter
        return max(0.0, base + self._rng.uniform(-spread, spread))

    def reset(self) -> None:
        """Back to the initial delay (after a success)."""
        self._next = self._initial
        self.attempts = 0
