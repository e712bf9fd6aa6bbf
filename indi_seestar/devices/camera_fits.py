"""The FITS header of one frame, filled from the driver's own state (and snooped foreign devices).

Layer: devices. The camera never snoops its sibling devices (indi-standard.md §1.7): when an
ACTIVE_DEVICES slot names one of our own devices, the values come from the Seestar session
(`client.state`) and the sibling objects (the mount device's `site` and `pointing`, see
devices/telescope.py, with our own pointing poll when the mount's is older than the
exposure); a foreign name is snooped through indiserver and its last values are used.
Unknown values leave their cards out.
The mount block (OBJCTRA.., SITELAT.., OBJCTAZ.., AIRMASS) is for light frames only, as libindi
writes it; coordinates are computed at mid-exposure with `indi_seestar.sky`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .. import sky
from ..errors import IndiSeestarError
from ..fits import FitsRecord, FrameMeta, FrameType, PierSide
from ..indi.wire import Snooped, parse_sexagesimal
from ..seestar.client import SeestarClient
from .camera_frame import Geometry

log = logging.getLogger(__name__)

#: A pointing poll after each light frame; the scope answers in well under a second. On a
#: timeout the last known pointing is used, so a slow reply delays a frame by at most this.
POINTING_POLL_S = 2.0


@dataclass(frozen=True, slots=True)
class Surroundings:
    """What the rest of the rig was doing during one exposure (None = unknown)."""

    telescope_name: str | None = None
    ra_jnow_hours: float | None = None
    dec_jnow_deg: float | None = None
    lat_deg: float | None = None
    lon_east_deg: float | None = None
    pier_side: PierSide | None = None
    focuser_position_steps: int | None = None
    filter_name: str | None = None


@dataclass(frozen=True, slots=True)
class Optics:
    """Camera and scope constants of the header: pixel size, CFA, SCOPE_INFO (0 = unknown)."""

    pixel_size_x_um: float
    pixel_size_y_um: float
    cfa_type: str
    cfa_offset_x: int
    cfa_offset_y: int
    focal_length_mm: float
    aperture_mm: float


def frame_meta(*, device_name: str, exposure_s: float, start_utc: datetime,
               frame_type: FrameType, geometry: Geometry, gain: float | None, optics: Optics,
               around: Surroundings, records: tuple[FitsRecord, ...]) -> FrameMeta:
    """FrameMeta of one frame: J2000 place, alt/az and airmass at mid-exposure for light frames."""
    ra_j2000 = dec_j2000 = alt = az = airmass = None
    light = frame_type is FrameType.LIGHT
    if light and around.ra_jnow_hours is not None and around.dec_jnow_deg is not None:
        mid = start_utc + timedelta(seconds=exposure_s / 2)
        ra_j2000, dec_j2000 = sky.jnow_to_j2000(around.ra_jnow_hours, around.dec_jnow_deg, mid)
        if around.lat_deg is not None and around.lon_east_deg is not None:
            alt, az = sky.equatorial_to_horizontal(around.ra_jnow_hours, around.dec_jnow_deg, mid,
                                                   around.lat_deg, around.lon_east_deg)
            airmass = sky.airmass(alt)
    bayer = optics.cfa_type if optics.cfa_type and not geometry.binned else None
    offset_x, offset_y = geometry.bayer_offsets(optics.cfa_offset_x, optics.cfa_offset_y)
    lon = around.lon_east_deg % 360.0 if around.lon_east_deg is not None else None  # INDI: 0..360
    return FrameMeta(
        device_name=device_name, exposure_s=exposure_s, exposure_start_utc=start_utc,
        pixel_size_x_um=optics.pixel_size_x_um, pixel_size_y_um=optics.pixel_size_y_um,
        binning_x=geometry.bin_x, binning_y=geometry.bin_y, frame_type=frame_type,
        telescope_name=around.telescope_name or None, gain=gain, ccd_temp_c=None,
        bayer_pattern=bayer, bayer_offset_x=offset_x, bayer_offset_y=offset_y,
        focal_length_mm=optics.focal_length_mm or None, aperture_mm=optics.aperture_mm or None,
        filter_name=around.filter_name, focuser_position_steps=around.focuser_position_steps,
        ra_j2000_hours=ra_j2000, dec_j2000_deg=dec_j2000,
        site_latitude_deg=around.lat_deg, site_longitude_deg=lon,
        object_alt_deg=alt, object_az_deg=az, airmass=airmass,
        pier_side=around.pier_side if light else None, custom_records=records,
    )


def mount_site(mount: Any, client: SeestarClient) -> tuple[float, float] | None:
    """(lat, east lon) from the mount device's GEOGRAPHIC_COORD, else the scope's own location.

    `mount.site` is documented in devices/telescope.py; an unset scope reports (0, 0).
    """
    site = getattr(mount, "site", None)
    if site is not None:
        return float(site.lat_deg), float(site.lon_east_deg)
    state = client.state
    if state.lat_deg is None or state.lon_east_deg is None:
        return None
    if state.lat_deg == 0.0 and state.lon_east_deg == 0.0:
        return None
    return state.lat_deg, state.lon_east_deg


async def pointing_since(mount: Any, client: SeestarClient,
                         start_utc: datetime) -> tuple[float, float] | None:
    """JNow pointing read at or after `start_utc`: the mount device's last poll when it is
    that recent (`mount.pointing`, devices/telescope.py), else a poll of our own."""
    last = getattr(mount, "pointing", None)
    if last is not None and last.utc.tzinfo is not None and last.utc >= start_utc:
        return float(last.ra_hours), float(last.dec_deg)
    return await poll_pointing(client)


async def poll_pointing(client: SeestarClient) -> tuple[float, float] | None:
    """The scope's JNow pointing now; the last known one if the poll fails; None if unknown."""
    try:
        async with asyncio.timeout(POINTING_POLL_S):
            coord = await client.get_equ_coord()
        return coord.ra_hours, coord.dec_deg
    except (IndiSeestarError, TimeoutError) as exc:
        log.debug("pointing poll failed (%s); using the last known pointing", exc)
    state = client.state
    if state.ra_hours is None or state.dec_deg is None:
        return None
    return state.ra_hours, state.dec_deg


