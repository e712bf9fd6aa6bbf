"""The live stack as the driver follows it: counters and life cycle from Stack/Exposure events.

Layer: devices; pure (no I/O, no INDI): `StackTracker.apply(event)` folds one control event in
and says what changed, the device turns that into property updates and image deliveries.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..protocol.events import EventName
from ..protocol.rpc import Event
from ..protocol.stacking import failure_text, parse_stack_event

_RUNNING = frozenset({"start", "working", "frame_complete"})


class Change(enum.Enum):
    """What one event changed."""

    NONE = "none"
    COUNTS = "counts"  # counters or elapsed time moved
    STARTED = "started"
    NEW_SUB = "new_sub"  # one more sub is in the stack: a new image is due
    STOPPED = "stopped"  # ended by a stop (cancel/complete): the final image is due
    FAILED = "failed"  # ended by a firmware error (`failure` says which)


@dataclass
class StackTracker:
    """What we know of the scope's stack (None/0 until the scope says)."""

    running: bool = False
    stacked: int = 0
    rejected: int = 0
    sub_s: float = 10.0
    elapsed_s: float = 0.0
    target: str = ""
    first_sub_utc: datetime | None = None
    failure: str | None = None
    started_utc: datetime | None = None

    @property
    def integration_s(self) -> float:
        """Total integration: stacked subs x sub length."""
        return self.stacked * self.sub_s

    def started(self, now_utc: datetime, *, keep_counts: bool) -> None:
        """We asked for a stack (new, or continued with the counts kept)."""
        self.running, self.failure, self.started_utc = True, None, now_utc
        if not keep_counts:
            self.stacked = self.rejected = 0
            self.elapsed_s = 0.0
            self.first_sub_utc = None

    def adopt(self, *, running: bool, stacked: int | None, rejected: int | None, lapse_ms: int | None,
              target: str, now_utc: datetime) -> None:
        """The scope's own state (after a (re)connect)."""
        self.running = running
        if stacked is not None:
            self.stacked = stacked
        if rejected is not None:
            self.rejected = rejected
        if lapse_ms is not None:
            self.elapsed_s = lapse_ms / 1000.0
            if self.first_sub_utc is None and running:
                self.first_sub_utc = now_utc - timedelta(seconds=self.elapsed_s)
        if target:
            self.target = target

    def apply(self, event: Event, now_utc: datetime | None = None) -> Change:
        """Fold one control event in; what changed."""
        now = now_utc or datetime.now(UTC)
        if event.name == EventName.EXPOSURE and _stack_exposure(event):
            # S30 7.06 (recorded) sends only the stage flavour: exp_ms, route [View, Stack]
            exp_us, exp_ms = event.get("exp_us"), event.get("exp_ms")
            if isinstance(exp_us, (int, float)) and exp_us > 0:
                self.sub_s = exp_us / 1e6
            elif isinstance(exp_ms, (int, float)) and exp_ms > 0:
                self.sub_s = exp_ms / 1000.0
            if event.state in ("start", "working") and self.first_sub_utc is None:
                self.first_sub_utc = now
            return Change.NONE
        if event.name == EventName.VIEW and event.state in ("cancel", "complete", "fail") and self.running:
            self.running = False
            return Change.STOPPED
        if event.name != EventName.STACK:
            return Change.NONE
        p = parse_stack_event(event.fields)
        before = self.stacked
        if p.stacked is not None:
            self.stacked = p.stacked
        if p.dropped is not None:
            self.rejected = p.dropped
        if p.lapse_ms is not None and p.state != "frame_complete":
            self.elapsed_s = p.lapse_ms / 1000.0
        if p.state in _RUNNING:
            was_running, self.running = self.running, True
            if self.first_sub_utc is None:
                self.first_sub_utc = now
            if self.stacked > before:
                return Change.NEW_SUB
            return Change.COUNTS if was_running else Change.STARTED
        if p.state == "fail":
            self.running = False
            self.failure = failure_text(p.code, p.error)
            return Change.FAILED
        if p.state in ("cancel", "complete"):
            was_running, self.running = self.running, False
            return Change.STOPPED if was_running else Change.COUNTS
        return Change.NONE


def _stack_exposure(event: Event) -> bool:
    """An Exposure event of a stack sub (page flavour "stack", or the stage inside Stack)."""
    route = event.get("route")
    return event.get("page") == "stack" or (isinstance(route, list) and EventName.STACK in route)
