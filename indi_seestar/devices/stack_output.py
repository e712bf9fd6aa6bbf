"""Where a stacked image's header values and destination come from (Seestar Stack device).

Layer: devices. Values in, values out: the camera peer (if connected) gives its optics,
surroundings and FITS_HEADER records; otherwise the scope's own optics are used.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from ..fits import FitsRecord, FrameType
from ..seestar.state import ScopeState
from .camera_fits import Optics, Surroundings

#: Sensor pixel size until the scope reports its own (S50/S30: 2.9 um).
DEFAULT_PIXEL_UM = 2.9


async def camera_context(camera: Any, state: ScopeState,
                         start_utc: datetime) -> tuple[Optics, Surroundings, tuple[FitsRecord, ...]]:
    """The camera's optics, surroundings and FITS_HEADER records (the scope's optics without it)."""
    if camera is not None and getattr(camera, "is_connected", False):
        around = await camera.surroundings(FrameType.LIGHT, start_utc)
        return camera.optics(), around, camera.fits_records()
    pixel = state.pixel_size_um or DEFAULT_PIXEL_UM
    optics = Optics(pixel_size_x_um=pixel, pixel_size_y_um=pixel, cfa_type="", cfa_offset_x=0, cfa_offset_y=0,
                    focal_length_mm=state.focal_length_mm, aperture_mm=state.aperture_mm)
    return optics, Surroundings(), ()


class Deliveries:
    """One image at a time: "final" wins and goes at once; "each" no closer than the interval."""

    def __init__(self, run: Callable[[str], Awaitable[None]], interval_s: Callable[[], float]) -> None:
        self._run, self._interval_s = run, interval_s
        self._due: str | None = None  # "each", "final" or "demand"
        self._wake = asyncio.Event()
        self.last_at = 0.0  # monotonic time of the last delivery

    def want(self, kind: str) -> None:
        """Ask for an image of `kind`."""
        if self._due != "final":
            self._due = kind
        self._wake.set()

    async def loop(self) -> None:
        """Run the deliveries (a device task)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            kind = self._due
            if kind is None:
                continue
            if kind == "each":
                wait_s = self.last_at + self._interval_s() - time.monotonic()
                if wait_s > 0:
                    try:
                        await asyncio.wait_for(self._wake.wait(), wait_s)  # a final image may come first
                        continue
                    except TimeoutError:
                        pass
            self._due = None
            await self._run(kind)
            self.last_at = time.monotonic()
