"""The filter wheel on its dark slot for darks and biases, and back where it was afterwards.

Layer: devices. Split off the exposure pipeline (camera_exposure.py), which asks for the dark
slot before a dark or bias and for the restore after it; it gets a timer, a getter for the
open client and the camera's message call, never the pipeline or the camera. The slot in
place before is restored DARK_RESTORE_GRACE_S after the last of a series of darks (before any
light frame, and at disconnect), so that a dark series does not move the wheel for every frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..errors import IndiSeestarError
from ..protocol.events import EventName
from ..seestar.client import SeestarClient
from .filter_wheel import DARK_POSITION, MOVE_TIMEOUT_S, move_wheel

#: After a dark or bias, how long the wheel stays on the dark slot waiting for the next one
#: (Ekos starts the next frame of a series within a second of the BLOB).
DARK_RESTORE_GRACE_S = 2.0


class DarkSlot:
    """Moves the wheel to the dark slot for darks and biases and back to where it was."""

    def __init__(self, *, call_later: Callable[..., asyncio.TimerHandle],
                 connected_client: Callable[[], SeestarClient | None],
                 message: Callable[[str, str], None]) -> None:
        """`call_later(delay_s, fn)` a device timer; `connected_client()` None while disconnected."""
        self._call_later = call_later
        self._connected_client = connected_client
        self._message = message
        self._restore_to: int | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()

    async def close(self, client: SeestarClient) -> None:
        """Wheel on the dark slot, remembering the slot to restore (the first one we moved from)."""
        self._cancel_timer()
        async with self._lock:
            await _wheel_settled(client)
            slot = client.state.wheel_slot
            if slot == DARK_POSITION:
                return
            if self._restore_to is None:
                self._restore_to = slot
            await move_wheel(client, DARK_POSITION)

    def restore_later(self) -> None:
        """Restore after DARK_RESTORE_GRACE_S unless another dark comes first."""
        self._cancel_timer()
        if self._restore_to is not None:
            self._timer = self._call_later(DARK_RESTORE_GRACE_S, self._restore_in_background)

    async def restore(self, client: SeestarClient) -> None:
        """Put the wheel back now if we moved it (IndiSeestarError if it cannot be moved)."""
        self._cancel_timer()
        async with self._lock:
            target = self._restore_to
            if target is None:
                return
            await _wheel_settled(client)
            if client.state.wheel_slot != target:
                await move_wheel(client, target)
            self._restore_to = None

    async def _restore_in_background(self) -> None:
        self._timer = None
        client = self._connected_client()
        if client is None:
            return
        try:
            await self.restore(client)
        except IndiSeestarError as exc:
            self._message(f"could not put the filter wheel back after the darks: {exc}",
                          "WARNING")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


async def _wheel_settled(client: SeestarClient) -> None:
    """Return once a wheel move under way (ours, cancelled, or the user's) has ended."""
    if client.state.wheel_moving:
        await client.wait_event(EventName.WHEEL_MOVE, timeout_s=MOVE_TIMEOUT_S)


