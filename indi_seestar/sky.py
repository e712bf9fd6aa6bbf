"""Astronomy helpers for the mount and camera devices (pure: math + erfa; no astropy, no network).

Conventions shared by every function:

- `utc` is a datetime; a naive one is taken as UTC.  UT1 is taken equal to UTC (|DUT1| < 0.9 s,
  at most 13.5 arcsec of hour angle) and TT - UTC is fixed at 69.184 s (37 leap seconds since
  2017); a few seconds of TT error move precession, nutation and aberration by < 0.001 arcsec.
- "J2000" is the ICRS/GCRS catalogue frame (the 23 mas frame bias to FK5 J2000 is below every
  tolerance here).  "JNow" is the apparent geocentric place in the true equator and true equinox
  of date: J2000 + annual aberration + IAU 2006/2000B precession-nutation.  That is what libindi's
  J2000toObserved/ObservedToJ2000 (libs/indicore/libastro.cpp) and KStars mean by JNow, and what
  astropy calls TETE (geocentric).  Light deflection by the Sun (4 mas at 90 degrees from it) and
  the Moon's and planets' pull on the Earth's velocity (about 0.02 arcsec) are left out.
- Horizontal coordinates: azimuth from north through east, altitude without refraction.
  Longitudes are east-positive (INDI's 0..360 works as well as -180..180).
- Cost, measured on the development x86 box: 5-15 us per call, most of it one erfa call
  (IAU 2000B nutation, 1 mas; the full IAU 2000A series would cost ~60 us).
"""

from __future__ import annotations

import math
from datetime import datetime

import erfa  # type: ignore[import-untyped]  # pyerfa ships no type information

TT_MINUS_UTC_S = 69.184
AIRMASS_SCALE = 750.0  # libnova's ln_get_airmass(alt, 750), what libindi's CCD writes as AIRMASS
_DJM0 = 2400000.5  # JD of MJD 0
_MJD0_ORDINAL = 678576  # date(1858, 11, 17).toordinal(): MJD 0
_SECONDS_PER_DAY = 86400.0
_J2000_JD = 2451545.0
_DAYS_PER_CENTURY = 36525.0
_TAU = 2.0 * math.pi
_DEG = math.pi / 180.0
_HOUR = math.pi / 12.0
# Earth's orbit (Meeus, Astronomical Algorithms ch. 25, with the longitudes referred to the
# fixed J2000 equinox), for the annual aberration.
_ABERRATION_RAD = 20.49552 / 206264.806  # constant of aberration: orbital speed / c
_OBLIQUITY_J2000_RAD = 84381.406 / 206264.806  # IAU 2006 mean obliquity at J2000


def _two_part_jd(utc: datetime) -> tuple[float, float]:
    """(2400000.5 + MJD day, day fraction) of `utc`; the split keeps erfa's full precision."""
    offset = utc.utcoffset()
    if offset:
        utc = utc - offset
    day = utc.toordinal() - _MJD0_ORDINAL
    seconds = utc.hour * 3600 + utc.minute * 60 + utc.second + utc.microsecond * 1e-6
    return _DJM0 + day, seconds / _SECONDS_PER_DAY


def _last_rad(utc: datetime, lon_east_deg: float) -> float:
    """Local apparent sidereal time in radians, in [0, 2pi)."""
    jd1, jd2 = _two_part_jd(utc)
    return (float(erfa.gst00b(jd1, jd2)) + lon_east_deg * _DEG) % _TAU


def _earth_velocity(tt_centuries: float) -> tuple[float, float, float]:
    """Earth's heliocentric velocity in units of c, J2000 equatorial axes (about 0.1 % accurate)."""
    t = tt_centuries
    mean_anomaly = (357.52911 + 35999.05029 * t) * _DEG
    mean_longitude = (280.46646 + 35999.37294 * t) * _DEG  # Sun, J2000 equinox
    center = (
        (1.914602 - 0.004817 * t) * math.sin(mean_anomaly)
        + (0.019993 - 0.000101 * t) * math.sin(2.0 * mean_anomaly)
        + 0.000289 * math.sin(3.0 * mean_anomaly)
    ) * _DEG
    earth_longitude = mean_longitude + center + math.pi
    perihelion = mean_longitude - mean_anomaly + math.pi
    e = 0.016708634 - 0.000042037 * t
    vx = -_ABERRATION_RAD * (math.sin(earth_longitude) + e * math.sin(perihelion))
    vy_ecliptic = _ABERRATION_RAD * (math.cos(earth_longitude) + e * math.cos(perihelion))
    eps = _OBLIQUITY_J2000_RAD
    return vx, vy_ecliptic * math.cos(eps), vy_ecliptic * math.sin(eps)


def _unit(ra_rad: float, dec_rad: float) -> tuple[float, float, float]:
    cd = math.cos(dec_rad)
    return cd * math.cos(ra_rad), cd * math.sin(ra_rad), math.sin(dec_rad)


def _normalised(x: float, y: float, z: float) -> tuple[float, float, float]:
    r = math.sqrt(x * x + y * y + z * z)
    return x / r, y / r, z / r


def _hours_deg(x: float, y: float, z: float) -> tuple[float, float]:
    """(RA hours in [0, 24), Dec degrees) of a direction vector."""
    ra = math.atan2(y, x) % _TAU
    return ra / _HOUR, math.degrees(math.atan2(z, math.hypot(x, y)))


