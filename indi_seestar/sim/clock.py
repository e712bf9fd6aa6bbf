"""Scope clock of the fake Seestar: scope seconds run `time_factor` times faster than real seconds.

Layer: sim. Imports the stdlib only. Every duration in the fake (slews, focuser, wheel,
exposures, autofocus, darks) is expressed in scope seconds and waited for with `sleep()`,
which scales it by 1/time_factor in real time. `Timestamp` fields are scope uptime with
9 decimals, like the real firmware ("4381.996851070").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

#: Uptime the fake claims at start (the recorded scopes had been up ~1.2 h).
DEFAULT_BOOT_UPTIME_S = 4321.0


class SimClock:
    """Scope time = `time_factor` x real (monotonic) time since construction."""

    def __init__(
        self,
        time_factor: float = 1.0,
        *,
        boot_uptime_s: float = DEFAULT_BOOT_UPTIME_S,
        utc_at_start: datetime | None = None,
        real_monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not time_factor > 0:
            raise ValueError(f"time_factor must be > 0, got {time_factor}")
        self._factor = float(time_factor)
        self._real = real_monotonic
        self._real0 = real_monotonic()
        self._boot_uptime_s = boot_uptime_s
        start = utc_at_start or datetime.now(timezone.utc)
        self._utc_at_zero = start if start.tzinfo else start.replace(tzinfo=timezone.utc)

    @property
    def time_factor(self) -> float:
        """Scope seconds per real second."""
        return self._factor

    def now_s(self) -> float:
        """Scope seconds since the fake started (monotonic)."""
        return (self._real() - self._real0) * self._factor

    def uptime_s(self) -> float:
        """Scope uptime in seconds (what `Timestamp` carries)."""
        return self._boot_uptime_s + self.now_s()

    def timestamp(self) -> str:
        """`Timestamp` string: uptime with 9 decimals."""
        return f"{self.uptime_s():.9f}"

    def real_s(self, scope_s: float) -> float:
        """Real seconds that `scope_s` scope seconds take."""
        return max(0.0, scope_s) / self._factor

    def real_monotonic_at(self, scope_t_s: float) -> float:
        """The `time.monotonic()` value at scope time `scope_t_s` (to line up with client clocks)."""
        return self._real0 + scope_t_s / self._factor

    async def sleep(self, scope_s: float) -> None:
        """Wait `scope_s` scope seconds."""
        await asyncio.sleep(self.real_s(scope_s))

    async def sleep_until(self, scope_t_s: float) -> None:
        """Wait until scope time `scope_t_s` (returns at once if it has passed)."""
        await asyncio.sleep(self.real_s(scope_t_s - self.now_s()))

    def utc_at(self, scope_t_s: float) -> datetime:
        """The scope's UTC clock at scope time `scope_t_s` (advances at the time factor)."""
        return self._utc_at_zero + timedelta(seconds=scope_t_s)

    def utc(self) -> datetime:
        """The scope's UTC clock now."""
        return self.utc_at(self.now_s())

    def set_utc(self, utc_now: datetime) -> None:
        """Set the scope's UTC clock (pi_set_time) without touching uptime."""
        if utc_now.tzinfo is None:
            utc_now = utc_now.replace(tzinfo=timezone.utc)
        self._utc_at_zero = utc_now - timedelta(seconds=self.now_s())
