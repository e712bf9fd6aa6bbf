"""Snapshot: holds the current ScopeState and tells listeners about every change.

Layer: seestar (asyncio engine), loop side. Must not import indi/, devices/ or sim/.
Also home of the small listener-list helper the facade shares.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ..protocol.results import DeviceState, EquCoord
from ..protocol.rpc import Event
from . import state as scope_state
from .state import ScopeState

log = logging.getLogger(__name__)

StateCallback = Callable[[ScopeState], None]
T = TypeVar("T")


class Snapshot:
    """The current ScopeState; `listen()` callbacks run on every real change."""

    def __init__(self) -> None:
        self.current = ScopeState()
        self._listeners: list[StateCallback] = []

    def listen(self, callback: StateCallback) -> Callable[[], None]:
        """`callback(state)` after every change, until the returned function is called."""
        return add_listener(self._listeners, callback)

    def update(self, **changes: Any) -> None:
        """Change some fields."""
        self._publish(scope_state.evolve(self.current, **changes))

    def merge_poll(self, device: DeviceState, **changes: Any) -> None:
        """Fold in a `get_device_state` poll (plus extra fields)."""
        self._publish(scope_state.evolve(scope_state.from_device_state(self.current, device),
                                         **changes))

    def merge_coord(self, coord: EquCoord) -> None:
        """Fold in a polled pointing."""
        self._publish(scope_state.with_coord(self.current, coord))

    def apply(self, event: Event) -> None:
        """Fold in one control event."""
        self._publish(scope_state.apply_event(self.current, event))

    def _publish(self, new: ScopeState) -> None:
        if new is self.current:
            return
        self.current = new
        notify(self._listeners, new, "state listener")


def add_listener(listeners: list[T], callback: T) -> Callable[[], None]:
    """Append `callback`; the returned function removes it (idempotent)."""
    listeners.append(callback)

    def remove() -> None:
        if callback in listeners:
            listeners.remove(callback)

    return remove


def notify(listeners: list[Callable[[Any], None]], value: Any, what: str) -> None:
    """Call every listener with `value`; a listener that raises is logged, the others still run."""
    for callback in tuple(listeners):
        try:
            callback(value)
        except Exception:
            log.exception("%s %r failed", what, callback)
