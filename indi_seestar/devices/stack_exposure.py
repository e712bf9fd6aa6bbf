"""CCD_EXPOSURE on the Seestar Stack device: stack for N seconds on the scope, answer with the stack.

Layer: devices. What Ekos Capture does with any camera: CCD_EXPOSURE N -> Busy counting down
-> the CCD1 BLOB -> Ok 0 (Alert on failure). Here the exposure starts a new stack, stops it
once N scope seconds have passed and at least one sub is in, and the final stacked image
(delivered by the device) is the answer. Narrow ports, not the device: the device passes
callables (start/stop the stack, show the exposure vector, its time factor).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ..errors import IndiSeestarError, ValueRejected
from ..indi.model import State

#: CCD_EXPOSURE counts down about once a second while Busy (libindi's timer rate).
COUNTDOWN_PERIOD_S = 1.0
#: After N s with no sub stacked yet, how many more sub lengths we wait for the first one.
EXTRA_SUBS_FOR_FIRST = 2
#: Real seconds, beyond the scope's own time, for the stop, the final image and its transfer.
FINAL_IMAGE_MARGIN_S = 90.0


@dataclass(frozen=True, slots=True)
class ExposurePorts:
    """What a stack exposure needs from its device."""

    start_stack: Callable[[], None]  # raises ValueRejected when a stack already runs
    stop_stack: Callable[[], Awaitable[None]]
    show: Callable[[State, float, str | None], None]  # CCD_EXPOSURE state, seconds left, message
    sub_s: Callable[[], float]
    time_factor: Callable[[], float]
    spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]


class StackExposure:
    """One stack exposure at a time."""

    def __init__(self, ports: ExposurePorts) -> None:
        self._ports = ports
        self._task: asyncio.Task[None] | None = None
        self._first_sub = asyncio.Event()
        self._outcome: asyncio.Future[str | None] | None = None

    @property
    def running(self) -> bool:
        """A stack exposure is under way."""
        return self._task is not None and not self._task.done()

    def start(self, exposure_s: float) -> None:
        """CCD_EXPOSURE: start a new stack now (ValueRejected if one runs that is not ours)."""
        if self.running:
            raise ValueRejected("CCD_EXPOSURE", "a stack exposure is already under way; abort it first")
        self._ports.start_stack()
        self._first_sub.clear()
        self._outcome = asyncio.get_running_loop().create_future()
        self._ports.show(State.BUSY, exposure_s, None)
        self._task = self._ports.spawn(self._run(exposure_s, self._outcome))

    def abort(self) -> bool:
        """Cancel our side (the caller stops the stack); True if one ran."""
        task, self._task = self._task, None
        if task is None or task.done():
            return False
        task.cancel()
        return True

    # --- what the device tells us ------------------------------------------------------------

    def sub_stacked(self) -> None:
        """One more sub is in the stack."""
        self._first_sub.set()

    def stack_ended(self, failure: str | None) -> None:
        """The scope's stack ended: with a failure text, the exposure fails."""
        if failure is not None:
            self._settle(failure)

    def image_delivered(self) -> None:
        """The final image is out."""
        self._settle(None)

    def image_failed(self, reason: str) -> None:
        """The final image could not be read or saved."""
        self._settle(reason)

    def _settle(self, result: str | None) -> None:
        if self.running and self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(result)

    # --- the exposure ------------------------------------------------------------------------

    async def _run(self, exposure_s: float, outcome: asyncio.Future[str | None]) -> None:
        ports = self._ports
        factor = max(ports.time_factor(), 1e-6)
        t0 = time.monotonic()
        stop_at = t0 + exposure_s / factor
        try:
            while (left := stop_at - time.monotonic()) > 0 and not outcome.done():
                await asyncio.wait({outcome}, timeout=min(COUNTDOWN_PERIOD_S, left))
                ports.show(State.BUSY, max(0.0, stop_at - time.monotonic()) * factor, None)
            if not outcome.done() and not self._first_sub.is_set():
                wait_s = EXTRA_SUBS_FOR_FIRST * ports.sub_s() / factor + FINAL_IMAGE_MARGIN_S / 3
                first = asyncio.ensure_future(self._first_sub.wait())
                await asyncio.wait({outcome, first}, timeout=wait_s)
                first.cancel()
                if not self._first_sub.is_set() and not outcome.done():
                    await ports.stop_stack()
                    ports.show(State.ALERT, 0.0, f"[ERROR] no sub was stacked in {exposure_s:g} s "
                               f"(sub length {ports.sub_s():g} s)")
                    return
            if not outcome.done():
                await ports.stop_stack()
            failure = await asyncio.wait_for(asyncio.shield(outcome), FINAL_IMAGE_MARGIN_S)
        except TimeoutError:
            failure = "the final stacked image did not come"
        except IndiSeestarError as exc:
            failure = str(exc)
        if failure is None:
            ports.show(State.OK, 0.0, None)
        else:
            ports.show(State.ALERT, 0.0, f"[ERROR] stack exposure of {exposure_s:g} s failed: {failure}")
