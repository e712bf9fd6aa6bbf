"""The Seestar's filter wheel as an INDI filter wheel (DRIVER_INTERFACE 16).

Layer: devices. INDI slots 1..3 are the scope's wheel positions 0..2 (Dark, IR-cut, LP).
A change shows Busy, then Ok with the new slot (Ekos ignores non-Ok updates); a change made
by the scope itself (its LP toggle, the dark library) is reported from WheelMove events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..errors import IndiSeestarError
from ..indi import standard as std
from ..indi.model import State
from ..protocol.events import EventName, StageState
from ..protocol.rpc import Event
from ..seestar.client import SeestarClient
from .base import SeestarDevice

DEFAULT_NAMES = ("Dark", "IR", "LP")
#: The scope's wheel position of the dark (shutter) slot.
DARK_POSITION = 0
#: A wheel move takes ~0.4-0.8 s (§9); generous for a busy scope.
MOVE_TIMEOUT_S = 15.0


class FilterWheel(SeestarDevice):
    """FILTER_SLOT and FILTER_NAME."""

    interface = 16

    def init_properties(self) -> None:
        """Slot and names; renamed filters are kept by CONFIG_SAVE."""
        super().init_properties()
        self.slot = self.add(std.filter_slot(self.name, len(DEFAULT_NAMES), value=2),
                             connected_only=True, on_new=self._on_slot)
        self.names = self.add(std.filter_name(self.name, DEFAULT_NAMES),
                              connected_only=True, on_new=self._on_names, saved=True)
        self.load_saved(self.names)
        self._move: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def filter_name(self) -> str | None:
        """Name of the filter in place, for FITS FILTER (None when unknown)."""
        position = self._client.state.wheel_slot if self._client is not None else None
        return self.name_of(position)

    def name_of(self, position: int | None) -> str | None:
        """The user's name of scope position 0..2 (None when unknown), connected or not."""
        key = f"FILTER_SLOT_NAME_{position + 1}" if position is not None else ""
        return str(self.names[key]) if key in self.names else None

    async def on_session(self, client: SeestarClient) -> None:
        """Show the scope's slot and follow its WheelMove events."""
        position = client.state.wheel_slot
        if position is not None:
            self.slot["FILTER_SLOT_VALUE"] = position + 1
        self.slot.state = State.OK
        self._unsubscribe = client.subscribe(self._on_event)

    async def on_session_end(self, client: SeestarClient) -> None:
        """Stop following events."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def move_to(self, position: int) -> None:
        """Move to scope position 0..2 and wait for WheelMove complete (for the camera's darks)."""
        self.slot["FILTER_SLOT_VALUE"] = await move_wheel(self.client, position) + 1
        self.publish(self.slot, state=State.OK)

    def _on_slot(self, values: dict[str, float]) -> None:
        target = round(values["FILTER_SLOT_VALUE"])
        if self._move is not None and not self._move.done():
            self._move.cancel()
        self.publish(self.slot, state=State.BUSY)
        self._move = self.spawn(self._run_move(target))

    async def _run_move(self, target_slot: int) -> None:
        try:
            await self.move_to(target_slot - 1)
        except IndiSeestarError as exc:
            self.publish(self.slot, state=State.ALERT,
                         message=f"[ERROR] filter change to slot {target_slot} failed: {exc}")

    def _on_names(self, values: dict[str, str]) -> None:
        self.names.update({k: v.strip() or self.names[k] for k, v in values.items()})
        self.publish(self.names, state=State.OK)

    def _on_event(self, event: Event) -> None:
        """WheelMove complete not caused by us: report the new slot."""
        if event.name != EventName.WHEEL_MOVE or not self.is_connected:
            return
        if self._move is not None and not self._move.done():
            return
        position = event.get("position")
        if event.state == StageState.COMPLETE and isinstance(position, int) and 0 <= position < 3:
            self.slot["FILTER_SLOT_VALUE"] = position + 1
            self.publish(self.slot, state=State.OK)
        elif event.state == StageState.START:
            self.publish(self.slot, state=State.BUSY)


async def move_wheel(client: SeestarClient, position: int) -> int:
    """Move the wheel to scope position 0..2, wait for WheelMove complete; the position reached."""
    async with client.expect(EventName.WHEEL_MOVE, timeout_s=MOVE_TIMEOUT_S) as done:
        await client.set_wheel(position)
    event = await done.wait()
    reached = event.get("position", position)
    return reached if isinstance(reached, int) and not isinstance(reached, bool) else position
