"""CCD_FRAME and CCD_BINNING in software: exactly the region and binning asked (acceptance 3)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.e2e.camera_helpers import FakeFrames, camera_rig, cut, expose, open_fits, point_high


def set_number(rig, name: str, values: dict[str, float]) -> None:  # noqa: ANN001
    """Send a number vector and wait for the driver's Ok (or fail on its Alert)."""
    since = rig.client.mark()
    rig.client.send_number(rig.camera, name, values)
    reply = rig.client.wait(lambda u: u.name == name and u.event == "set", timeout_s=10,
                            since=since)
    assert reply.state == "Ok", f"{name} answered {reply.state}"


def test_region_and_binning_give_exactly_those_pixels(tmp_path):
    with camera_rig(tmp_path) as rig:
        frames = FakeFrames(rig)
        point_high(rig)

        # An odd origin: the Bayer offsets follow it (GRBG read from (101, 333)).
        set_number(rig, "CCD_FRAME", {"X": 101, "Y": 333, "WIDTH": 400, "HEIGHT": 300})
        hdu = open_fits(expose(rig, 1.0).data)[0]
        assert hdu.data.shape == (300, 400)
        _spec, full = frames.source_of(hdu.data, x=101, y=333)
        assert np.array_equal(hdu.data, full[333:633, 101:501])
        h = hdu.header
        assert (h["NAXIS1"], h["NAXIS2"], h["XBINNING"]) == (400, 300, 1)
        assert (h["BAYERPAT"], h["XBAYROFF"], h["YBAYROFF"]) == ("GRBG", 1, 1)

        # 2x2 on a region whose size is not a multiple of 2: the last column/row are dropped.
        set_number(rig, "CCD_FRAME", {"X": 100, "Y": 200, "WIDTH": 501, "HEIGHT": 301})
        set_number(rig, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2})
        hdu = open_fits(expose(rig, 1.0).data)[0]
        assert hdu.data.shape == (150, 250)
        _spec, full = frames.source_of(hdu.data, x=100, y=200, bin_xy=2)
        assert np.array_equal(hdu.data, cut(full, 100, 200, 250, 150, 2))
        h = hdu.header
        assert (h["XBINNING"], h["YBINNING"], h["XPIXSZ"], h["PIXSIZE1"]) == (2, 2, 5.8, 2.9)
        assert "BAYERPAT" not in h and "XBAYROFF" not in h  # binned: no mosaic any more
        assert h["SCALE"] == pytest.approx(2 * rig.fake.profile.plate_scale_arcsec_px, rel=1e-4)

        # PHD2's usual request: the whole sensor binned 2x2.
        since = rig.client.mark()
        rig.client.send_switch(rig.camera, "CCD_FRAME_RESET", ["RESET"])
        rig.client.wait(lambda u: u.name == "CCD_FRAME_RESET" and u.state == "Ok", timeout_s=10,
                        since=since)
        frame = rig.client.updates(rig.camera, "CCD_FRAME", since=since)[-1].values
        binning = rig.client.updates(rig.camera, "CCD_BINNING", since=since)[-1].values
        assert frame == {"X": 0, "Y": 0, "WIDTH": 1080, "HEIGHT": 1920}
        assert binning == {"HOR_BIN": 1, "VER_BIN": 1}
        set_number(rig, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2})
        hdu = open_fits(expose(rig, 1.0).data)[0]
        assert hdu.data.shape == (960, 540)
        _spec, full = frames.source_of(hdu.data, bin_xy=2)
        assert np.array_equal(hdu.data, cut(full, 0, 0, 540, 960, 2))
        frames.close()


def test_a_region_off_the_sensor_is_refused(tmp_path):
    with camera_rig(tmp_path) as rig:
        since = rig.client.mark()
        rig.client.send_number(rig.camera, "CCD_FRAME",
                               {"X": 1000, "Y": 0, "WIDTH": 200, "HEIGHT": 100})
        reply = rig.client.wait(lambda u: u.name == "CCD_FRAME" and u.event == "set",
                                timeout_s=10, since=since)
        assert reply.state == "Alert"
        assert reply.values == {"X": 0, "Y": 0, "WIDTH": 1080, "HEIGHT": 1920}
        texts = [u.message for u in rig.client.updates(rig.camera, event="message", since=since)]
        assert any("not inside the 1080x1920 sensor" in t for t in texts)
        hdu = open_fits(expose(rig, 0.5).data)[0]
        assert hdu.data.shape == (1920, 1080)
