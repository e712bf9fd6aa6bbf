"""Guide pulses through the scope's Alpaca Telescope.PulseGuide (issue 14).

Layer: devices. When the session's Alpaca path offers PulseGuide, TELESCOPE_TIMED_GUIDE_NS/WE
go through it: exact to the millisecond where the private path emulates pulses with speed
moves (§7.8). The Alpaca guide rates follow GUIDE_RATE (x sidereal -> deg/s), set before a
pulse when they changed. The vector is Busy until IsPulseGuiding is false again (libindi's
indi_alpaca polls it the same way), then zeroed and Idle. A server that stopped answering
hands the pulse to the private path (`fallback`) with the session's message; a refused pulse
(1279: parked, not tracking) ends Alert with the firmware's words.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ..errors import AlpacaUnavailable, IndiSeestarError
from ..protocol.alpaca import GuideDirection
from ..seestar.alpaca import AlpacaLink

log = logging.getLogger(__name__)

SIDEREAL_ARCSEC_S = 15.041
#: Longest pulse the firmware takes in one call (ms); longer ones are refused with 1025 [U].
MAX_PULSE_MS = 10_000


class AlpacaGuider:
    """Runs one Alpaca pulse per axis ("NS", "WE"); a new pulse on an axis replaces the last."""

    def __init__(self, spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
                 lost: Callable[[AlpacaUnavailable], None]) -> None:
        self._spawn = spawn
        self._lost = lost
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._rates: tuple[float, float] | None = None

    def pulse(self, link: AlpacaLink, axis: str, direction: GuideDirection, length_ms: float,
              rates_x_sidereal: tuple[float, float], time_factor: float,
              done: Callable[[str | None], None], fallback: Callable[[], None]) -> None:
        """Start the pulse; `done(None)` when it ended, `done(reason)` when refused, or
        `fallback()` when the server is gone."""
        self.cancel(axis)
        self._tasks[axis] = self._spawn(self._run(link, axis, direction, length_ms,
                                                  rates_x_sidereal, time_factor, done, fallback))

    def cancel(self, axis: str) -> bool:
        """Forget the pulse on `axis` (the scope finishes it); True if one ran."""
        task = self._tasks.pop(axis, None)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def session_ended(self) -> None:
        """Forget everything (the next session's server may differ)."""
        for axis in list(self._tasks):
            self.cancel(axis)
        self._rates = None

    async def _run(self, link: AlpacaLink, axis: str, direction: GuideDirection, length_ms: float,
                   rates: tuple[float, float], time_factor: float,
                   done: Callable[[str | None], None], fallback: Callable[[], None]) -> None:
        try:
            if self._rates != rates:
                await link.set_guide_rates(rates[0] * SIDEREAL_ARCSEC_S / 3600.0,
                                           rates[1] * SIDEREAL_ARCSEC_S / 3600.0)
                self._rates = rates
            await link.pulse_guide(direction, min(MAX_PULSE_MS, round(length_ms)), time_factor)
        except AlpacaUnavailable as exc:
            self._lost(exc)
            self._rates = None
            fallback()
        except IndiSeestarError as exc:
            done(str(exc))
        else:
            done(None)
        finally:
            if self._tasks.get(axis) is asyncio.current_task():
                del self._tasks[axis]
