"""The S30 Pro's wide-angle camera as a fifth INDI CCD, "<prefix> Wide Camera".

Layer: devices. The device exists (defProperty, getProperties answered) only while a Seestar
session is open with a scope that reports a wide camera usable in star mode
(`get_device_state.second_camera` with `device.can_star_mode_sel_cam` true: the S30P); when
the session closes or the scope has none, the whole device is deleted (delProperty) and it
sends nothing. Until a session is open nobody can know, so it appears once any device of the
driver has connected.
Properties: CCD_EXPOSURE, CCD_ABORT_EXPOSURE, CCD1, CCD_INFO, CCD_FRAME / CCD_BINNING /
CCD_FRAME_RESET (done in software, camera_frame), CCD_CFA, as libindi's INDI::CCD defines them.
The wide camera's exposure is the scope's (`second_camera.exp_ms.continuous`, 1 s by default):
a CCD_EXPOSURE takes the first wide frame that began after the request and the FITS states the
exposure it really had (CCD_EXPOSURE shows it while Busy). No focal length is reported for it,
so FOCALLEN and SCALE are left out.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import IndiSeestarError, OperationFailed
from ..fits import FrameType, fits_parts
from ..indi import encode
from ..indi import standard as std
from ..indi.model import State
from ..seestar.client import SeestarClient
from . import camera_frame
from .base import SeestarDevice
from .camera_fits import Optics, Surroundings, frame_meta
from .camera_frame import Geometry
from .ccd_region import Region
from .session import SeestarSession

#: CCD_EXPOSURE's range (s); the value asked is not what the wide camera runs (see above).
EXPOSURE_MIN_S, EXPOSURE_MAX_S = 0.001, 60.0
MAX_BINNING = 4
BITS_PER_PIXEL = 16
#: Beyond two of the scope's wide exposures: the star view start and `wide_cam`, each
#: answered within ~1 s by a healthy scope, and the first frame after them.
FRAME_SETUP_MARGIN_S = 10.0
NO_WIDE_CAMERA = "this Seestar has no wide camera that works in star mode (S30 Pro only)"


class WideCamera(SeestarDevice):
    """The wide camera device; see the module docstring."""

    interface = 2

    def __init__(self, name: str, session: SeestarSession, **kwargs: Any) -> None:
        super().__init__(name, session, **kwargs)
        self._shown = False
        self._task: asyncio.Task[None] | None = None
        session.on_open_change(self._on_session_open)

    def init_properties(self) -> None:
        """The CCD vectors (connected-only), sized for the S30's recorded wide sensor at first."""
        super().init_properties()
        n = self.name
        self.exposure = self.add(std.ccd_exposure(n, min_s=EXPOSURE_MIN_S, max_s=EXPOSURE_MAX_S),
                                 connected_only=True, on_new=self._on_exposure)
        self.abort = self.add(std.ccd_abort_exposure(n), connected_only=True,
                              on_new=self._on_abort)
        frame, binning = std.ccd_frame(n, 1920, 1080), std.ccd_binning(n, MAX_BINNING)
        reset, info = std.ccd_frame_reset(n), std.ccd_info(n, 1920, 1080, 2.7, BITS_PER_PIXEL)
        self.region = Region(frame=frame, binning=binning, reset=reset, info=info,
                             publish=self.publish)
        self.frame = self.add(frame, connected_only=True, on_new=self.region.on_frame)
        self.frame_reset = self.add(reset, connected_only=True, on_new=self.region.on_reset)
        self.binning = self.add(binning, connected_only=True, on_new=self.region.on_binning)
        self.info = self.add(info, connected_only=True)
        self.cfa = self.add(std.ccd_cfa(n, "RGGB"), connected_only=True)
        self.ccd1 = self.add(std.ccd1(n), connected_only=True)

    # --- presence ----------------------------------------------------------------------------

    @property
    def shown(self) -> bool:
        """The device is defined to clients."""
        return self._shown

    def handle_get_properties(self, name: str | None = None) -> None:
        """Answered only while the scope has a wide camera."""
        if self._shown:
            super().handle_get_properties(name)

    def handle_new(self, msg: Any) -> None:
        """Ignored while the device does not exist."""
        if self._shown:
            super().handle_new(msg)

    def _send(self, data: bytes) -> None:
        if self._shown:
            super()._send(data)

    def _on_session_open(self, client: SeestarClient | None) -> None:
        wide = client.state.wide_camera if client is not None else None
        present = wide is not None and wide.star_mode
        if present and not self._shown:
            self._shown = True
            super().handle_get_properties(None)
        elif not present and self._shown:
            self._send(_del_device(self))
            self._shown = False

    # --- session -----------------------------------------------------------------------------

    async def on_session(self, client: SeestarClient) -> None:
        """Take the wide sensor the scope reports; refuse a scope without one."""
        wide = client.state.wide_camera
        if wide is None or not wide.star_mode:
            raise OperationFailed("connect", NO_WIDE_CAMERA)
        self.region.resize(wide.width_px, wide.height_px, wide.pixel_size_um)
        self.cfa["CFA_TYPE"] = wide.cfa
        self.exposure.state = State.IDLE
        self.exposure["CCD_EXPOSURE_VALUE"] = 0

    async def on_session_end(self, client: SeestarClient) -> None:
        """Stop a running exposure."""
        self._cancel()

    # --- handlers ----------------------------------------------------------------------------

    def _on_exposure(self, values: dict[str, float]) -> None:
        wide = self.client.state.wide_camera
        exposure_s = (wide.exposure_ms if wide is not None else 1000) / 1000.0
        if abs(values["CCD_EXPOSURE_VALUE"] - exposure_s) > 0.0005:
            self.message(f"the wide camera exposes {exposure_s:g} s (set by the Seestar); "
                         f"{values['CCD_EXPOSURE_VALUE']:g} s cannot be set")
        self._cancel()
        self.exposure["CCD_EXPOSURE_VALUE"] = exposure_s
        self.publish(self.exposure, state=State.BUSY)
        self._task = self.spawn(self._run(exposure_s, self.region.geometry(), time.monotonic()))

    def _on_abort(self, values: dict[str, bool]) -> None:
        self.abort.reset()
        if self._cancel():
            self.message("Exposure aborted.")
        self.exposure["CCD_EXPOSURE_VALUE"] = 0
        self.publish(self.exposure, state=State.IDLE)
        self.publish(self.abort, state=State.OK)

    # --- the exposure ------------------------------------------------------------------------

    async def _run(self, exposure_s: float, geometry: Geometry, asked_s: float) -> None:
        client = self.client
        cfg = client.config
        timeout_s = 2 * exposure_s / cfg.time_factor + cfg.readout_margin_s + FRAME_SETUP_MARGIN_S
        try:
            frame = await client.next_wide_frame(started_after_s=asked_s, timeout_s=timeout_s)
            with frame:
                start_mono = frame.first_byte_monotonic_s - exposure_s / cfg.time_factor
                start_utc = datetime.now(UTC) - timedelta(seconds=time.monotonic() - start_mono)
                meta = frame_meta(device_name=self.name, exposure_s=exposure_s,
                                  start_utc=start_utc, frame_type=FrameType.LIGHT,
                                  geometry=geometry, gain=None, optics=self._optics(),
                                  around=Surroundings(), records=())
                parts = fits_parts(camera_frame.extract(frame.pixels, geometry), meta)
            await self.publish_blob(self.ccd1, "CCD1", parts)
        except IndiSeestarError as exc:
            self.log.warning("wide exposure failed: %s", exc)
            self.publish(self.exposure, state=State.ALERT,
                         message=f"[ERROR] wide camera exposure failed: {exc}")
        else:
            self.exposure["CCD_EXPOSURE_VALUE"] = 0
            self.publish(self.exposure, state=State.OK)

    def _cancel(self) -> bool:
        task, self._task = self._task, None
        if task is None or task.done():
            return False
        task.cancel()
        return True

    # --- internals ---------------------------------------------------------------------------

    def _optics(self) -> Optics:
        pixel = float(self.info["CCD_PIXEL_SIZE"])
        return Optics(pixel_size_x_um=pixel, pixel_size_y_um=pixel,
                      cfa_type=str(self.cfa["CFA_TYPE"]).strip(), cfa_offset_x=0, cfa_offset_y=0,
                      focal_length_mm=0.0, aperture_mm=0.0)


def _del_device(device: WideCamera) -> bytes:
    """delProperty of the whole device."""
    return encode.del_property(device.name, None, timestamp=device._timestamp())
