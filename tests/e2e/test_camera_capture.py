"""The camera as Ekos Capture and PHD2 use it: one light exposure, its BLOB, its FITS header."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from tests.e2e.camera_helpers import (
    READOUT_MARGIN_S,
    FakeFrames,
    camera_rig,
    date_obs,
    expose,
    open_fits,
    point_high,
)


def j2000_of_jnow(ra_hours: float, dec_deg: float, utc) -> tuple[float, float]:  # noqa: ANN001
    """astropy's JNow (TETE, geocentric) -> ICRS, independent of the driver's sky module."""
    from astropy import units as u
    from astropy.coordinates import ICRS, TETE, SkyCoord
    from astropy.time import Time
    from astropy.utils import iers

    iers.conf.auto_download = False  # offline: UT1 - UTC does not matter for a geocentric place
    iers.conf.auto_max_age = None
    t = Time(utc)
    c = SkyCoord(ra=ra_hours * 15 * u.deg, dec=dec_deg * u.deg, frame=TETE(obstime=t))
    icrs = c.transform_to(ICRS())
    return icrs.ra.deg / 15.0, icrs.dec.deg


def test_a_light_exposure_as_ekos_capture(tmp_path):
    with camera_rig(tmp_path) as rig:
        client, cam = rig.client, rig.camera
        frames = FakeFrames(rig)
        ra, dec = point_high(rig)
        for name, value in (("OBJECT", "M 42"), ("OBSERVER", "Ada")):
            mark = client.mark()
            client.send_text(cam, "FITS_HEADER", {"KEYWORD_NAME": name, "KEYWORD_VALUE": value,
                                                  "KEYWORD_COMMENT": ""})
            client.wait(lambda u: u.name == "FITS_HEADER" and u.state == "Ok", timeout_s=10,
                        since=mark)

        shot = expose(rig, 2.0)

        # CCD_EXPOSURE: Busy at once, counting down about once a second, Ok with 0 at the end.
        states = [(u.state, u.values["CCD_EXPOSURE_VALUE"]) for u in shot.exposure_updates]
        assert states[0] == ("Busy", 2.0)
        busy = [v for s, v in states if s == "Busy"]
        assert len(busy) >= 2 and busy == sorted(busy, reverse=True) and busy[-1] < 2.0
        assert states[-1] == ("Ok", 0.0)
        assert all(s == "Busy" for s, _ in states[:-1])
        # Exactly one BLOB, before the Ok; .fits with the exact size.
        blobs = client.updates(cam, "CCD1", event="set", since=shot.since)
        assert len(blobs) == 1
        info = shot.blob.values["CCD1"]
        assert info.format == ".fits" and info.size == info.data_len == len(shot.data)
        ok_at = next(u.t_monotonic for u in shot.exposure_updates if u.state == "Ok")
        assert shot.blob.t_monotonic <= ok_at

        hdul = open_fits(shot.data)
        assert len(hdul) == 1
        h, image = hdul[0].header, hdul[0].data
        assert image.dtype == np.uint16 and image.shape == (1920, 1080)
        spec, full = frames.source_of(image)
        assert np.array_equal(image, full)

        # Structure and the "always" cards.
        structure = (h["SIMPLE"], h["BITPIX"], h["NAXIS"], h["NAXIS1"], h["NAXIS2"])
        assert structure == (True, 16, 2, 1080, 1920)
        assert (h["BZERO"], h["BSCALE"]) == (32768, 1)
        assert h["ROWORDER"] == "TOP-DOWN"
        assert h["INSTRUME"] == cam and h["TELESCOP"] == rig.mount
        assert h["OBJECT"] == "M 42" and h["OBSERVER"] == "Ada"
        assert h["EXPTIME"] == spec.exposure_s == 2.0
        assert (h["PIXSIZE1"], h["PIXSIZE2"], h["XPIXSZ"], h["YPIXSZ"]) == (2.9, 2.9, 2.9, 2.9)
        assert (h["XBINNING"], h["YBINNING"]) == (1, 1)
        assert (h["FRAME"], h["IMAGETYP"]) == ("Light", "Light Frame")
        assert h["GAIN"] == spec.gain
        assert "CCD-TEMP" not in h  # the scope reports no sensor temperature
        assert (h["BAYERPAT"], h["XBAYROFF"], h["YBAYROFF"]) == ("GRBG", 0, 0)
        profile = rig.fake.profile
        assert h["FOCALLEN"] == profile.focal_length_mm
        assert h["APTDIA"] == pytest.approx(profile.aperture_mm)
        assert h["SCALE"] == pytest.approx(profile.plate_scale_arcsec_px, rel=1e-4)
        assert h["FILTER"] == ("Dark", "IR", "LP")[spec.wheel_slot]
        assert h["FOCUSPOS"] == spec.focus_steps

        # DATE-OBS: the exposure start, UTC with ms, never before the true start; estimated from
        # the frame's first byte, it may lag by the readout delay, which the margin bounds.
        assert len(h["DATE-OBS"]) == 23
        true_start = rig.fake.clock.utc_at(spec.t_start_s)
        lag = (date_obs(h) - true_start).total_seconds()
        assert -0.002 <= lag <= READOUT_MARGIN_S

        # The mount block: the pointing during the exposure, in J2000, and where it was in the sky.
        t_mid = spec.t_start_s + spec.exposure_s / 2
        assert all(abs(p.ra_hours - ra) < 1e-6 and abs(p.dec_deg - dec) < 1e-6
                   for p in spec.pointings)
        ra2000, dec2000 = j2000_of_jnow(ra, dec, rig.fake.clock.utc_at(t_mid))
        assert h["RA"] == pytest.approx(ra2000 * 15, abs=1 / 3600)
        assert h["DEC"] == pytest.approx(dec2000, abs=1 / 3600)
        hh, mm, ss = (float(x) for x in h["OBJCTRA"].split())
        assert hh + mm / 60 + ss / 3600 == pytest.approx(ra2000, abs=0.02 / 3600)
        dd, dm, ds = (abs(float(x)) for x in h["OBJCTDEC"].split())
        sign = -1 if h["OBJCTDEC"].strip().startswith("-") else 1
        assert sign * (dd + dm / 60 + ds / 3600) == pytest.approx(dec2000, abs=0.2 / 3600)
        assert h["EQUINOX"] == 2000
        site = rig.fake.state.mount.state()
        assert h["SITELAT"] == pytest.approx(site.lat_deg)
        assert h["SITELONG"] == pytest.approx(site.lon_deg % 360)
        alt, az = rig.fake_call(rig.fake.state.mount.altaz_of, ra, dec, t_mid)
        assert h["OBJCTALT"] == pytest.approx(alt, abs=0.05)
        assert h["OBJCTAZ"] == pytest.approx(az, abs=0.05)
        assert h["AIRMASS"] == pytest.approx(1 / math.sin(math.radians(alt)), rel=0.01)
        assert "PIERSIDE" not in h  # alt-az: unknown
        assert timedelta(0) <= date_obs(h) - true_start
        frames.close()
