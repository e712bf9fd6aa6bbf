"""The fake's real sky (issue 16), without sockets: the index reader, the compact file, the
fallback, and where a catalogue star lands in a frame."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from indi_seestar import sky as driver_sky
from indi_seestar.sim import FakeSeestar
from indi_seestar.sim.starfield import StarCatalogue
from indi_seestar.sim.tycho import TychoSky, default_catalogue_path
from indi_seestar.sim.tycho_build import build, pack

STARS = [  # J2000 RA deg, Dec deg, VT
    (195.544, 10.959, 2.9),
    (10.0, -45.5, 11.2),
    (359.999, 0.001, 9.0),
    (120.0, 89.9, 7.5),
]


def _table(name: str, fmt: str, rows: np.ndarray | None, header: dict[str, object] | None = None) -> fits.BinTableHDU:
    col = fits.Column(name=name, format=fmt, array=rows)
    hdu = fits.BinTableHDU.from_columns([col])
    for key, value in (header or {}).items():
        hdu.header[key] = value
    return hdu


def write_index(path: Path) -> None:
    """An astrometry.net-style star kd-tree (u32 x 3, native little-endian) plus MAG_VT."""
    ra, dec = np.radians([s[0] for s in STARS]), np.radians([s[1] for s in STARS])
    xyz = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=1)
    scale = (2.0 ** 32 - 1) / 2.0
    data = np.round((xyz + 1.0) * scale).astype("<u4")
    rng = np.array([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0, scale], dtype="<f8")
    hdus = fits.HDUList([
        fits.PrimaryHDU(),
        _table("kdtree_header_stars", "0A", None, {"KDT_DATA": "u32", "KDT_NDAT": len(STARS)}),
        _table("kdtree_range_stars", "8A", np.array([rng[i:i + 1].tobytes() for i in range(7)])),
        _table("kdtree_data_stars", "12A", np.array([row.tobytes() for row in data])),
        _table("MAG_VT", "1E", np.array([s[2] for s in STARS], dtype=np.float32)),
    ])
    hdus.writeto(path)


def test_the_compact_file_built_from_an_index_gives_back_its_stars(tmp_path):
    index, out = tmp_path / "index.fits", tmp_path / "sky.npy"
    write_index(index)
    assert build(index, out) == len(STARS)
    sky = TychoSky.open(out, StarCatalogue(0))
    for ra, dec, mag in STARS:
        got = sky.catalogue_near(ra / 15.0, dec, 0.05)
        assert len(got) == 1, (ra, dec)
        sep = driver_sky_separation_arcsec(got.ra_hours[0], got.dec_deg[0], ra / 15.0, dec)
        assert sep < 0.01 and got.mag[0] == pytest.approx(mag, abs=1e-3)


def driver_sky_separation_arcsec(ra1_h: float, dec1: float, ra2_h: float, dec2: float) -> float:
    a = np.radians([ra1_h * 15.0, dec1])
    b = np.radians([ra2_h * 15.0, dec2])
    c = math.sin(a[1]) * math.sin(b[1]) + math.cos(a[1]) * math.cos(b[1]) * math.cos(a[0] - b[0])
    return math.degrees(math.acos(min(1.0, c))) * 3600.0


def test_near_adds_faint_filler_only_below_the_catalogue(tmp_path):
    path = tmp_path / "sky.npy"
    np.save(path, pack(*(np.array(c, dtype=float) for c in zip(*STARS))))
    near = TychoSky.open(path, StarCatalogue(3)).near(195.544 / 15.0, 10.959, 0.8)
    assert near.mag.min() == pytest.approx(2.9, abs=1e-3)
    filler = near.mag[1:]
    assert filler.size > 100 and filler.min() >= 12.5


def test_without_the_catalogue_the_fake_shows_the_random_field_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="indi_seestar.sim.tycho"):
        fake = FakeSeestar(sky_catalogue=tmp_path / "absent.npy")
    assert type(fake.renderer.catalogue) is StarCatalogue
    assert any("random star field" in r.getMessage() for r in caplog.records)
    assert type(FakeSeestar(sky_catalogue=None).renderer.catalogue) is StarCatalogue


def test_default_catalogue_path_is_in_the_environment():
    assert default_catalogue_path().name == "tycho2-sky.npy"


@pytest.mark.parametrize("equ_mode", [False, True], ids=["altaz", "eq"])
def test_a_catalogue_star_lands_where_the_mounts_jnow_pointing_puts_it(tmp_path, equ_mode):
    """The mount points (JNow) at the J2000 star brought to the date: the star is at the centre
    (without precession it would be some 20' = 500 px away in 2026)."""
    path = tmp_path / "sky.npy"
    np.save(path, pack(*(np.array(c, dtype=float) for c in zip(*STARS))))
    fake = FakeSeestar(sky_catalogue=path, parked=False, equ_mode=equ_mode)
    utc = fake.clock.utc_at(fake.clock.now_s() + 0.5)
    ra_now, dec_now = driver_sky.j2000_to_jnow(195.544 / 15.0, 10.959, utc)
    fake.point_at(ra_now, dec_now)
    spec = fake.camera.make_spec(fake.clock.now_s(), 1.0)
    img = fake.renderer.noise_free(spec)
    y, x = np.unravel_index(int(np.argmax(img)), img.shape)
    renderer = fake.renderer
    assert abs(x - (renderer.width - 1) / 2) <= 1.5 and abs(y - (renderer.height - 1) / 2) <= 1.5


@pytest.mark.parametrize("model", ["S50", "S30", "S50P", "S30P"])
def test_the_real_sky_is_drawn_at_each_models_size_and_scale(tmp_path, model):
    """The model's sensor and optics (its profile) fix the frame; the star is at the centre."""
    path = tmp_path / "sky.npy"
    np.save(path, pack(*(np.array(c, dtype=float) for c in zip(*STARS))))
    fake = FakeSeestar(model=model, sky_catalogue=path, parked=False)
    fake.point_at(195.544 / 15.0, 10.959)
    frame = fake.renderer.noise_free(fake.camera.make_spec(fake.clock.now_s(), 1.0))
    assert frame.shape == (fake.profile.height_px, fake.profile.width_px)
    y, x = np.unravel_index(int(np.argmax(frame)), frame.shape)
    # Without precession to the date the star is 0.3 deg off; here the mount points at J2000,
    # so the star sits that far from the centre: in pixels, the model's plate scale decides.
    sep_px = math.hypot(x - (frame.shape[1] - 1) / 2, y - (frame.shape[0] - 1) / 2)
    expected_px = _precession_arcsec(fake) / fake.profile.plate_scale_arcsec_px
    assert sep_px == pytest.approx(expected_px, rel=0.02, abs=1.5)


def _precession_arcsec(fake: FakeSeestar) -> float:
    """How far J2000 (195.544, 10.959) moves by the fake's date (JNow minus J2000)."""
    utc = fake.clock.utc_at(fake.clock.now_s())
    now = driver_sky.j2000_to_jnow(195.544 / 15.0, 10.959, utc)
    return driver_sky_separation_arcsec(*now, 195.544 / 15.0, 10.959)


@pytest.mark.parametrize("ra_hours, dec_deg", [(13.03, 11.0), (5.5, -60.0), (18.6, 38.8), (2.5, 89.2)])
def test_the_fakes_jnow_to_j2000_agrees_with_the_drivers(ra_hours, dec_deg):
    """Both sides of the wire mean the same JNow (the driver's is checked against astropy)."""
    from datetime import UTC, datetime

    from indi_seestar.sim import sky as sim_sky

    utc = datetime(2026, 12, 2, 22, 0, tzinfo=UTC)
    fake = sim_sky.jnow_to_j2000(ra_hours, dec_deg, utc.timestamp())
    driver = driver_sky.jnow_to_j2000(ra_hours, dec_deg, utc)
    assert driver_sky_separation_arcsec(*fake, *driver) < 0.1
