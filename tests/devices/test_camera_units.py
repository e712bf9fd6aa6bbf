"""The camera's pure parts: software ROI/binning, libindi file naming, header assembly, snooping."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import numpy as np
import pytest

from indi_seestar.devices import camera_frame, camera_upload
from indi_seestar.config import SeestarConfig
from indi_seestar.devices.camera_exposure import firmware_exposure_s, frame_timeout_s
from indi_seestar.devices.camera_fits import (
    Optics,
    SnoopedValues,
    Surroundings,
    frame_meta,
    snooped_surroundings,
)
from indi_seestar.devices.camera_frame import Geometry
from indi_seestar.devices.camera_upload import UploadMode, UploadPlan
from indi_seestar.errors import ValueRejected
from indi_seestar.fits import FrameType, PierSide
from indi_seestar.indi.wire import Snooped
from indi_seestar.seestar.client import SeestarClient

RNG = np.random.default_rng(7)
FULL = RNG.integers(0, 65536, size=(1920, 1080), dtype=np.uint16)


def block_mean(a: np.ndarray, by: int, bx: int) -> np.ndarray:
    """Reference: mean of by x bx blocks, rounded half up, computed in float."""
    h, w = a.shape[0] // by, a.shape[1] // bx
    blocks = a[: h * by, : w * bx].astype(np.float64).reshape(h, by, w, bx)
    return np.floor(blocks.mean(axis=(1, 3)) + 0.5).astype(np.uint16)


def test_an_unbinned_region_is_a_view_of_the_frame():
    g = Geometry(101, 333, 400, 300)
    out = camera_frame.extract(FULL, g)
    assert out.shape == (300, 400) and np.shares_memory(out, FULL)
    assert np.array_equal(out, FULL[333:633, 101:501])


@pytest.mark.parametrize(("bx", "by"), [(2, 2), (3, 3), (4, 4), (2, 1), (1, 3)])
def test_binning_averages_blocks_and_drops_the_partial_edge(bx, by):
    g = Geometry(7, 5, 503, 301, bx, by)
    out = camera_frame.extract(FULL, g)
    assert out.dtype == np.uint16 and out.shape == (g.out_height, g.out_width)
    assert np.array_equal(out, block_mean(FULL[5:306, 7:510], by, bx))


def test_binning_keeps_the_full_scale():
    bright = np.full((8, 8), 65535, dtype=np.uint16)
    assert camera_frame.extract(bright, Geometry(0, 0, 8, 8, 4, 4)).max() == 65535


def test_bayer_offsets_follow_the_region_origin():
    assert Geometry(0, 0, 10, 10).bayer_offsets() == (0, 0)
    assert Geometry(101, 333, 10, 10).bayer_offsets() == (1, 1)
    assert Geometry(100, 333, 10, 10).bayer_offsets(1, 0) == (1, 1)


@pytest.mark.parametrize("g", [Geometry(1000, 0, 200, 10), Geometry(0, 1900, 10, 21),
                               Geometry(-1, 0, 10, 10), Geometry(0, 0, 3, 3, 4, 4)])
def test_regions_off_the_sensor_or_below_one_binned_pixel_are_refused(g):
    with pytest.raises(ValueRejected):
        camera_frame.check(g, 1080, 1920)


def test_exposures_are_whole_milliseconds():
    assert firmware_exposure_s(0.0004) == 0.001
    assert firmware_exposure_s(1.2346) == 1.235
    assert firmware_exposure_s(60) == 60.0


def test_file_index_and_prefix_follow_libindi(tmp_path):
    for name in ("M42_Light_003.fits", "M42_Light_012.fits", "Other_099.fits", "M42_Light_x.fits"):
        (tmp_path / name).write_bytes(b"")
    assert camera_upload.next_index(tmp_path, "M42_Light_XXX") == 13
    (tmp_path / "empty").mkdir()
    assert camera_upload.next_index(tmp_path / "empty", "IMG_XXX") == 1
    now = datetime(2026, 3, 4, 5, 6, 7, 890123)
    expanded = camera_upload.expand_prefix("IMG_ISO8601_XXX", 7, now)
    assert expanded == "IMG_2026-03-04T05-06-07.890_007"


def test_save_frame_writes_the_parts_in_a_created_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    plan = UploadPlan(UploadMode.LOCAL, "_HOME_/a/b", "F_XXX")
    parts = [b"abc", memoryview(b"defgh"), b"i"]
    first = camera_upload.save_frame(plan, parts)
    second = camera_upload.save_frame(plan, parts)
    assert (first.name, second.name) == ("F_001.fits", "F_002.fits")
    assert first.parent == tmp_path / "a" / "b" and first.read_bytes() == b"abcdefghi"
    assert sorted(os.listdir(first.parent)) == ["F_001.fits", "F_002.fits"]


OPTICS = Optics(pixel_size_x_um=2.9, pixel_size_y_um=2.9, cfa_type="GRBG", cfa_offset_x=0,
                cfa_offset_y=0, focal_length_mm=250.0, aperture_mm=50.0)
START = datetime(2026, 1, 15, 21, 30, 0, 123456, tzinfo=UTC)
AROUND = Surroundings(telescope_name="Seestar Mount", ra_jnow_hours=5.6, dec_jnow_deg=-5.4,
                      lat_deg=48.0, lon_east_deg=-71.0, pier_side=PierSide.WEST,
                      focuser_position_steps=1580, filter_name="IR")


def meta_for(frame_type: FrameType,  # noqa: ANN201
             geometry: Geometry = Geometry(0, 0, 1080, 1920)):
    return frame_meta(device_name="Seestar Camera", exposure_s=2.0, start_utc=START,
                      frame_type=frame_type, geometry=geometry, gain=80, optics=OPTICS,
                      around=AROUND, records=())


def test_a_light_frame_gets_the_mount_block_at_mid_exposure():
    m = meta_for(FrameType.LIGHT)
    assert m.ra_j2000_hours is not None and abs(m.ra_j2000_hours - 5.6) < 0.05
    assert m.object_alt_deg is not None and m.airmass is not None and m.airmass >= 1
    assert m.site_longitude_deg == 289.0  # INDI's 0..360 east
    assert m.pier_side is PierSide.WEST
    assert (m.bayer_pattern, m.focuser_position_steps, m.filter_name) == ("GRBG", 1580, "IR")


def test_dark_and_binned_frames_drop_what_they_cannot_carry():
    dark = meta_for(FrameType.DARK)
    assert dark.ra_j2000_hours is None and dark.airmass is None and dark.pier_side is None
    binned = meta_for(FrameType.LIGHT, Geometry(1, 1, 100, 100, 2, 2))
    assert binned.bayer_pattern is None and binned.binning_x == 2


def test_snooped_foreign_devices_fill_the_surroundings():
    snooped = SnoopedValues()

    def feed(tag: str, device: str, name: str, **values: str) -> None:
        children = tuple(("one", {"name": k}, v) for k, v in values.items())
        snooped.feed(Snooped(tag, {"device": device, "name": name}, children))

    feed("defNumberVector", "EQMod", "EQUATORIAL_EOD_COORD", RA="5:36:00", DEC="-5.4")
    feed("setNumberVector", "EQMod", "GEOGRAPHIC_COORD", LAT="48", LONG="289", ELEV="100")
    feed("defSwitchVector", "EQMod", "TELESCOPE_PIER_SIDE", PIER_WEST="Off", PIER_EAST="On")
    feed("setNumberVector", "Foc", "ABS_FOCUS_POSITION", FOCUS_ABSOLUTE_POSITION="1234")
    feed("defTextVector", "Wheel", "FILTER_NAME", FILTER_SLOT_NAME_1="L", FILTER_SLOT_NAME_2="Ha")
    feed("setNumberVector", "Wheel", "FILTER_SLOT", FILTER_SLOT_VALUE="2")
    out = snooped_surroundings(snooped, telescope="EQMod", focuser="Foc", wheel="Wheel")
    assert out["ra_jnow_hours"] == pytest.approx(5.6) and out["dec_jnow_deg"] == -5.4
    assert (out["lat_deg"], out["lon_east_deg"], out["pier_side"]) == (48, 289, PierSide.EAST)
    assert (out["focuser_position_steps"], out["filter_name"]) == (1234, "Ha")
    snooped.feed(Snooped("delProperty", {"device": "EQMod"}))
    assert snooped_surroundings(snooped, telescope="EQMod", focuser=None, wheel=None)[
        "ra_jnow_hours"] is None


def test_a_frame_that_never_comes_is_given_up_within_phd2s_watchdog_by_default():
    """The shipped bound on a 2 s exposure's frame (seestar.frame_setup_margin_s and
    readout_margin_s at their defaults, the preview at another length) is within PHD2's default
    watchdog, exposure + 15 s; a configured margin is the one used."""
    shipped = SeestarClient(SeestarConfig())
    assert frame_timeout_s(2.0, 0.5, shipped) == 2 * 2.0 + 0.5 + 0.5 + 10.0 < 2.0 + 15
    tuned = SeestarClient(SeestarConfig(frame_setup_margin_s=3.0, readout_margin_s=1.5))
    assert frame_timeout_s(2.0, 2.0, tuned) == 2 * 2.0 + 1.5 + 3.0