class SnoopedValues:
    """The last def/set values of snooped foreign devices, by (device, property)."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], dict[str, str]] = {}

    def feed(self, message: Snooped) -> None:
        """Keep the values of a def*/set* vector; forget a deleted property or device."""
        device, name = message.device, message.name
        if device is None:
            return
        if message.tag == "delProperty":
            for key in [k for k in self._values if k[0] == device and name in (None, k[1])]:
                del self._values[key]
        elif name is not None and message.tag[:3] in ("def", "set"):
            self._values.setdefault((device, name), {}).update(
                {k: v.strip() for k, v in message.values().items()})

    def number(self, device: str, prop: str, member: str) -> float | None:
        """A number member as a float (sexagesimal accepted), or None."""
        text = self._values.get((device, prop), {}).get(member)
        if text is None:
            return None
        try:
            return parse_sexagesimal(text)
        except ValueError:
            return None

    def switch_on(self, device: str, prop: str) -> str | None:
        """The name of the member that is On, or None."""
        values = self._values.get((device, prop), {})
        return next((k for k, v in values.items() if v == "On"), None)

    def texts(self, device: str, prop: str) -> list[str]:
        """The members' texts in order (empty when unknown)."""
        return list(self._values.get((device, prop), {}).values())


def snooped_surroundings(snooped: SnoopedValues, *, telescope: str | None, focuser: str | None,
                         wheel: str | None) -> dict[str, Any]:
    """Surroundings fields from foreign devices (only the slots given are read)."""
    out: dict[str, Any] = {}
    if telescope:
        out["ra_jnow_hours"] = snooped.number(telescope, "EQUATORIAL_EOD_COORD", "RA")
        out["dec_jnow_deg"] = snooped.number(telescope, "EQUATORIAL_EOD_COORD", "DEC")
        out["lat_deg"] = snooped.number(telescope, "GEOGRAPHIC_COORD", "LAT")
        out["lon_east_deg"] = snooped.number(telescope, "GEOGRAPHIC_COORD", "LONG")
        side = snooped.switch_on(telescope, "TELESCOPE_PIER_SIDE")
        out["pier_side"] = {"PIER_WEST": PierSide.WEST, "PIER_EAST": PierSide.EAST}.get(side or "")
    if focuser:
        position = snooped.number(focuser, "ABS_FOCUS_POSITION", "FOCUS_ABSOLUTE_POSITION")
        out["focuser_position_steps"] = round(position) if position is not None else None
    if wheel:
        slot = snooped.number(wheel, "FILTER_SLOT", "FILTER_SLOT_VALUE")
        names = snooped.texts(wheel, "FILTER_NAME")
        index = round(slot) - 1 if slot is not None else -1
        out["filter_name"] = names[index] if 0 <= index < len(names) else None
    return out
