"""The Seestar main camera as an INDI CCD (DRIVER_INTERFACE 2) for Ekos and PHD2.

Layer: devices. Properties, as libindi's INDI::CCD defines them: CCD_EXPOSURE (Busy with a
countdown, Ok with 0 once the image is out, Alert on failure; a new one replaces a running
one), CCD_ABORT_EXPOSURE, CCD1 (one-HDU 2-D uint16 raw Bayer FITS), CCD_INFO, CCD_FRAME and
CCD_BINNING (done in software, ccd_region / camera_frame), CCD_FRAME_RESET, CCD_FRAME_TYPE (dark and bias
on the wheel's dark slot, bias at the shortest exposure as libindi does, flat as light),
CCD_GAIN (sent to the scope before the next exposure, never during one), CCD_CFA,
CCD_CAPTURE_FORMAT (RAW) and CCD_TRANSFER_FORMAT (FITS), SCOPE_INFO (the scope's optics at
every connect unless a client set it; a client's other value is kept with one warning),
UPLOAD_MODE/UPLOAD_SETTINGS/CCD_FILE_PATH (upload_props), FITS_HEADER (both libindi
generations, camera_header) and ACTIVE_DEVICES (camera_fits), CCD_CONTROLS (Gain, an alias of
CCD_GAIN as indi_asi_ccd names it) and CCD_COMPRESSION (`.fits.fz` BLOBs, fits/compress). The
pipeline is in camera_exposure.
No CCD_TEMPERATURE: the firmware reports only the board temperature (PiStatus `temp`), not
the sensor's (no recorded firmware up to 7.32 does); it must not pass for CCD-TEMP.
Frames are only ever sent as the answer to a CCD_EXPOSURE (PHD2 would take a stale one).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..errors import AlpacaUnavailable, ValueRejected
from ..fits import FitsRecord, FrameType
from ..fits.compress import FZ_FORMAT, compressor_installed, fz_from_parts
from ..indi import standard as std
from ..indi.model import State
from ..indi.wire import Snooped
from ..seestar.alpaca import AlpacaLink
from ..seestar.client import SeestarClient
from ..text import excerpt
from .alpaca_paths import add_paths_property, follow_paths
from .base import SeestarDevice
from .camera_darks import DarkLibrary
from .camera_exposure import (
    EXPOSURE_MAX_S,
    EXPOSURE_MIN_S,
    ExposurePorts,
    Exposures,
    Shot,
    firmware_exposure_s,
)
from .camera_fits import (
    Optics,
    SnoopedValues,
    Surroundings,
    mount_site,
    pointing_since,
    snooped_surroundings,
)
from .camera_header import HeaderRecords, OpticsCheck
from .ccd_region import Region
from .filter_wheel import DEFAULT_NAMES
from .upload_props import UploadProperties

#: Sensor until the scope reports its own (S50/S30: 1080 x 1920 portrait, 2.9 um, 16-bit words).
DEFAULT_WIDTH_PX, DEFAULT_HEIGHT_PX, DEFAULT_PIXEL_UM, BITS_PER_PIXEL = 1080, 1920, 2.9, 16
#: The scope's default gain (ALP, §8.2) and its range (`isp_range_gain`).
DEFAULT_GAIN, GAIN_MIN, GAIN_MAX = 80, 0, 400
#: libindi's software limit, enough for any guiding or focusing use.
MAX_BINNING = 4
FRAME_TYPE_OF = {"FRAME_LIGHT": FrameType.LIGHT, "FRAME_BIAS": FrameType.BIAS,
                 "FRAME_DARK": FrameType.DARK, "FRAME_FLAT": FrameType.FLAT}
ACTIVE_SLOTS = ("ACTIVE_TELESCOPE", "ACTIVE_ROTATOR", "ACTIVE_FOCUSER", "ACTIVE_FILTER",
                "ACTIVE_SKYQUALITY")


class Camera(SeestarDevice):
    """The camera device; see the module docstring."""

    interface = 2

    def init_properties(self) -> None:
        """The CCD vectors (connected-only, as libindi defines them) and ACTIVE_DEVICES."""
        super().init_properties()
        n = self.name
        w, h = DEFAULT_WIDTH_PX, DEFAULT_HEIGHT_PX
        self.exposure = self.add(std.ccd_exposure(n, min_s=EXPOSURE_MIN_S, max_s=EXPOSURE_MAX_S),
                                 connected_only=True, on_new=self._on_exposure)
        self.abort = self.add(std.ccd_abort_exposure(n), connected_only=True,
                              on_new=self._on_abort)
        frame, binning = std.ccd_frame(n, w, h), std.ccd_binning(n, MAX_BINNING)
        reset, info = std.ccd_frame_reset(n), std.ccd_info(n, w, h, DEFAULT_PIXEL_UM, BITS_PER_PIXEL)
        self.region = Region(frame=frame, binning=binning, reset=reset, info=info,
                             publish=self.publish)
        self.frame = self.add(frame, connected_only=True, on_new=self.region.on_frame)
        self.frame_reset = self.add(reset, connected_only=True, on_new=self.region.on_reset)
        self.binning = self.add(binning, connected_only=True, on_new=self.region.on_binning)
        self.fits_header = self.add(std.fits_header(n), connected_only=True,
                                    on_new=self._on_fits_header)
        self.gain = self.add(std.ccd_gain(n, GAIN_MIN, GAIN_MAX, 1, DEFAULT_GAIN),
                             connected_only=True, saved=True, on_new=self._on_gain)
        self.controls = self.add(std.ccd_controls_gain(n, GAIN_MIN, GAIN_MAX, 1, DEFAULT_GAIN),
                                 connected_only=True, on_new=self._on_controls)
        self.compression = self.add(std.ccd_compression(n), connected_only=True, saved=True,
                                    on_new=self._on_compression)
        self.capture_format = self.add(std.ccd_capture_format(n, [("INDI_RAW", "RAW")]),
                                       connected_only=True)
        self.transfer_format = self.add(std.ccd_transfer_format(n, native=False),
                                        connected_only=True)
        self.info = self.add(info, connected_only=True)
        self.ccd1 = self.add(std.ccd1(n), connected_only=True)
        self.frame_type = self.add(std.ccd_frame_type(n), connected_only=True)
        self.cfa = self.add(std.ccd_cfa(n, "GRBG"), connected_only=True, on_new=self._on_cfa)
        self.scope_info = self.add(std.scope_info(n), connected_only=True, saved=True,
                                   on_new=self._on_scope_info)
        self._scope_info_from_client = False
        self.upload = UploadProperties(n, add=self.add, remove=self.remove, publish=self.publish,
                                       message=self.message)
        self.active_devices = self.add(std.active_devices(n, self._default_active_devices()),
                                       on_new=self._on_active_devices, saved=True)
        self.exposures = Exposures(ExposurePorts(
            device_name=n, client=lambda: self.client, is_connected=lambda: self.is_connected,
            spawn=self.spawn, call_later=self.call_later, message=self.message,
            show_exposure_left=self.show_exposure_left, exposure_done=self.exposure_done,
            exposure_failed=self.exposure_failed, show_file_path=self.upload.show_file_path,
            send_image=self.send_image, optics=self.optics, fits_records=self.fits_records,
            surroundings=self.surroundings, alpaca_camera=self.alpaca_camera,
            alpaca_lost=self.alpaca_lost))
        self.paths = add_paths_property(self)
        self._records = HeaderRecords()
        self._optics_check = OpticsCheck()
        self._snooped = SnoopedValues()
        self._snooping: set[str] = set()
        self.darks = DarkLibrary(self, self.add, gain=lambda: round(self.gain["GAIN"]),
                                 exposing=lambda: self.exposure.state is State.BUSY)

    # --- session ---------------------------------------------------------------------------

    async def on_session(self, client: SeestarClient) -> None:
        """Take the sensor and optics the scope reports; no exposure is under way."""
        st = client.state
        self.region.resize(st.chip_width_px or DEFAULT_WIDTH_PX,
                           st.chip_height_px or DEFAULT_HEIGHT_PX,
                           st.pixel_size_um or DEFAULT_PIXEL_UM)
        if st.cfa:
            self.cfa["CFA_TYPE"] = st.cfa
        # The scope's optics at every connect, over a saved value (a config saved with another
        # model would put its focal length in every header); a client's own value wins until
        # the driver restarts.
        if not self._scope_info_from_client:
            if st.focal_length_mm:
                self.scope_info["FOCAL_LENGTH"] = st.focal_length_mm
            if st.aperture_mm:
                self.scope_info["APERTURE"] = st.aperture_mm
        self.exposure.state = State.IDLE
        self.exposure["CCD_EXPOSURE_VALUE"] = 0
        self.exposures.session_started()
        follow_paths(self, self.paths, self.session.alpaca)
        self.upload.sync_file_path()
        self._snoop_foreign()
        await self.darks.on_session(client)
        self.keep_until_session_end(client.subscribe(self.darks.feed))

    def on_link_lost(self) -> None:
        """The link dropped: an exposure under way ends now, naming it (docs/outcomes.md)."""
        self.exposures.link_lost()

    async def on_session_end(self, client: SeestarClient) -> None:
        """Stop any exposure and put the wheel back if a dark moved it."""
        self.darks.reset()
        await self.exposures.close(client)

    # --- what the exposure pipeline reads and reports --------------------------------------

    def show_exposure_left(self, seconds: float) -> None:
        """CCD_EXPOSURE Busy with the seconds left."""
        self.exposure["CCD_EXPOSURE_VALUE"] = round(seconds, 3)
        self.publish(self.exposure, state=State.BUSY)

    def exposure_done(self) -> None:
        """CCD_EXPOSURE Ok with 0: the image is out."""
        self.exposure["CCD_EXPOSURE_VALUE"] = 0
        self.publish(self.exposure, state=State.OK)

    def exposure_failed(self, reason: str) -> None:
        """CCD_EXPOSURE Alert with `[ERROR] reason`."""
        self.log.warning("%s", reason)
        self.publish(self.exposure, state=State.ALERT, message=f"[ERROR] {reason}")

    async def send_image(self, parts: Sequence[bytes | memoryview]) -> None:
        """The FITS parts as the CCD1 BLOB (`.fits.fz` if CCD_COMPRESSION is Enabled)."""
        payload, fmt = await self.client_payload(parts)
        await self.publish_blob(self.ccd1, "CCD1", payload, fmt=fmt)

    def alpaca_camera(self) -> AlpacaLink | None:
        """The scope's Alpaca Camera when exposures go through it, else None."""
        return self.session.alpaca.camera()

    def alpaca_lost(self, exc: AlpacaUnavailable) -> None:
        """The Alpaca server stopped answering: the private path takes exposures back."""
        self.session.alpaca.lost(exc)

    def optics(self) -> Optics:
        """Pixel size, CFA and SCOPE_INFO as the header states them."""
        def offset(member: str) -> int:
            text = str(self.cfa[member]).strip()
            return int(text) if text.lstrip("-").isdigit() else 0

        return Optics(pixel_size_x_um=float(self.info["CCD_PIXEL_SIZE_X"]),
                      pixel_size_y_um=float(self.info["CCD_PIXEL_SIZE_Y"]),
                      cfa_type=str(self.cfa["CFA_TYPE"]).strip(),
                      cfa_offset_x=offset("CFA_OFFSET_X"), cfa_offset_y=offset("CFA_OFFSET_Y"),
                      focal_length_mm=float(self.scope_info["FOCAL_LENGTH"]),
                      aperture_mm=float(self.scope_info["APERTURE"]))

    def fits_records(self) -> tuple[FitsRecord, ...]:
        """The FITS_HEADER records in force, in the order they were first given."""
        return self._records.records()

    async def client_payload(self, parts: Sequence[bytes | memoryview]
                             ) -> tuple[Sequence[bytes | memoryview], str]:
        """The CCD1 BLOB parts and format: `.fits.fz` (in a worker thread) if CCD_COMPRESSION
        is Enabled, else the FITS parts as they are (libindi saves the uncompressed file)."""
        if "INDI_ENABLED" not in self.compression.on_names():
            return parts, ".fits"
        return [await asyncio.to_thread(fz_from_parts, parts)], FZ_FORMAT

    async def surroundings(self, frame_type: FrameType, start_utc: datetime) -> Surroundings:
        """Pointing, site, focuser and filter for the frame just taken (our own state first)."""
        client, st = self.client, self.client.state
        slots = {slot: str(self.active_devices[slot]).strip() for slot in ACTIVE_SLOTS}
        telescope = slots["ACTIVE_TELESCOPE"]
        focuser, wheel = slots["ACTIVE_FOCUSER"], slots["ACTIVE_FILTER"]
        own = self._own_names()
        ours = set(own.values())
        fields: dict[str, Any] = snooped_surroundings(
            self._snooped, telescope=telescope if telescope not in ours else None,
            focuser=focuser if focuser not in ours else None,
            wheel=wheel if wheel not in ours else None)
        if telescope and telescope == own.get("mount"):
            mount = self.session.peers.get("mount")
            pointing = None
            if frame_type is FrameType.LIGHT and not st.parked:
                pointing = await pointing_since(mount, client, start_utc)
            fields["ra_jnow_hours"], fields["dec_jnow_deg"] = pointing or (None, None)
            fields["lat_deg"], fields["lon_east_deg"] = mount_site(mount, client) or (None, None)
        if focuser and focuser == own.get("focuser"):
            fields["focuser_position_steps"] = st.focuser_position_steps
        if wheel and wheel == own.get("wheel"):
            fields["filter_name"] = self._own_filter_name(st.wheel_slot)
        return Surroundings(telescope_name=telescope or None, **fields)

    # --- handlers ----------------------------------------------------------------------------

    def _on_exposure(self, values: dict[str, float]) -> None:
        if self.client.state.stacking:  # issue 11: the scope's camera belongs to its live stack
            raise ValueRejected("CCD_EXPOSURE", "the Seestar is live-stacking: no raw frame can be "
                                "taken until its stack is stopped (Seestar Stack device)")
        frame_type = FRAME_TYPE_OF[next(iter(self.frame_type.on_names()), "FRAME_LIGHT")]
        requested = EXPOSURE_MIN_S if frame_type is FrameType.BIAS else values["CCD_EXPOSURE_VALUE"]
        shot = Shot(exposure_s=firmware_exposure_s(requested), frame_type=frame_type,
                    geometry=self.region.geometry(), gain=round(self.gain["GAIN"]),
                    upload=self.upload.plan(), requested_monotonic_s=time.monotonic())
        self.exposure["CCD_EXPOSURE_VALUE"] = shot.exposure_s
        self.publish(self.exposure, state=State.BUSY)
        self.exposures.start(shot)

    def _on_abort(self, values: dict[str, bool]) -> None:
        self.abort.reset()
        if self.exposures.abort():
            self.message("Exposure aborted.")
        self.exposure["CCD_EXPOSURE_VALUE"] = 0
        self.publish(self.exposure, state=State.IDLE)
        self.publish(self.abort, state=State.OK)

    def _on_cfa(self, values: dict[str, str]) -> None:
        pattern = values.get("CFA_TYPE", self.cfa["CFA_TYPE"]).strip().upper()
        if pattern not in ("", "RGGB", "GRBG", "GBRG", "BGGR"):
            raise ValueRejected("CCD_CFA", f"{excerpt(pattern)} is not RGGB, GRBG, GBRG or BGGR")
        for member in ("CFA_OFFSET_X", "CFA_OFFSET_Y"):
            if member in values and values[member].strip() not in ("0", "1"):
                raise ValueRejected("CCD_CFA", f"{member} must be 0 or 1")
        self.cfa.update({**values, "CFA_TYPE": pattern})
        self.publish(self.cfa, state=State.OK)

    def _on_compression(self, values: dict[str, bool]) -> None:
        if values.get("INDI_ENABLED") and not compressor_installed():
            raise ValueRejected("CCD_COMPRESSION", "compressed FITS needs astropy, which is not "
                                "installed (Debian: apt install python3-astropy)")
        self.compression.update(values)
        self.publish(self.compression, state=State.OK)

    def _on_fits_header(self, values: dict[str, str]) -> None:
        note = self._records.apply(values)  # ValueRejected -> Alert, nothing changed
        if note:
            self.message(note)
        # published empty: a client resending its copy must not replay another's record
        self.fits_header.update({name: "" for name in self.fits_header.values()})
        self.publish(self.fits_header, state=State.OK)

    def _on_gain(self, values: dict[str, float]) -> None:
        self._set_gain(values["GAIN"])

    def _on_controls(self, values: dict[str, float]) -> None:
        self._set_gain(values["Gain"])

    def _set_gain(self, gain: float) -> None:
        """CCD_GAIN and its CCD_CONTROLS alias (indi_asi_ccd's name) always show one value."""
        self.gain["GAIN"] = gain
        self.controls["Gain"] = gain
        self.publish(self.gain, state=State.OK)
        self.publish(self.controls, state=State.OK)

    def _on_scope_info(self, values: dict[str, float]) -> None:
        self.scope_info.update(values)
        self._scope_info_from_client = True
        if self._client is not None:
            st = self._client.state
            warning = self._optics_check.warning(
                float(self.scope_info["FOCAL_LENGTH"]), float(self.scope_info["APERTURE"]),
                scope_focal_mm=st.focal_length_mm, scope_aperture_mm=st.aperture_mm,
                model=st.model)
            if warning:
                self.message(warning, "WARNING")
        self.publish(self.scope_info, state=State.OK)

    def _on_active_devices(self, values: dict[str, str]) -> None:
        self.active_devices.update({k: v.strip() for k, v in values.items()})
        if self.is_connected:
            self._snoop_foreign()
        self.publish(self.active_devices, state=State.OK)

    def on_snooped(self, message: Snooped) -> None:
        """Values of foreign devices named in ACTIVE_DEVICES."""
        if message.device in self._snooping:
            self._snooped.feed(message)

    # --- internals -----------------------------------------------------------------------

    def _own_names(self) -> dict[str, str]:
        """Our sibling devices' names by role (mount, camera, focuser, wheel)."""
        return {role: device.name for role, device in self.session.peers.items()
                if hasattr(device, "name")}

    def _own_filter_name(self, position: int | None) -> str | None:
        wheel = self.session.peers.get("wheel")
        if wheel is not None and hasattr(wheel, "name_of"):
            return wheel.name_of(position)  # type: ignore[no-any-return]
        return DEFAULT_NAMES[position] if position is not None and 0 <= position < 3 else None

    def _default_active_devices(self) -> dict[str, str]:
        own = self._own_names()
        defaults = {"ACTIVE_TELESCOPE": own.get("mount", ""),
                    "ACTIVE_FOCUSER": own.get("focuser", ""), "ACTIVE_FILTER": own.get("wheel", "")}
        return {slot: defaults.get(slot, "") for slot in ACTIVE_SLOTS}

    def _snoop_foreign(self) -> None:
        """Ask indiserver for the traffic of foreign devices named in ACTIVE_DEVICES (once each)."""
        own = set(self._own_names().values())
        for slot in ("ACTIVE_TELESCOPE", "ACTIVE_FOCUSER", "ACTIVE_FILTER"):
            device = str(self.active_devices[slot]).strip()
            if device and device not in own and device not in self._snooping:
                self._snooping.add(device)
                self.snoop(device)
