"""indi_seestar.sky against astropy.coordinates, offline (no IERS download, sockets blocked).

Reference frames: J2000 = astropy ICRS; JNow = astropy TETE (true equator and equinox of date,
geocentric apparent); horizontal = astropy AltAz with pressure 0 (no refraction).  astropy is
told UT1 = UTC (delta_ut1_utc = 0), the convention sky.py documents.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import TETE, AltAz, EarthLocation, SkyCoord
from astropy.time import Time
from astropy.utils import iers

from indi_seestar import sky

pytestmark = [
    pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyWarning"),
    pytest.mark.filterwarnings("ignore::erfa.ErfaWarning"),
]

DATES = [
    datetime(2000, 1, 1, 12, 0, tzinfo=UTC),
    datetime(2010, 6, 15, 3, 30, tzinfo=UTC),
    datetime(2019, 11, 2, 18, 45, 30, 500_000, tzinfo=UTC),
    datetime(2024, 3, 1, 21, 5, 7, tzinfo=UTC),
    datetime(2041, 12, 31, 23, 59, tzinfo=UTC),
]
SITES = [  # (lat_deg, lon_east_deg)
    (48.14, 11.58),
    (-33.92, 18.42),
    (19.82, -155.47),
    (64.13, 338.1),  # INDI's 0..360 east form of -21.9
]
STARS = [  # J2000 (ra_hours, dec_deg)
    (5.588, -5.391),
    (2.530, 89.264),
    (18.6156, 38.7837),
    (14.66, -60.83),
    (23.99, 0.5),
    (12.0, 20.0),
    (0.0, -89.0),
]
ARCSEC_DEG = 1.0 / 3600.0


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No IERS downloads and no sockets: any attempt to reach the network fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with (
        iers.conf.set_temp("auto_download", False),
        iers.conf.set_temp("auto_max_age", None),
        iers.conf.set_temp("iers_degraded_accuracy", "ignore"),
    ):
        yield


def astropy_time(utc: datetime) -> Time:
    t = Time(utc, scale="utc")
    t.delta_ut1_utc = 0.0
    return t


def stars_icrs() -> SkyCoord:
    ra, dec = np.array(STARS).T
    return SkyCoord(ra * 15.0 * u.deg, dec * u.deg, frame="icrs")


def separation_arcsec(ra1_h: float, dec1: float, ra2_h: float, dec2: float) -> float:
    a = SkyCoord(ra1_h * 15.0 * u.deg, dec1 * u.deg)
    return float(a.separation(SkyCoord(ra2_h * 15.0 * u.deg, dec2 * u.deg)).arcsec)


@pytest.mark.parametrize("utc", DATES)
def test_j2000_to_jnow_matches_astropy_tete_within_an_arcsecond(utc: datetime) -> None:
    tete = stars_icrs().transform_to(TETE(obstime=astropy_time(utc)))
    for (ra, dec), ra_ref, dec_ref in zip(STARS, tete.ra.hour, tete.dec.deg, strict=True):
        ra_now, dec_now = sky.j2000_to_jnow(ra, dec, utc)
        assert 0.0 <= ra_now < 24.0
        assert separation_arcsec(ra_now, dec_now, ra_ref, dec_ref) < 1.0
        ra_back, dec_back = sky.jnow_to_j2000(ra_ref, dec_ref, utc)
        assert separation_arcsec(ra_back, dec_back, ra, dec) < 1.0


@pytest.mark.parametrize("utc", DATES)
def test_jnow_and_j2000_round_trip(utc: datetime) -> None:
    for ra, dec in STARS:
        ra2, dec2 = sky.jnow_to_j2000(*sky.j2000_to_jnow(ra, dec, utc), utc)
        assert separation_arcsec(ra2, dec2, ra, dec) < 1e-4


@pytest.mark.parametrize("utc", DATES)
@pytest.mark.parametrize(("lat", "lon"), SITES)
def test_local_sidereal_time_matches_astropy_within_0_1_s(
    utc: datetime, lat: float, lon: float
) -> None:
    reference = astropy_time(utc).sidereal_time("apparent", longitude=lon * u.deg).hour
    ours = sky.local_sidereal_time_hours(utc, lon)
    assert 0.0 <= ours < 24.0
    difference_s = ((ours - reference + 12.0) % 24.0 - 12.0) * 3600.0
    assert abs(difference_s) < 0.1


@pytest.mark.parametrize("utc", DATES)
@pytest.mark.parametrize(("lat", "lon"), SITES)
def test_alt_az_matches_astropy_within_0_01_deg(utc: datetime, lat: float, lon: float) -> None:
    t = astropy_time(utc)
    site = EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, 0.0 * u.m)
    horizontal = stars_icrs().transform_to(AltAz(obstime=t, location=site, pressure=0.0 * u.hPa))
    for (ra, dec), alt_ref, az_ref in zip(
        STARS, horizontal.alt.deg, horizontal.az.deg, strict=True
    ):
        alt, az = sky.equatorial_to_horizontal(*sky.j2000_to_jnow(ra, dec, utc), utc, lat, lon)
        assert 0.0 <= az < 360.0
        ours = SkyCoord(az * u.deg, alt * u.deg, frame="altaz")
        reference = SkyCoord(az_ref * u.deg, alt_ref * u.deg, frame="altaz")
        assert ours.separation(reference).deg < 0.01
        assert abs(alt - alt_ref) < 0.01


@pytest.mark.parametrize("utc", DATES)
@pytest.mark.parametrize(("lat", "lon"), SITES)
def test_horizontal_and_equatorial_round_trip(utc: datetime, lat: float, lon: float) -> None:
    for alt in (-10.0, 0.0, 25.0, 60.0, 89.0):
        for az in (0.0, 45.0, 135.0, 200.0, 359.5):
            ra, dec = sky.horizontal_to_equatorial(alt, az, utc, lat, lon)
            assert 0.0 <= ra < 24.0
            alt2, az2 = sky.equatorial_to_horizontal(ra, dec, utc, lat, lon)
            assert alt2 == pytest.approx(alt, abs=1e-9)
            assert (az2 - az + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("utc", DATES)
@pytest.mark.parametrize(("lat", "lon"), SITES)
def test_parallactic_angle_is_the_position_angle_of_the_zenith(
    utc: datetime, lat: float, lon: float
) -> None:
    t = astropy_time(utc)
    site = EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, 0.0 * u.m)
    frame = AltAz(obstime=t, location=site, pressure=0.0 * u.hPa)
    zenith = SkyCoord(az=0.0 * u.deg, alt=90.0 * u.deg, frame=frame).transform_to(TETE(obstime=t))
    stars = stars_icrs().transform_to(TETE(obstime=t))
    altitudes = stars.transform_to(frame).alt.deg
    for star, alt in zip(stars, altitudes, strict=True):
        if alt > 88.0:  # the angle is undefined at the zenith
            continue
        reference = star.position_angle(zenith).deg
        ours = sky.parallactic_angle_deg(star.ra.hour, star.dec.deg, utc, lat, lon)
        assert -180.0 < ours <= 180.0
        assert abs((ours - reference + 180.0) % 360.0 - 180.0) < 0.05


def test_hour_angle_and_parallactic_angle_signs() -> None:
    utc, lat, lon = DATES[3], 48.14, 11.58
    lst = sky.local_sidereal_time_hours(utc, lon)
    east, west = (lst + 2.0) % 24.0, (lst - 2.0) % 24.0  # rising, setting
    assert sky.hour_angle_hours(east, utc, lon) == pytest.approx(-2.0)
    assert sky.hour_angle_hours(west, utc, lon) == pytest.approx(2.0)
    assert sky.hour_angle_hours(lst, utc, lon) == pytest.approx(0.0, abs=1e-12)
    assert sky.parallactic_angle_deg(east, 20.0, utc, lat, lon) < 0.0
    assert sky.parallactic_angle_deg(west, 20.0, utc, lat, lon) > 0.0
    assert sky.parallactic_angle_deg(lst, 20.0, utc, lat, lon) == pytest.approx(0.0, abs=1e-9)
    alt, az = sky.equatorial_to_horizontal(lst, 20.0, utc, lat, lon)
    assert alt == pytest.approx(90.0 - lat + 20.0) and az == pytest.approx(180.0)


def test_naive_and_offset_datetimes_are_utc() -> None:
    aware = DATES[2]
    naive = aware.replace(tzinfo=None)
    shifted = aware.astimezone(timezone(timedelta(hours=5, minutes=30)))
    lst = sky.local_sidereal_time_hours(aware, 10.0)
    assert sky.local_sidereal_time_hours(naive, 10.0) == lst
    assert sky.local_sidereal_time_hours(shifted, 10.0) == lst


def test_airmass_is_libnova_ln_get_airmass_with_scale_750() -> None:
    assert sky.airmass(90.0) == pytest.approx(1.0, abs=1e-12)
    assert sky.airmass(30.0) == pytest.approx(1.996, abs=5e-4)  # libnova/IRAF: 1.996 at 30 deg
    assert sky.airmass(0.0) == pytest.approx(np.sqrt(1501.0))
    values = [sky.airmass(alt) for alt in range(90, -1, -5)]
    assert values == sorted(values)
    for alt in (30.0, 45.0, 70.0):  # close to sec z away from the horizon
        assert sky.airmass(alt) == pytest.approx(1.0 / np.sin(np.radians(alt)), rel=3e-3)


def test_importing_sky_does_not_import_astropy() -> None:
    code = "import sys, indi_seestar.sky; assert not [m for m in sys.modules if 'astropy' in m]"
    subprocess.run([sys.executable, "-c", code], check=True)