def _precession_nutation(utc: datetime) -> tuple[list[list[float]], float]:
    """(GCRS -> true-of-date matrix, TT in Julian centuries from J2000) for `utc`."""
    jd1, jd2 = _two_part_jd(utc)
    jd2 += TT_MINUS_UTC_S / _SECONDS_PER_DAY
    matrix: list[list[float]] = erfa.pnm00b(jd1, jd2).tolist()
    return matrix, ((jd1 - _J2000_JD) + jd2) / _DAYS_PER_CENTURY


def j2000_to_jnow(ra_hours: float, dec_deg: float, utc: datetime) -> tuple[float, float]:
    """J2000 (ICRS) place -> JNow apparent place (ra_hours in [0, 24), dec_deg) at `utc`."""
    m, t = _precession_nutation(utc)
    px, py, pz = _unit(ra_hours * _HOUR, dec_deg * _DEG)
    vx, vy, vz = _earth_velocity(t)
    x, y, z = _normalised(px + vx, py + vy, pz + vz)  # annual aberration, error ~(v/c)^2 = 2 mas
    return _hours_deg(
        m[0][0] * x + m[0][1] * y + m[0][2] * z,
        m[1][0] * x + m[1][1] * y + m[1][2] * z,
        m[2][0] * x + m[2][1] * y + m[2][2] * z,
    )


def jnow_to_j2000(ra_hours: float, dec_deg: float, utc: datetime) -> tuple[float, float]:
    """JNow apparent place -> J2000 (ICRS) (ra_hours in [0, 24), dec_deg); undoes j2000_to_jnow."""
    m, t = _precession_nutation(utc)
    qx, qy, qz = _unit(ra_hours * _HOUR, dec_deg * _DEG)
    ax = m[0][0] * qx + m[1][0] * qy + m[2][0] * qz  # transpose: true of date -> GCRS
    ay = m[0][1] * qx + m[1][1] * qy + m[2][1] * qz
    az = m[0][2] * qx + m[1][2] * qy + m[2][2] * qz
    vx, vy, vz = _earth_velocity(t)
    x, y, z = _normalised(ax - vx, ay - vy, az - vz)
    # One fixed-point step makes it the exact inverse of j2000_to_jnow's aberration.
    bx, by, bz = _normalised(x + vx, y + vy, z + vz)
    return _hours_deg(*_normalised(x + ax - bx, y + ay - by, z + az - bz))


def local_sidereal_time_hours(utc: datetime, longitude_east_deg: float) -> float:
    """Local apparent sidereal time in hours, in [0, 24) (libindi's get_local_sidereal_time)."""
    return _last_rad(utc, longitude_east_deg) / _HOUR


def hour_angle_hours(ra_hours_jnow: float, utc: datetime, lon_east_deg: float) -> float:
    """Local hour angle of a JNow RA, in [-12, 12): positive west of the meridian."""
    return (_last_rad(utc, lon_east_deg) / _HOUR - ra_hours_jnow + 12.0) % 24.0 - 12.0


def equatorial_to_horizontal(
    ra_hours_jnow: float, dec_deg_jnow: float, utc: datetime, lat_deg: float, lon_east_deg: float
) -> tuple[float, float]:
    """JNow place -> (alt_deg, az_deg): no refraction; azimuth in [0, 360) north through east."""
    ha = _last_rad(utc, lon_east_deg) - ra_hours_jnow * _HOUR
    az, alt = erfa.hd2ae(ha, dec_deg_jnow * _DEG, lat_deg * _DEG)
    return math.degrees(alt), math.degrees(az)


def horizontal_to_equatorial(
    alt_deg: float, az_deg: float, utc: datetime, lat_deg: float, lon_east_deg: float
) -> tuple[float, float]:
    """(alt_deg, az_deg) as in equatorial_to_horizontal -> JNow (ra_hours in [0, 24), dec_deg)."""
    ha, dec = erfa.ae2hd(az_deg * _DEG, alt_deg * _DEG, lat_deg * _DEG)
    ra = (_last_rad(utc, lon_east_deg) - float(ha)) % _TAU
    return ra / _HOUR, math.degrees(dec)


def parallactic_angle_deg(
    ra_hours: float, dec_deg: float, utc: datetime, lat_deg: float, lon_east_deg: float
) -> float:
    """Parallactic angle of a JNow place in (-180, 180]: erfa.hd2pa, the zenith's position angle.

    Measured from north through east: positive west of the meridian (zenith to the east of the
    object), negative east of it, 0 on the meridian south of the zenith (northern sites).
    """
    ha = _last_rad(utc, lon_east_deg) - ra_hours * _HOUR
    return math.degrees(erfa.hd2pa(ha, dec_deg * _DEG, lat_deg * _DEG))


def airmass(alt_deg: float, scale: float = AIRMASS_SCALE) -> float:
    """Airmass of a homogeneous spherical atmosphere (libnova ln_get_airmass, scale 750: libindi).

    1 at the zenith, ~2.0 at 30 degrees, ~38.7 on the horizon; defined (and growing) below it.
    """
    a = scale * math.sin(alt_deg * _DEG)
    return math.sqrt(a * a + 2.0 * scale + 1.0) - a
