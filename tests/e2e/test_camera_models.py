"""Each Seestar model's own sensor and optics, as the scope reports them, in CCD_INFO and the FITS.

The fake reports (get_device_state) the model's chip_size, pixel size, CFA, focal length and
f-number; the driver must take them from the scope, not from S50 constants. Fails on a driver
that keeps 1080x1920 / 250 mm for the S30P (sensor 2180x3856, 160 mm).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.e2e.camera_helpers import FakeFrames, camera_rig, cut, expose, open_fits, point_high
from tests.e2e.test_camera_frame import set_number

#: model: (width, height, pixel um, BAYERPAT, focal mm, aperture mm) the fake reports.
MODELS = {
    "S50": (1080, 1920, 2.9, "GRBG", 250.0, 50.0),
    "S30": (1080, 1920, 2.9, "GRBG", 150.0, 30.0),
    "S50P": (2180, 3856, 2.9, "GRBG", 260.0, 50.0),
    "S30P": (2180, 3856, 2.9, "GRBG", 160.0, 160.0 / 5.3),
}


def last_values(rig, name: str) -> dict:  # noqa: ANN001
    return rig.client.updates(rig.camera, name)[-1].values


def connect_camera(rig) -> int:  # noqa: ANN001
    """CONNECT the camera; the mark after which its connected-only vectors are (re)defined."""
    since = rig.client.mark()
    rig.client.connect_device(rig.camera, timeout_s=30)
    for name in ("SCOPE_INFO", "CCD_INFO"):
        rig.client.wait(lambda u, n=name: (u.device, u.name, u.event) == (rig.camera, n, "def"),
                        timeout_s=10, since=since)
    return since


@pytest.mark.parametrize("model", list(MODELS))
def test_ccd_info_and_fits_follow_the_model(tmp_path, model):
    width, height, pixel_um, bayer, focal_mm, aperture_mm = MODELS[model]
    with camera_rig(tmp_path, model=model) as rig:
        point_high(rig)
        for device, name in ((rig.camera, "SCOPE_INFO"), (rig.mount, "TELESCOPE_INFO")):
            rig.client.wait(lambda u, d=device, n=name: (u.device, u.name) == (d, n), timeout_s=10)
        info = last_values(rig, "CCD_INFO")
        assert (info["CCD_MAX_X"], info["CCD_MAX_Y"]) == (width, height)
        assert info["CCD_PIXEL_SIZE"] == pytest.approx(pixel_um)
        assert last_values(rig, "CCD_FRAME") == {"X": 0, "Y": 0, "WIDTH": width, "HEIGHT": height}
        mount_info = rig.client.updates(rig.mount, "TELESCOPE_INFO")[-1].values
        assert mount_info["TELESCOPE_FOCAL_LENGTH"] == pytest.approx(focal_mm)
        scope = last_values(rig, "SCOPE_INFO")
        assert scope["FOCAL_LENGTH"] == pytest.approx(focal_mm)
        assert scope["APERTURE"] == pytest.approx(aperture_mm, rel=1e-3)

        frames = FakeFrames(rig)
        hdu = open_fits(expose(rig, 0.5).data)[0]
        h = hdu.header
        assert hdu.data.shape == (height, width)
        assert (h["NAXIS1"], h["NAXIS2"]) == (width, height)
        assert (h["XPIXSZ"], h["BAYERPAT"]) == (pytest.approx(pixel_um), bayer)
        assert h["FOCALLEN"] == pytest.approx(focal_mm)
        assert h["SCALE"] == pytest.approx(206.265 * pixel_um / focal_mm, rel=1e-3)
        _spec, full = frames.source_of(hdu.data)  # the very pixels the fake rendered
        assert full.shape == (height, width)
        frames.close()


def test_roi_and_binning_on_the_large_sensor(tmp_path):
    with camera_rig(tmp_path, model="S50P") as rig:
        point_high(rig)
        frames = FakeFrames(rig)
        # A region beyond the small sensor's 1080x1920: only valid on the 2180x3856 one.
        set_number(rig, "CCD_FRAME", {"X": 1500, "Y": 2500, "WIDTH": 600, "HEIGHT": 1300})
        set_number(rig, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2})
        hdu = open_fits(expose(rig, 0.5).data)[0]
        assert hdu.data.shape == (650, 300)
        _spec, full = frames.source_of(hdu.data, x=1500, y=2500, bin_xy=2)
        assert np.array_equal(hdu.data, cut(full, 1500, 2500, 300, 650, 2))
        assert (hdu.header["XBINNING"], hdu.header["XPIXSZ"]) == (2, pytest.approx(5.8))
        # Off the large sensor: refused with the model's size in the message.
        since = rig.client.mark()
        rig.client.send_number(rig.camera, "CCD_FRAME",
                               {"X": 2000, "Y": 0, "WIDTH": 400, "HEIGHT": 100})
        reply = rig.client.wait(lambda u: u.name == "CCD_FRAME" and u.event == "set",
                                timeout_s=10, since=since)
        assert reply.state == "Alert"
        texts = [u.message for u in rig.client.updates(rig.camera, event="message", since=since)]
        assert any("2180x3856" in t for t in texts)
        frames.close()


def test_another_scope_brings_its_own_optics(tmp_path):
    """Switching DEVICE_ADDRESS from an S30P to an S50: SCOPE_INFO and CCD_INFO follow the new
    scope (not the first one's 160 mm), while a value a client set stands for the run."""
    from indi_seestar.sim import SimThread

    other = SimThread(model="S50", parked=False)
    s50 = other.start()
    try:
        with camera_rig(tmp_path, model="S30P") as rig:
            rig.client.wait(lambda u: (u.device, u.name) == (rig.camera, "SCOPE_INFO"), timeout_s=10)
            assert last_values(rig, "SCOPE_INFO")["FOCAL_LENGTH"] == pytest.approx(160.0)
            for device in rig.devices:
                since = rig.client.mark()
                rig.client.disconnectDevice(device)
                rig.wait_state(device, "CONNECTION", "Idle", since=since)
            since = rig.client.mark()
            rig.client.send_text(rig.camera, "DEVICE_ADDRESS",
                                 {"ADDRESS": "127.0.0.1", "PORT": str(s50.control_port)})
            rig.wait_state(rig.camera, "DEVICE_ADDRESS", "Ok", since=since)
            connect_camera(rig)
            assert last_values(rig, "SCOPE_INFO")["FOCAL_LENGTH"] == pytest.approx(250.0)
            info = last_values(rig, "CCD_INFO")
            assert (info["CCD_MAX_X"], info["CCD_MAX_Y"]) == (1080, 1920)

            since = rig.client.mark()
            rig.client.send_number(rig.camera, "SCOPE_INFO", {"FOCAL_LENGTH": 300, "APERTURE": 60})
            rig.wait_state(rig.camera, "SCOPE_INFO", "Ok", since=since)
            since = rig.client.mark()
            rig.client.disconnectDevice(rig.camera)
            rig.wait_state(rig.camera, "CONNECTION", "Idle", since=since)
            connect_camera(rig)
            assert last_values(rig, "SCOPE_INFO")["FOCAL_LENGTH"] == pytest.approx(300.0)
    finally:
        other.stop()
