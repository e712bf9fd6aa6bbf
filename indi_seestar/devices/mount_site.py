"""The mount's site, clock and derived coordinates: pure helpers of the mount device.

Layer: devices (pure: datetime and indi_seestar.sky; no asyncio, no INDI). GEOGRAPHIC_COORD
holds LAT, LONG (east, 0..360) and ELEV; TIME_UTC holds UTC (`YYYY-MM-DDTHH:MM:SS`) and OFFSET
(hours, as text). The axis frame for guiding comes from here too, so that the sky directions
of a pulse follow the same site and clock as HORIZONTAL_COORD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .. import sky
from ..errors import ValueRejected
from ..text import excerpt
from .motion_plan import AxisFrame, altaz_frame, eq_frame


@dataclass(frozen=True, slots=True)
class Site:
    """Where the mount stands: latitude, east longitude (0..360) and elevation."""

    lat_deg: float
    lon_east_deg: float
    elevation_m: float = 0.0


@dataclass(frozen=True, slots=True)
class Pointing:
    """Where the mount points (JNow), and when that was read (UTC)."""

    ra_hours: float
    dec_deg: float
    utc: datetime


def site_from_scope(lat_deg: float | None, lon_east_deg: float | None) -> Site | None:
    """The scope's own location, or None when it has none (unset scopes report 0, 0)."""
    if lat_deg is None or lon_east_deg is None or (lat_deg == 0.0 and lon_east_deg == 0.0):
        return None
    return Site(lat_deg, lon_east_deg % 360.0)


def parse_utc(text: str) -> datetime:
    """TIME_UTC's UTC text (`YYYY-MM-DDTHH:MM:SS`, optional fraction or Z) as an aware datetime."""
    try:
        utc = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueRejected("TIME_UTC", f"UTC {excerpt(text)} is not YYYY-MM-DDTHH:MM:SS") from None
    return utc.replace(tzinfo=UTC) if utc.tzinfo is None else utc.astimezone(UTC)


def parse_offset_hours(text: str) -> float:
    """TIME_UTC's OFFSET text in hours (e.g. "2", "-5.5", "+5:30")."""
    raw = text.strip() or "0"
    try:
        if ":" in raw:
            hours, minutes = raw.split(":", 1)
            sign = -1.0 if hours.strip().startswith("-") else 1.0
            value = sign * (abs(float(hours)) + float(minutes) / 60.0)
        else:
            value = float(raw)
    except ValueError:
        raise ValueRejected("TIME_UTC",
                            f"OFFSET {excerpt(text)} is not a number of hours") from None
    if not -14.0 <= value <= 14.0:
        raise ValueRejected("TIME_UTC", f"OFFSET {value:g} h is outside -14..14")
    return value


def format_utc(utc: datetime) -> str:
    """TIME_UTC's UTC text: whole seconds, no zone."""
    return utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def format_offset(hours: float) -> str:
    """TIME_UTC's OFFSET text, as libindi writes it."""
    return f"{hours:.2f}"


def local_offset_hours(now: datetime | None = None) -> float:
    """This computer's UTC offset in hours."""
    offset = (now or datetime.now()).astimezone().utcoffset() or timedelta(0)
    return offset.total_seconds() / 3600.0


def horizontal(pointing: Pointing, site: Site) -> tuple[float, float]:
    """(alt_deg, az_deg) of the pointing, no refraction."""
    return sky.equatorial_to_horizontal(pointing.ra_hours, pointing.dec_deg, pointing.utc,
                                        site.lat_deg, site.lon_east_deg)


def axis_frame(equ_mode: bool, pointing: Pointing, site: Site) -> AxisFrame:
    """Sky (east, north) -> mount axes at the pointing: cos(dec) in EQ mode, parallactic angle in alt-az."""
    if equ_mode:
        return eq_frame(pointing.dec_deg)
    alt, _az = horizontal(pointing, site)
    q = sky.parallactic_angle_deg(pointing.ra_hours, pointing.dec_deg, pointing.utc,
                                  site.lat_deg, site.lon_east_deg)
    return altaz_frame(alt, q)


def separation_arcsec(ra1_hours: float, dec1_deg: float, ra2_hours: float, dec2_deg: float) -> float:
    """Angle between two places (arcsec); exact for the tiny moves the 0.1" threshold needs."""
    d1, d2 = math.radians(dec1_deg), math.radians(dec2_deg)
    dra = math.radians((ra2_hours - ra1_hours) * 15.0)
    a = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin(dra / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(a)))) * 3600.0
