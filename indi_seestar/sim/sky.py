"""Spherical astronomy for the fake Seestar: sidereal time, equatorial <-> horizontal, projection.

Layer: sim. Pure functions of numbers (stdlib math; numpy for the array projection).
Conventions: RA in hours, Dec/alt/az/hour angle in degrees, azimuth from North through East,
hour angle positive West. The mount lives in "JNow" (apparent place, true equator and equinox
of date, what the driver sends); the star catalogue is J2000 (ICRS). `jnow_to_j2000` (erfa,
IAU 2006/2000A with aberration, TT - UTC fixed at 69.184 s) joins them: the camera turns each
pointing sample into J2000 so frames show the catalogue at the true place.
No refraction.
"""

from __future__ import annotations

import math
from datetime import datetime

import erfa  # type: ignore[import-untyped]  # pyerfa ships no type information
import numpy as np

_J2000_UNIX_S = 946728000.0  # 2000-01-01T12:00:00Z
_UNIX_EPOCH_JD = 2440587.5
_TT_MINUS_UTC_DAYS = 69.184 / 86400.0
_PA_PROBE_DEG = 0.1


def wrap_deg(angle_deg: float) -> float:
    """Angle in [0, 360)."""
    return angle_deg % 360.0


def wrap_hours(ra_hours: float) -> float:
    """RA in [0, 24)."""
    return ra_hours % 24.0


def gmst_deg(utc: datetime) -> float:
    """Greenwich mean sidereal time in degrees (IAU 1982 linear term; ample for a fake)."""
    days = (utc.timestamp() - _J2000_UNIX_S) / 86400.0
    return wrap_deg(280.46061837 + 360.98564736629 * days)


def lst_deg(utc: datetime, lon_deg: float) -> float:
    """Local mean sidereal time in degrees at East longitude `lon_deg`."""
    return wrap_deg(gmst_deg(utc) + lon_deg)


def hadec_to_altaz(ha_deg: float, dec_deg: float, lat_deg: float) -> tuple[float, float]:
    """(hour angle, dec) -> (alt, az), az from North through East."""
    return _other_frame(ha_deg, dec_deg, lat_deg)


def altaz_to_hadec(alt_deg: float, az_deg: float, lat_deg: float) -> tuple[float, float]:
    """(alt, az) -> (hour angle, dec); the inverse of `hadec_to_altaz`."""
    dec, ha = _other_frame(az_deg, alt_deg, lat_deg)
    return ha, dec


def _other_frame(angle_deg: float, height_deg: float, lat_deg: float) -> tuple[float, float]:
    """(height, angle) of a direction in the other of the (ha, dec) / (az, alt) frames (self-inverse)."""
    a, h, lat = map(math.radians, (angle_deg, height_deg, lat_deg))
    sin_h = math.sin(h) * math.sin(lat) + math.cos(h) * math.cos(lat) * math.cos(a)
    height = math.asin(max(-1.0, min(1.0, sin_h)))
    y = -math.cos(h) * math.sin(a)
    x = math.sin(h) * math.cos(lat) - math.cos(h) * math.sin(lat) * math.cos(a)
    return math.degrees(height), wrap_deg(math.degrees(math.atan2(y, x)))


def radec_to_altaz(ra_hours: float, dec_deg: float, lst: float, lat_deg: float) -> tuple[float, float]:
    """(RA, Dec) -> (alt, az) at local sidereal time `lst` (degrees)."""
    return hadec_to_altaz(lst - ra_hours * 15.0, dec_deg, lat_deg)


def altaz_to_radec(alt_deg: float, az_deg: float, lst: float, lat_deg: float) -> tuple[float, float]:
    """(alt, az) -> (RA hours, Dec) at local sidereal time `lst` (degrees)."""
    ha, dec = altaz_to_hadec(alt_deg, az_deg, lat_deg)
    return wrap_hours((lst - ha) / 15.0), dec


def _unit(ra_hours: float, dec_deg: float) -> tuple[float, float, float]:
    ra, dec = math.radians(ra_hours * 15.0), math.radians(dec_deg)
    return math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)


def _from_unit(x: float, y: float, z: float) -> tuple[float, float]:
    norm = math.sqrt(x * x + y * y + z * z) or 1.0
    return wrap_hours(math.degrees(math.atan2(y, x)) / 15.0), math.degrees(math.asin(max(-1.0, min(1.0, z / norm))))


def separation_deg(ra1_hours: float, dec1_deg: float, ra2_hours: float, dec2_deg: float) -> float:
    """Great-circle distance between two RA/Dec points."""
    a, b = _unit(ra1_hours, dec1_deg), _unit(ra2_hours, dec2_deg)
    cross = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    return math.degrees(math.atan2(math.sqrt(sum(c * c for c in cross)), sum(p * q for p, q in zip(a, b))))


