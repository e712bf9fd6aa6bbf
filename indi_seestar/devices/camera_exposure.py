"""The camera's exposure pipeline: CCD_EXPOSURE request -> frame -> FITS -> CCD1 BLOB / file.

Layer: devices. One exposure at a time; a new request replaces (cancels) the running one, as
libindi does. The Seestar has no single-shot call, so an exposure is the first frame of the
continuous preview (§8.3 A) whose exposure began after the request and after the wheel and
gain were in place (`SeestarClient.next_raw_frame`): a frame from before the request is never
delivered, and its length is the one requested. Exposures of RESTART_PREVIEW_MIN_S or more
restart the preview at the request, so they take E plus ~0.4 s rather than up to 2E.
Order of a success, as libindi sends it: CCD_FILE_PATH (saved frames), the CCD1 BLOB (sent
frames), then CCD_EXPOSURE Ok with 0.
Dark and bias frames are taken with the wheel on its dark slot (camera_dark_slot.py).
The pipeline knows its camera only through `ExposurePorts` (values and narrow callbacks: what
it reads and reports), so this module neither imports camera.py nor holds the camera.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import AlpacaUnavailable, IndiSeestarError
from ..fits import FitsRecord, FrameType, fits_parts
from ..seestar.alpaca import AlpacaLink
from ..seestar.client import SeestarClient
from ..seestar.pool import RawFrame
from . import camera_alpaca, camera_frame
from .camera_fits import Optics, Surroundings, frame_meta
from .camera_frame import Geometry
from .camera_upload import UploadPlan, save_frame
from .camera_dark_slot import DarkSlot
from .outcomes import LINK_LOST, link_named

log = logging.getLogger(__name__)

#: CCD_EXPOSURE range (s). The firmware takes `exp_ms.continuous` in whole milliseconds
#: (seestar-protocol.md §8.2, §8.3 A), so 1 ms is the shortest exposure. Its maximum is
#: undocumented [U]: 60 s is the longest sub the firmware takes itself (stack_l, §8.2) and
#: longer frames are of little use on an alt-az mount (field rotation). The fake refuses the
#: same range (sim/handlers_state.py CONTINUOUS_EXPOSURE_MS_RANGE).
EXPOSURE_MIN_S = 0.001
EXPOSURE_MAX_S = 60.0
#: CCD_EXPOSURE counts down about once a second while Busy (libindi's timer rate).
COUNTDOWN_PERIOD_S = 1.0
#: From this length on (s), an exposure restarts the preview at the request rather than wait
#: for the preview exposure under way (which began before the request and is discarded): the
#: wait drops from up to 2E to E plus the restart. A restart costs ~0.4 s on a real scope
#: (s50_fw670_a: ContinuousExposure working 0.36 s after iscope_start_view) while waiting
#: costs E/2 on average, so restarting pays from about 1 s; shorter exposures (PHD2's loops,
#: focusing) keep the stream going, which also spares the scope a stop/start every frame.
RESTART_PREVIEW_MIN_S = 1.0
#: Putting the wheel back at disconnect (one wheel move, ~0.4-0.8 s, §9).
RESTORE_AT_CLOSE_S = 15.0

_DARK_FRAMES = (FrameType.DARK, FrameType.BIAS)


@dataclass(frozen=True, slots=True)
class Shot:
    """One CCD_EXPOSURE request with the settings in force when it came."""

    exposure_s: float  # whole ms, as the firmware runs it
    frame_type: FrameType
    geometry: Geometry
    gain: int
    upload: UploadPlan
    requested_monotonic_s: float


@dataclass(frozen=True, slots=True)
class ExposurePorts:
    """What the pipeline may use of its camera: the session, the reports, the header values."""

    device_name: str  # INSTRUME
    client: Callable[[], SeestarClient]  # the open Seestar session
    is_connected: Callable[[], bool]
    spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]  # a device task
    call_later: Callable[..., asyncio.TimerHandle]  # a device timer: (delay_s, fn, *args)
    message: Callable[..., None]  # a message to the clients: (text[, level])
    show_exposure_left: Callable[[float], None]  # CCD_EXPOSURE Busy with the seconds left
    exposure_done: Callable[[], None]  # CCD_EXPOSURE Ok: the image is out
    exposure_failed: Callable[[str], None]  # CCD_EXPOSURE Alert with the reason
    show_file_path: Callable[[str], None]  # the frame was saved at this path
    send_image: Callable[[Sequence[bytes | memoryview]], Awaitable[None]]  # the FITS parts (CCD1)
    optics: Callable[[], Optics]  # pixel size, CFA and optics as the header states them
    fits_records: Callable[[], tuple[FitsRecord, ...]]  # the client's FITS_HEADER records
    surroundings: Callable[[FrameType, datetime], Awaitable[Surroundings]]  # pointing, site...
    alpaca_camera: Callable[[], AlpacaLink | None]  # the Alpaca Camera when it takes exposures
    alpaca_lost: Callable[[AlpacaUnavailable], None]  # it stopped answering: go private


def firmware_exposure_s(requested_s: float) -> float:
    """The exposure the firmware will run: whole milliseconds, at least 1 ms."""
    return max(1, round(requested_s * 1000)) / 1000.0


def frame_timeout_s(exposure_s: float, running_exposure_s: float, client: SeestarClient) -> float:
    """Bound on the wait for a frame of `exposure_s` while the preview runs `running_exposure_s`:
    the exposures (the one asked, the frame already under way at the request, which is
    discarded, and an exposure of another length still running), the readout margin and the
    set-up commands (`seestar.frame_setup_margin_s`)."""
    cfg = client.config
    exposures_s = 2 * exposure_s + (running_exposure_s if running_exposure_s != exposure_s else 0)
    return exposures_s / cfg.time_factor + cfg.readout_margin_s + cfg.frame_setup_margin_s


class Exposures:
    """Runs CCD_EXPOSURE requests for the camera, one at a time."""

    def __init__(self, camera: ExposurePorts) -> None:
        self._camera = camera
        self._task: asyncio.Task[None] | None = None
        self._shot: Shot | None = None
        self._gain_applied: int | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._stream_idle_s: float | None = None  # seestar.stream_idle_s, from the first start
        self.dark_slot = DarkSlot(
            call_later=camera.call_later, message=camera.message,
            connected_client=lambda: camera.client() if camera.is_connected() else None)

    @property
    def running(self) -> bool:
        """An exposure is under way."""
        return self._task is not None and not self._task.done()

    def session_started(self) -> None:
        """A new Seestar session: its gain is unknown until we set it."""
        self._gain_applied = None

    def start(self, shot: Shot) -> None:
        """Run `shot`, replacing a running exposure."""
        self.abort()
        self._cancel_idle_timer()
        self._stream_idle_s = self._camera.client().config.stream_idle_s
        self._shot = shot
        self._task = self._camera.spawn(self._run(shot))

    def link_lost(self) -> None:
        """The control link dropped: end the exposure under way now with Alert, whatever step
        it is in (a step not yet sent would otherwise wait for the reconnect and go on)."""
        shot = self._shot
        if shot is not None and self.abort():
            self._camera.exposure_failed(f"exposure of {shot.exposure_s:g} s failed: {LINK_LOST}")

    def abort(self) -> bool:
        """Cancel the running exposure (nothing is sent for it); True if one ran."""
        task, self._task = self._task, None
        if task is None or task.done():
            return False
        task.cancel()
        self._start_idle_timer()
        return True

    async def close(self, client: SeestarClient) -> None:
        """Session end: stop, and put the wheel back if a dark moved it."""
        self.abort()
        self._cancel_idle_timer()
        try:
            async with asyncio.timeout(RESTORE_AT_CLOSE_S):
                await self.dark_slot.restore(client)
        except (IndiSeestarError, TimeoutError) as exc:
            log.warning("filter wheel not restored at disconnect: %s", exc)

    def _start_idle_timer(self) -> None:
        self._cancel_idle_timer()
        if self._stream_idle_s is not None:  # None: no exposure yet, nothing to stop
            self._idle_timer = self._camera.call_later(self._stream_idle_s, self._stop_streaming)

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    async def _stop_streaming(self) -> None:
        self._idle_timer = None
        if self.running or not self._camera.is_connected():
            return
        try:
            await self._camera.client().stop_streaming()
        except IndiSeestarError as exc:  # harmless: frames keep coming and are dropped
            log.debug("stop_streaming failed: %s", exc)

    # --- the pipeline ----------------------------------------------------------------------

    async def _run(self, shot: Shot) -> None:
        camera = self._camera
        try:
            parts = await self._take(shot)
            if shot.upload.mode.saves:
                path = await asyncio.to_thread(save_frame, shot.upload, parts)
                camera.show_file_path(str(path))
            if shot.upload.mode.sends:
                await camera.send_image(parts)
            log.debug("exposure of %g s delivered %.3f s after the request", shot.exposure_s,
                      time.monotonic() - shot.requested_monotonic_s)
        except IndiSeestarError as exc:
            camera.exposure_failed(f"exposure of {shot.exposure_s:g} s failed: {link_named(exc)}")
        except OSError as exc:
            camera.exposure_failed(f"cannot save the image in {shot.upload.directory!r}: {exc}")
        else:
            camera.exposure_done()
        finally:
            if shot.frame_type in _DARK_FRAMES:
                self.dark_slot.restore_later()
            if self._task is asyncio.current_task():
                self._start_idle_timer()

    async def _take(self, shot: Shot) -> list[bytes | memoryview]:
        """Prepare the scope, wait for the frame, and turn it into FITS parts (frame released)."""
        camera, client = self._camera, self._camera.client()
        if shot.frame_type in _DARK_FRAMES:
            await self.dark_slot.close(client)
        else:
            await self.dark_slot.restore(client)
        link = camera.alpaca_camera()
        if link is not None:
            parts = await self._take_alpaca(link, shot)
            if parts is not None:
                return parts
        if self._gain_applied != shot.gain:
            await client.set_gain(shot.gain)
            self._gain_applied = shot.gain
        started_after_s = time.monotonic()  # after the wheel and gain are in place
        frame = await self._wait_frame(client, shot, started_after_s)
        with frame:
            start_mono = frame.first_byte_monotonic_s - shot.exposure_s / client.config.time_factor
            return await self._fits(shot, camera_frame.extract(frame.pixels, shot.geometry),
                                    start_mono)

    async def _fits(self, shot: Shot, image: Any, start_mono: float) -> list[bytes | memoryview]:
        """FITS parts of `image`, whose exposure began at our monotonic `start_mono`."""
        camera = self._camera
        start_utc = datetime.now(UTC) - timedelta(seconds=time.monotonic() - start_mono)
        around = await camera.surroundings(shot.frame_type, start_utc)
        meta = frame_meta(device_name=camera.device_name, exposure_s=shot.exposure_s,
                          start_utc=start_utc, frame_type=shot.frame_type,
                          geometry=shot.geometry, gain=shot.gain, optics=camera.optics(),
                          around=around, records=camera.fits_records())
        return fits_parts(image, meta)

    async def _take_alpaca(self, link: AlpacaLink, shot: Shot) -> list[bytes | memoryview] | None:
        """The shot through the Alpaca Camera; None (after a message): take it the private way."""
        client = self._camera.client()
        light = shot.frame_type not in _DARK_FRAMES
        started_s = time.monotonic()
        take = asyncio.ensure_future(camera_alpaca.take(link, shot.exposure_s, light, shot.geometry,
                                                        shot.gain, client.config.time_factor))
        try:
            image, start_mono = await self._counting_down(take, shot, started_s)
        except AlpacaUnavailable as exc:
            self._camera.alpaca_lost(exc)
        except IndiSeestarError as exc:
            self._camera.message(f"the Alpaca Camera failed ({exc}); taking this exposure "
                                 "through the private protocol", "WARNING")
        else:
            return await self._fits(shot, image, start_mono)
        return None

    async def _counting_down(self, wait: asyncio.Future[Any], shot: Shot, started_s: float, *,
                             release: Callable[[Any], None] | None = None) -> Any:
        """`wait`'s result, counting CCD_EXPOSURE down about once a second meanwhile; a result
        that arrives while we are being cancelled goes to `release`."""
        factor = self._camera.client().config.time_factor
        taken = False
        try:
            while True:
                done, _ = await asyncio.wait({wait}, timeout=COUNTDOWN_PERIOD_S)
                if done:
                    result = wait.result()
                    taken = True
                    return result
                elapsed_s = (time.monotonic() - started_s) * factor
                self._camera.show_exposure_left(max(0.0, shot.exposure_s - elapsed_s))
        finally:
            if not wait.done():
                wait.cancel()
            elif (release is not None and not taken and not wait.cancelled()
                  and wait.exception() is None):
                release(wait.result())

    async def _wait_frame(self, client: SeestarClient, shot: Shot,
                          started_after_s: float) -> RawFrame:
        """The frame, counting CCD_EXPOSURE down about once a second meanwhile (released if it
        arrives while we are being cancelled)."""
        running_ms = client.state.continuous_exposure_ms
        running_s = running_ms / 1000.0 if running_ms is not None else 0.0
        wait = asyncio.ensure_future(client.next_raw_frame(
            started_after_s=started_after_s, exposure_s=shot.exposure_s,
            timeout_s=frame_timeout_s(shot.exposure_s, running_s, client),
            restart_exposure=shot.exposure_s >= RESTART_PREVIEW_MIN_S))
        frame: RawFrame = await self._counting_down(wait, shot, started_after_s,
                                                    release=RawFrame.release)
        return frame
