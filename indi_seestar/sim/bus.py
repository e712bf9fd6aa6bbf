"""Event bus of the fake Seestar: every event goes to every control connection, in order.

Layer: sim. Events are broadcast regardless of who caused them and also on connections that
have not logged in (seestar-protocol.md §2.5, §6). A bounded history lets tests check order.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from ..protocol.events import EventName
from ..protocol.rpc import Event, encode_event
from .clock import SimClock
from .trace import Trace

_log = logging.getLogger(__name__)

Sink = Callable[[bytes], None]


class EventBus:
    """Stamps events with the scope clock, encodes them once and hands them to every sink."""

    def __init__(self, clock: SimClock, history_len: int = 5000) -> None:
        self._clock = clock
        self._sinks: dict[int, Sink] = {}
        self.history: deque[Event] = deque(maxlen=history_len)
        #: Timing trace for the benchmarks (sim/trace.py); None = off.
        self.trace: Trace | None = None

    def subscribe(self, key: int, sink: Sink) -> None:
        """Deliver future events to `sink` (one per connection)."""
        self._sinks[key] = sink

    def unsubscribe(self, key: int) -> None:
        """Stop delivering to that connection."""
        self._sinks.pop(key, None)

    def emit(self, name: EventName, **fields: Any) -> Event:
        """Send one event now; field order is kept (state first, like the firmware)."""
        event = Event(str(name), self._clock.timestamp(), fields)
        self.history.append(event)
        line = encode_event(event)
        _log.debug("event %s", line[:200])
        for sink in list(self._sinks.values()):
            sink(line)
        if self.trace is not None:
            self.trace.record("event", name=event.name, state=fields.get("state"))
        return event

    def line(self, name: EventName, **fields: Any) -> bytes:
        """One event encoded for a single connection (not broadcast; kept in the history)."""
        event = Event(str(name), self._clock.timestamp(), fields)
        self.history.append(event)
        return encode_event(event)

    def names(self) -> list[str]:
        """Names of the events in the history (for tests)."""
        return [e.name for e in self.history]
