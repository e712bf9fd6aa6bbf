"""The S30 Pro's wide camera as a fifth CCD device, defined only when the scope has one.

Fails on a driver without it (no "Wide Camera" device on the S30P) and on one that defines it
for every model (it must not exist on an S50 or an S30, whose wide camera is daylight-only).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.e2e.camera_helpers import camera_rig, open_fits
from tests.support.rig import PREFIX
from tests.support.indi_harness import until

WIDE = f"{PREFIX} Wide Camera"


def expose_wide(rig, seconds: float):  # noqa: ANN001, ANN201
    client = rig.client
    since = client.mark()
    client.send_number(WIDE, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds})
    client.wait(lambda u: u.device == WIDE and u.name == "CCD1" and u.event == "set",
                timeout_s=30, since=since)
    done = client.wait(lambda u: u.device == WIDE and u.name == "CCD_EXPOSURE"
                       and u.state != "Busy", timeout_s=10, since=since)
    assert done.state == "Ok"
    return client.last_blobs(1)[0], since


def test_the_s30p_has_a_wide_camera_that_delivers_frames(tmp_path):
    import PyIndi

    with camera_rig(tmp_path, model="S30P") as rig:
        client = rig.client
        client.wait(lambda u: u.device == WIDE and u.name == "DRIVER_INFO", timeout_s=15)
        assert client.updates(WIDE, "DRIVER_INFO")[-1].values["DRIVER_INTERFACE"] == "2"
        client.connect_device(WIDE, timeout_s=30)
        client.setBLOBMode(PyIndi.B_ALSO, WIDE, "CCD1")
        info = client.wait(lambda u: u.device == WIDE and u.name == "CCD_INFO", timeout_s=10).values
        assert (info["CCD_MAX_X"], info["CCD_MAX_Y"]) == (1920, 1080)
        assert info["CCD_PIXEL_SIZE"] == pytest.approx(2.7)

        data, since = expose_wide(rig, 1.0)
        hdu = open_fits(data)[0]
        h = hdu.header
        assert hdu.data.shape == (1080, 1920)
        assert (h["NAXIS1"], h["NAXIS2"], h["XPIXSZ"], h["BAYERPAT"]) == (1920, 1080,
                                                                           pytest.approx(2.7), "RGGB")
        assert h["EXPTIME"] == pytest.approx(1.0)  # second_camera.exp_ms.continuous
        assert "FOCALLEN" not in h  # not reported by the scope
        wide_cam = rig.fake.second_view.camera
        rendered = rig.fake_call(lambda: [wide_cam.rendered(i) for i in range(65536)
                                          if wide_cam.rendered(i) is not None])
        assert any(np.array_equal(hdu.data, r) for r in rendered)

        # A region and 2x2 binning, in software as on the main camera.
        since = client.mark()
        client.send_number(WIDE, "CCD_FRAME", {"X": 100, "Y": 50, "WIDTH": 800, "HEIGHT": 600})
        assert client.wait(lambda u: u.device == WIDE and u.name == "CCD_FRAME" and u.event == "set",
                           timeout_s=10, since=since).state == "Ok"
        since = client.mark()
        client.send_number(WIDE, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2})
        assert client.wait(lambda u: u.device == WIDE and u.name == "CCD_BINNING" and u.event == "set",
                           timeout_s=10, since=since).state == "Ok"
        data, _ = expose_wide(rig, 1.0)
        assert open_fits(data)[0].data.shape == (300, 400)

        # Every device disconnected: the session closes and the wide camera is deleted.
        since = client.mark()
        for device in [*rig.devices, WIDE]:
            client.disconnectDevice(device)
        client.wait(lambda u: u.device == WIDE and u.event == "del", timeout_s=20, since=since)


@pytest.mark.parametrize("model", ["S50", "S30"])
def test_no_wide_camera_device_on_other_models(tmp_path, model):
    with camera_rig(tmp_path, model=model) as rig:
        # The session is open (every device connected; the wide camera would have been defined
        # when it opened, before the first CONNECT was answered).
        until(lambda: rig.client.updates(rig.camera, "CCD_INFO"), 10, what="CCD_INFO")
        assert not rig.client.updates(WIDE)
