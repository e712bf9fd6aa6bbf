"""The Seestar's filter wheel as an INDI filter wheel (DRIVER_INTERFACE 16).

Layer: devices. INDI slots 1..3 are the scope's wheel positions 0..2 (Dark, IR-cut, LP).
A change shows Busy, then Ok with the new slot (Ekos ignores non-Ok updates); a change made
by the scope itself (its LP toggle, the dark library) is reported from WheelMove events.
"""

from __future__ import annotations

import asyncio

from ..errors import IndiSeestarError, ValueRejected
from ..indi import standard as std
from ..indi.model import State
from ..protocol.events import EventName, StageState
from ..protocol.rpc import Event
from ..seestar.client import SeestarClient
from .base import SeestarDevice

DEFAULT_NAMES = ("Dark", "IR", "LP")
#: libindi's label length; longer filter names are refused.
MAX_NAME_CHARS = 64
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
        """Show the scope's slot (Idle when unknown) and follow its WheelMove events."""
        position = client.state.wheel_slot
        if position is not None:
            self.slot["FILTER_SLOT_VALUE"] = position + 1
        self.slot.state = State.IDLE if position is None else State.OK
        self.keep_until_session_end(client.subscribe(self._on_event))

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
                         message=self.outcome_message(f"filter change to slot {target_slot}", exc))

    async def on_link_back(self, client: SeestarClient) -> None:
        """Show the slot the scope reports (read at the reconnect; a wheel change takes under a
        second and cannot be stopped: one of unknown outcome is reported, docs/outcomes.md)."""
        unknown = "; ".join(self.pending.resolve())
        if self._move is not None and not self._move.done():
            return  # a change asked since the link is back: it shows its own state
        position = client.state.wheel_slot
        if position is None:
            return
        self.slot["FILTER_SLOT_VALUE"] = position + 1
        self.publish(self.slot, state=State.OK)
        if unknown:
            self.message(f"the link is back; {unknown}: the wheel is at slot {position + 1}",
                         "INFO")

    def _on_names(self, values: dict[str, str]) -> None:
        names = {k: " ".join(v.split()) or str(self.names[k]) for k, v in values.items()}
        too_long = [k for k, v in names.items() if len(v) > MAX_NAME_CHARS]
        if too_long:
            raise ValueRejected("FILTER_NAME", f"{too_long[0]}: a filter name has at most "
                                               f"{MAX_NAME_CHARS} characters; names unchanged")
        self.names.update(names)
        self.publish(self.names, state=State.OK)

    def _on_event(self, event: Event) -> None:
        """WheelMove not caused by us (the scope's LP toggle, darks): report it, Ok at the end."""
        if event.name != EventName.WHEEL_MOVE or not self.is_connected:
            return
        if self._move is not None and not self._move.done():
            return
        position = _slot(event)
        if event.state == StageState.COMPLETE and position is not None:
            self.slot["FILTER_SLOT_VALUE"] = position + 1
            self.publish(self.slot, state=State.OK)
        elif event.state in (StageState.START, StageState.WORKING):
            self.publish(self.slot, state=State.BUSY)
        elif event.state in (StageState.FAIL, StageState.CANCEL):
            self.publish(self.slot, state=State.ALERT,
                         message=f"[WARNING] the scope's filter change ended: {event.state}")


def _slot(event: Event) -> int | None:
    """The wheel position 0..2 a WheelMove event carries, if any."""
    position = event.get("position")
    if isinstance(position, int) and not isinstance(position, bool) and 0 <= position < 3:
        return position
    return None


async def move_wheel(client: SeestarClient, position: int) -> int:
    """Move the wheel to scope position 0..2, wait for its WheelMove complete; the position reached."""

    def arrived(event: Event) -> bool:  # a complete of a replaced move is not ours
        reached = _slot(event)
        return event.state != StageState.COMPLETE or reached is None or reached == position

    async with client.expect(EventName.WHEEL_MOVE, timeout_s=MOVE_TIMEOUT_S,
                             predicate=arrived) as done:
        await client.set_wheel(position)
    reached = _slot(await done.wait())
    return position if reached is None else reached
