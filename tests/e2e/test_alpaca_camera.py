"""Exposures through the scope's Alpaca Camera (issue 14 acceptance 1 and 4).

With `seestar.alpaca: auto` and the fake's Alpaca server, CCD_EXPOSURE goes through
StartExposure/ImageBytes (the fake's trace shows it) and the FITS is the one the private path
makes of the same scene: same header keywords, orientation and Bayer pattern. When the server
dies mid-exposure, the exposure is taken again on the private path (a message says so) and the
client gets its one BLOB.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("alpaca.camera")

from tests.e2e.camera_helpers import camera_rig, expose, open_fits, point_high  # noqa: E402
from tests.support.indi_harness import until  # noqa: E402

#: Header keywords that differ between two frames of one scene by nature (time, pointing drift).
_TIMELY = {"DATE-OBS", "DATE", "MJD-OBS", "JD", "RA", "DEC", "OBJCTRA", "OBJCTDEC", "CRVAL1",
           "CRVAL2", "AIRMASS", "OBJCTALT", "OBJCTAZ", "ALT", "AZ", "TIMESYS", "UTC-OBS", "LST",
           "CHECKSUM", "DATASUM", "FOCUSPOS", "FOCTEMP", "CCD-TEMP", "HA", "PIERSIDE", "OBJCTHA"}


def _paths(rig):
    updates = rig.client.updates(rig.camera, "SEESTAR_PATHS")
    return updates[-1].values if updates else {}


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two frames binned 4x4 (stars and hot pixels where they are)."""
    def binned(x: np.ndarray) -> np.ndarray:
        h, w = x.shape
        x = x[: h // 4 * 4, : w // 4 * 4].astype(np.float64)
        x = x.reshape(h // 4, 4, w // 4, 4).sum(axis=(1, 3))
        return x - x.mean()
    x, y = binned(a), binned(b)
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


def test_exposure_through_alpaca_is_the_private_paths_fits(tmp_path):
    with camera_rig(tmp_path, alpaca_port=0, config={"seestar": {"alpaca": "auto"}}) as rig:
        fake = rig.fake
        until(lambda: _paths(rig).get("EXPOSURES", "").startswith("Alpaca"), 10,
              what="SEESTAR_PATHS showing the Alpaca Camera")
        assert _paths(rig)["ALPACA_SERVER"].startswith("ZWO Alpaca 1.2.0-3")
        point_high(rig)
        calls_before = len(fake.alpaca.calls)
        shot = expose(rig, 2.0)
        calls = fake.alpaca.calls[calls_before:]
        assert "PUT camera/startexposure" in calls and "GET camera/imagearray" in calls
        via_alpaca = open_fits(shot.data)[0]
        sent = rig.fake_call(lambda: fake.alpaca.camera.exposure.pixels.copy())
        assert np.array_equal(via_alpaca.data, sent)  # the fake's own pixels, not transposed
        assert via_alpaca.header["EXPTIME"] == pytest.approx(2.0)

        # the same scene through the private path (the Alpaca server gone)
        rig.fake_call(fake.alpaca.set_gone, True)
        mark = rig.client.mark()
        private = open_fits(expose(rig, 2.0).data)[0]
        assert any("Alpaca server stopped answering" in m for m in rig.messages(rig.camera, mark))
        assert len(fake.alpaca.calls) == len(calls) + calls_before  # nothing more reached it

        a, p = via_alpaca.header, private.header
        assert via_alpaca.data.shape == private.data.shape == (1920, 1080)
        assert set(a.keys()) == set(p.keys())
        for key in set(a.keys()) - _TIMELY:
            if key not in ("COMMENT", "HISTORY", ""):
                assert a[key] == p[key], key
        assert a["BAYERPAT"] == p["BAYERPAT"] == "GRBG"
        # orientation: the two frames of one scene match as they are, not flipped
        same = _correlation(via_alpaca.data, private.data)
        flipped = max(_correlation(via_alpaca.data, private.data[::-1]),
                      _correlation(via_alpaca.data, private.data[:, ::-1]))
        assert same > 0.5 and flipped < 0.2, (same, flipped)
        until(lambda: _paths(rig).get("EXPOSURES", "").startswith("private"), 5,
              what="SEESTAR_PATHS back on the private protocol")


def test_server_gone_mid_exposure_falls_back_and_delivers(tmp_path):
    with camera_rig(tmp_path, alpaca_port=0, config={"seestar": {"alpaca": "auto"}}) as rig:
        fake, client = rig.fake, rig.client
        until(lambda: _paths(rig).get("EXPOSURES", "").startswith("Alpaca"), 10,
              what="the Alpaca path")
        point_high(rig)
        since = client.mark()
        client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 2.0})
        until(lambda: "PUT camera/startexposure" in fake.alpaca.calls, 10, what="StartExposure")
        rig.fake_call(fake.alpaca.set_gone, True)
        client.wait(lambda u: u.device == rig.camera and u.name == "CCD1" and u.event == "set",
                    timeout_s=30, since=since)
        end = client.wait(lambda u: u.device == rig.camera and u.name == "CCD_EXPOSURE"
                          and u.state != "Busy", timeout_s=10, since=since)
        assert end.state == "Ok"
        assert len(client.updates(rig.camera, "CCD1", event="set", since=since)) == 1
        assert any("Alpaca server stopped answering" in m for m in rig.messages(rig.camera, since))
        image = open_fits(client.last_blobs(1)[0])[0]
        assert image.data.shape == (1920, 1080)


def test_abort_and_replacement_reach_the_alpaca_camera(tmp_path):
    with camera_rig(tmp_path, alpaca_port=0, config={"seestar": {"alpaca": "auto"}}) as rig:
        fake, client = rig.fake, rig.client
        until(lambda: _paths(rig).get("EXPOSURES", "").startswith("Alpaca"), 10,
              what="the Alpaca path")
        point_high(rig)
        since = client.mark()
        client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 30.0})
        until(lambda: "PUT camera/startexposure" in fake.alpaca.calls, 10, what="StartExposure")
        client.send_switch(rig.camera, "CCD_ABORT_EXPOSURE", ["ABORT"])
        client.wait(lambda u: u.name == "CCD_EXPOSURE" and u.state in ("Idle", "Alert"),
                    timeout_s=5, since=since)
        until(lambda: "PUT camera/abortexposure" in fake.alpaca.calls, 10, what="AbortExposure")
        # a 30 s exposure replaced by a 1 s one: only the 1 s frame comes, through Alpaca
        client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 30.0})
        until(lambda: fake.alpaca.calls.count("PUT camera/startexposure") == 2, 10,
              what="the second StartExposure")
        shot = expose(rig, 1.0)
        assert open_fits(shot.data)[0].header["EXPTIME"] == 1.0
        assert len(client.updates(rig.camera, "CCD1", event="set", since=since)) == 1
        assert fake.alpaca.calls.count("PUT camera/startexposure") == 3
        assert not any("private protocol" in m for m in rig.messages(rig.camera, since)), \
            rig.messages(rig.camera, since)
