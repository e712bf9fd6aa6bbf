"""Focuser and filter-wheel models of the fake Seestar: positions that take time to change.

Layer: sim (pure models, no asyncio). Time is scope seconds from `SimClock`.
"""

from __future__ import annotations

from collections.abc import Callable

from .profile import FOCUSER_MAX_STEPS

#: Focuser speed in steps per scope second (seestar-protocol.md: moves of a few hundred steps
#: take about a second) and wheel travel time per move (WheelMove start -> complete ~0.4-0.8 s).
FOCUSER_STEPS_PER_S = 300.0
WHEEL_MOVE_S = 0.6


class Focuser:
    """Absolute focuser, 0..max_steps; `position_steps()` interpolates a running move."""

    def __init__(self, now_s: Callable[[], float], position_steps: int,
                 max_steps: int = FOCUSER_MAX_STEPS) -> None:
        self._now = now_s
        self.max_steps = max_steps
        self._start = float(position_steps)
        self._target = float(position_steps)
        self._t0 = now_s()

    def position_steps(self, t_s: float | None = None) -> int:
        """Where the focuser is at `t_s` (default now)."""
        return round(self._position(self._now() if t_s is None else t_s))

    def _position(self, t_s: float) -> float:
        travel = abs(self._target - self._start)
        if travel == 0:
            return self._target
        done = min(travel, max(0.0, (t_s - self._t0) * FOCUSER_STEPS_PER_S))
        return self._start + done * (1 if self._target > self._start else -1)

    @property
    def target_steps(self) -> int:
        """Where the current move ends."""
        return round(self._target)

    def is_moving(self) -> bool:
        """True while a move is under way."""
        return self._position(self._now()) != self._target

    def move_to(self, target_steps: int) -> float:
        """Start a move; returns its duration in scope seconds."""
        now = self._now()
        self._start = self._position(now)
        self._target = float(target_steps)
        self._t0 = now
        return abs(self._target - self._start) / FOCUSER_STEPS_PER_S

    def stop(self) -> int:
        """Stop where it is now; returns that position."""
        now = self._now()
        here = float(round(self._position(now)))
        self._start = self._target = here
        self._t0 = now
        return round(here)


class Wheel:
    """Three-slot wheel: 0 Dark, 1 IR-cut, 2 LP. The slot changes when the move completes."""

    def __init__(self, position: int = 1) -> None:
        self.position = position
        self.target: int | None = None

    def is_moving(self) -> bool:
        """True between WheelMove start and complete."""
        return self.target is not None
