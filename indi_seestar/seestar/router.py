"""FrameRouter: hands raw frames to `next_raw_frame` requests by estimated exposure start.

Layer: seestar (asyncio engine), loop side only. Must not import indi/, devices/ or sim/.
Real firmware sends no per-frame event during ContinuousExposure, so a frame's exposure
start is estimated from when its first byte arrived:

    estimated_start = first_byte_monotonic_s - exposure_s / time_factor - readout_margin_s

This is a lower bound of the true start as long as the delay from the end of the exposure
to our reading of the first byte is at most `readout_margin_s`. A request accepts the first
frame with estimated_start >= started_after_s. When the stream restarts (exposure changed,
preview started) a new generation begins and frames whose first byte came before
`eligible_after_s` are discarded as stale.

When the preview is stopped to be started again for a request (`preview_stopped`), every
exposure under way ended at the stop, so under the same premise its frame (whole or cut
short) has arrived by stop + readout_margin_s: that becomes `eligible_after_s`, and every
later frame began after the stop (no exposure runs until the preview is started again). A
request made before the stop therefore accepts the first frame past that barrier, whose
estimated start would be too pessimistic (it assumes the exposure ran until its first byte).
The router owns every frame it is fed: it either gives it to exactly one request or releases
it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field

from ..errors import OperationFailed
from .pool import RawFrame

log = logging.getLogger(__name__)


@dataclass(eq=False)
class FrameRequest:
    """One pending `next_raw_frame`."""

    started_after_s: float
    exposure_ms: int
    future: asyncio.Future[RawFrame] = field(repr=False)
    taken: bool = False


class FrameRouter:
    """Matches frames to requests; see the module docstring for the timing rule."""

    def __init__(self, *, time_factor: float, readout_margin_s: float) -> None:
        if time_factor <= 0 or readout_margin_s < 0:
            raise ValueError("time_factor must be > 0 and readout_margin_s >= 0")
        self.time_factor, self.readout_margin_s = time_factor, readout_margin_s
        #: The continuous exposure the stream runs with, as far as we know (None = unknown).
        self.exposure_ms: int | None = None
        #: Frames whose first byte arrived before this monotonic time are stale.
        self.eligible_after_s = 0.0
        #: When the last `preview_stopped` stop was acknowledged (monotonic; -inf: none yet).
        self.stopped_at_s = -math.inf
        self.generation = 0
        self.discarded = 0
        self._requests: list[FrameRequest] = []

    @property
    def pending(self) -> int:
        """Requests waiting for a frame."""
        return len(self._requests)

    def exposure_real_s(self, exposure_ms: int) -> float:
        """How long an exposure of `exposure_ms` (scope clock) lasts on our clock."""
        return exposure_ms / 1000.0 / self.time_factor

    def estimated_start_s(self, frame: RawFrame, exposure_ms: int) -> float:
        """Lower bound of the frame's exposure start (monotonic seconds)."""
        return (frame.first_byte_monotonic_s - self.exposure_real_s(exposure_ms)
                - self.readout_margin_s)

    def new_generation(self, *, exposure_ms: int, ack_monotonic_s: float, drain_s: float) -> None:
        """The stream restarted at `ack_monotonic_s`; frames before `+drain_s` are stale."""
        self.generation += 1
        self.exposure_ms = exposure_ms
        self.eligible_after_s = max(self.eligible_after_s, ack_monotonic_s + drain_s)
        for request in tuple(self._requests):
            if request.exposure_ms != exposure_ms and not request.future.done():
                request.future.set_exception(OperationFailed(
                    "next_raw_frame", f"exposure changed to {exposure_ms} ms by another request"))

    def preview_stopped(self, stopped_monotonic_s: float) -> None:
        """The preview stage was stopped, acknowledged by `stopped_monotonic_s` (see the module).

        Frames before stop + readout_margin_s are stale and later ones began after the stop.
        Earlier generations' drains no longer apply: their exposures ended at the stop.
        """
        self.generation += 1
        self.stopped_at_s = stopped_monotonic_s
        self.eligible_after_s = stopped_monotonic_s + self.readout_margin_s

    def _stop_covers(self, request: FrameRequest) -> bool:
        """Every eligible frame began after `request` (a preview stop came after it)."""
        return request.started_after_s <= self.stopped_at_s

    def wanted_after_s(self) -> float:
        """Earliest first-byte time of a frame any pending request could accept (inf if none).

        A frame whose first byte comes earlier satisfies no request registered now, nor any
        registered later (its estimated start precedes the registration), so the image thread
        may drop it unread.
        """
        times = [self.eligible_after_s if self._stop_covers(r)
                 else max(r.started_after_s + self.exposure_real_s(r.exposure_ms)
                          + self.readout_margin_s, self.eligible_after_s)
                 for r in self._requests if not r.future.done()]
        return min(times, default=math.inf)

    def add(self, started_after_s: float, exposure_ms: int) -> FrameRequest:
        """Register a request (before any command that could produce its frame is sent)."""
        request = FrameRequest(started_after_s, exposure_ms,
                               asyncio.get_running_loop().create_future())
        self._requests.append(request)
        return request

    def remove(self, request: FrameRequest) -> None:
        """Unregister; a frame assigned but never taken (the caller was cancelled) is released."""
        if request in self._requests:
            self._requests.remove(request)
        future = request.future
        if not future.done():
            future.cancel()
        elif not future.cancelled() and future.exception() is None and not request.taken:
            future.result().release()

    def feed(self, frame: RawFrame) -> None:
        """Give `frame` to the first request it satisfies, or release it."""
        if frame.first_byte_monotonic_s < self.eligible_after_s:
            self.discarded += 1
            frame.release()
            return
        for request in self._requests:
            if (not request.future.done() and request.exposure_ms == self.exposure_ms
                    and (self._stop_covers(request)
                         or self.estimated_start_s(frame, request.exposure_ms)
                         >= request.started_after_s)):
                request.future.set_result(frame)
                return
        frame.release()

    def fail_all(self, exc: BaseException) -> None:
        """Fail every pending request (client closing)."""
        for request in self._requests:
            if not request.future.done():
                request.future.set_exception(exc)