def slerp_radec(start: tuple[float, float], end: tuple[float, float], frac: float) -> tuple[float, float]:
    """The point `frac` of the way along the great circle from `start` to `end` (RA h, Dec deg)."""
    a, b = _unit(*start), _unit(*end)
    dot = max(-1.0, min(1.0, sum(p * q for p, q in zip(a, b))))
    omega = math.acos(dot)
    if omega < 1e-12:
        return end if frac >= 1.0 else start
    s = math.sin(omega)
    wa, wb = math.sin((1.0 - frac) * omega) / s, math.sin(frac * omega) / s
    return _from_unit(*(wa * p + wb * q for p, q in zip(a, b)))


def offset_radec(ra_hours: float, dec_deg: float, east_deg: float, north_deg: float) -> tuple[float, float]:
    """The point at tangent-plane offset (east, north) degrees from (ra, dec) (inverse gnomonic)."""
    ra0, dec0 = math.radians(ra_hours * 15.0), math.radians(dec_deg)
    xi, eta = math.radians(east_deg), math.radians(north_deg)
    denom = math.cos(dec0) - eta * math.sin(dec0)
    ra = ra0 + math.atan2(xi, denom)
    dec = math.atan2(math.sin(dec0) + eta * math.cos(dec0), math.hypot(xi, denom))
    return wrap_hours(math.degrees(ra) / 15.0), math.degrees(dec)


def gnomonic(ra0_hours: float, dec0_deg: float, ra_hours: np.ndarray, dec_deg: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tangent-plane (xi East, eta North) radians of points about (ra0, dec0), and cos(distance)."""
    ra0, dec0 = math.radians(ra0_hours * 15.0), math.radians(dec0_deg)
    dra = np.radians(ra_hours * 15.0) - ra0
    dec = np.radians(dec_deg)
    cos_dec, sin_dec, cos_dra = np.cos(dec), np.sin(dec), np.cos(dra)
    cos_c = math.sin(dec0) * sin_dec + math.cos(dec0) * cos_dec * cos_dra
    safe = np.where(cos_c > 1e-6, cos_c, 1e-6)
    xi = cos_dec * np.sin(dra) / safe
    eta = (math.cos(dec0) * sin_dec - math.sin(dec0) * cos_dec * cos_dra) / safe
    return xi, eta, cos_c


def tangent_offset_deg(ra0_hours: float, dec0_deg: float, ra_hours: float, dec_deg: float) -> tuple[float, float]:
    """Tangent-plane offset (east, north) in degrees of one point about (ra0, dec0)."""
    xi, eta, _ = gnomonic(ra0_hours, dec0_deg, np.array([ra_hours]), np.array([dec_deg]))
    return math.degrees(float(xi[0])), math.degrees(float(eta[0]))


def _tt_jd(utc_unix_s: float) -> tuple[float, float]:
    """Two-part TT Julian date of a UTC Unix time."""
    return _UNIX_EPOCH_JD, utc_unix_s / 86400.0 + _TT_MINUS_UTC_DAYS


def jnow_to_j2000(ra_hours: float, dec_deg: float, utc_unix_s: float) -> tuple[float, float]:
    """Apparent place of date (JNow) -> J2000 (ICRS) at UTC `utc_unix_s`."""
    d1, d2 = _tt_jd(utc_unix_s)
    ri = math.radians(ra_hours * 15.0) + float(erfa.eo06a(d1, d2))  # equinox -> CIO based RA
    rc, dc, _eo = erfa.atic13(ri, math.radians(dec_deg), d1, d2)
    return wrap_hours(math.degrees(float(rc)) / 15.0), math.degrees(float(dc))


def position_angle_deg(ra0_hours: float, dec0_deg: float, ra_hours: float, dec_deg: float) -> float:
    """Position angle (North through East) of a point seen from (ra0, dec0)."""
    east, north = tangent_offset_deg(ra0_hours, dec0_deg, ra_hours, dec_deg)
    return math.degrees(math.atan2(east, north))


def pointing_to_j2000(ra_hours: float, dec_deg: float, theta_deg: float, utc_unix_s: float
                      ) -> tuple[float, float, float]:
    """A JNow pointing with "up" at position angle `theta_deg` -> the same in J2000."""
    th = math.radians(theta_deg)
    probe = offset_radec(ra_hours, dec_deg, _PA_PROBE_DEG * math.sin(th), _PA_PROBE_DEG * math.cos(th))
    ra0, dec0 = jnow_to_j2000(ra_hours, dec_deg, utc_unix_s)
    ra1, dec1 = jnow_to_j2000(*probe, utc_unix_s)
    return ra0, dec0, position_angle_deg(ra0, dec0, ra1, dec1)
